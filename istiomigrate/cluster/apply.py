"""Apply a plan: server dry runs, then the writes, then (on request) backup and deletes.

The order is what makes it safe to stop at any point:

1. every create, update and (with --prune-legacy) delete is sent with ``dryRun=All``
   first, so that RBAC, admission and validation refusals arrive before anything changed;
2. creates and updates for real (``fieldManager=istiomigrate``); updates are replaces that
   carry the live ``resourceVersion``, so a concurrent change is a 409, never overwritten;
3. only when every write succeeded: the legacy resources to delete are written to
   ``legacy-backup.yaml`` (``kubectl apply -f`` restores them), then deleted, each with
   preconditions on the uid and resourceVersion that were backed up.

The first refusal stops the run with a ClusterError saying what was done and what was not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from istiomigrate.cluster import ClusterError
from istiomigrate.cluster.client import Connection, kind_of
from istiomigrate.cluster.plan import Change, Plan
from istiomigrate.files import atomic_write
from istiomigrate.read.inventory import LegacyResource

BACKUP_FILE = "legacy-backup.yaml"
# Server-set fields: left in, ``kubectl apply`` of the backup would be refused or misleading.
SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation",
                 "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
PAST = {"create": "created", "update": "updated", "delete": "deleted"}


def apply_plan(conn: Connection, plan: Plan, prune: bool, backup_dir: Path,
               echo: Callable[[str], None]) -> None:
    """Perform ``plan``; ``echo`` gets one line per change made. Raises ClusterError."""
    if plan.conflicts:
        raise ClusterError("nothing applied: the plan has conflicts ("
                           + ", ".join(c.label for c in plan.conflicts) + ")")
    deletes = plan.legacy_to_delete if prune else []
    _dry_run(conn, plan.writes, deletes)
    done: list[str] = []
    for change in plan.writes:
        _write(conn, change, done, echo)
    if not deletes:
        echo(_finished(done, 0, prune))
        return
    path = write_backup(deletes, backup_dir)
    echo(f"backed up {len(deletes)} legacy resources to {path}")
    for legacy in deletes:
        _delete(conn, legacy, done, path, echo)
    echo(_finished(done, len(deletes), prune))


def _dry_run(conn: Connection, writes: list[Change], deletes: list[LegacyResource]) -> None:
    try:
        for change in writes:
            _send(conn, change, dry_run=True)
        for legacy in deletes:
            conn.delete(kind_of(legacy.raw), legacy.raw, dry_run=True)
    except ClusterError as exc:
        raise ClusterError(f"{exc} [server dry run: nothing was changed]", exc.status) from None


def _send(conn: Connection, change: Change, dry_run: bool) -> None:
    kind = kind_of(change.body)
    if change.action == "create":
        conn.create(kind, change.body, dry_run)
    else:
        conn.replace(kind, change.body, dry_run)


def _write(conn: Connection, change: Change, done: list[str],
           echo: Callable[[str], None]) -> None:
    try:
        _send(conn, change, dry_run=False)
    except ClusterError as exc:
        raise ClusterError(_stopped(exc, done, f"{change.action} {change.label}",
                                    "no legacy resource was deleted"), exc.status) from None
    line = f"{PAST[change.action]} {change.label}"
    done.append(line)
    echo(line)


def _delete(conn: Connection, legacy: LegacyResource, done: list[str], backup: Path,
            echo: Callable[[str], None]) -> None:
    label = f"{legacy.kind} {legacy.namespace}/{legacy.name}"
    try:
        conn.delete(kind_of(legacy.raw), legacy.raw, dry_run=False)
    except ClusterError as exc:
        raise ClusterError(_stopped(exc, done, f"delete {label}",
                                    f"every legacy resource is in {backup}"),
                           exc.status) from None
    line = f"deleted {label}"
    done.append(line)
    echo(line)


def _stopped(exc: ClusterError, done: list[str], step: str, safety: str) -> str:
    made = "; ".join(done) if done else "nothing"
    return (f"{exc}\nstopped at: {step}. Done before it: {made}. {safety.capitalize()}. "
            "Run again to plan against what the cluster now holds.")


def _finished(done: list[str], deleted: int, prune: bool) -> str:
    writes = len(done) - deleted
    text = f"applied: {writes} resources written"
    if prune:
        text += f", {deleted} legacy resources deleted"
    return text + "."


def write_backup(legacy: list[LegacyResource], directory: Path) -> Path:
    """One YAML stream of the legacy resources, restorable with ``kubectl apply -f``.

    Refuses to overwrite an earlier backup: it may be the only copy of what a previous run
    deleted.
    """
    path = Path(directory) / BACKUP_FILE
    if path.exists():
        raise ClusterError(f"{path} exists (an earlier backup?): nothing was deleted; choose "
                           "another --backup-dir")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, backup_text(legacy))
    except OSError as exc:
        raise ClusterError(f"cannot write the backup {path}: {exc.strerror or exc}; nothing "
                           "was deleted") from None
    return path


def backup_text(legacy: list[LegacyResource]) -> str:
    head = ("# Legacy Istio resources (and Ingresses of class istio) deleted by istiomigrate "
            "--prune-legacy.\n"
            "# Restore with: kubectl apply -f legacy-backup.yaml\n")
    docs = [restorable(x.raw) for x in legacy]
    return head + yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False,
                                     explicit_start=True)


def restorable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the fields the server sets, and without status; ``apiVersion`` and
    ``kind`` first (built-in lists such as Ingresses' leave them out; the reader adds them)."""
    out: dict[str, Any] = {k: copy.deepcopy(obj[k]) for k in ("apiVersion", "kind") if k in obj}
    out.update((k, copy.deepcopy(v)) for k, v in obj.items() if k not in out)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for name in SERVER_FIELDS:
        meta.pop(name, None)
    return out

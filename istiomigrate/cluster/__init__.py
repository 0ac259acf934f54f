"""``convert --from-cluster``: read a live cluster, plan the migration, and apply it on request.

The package is split so that each step can be reasoned about alone:

* ``client``: kubeconfig loading, the ``kubernetes`` API clients, pagination, and the
  mapping of every failure (HTTP status, timeout, refused connection) to one clear line;
* ``read``: what is listed, in which namespaces, into the same ``Inventory`` files produce;
* ``plan``: pure: converted resources against the live objects -> create/update/unchanged;
* ``apply``: server dry runs, real writes, the legacy backup, then the deletes.

This module is imported by the CLI for option checks in every mode, so it must stay light:
the ``kubernetes`` client (~0.6 s to import) is imported only once a cluster is really read.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from istiomigrate.cluster.client import Connection
    from istiomigrate.cluster.plan import Plan
    from istiomigrate.cluster.read import Snapshot
    from istiomigrate.kinds import Kind
    from istiomigrate.model import Resource
    from istiomigrate.options import Options
    from istiomigrate.report import Report

DEFAULT_TIMEOUT = "30s"
CLUSTER_TARGET = "0.8"
"""``--target`` when ``--from-cluster`` is given without one: a cluster that serves v1alpha1
routing runs Pilot 0.8 or older (1.0 removed v1alpha1), so that is what reads the output."""


class ClusterError(Exception):
    """A refusal or failure talking to the cluster: one message, exit code 2, no traceback.

    ``status`` is the HTTP status when the API server answered (None for network errors), so
    that callers can tell "not installed" (404) and "forbidden" (403) from the rest.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ClusterArgs:
    """The cluster options of ``convert``, as given on the command line."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: str | None = None
    output: str | None = None  # "yaml" or "json": print resources instead of the plan
    output_dir: Path | None = None
    apply: bool = False
    prune_legacy: bool = False
    target_given: bool = False  # --target on the command line (else CLUSTER_TARGET)
    backup_dir: Path | None = None
    allow_lossy: bool = False


def usage_error(from_cluster: bool, paths: list[str] | None, args: ClusterArgs,
                in_place: bool = False, diff: bool = False) -> str | None:
    """The first usage mistake in a combination of options, or None.

    Checked before anything is read so that a mistyped command never reaches a cluster.
    """
    if not from_cluster:
        used = [flag for flag, value in (
            ("--kubeconfig", args.kubeconfig), ("--context", args.context),
            ("--all-namespaces", args.all_namespaces),
            ("--request-timeout", args.request_timeout), ("--apply", args.apply),
            ("--prune-legacy", args.prune_legacy), ("--backup-dir", args.backup_dir),
        ) if value]
        return f"{', '.join(used)} need --from-cluster" if used else None
    rules = (
        (bool(paths), "PATH arguments and --from-cluster exclude each other: "
         "convert files or a cluster, not both"),
        (in_place, "--in-place rewrites files; with --from-cluster, --apply writes to the cluster"),
        (diff, "--diff compares files; with --from-cluster the plan shows a diff per update"),
        (args.all_namespaces and args.namespace is not None,
         "--namespace and --all-namespaces exclude each other"),
        (args.prune_legacy and not args.apply, "--prune-legacy deletes legacy resources only "
         "as the last step of --apply: add --apply"),
        (args.backup_dir is not None and not args.prune_legacy,
         "--backup-dir is where --prune-legacy saves what it deletes: add --prune-legacy"),
        (args.apply and args.output is not None, "-o prints resources for kubectl; --apply "
         "applies them itself: use one or the other"),
    )
    return next((message for broken, message in rules if broken), None)


def request_timeout(text: str | None) -> float | None:
    """Seconds for ``--request-timeout``: kubectl's syntax (``30s``, ``1m``, a bare number of
    seconds); ``0`` means no timeout, which is returned as None."""
    from istiomigrate.durations import parse_duration

    text = text or DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parse_duration(text)
        except ValueError:
            raise ClusterError(f"--request-timeout {text!r}: expected seconds, or a duration "
                               "such as 30s or 1m (0: no timeout)") from None
    if seconds < 0:
        raise ClusterError(f"--request-timeout {text!r} is negative")
    return seconds or None


def run(args: ClusterArgs, options: Options, write_report: Callable[[Report], None]) -> int:
    """Read the cluster, convert, print the plan (or resources), apply on request.

    Returns the exit code: 0, or 1 with error findings (as for files). Raises ClusterError
    (exit 2) when the cluster cannot be read or refuses a write.
    """
    from istiomigrate import pipeline, targets
    from istiomigrate.cluster import client, plan

    timeout = request_timeout(args.request_timeout)
    conn = client.connect(args.kubeconfig, args.context, timeout)
    try:
        namespace = args.namespace or conn.namespace
        written = targets.for_version(options.target).kinds(options.target)
        snapshot = _read(conn, namespace, args.all_namespaces, options.cluster_domain, written)
        result = pipeline.run(snapshot.inventory, replace(options, default_namespace=namespace))
        report = pipeline.build_report(result)
        the_plan = plan.build(result.conversion.resources, snapshot.live,
                              snapshot.inventory.legacy)
        _show(args, the_plan, snapshot, conn.context, target_line(options.target, args))
        if args.target_given and options.target != CLUSTER_TARGET:
            print(f"istiomigrate: warning: --target {options.target} with --from-cluster: "
                  f"a cluster serving v1alpha1 routing runs Pilot {CLUSTER_TARGET} or older, "
                  f"which will read these Istio {options.target} resources; upgrade Pilot "
                  f"before applying, or use --target {CLUSTER_TARGET}", file=sys.stderr)
        if not snapshot.inventory.legacy:
            snapshot.notes.append(f"no legacy resources found in {snapshot.scope}; "
                                  "nothing to convert")
        for note in snapshot.notes:
            print(f"istiomigrate: note: {note}", file=sys.stderr)
        write_report(report)
        if args.apply:
            return _apply(args, conn, the_plan, report.has_errors)
        return 1 if report.has_errors else 0
    finally:
        conn.close()


def _read(conn: Connection, namespace: str, all_namespaces: bool, cluster_domain: str,
          written: tuple[Kind, ...]) -> Snapshot:
    from istiomigrate.cluster import read
    from istiomigrate.progress import Progress

    with Progress("reading cluster") as bar:
        return read.read_cluster(conn, namespace, all_namespaces, cluster_domain,
                                 on_page=bar.advance, written=written)


def target_line(target: str, args: ClusterArgs) -> str:
    """What the plan is written for, and why: the user's ``--target`` or the cluster's Pilot."""
    if args.target_given:
        return f"target: Istio {target} (--target)"
    return (f"target: Istio {target} (default with --from-cluster: a cluster serving "
            "v1alpha1 routing runs Pilot 0.8 or older; --target to change)")


def _show(args: ClusterArgs, the_plan: Plan, snapshot: Snapshot, context: str,
          target: str) -> None:
    """stdout: the resources (-o) or the plan; --output-dir: one file per resource."""
    from istiomigrate import emit
    from istiomigrate.cluster import plan

    resources = the_plan.resources
    if args.output == "json":
        sys.stdout.write(emit.json_stream(resources))
    elif args.output == "yaml":
        sys.stdout.write(emit.yaml_stream(resources))
    else:
        sys.stdout.write(plan.render(the_plan, f"context {context}: {snapshot.scope}",
                                     applying=args.apply, prune=args.prune_legacy,
                                     target=target))
    sys.stdout.flush()
    if args.output_dir is not None:
        write_resources(resources, args.output_dir)


def write_resources(resources: list[Resource], root: Path) -> list[Path]:
    """``root/<namespace>/<kind>-<name>.yaml`` per resource (kind in lower case), atomically."""
    from istiomigrate import emit
    from istiomigrate.files import atomic_write

    written = []
    for res in resources:
        path = root / res.namespace / f"{res.kind.lower()}-{res.name}.yaml"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, emit.to_yaml(res))
        except OSError as exc:
            raise ClusterError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def _apply(args: ClusterArgs, conn: Connection, the_plan: Plan, has_errors: bool) -> int:
    from istiomigrate.cluster import apply

    if has_errors and not args.allow_lossy:
        print("istiomigrate: error findings: nothing applied (--allow-lossy applies anyway)",
              file=sys.stderr)
        return 1
    backup_dir = args.backup_dir or default_backup_dir()
    apply.apply_plan(conn, the_plan, prune=args.prune_legacy, backup_dir=backup_dir,
                     echo=_echo)
    return 1 if has_errors else 0


def _echo(line: str) -> None:
    print(line, flush=True)


def default_backup_dir(now: datetime | None = None) -> Path:
    """``./istiomigrate-backup-<UTC timestamp>/``: sortable, and new for every run."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return Path(f"istiomigrate-backup-{stamp}")

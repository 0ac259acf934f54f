"""Plan: the converted resources against the live cluster. Pure: no I/O, no client.

For each converted resource the plan says ``create`` (nothing of that kind and name
exists), ``update`` (it exists and the fields we manage differ: ``spec``, and the labels and
annotations of ``metadata``; a unified diff shows how), ``unchanged``, or ``conflict``: an
object of that kind and name exists but is not the one for the same host (for instance a
VirtualService bound only to an ingress gateway, where one for the mesh is planned). A
VirtualService converted from Ingresses is bound to the Gateway: a live one of its name with
the same hosts and gateways is the one an earlier run wrote, so an update, never a conflict.
A conflict is never overwritten; it blocks ``--apply``.

Labels and annotations are only ever added: an update keeps every label and annotation the
live object has, so that other tools' metadata survives the migration.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from istiomigrate.escape import shown
from istiomigrate.model import Resource
from istiomigrate.read.inventory import LegacyResource

Key = tuple[str, str, str]
ROUTE_SECTIONS = ("http", "tcp")


@dataclass
class Change:
    """One converted resource and what --apply does with it."""

    action: str  # create | update | unchanged | conflict
    resource: Resource
    body: dict[str, Any]  # what --apply sends: the document, or the live object with our fields set
    live: dict[str, Any] | None = None
    diff: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.resource.kind} {self.resource.namespace}/{self.resource.name}"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    replaced: list[tuple[LegacyResource, list[Resource]]] = field(default_factory=list)
    unconverted: list[LegacyResource] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def writes(self) -> list[Change]:
        return [c for c in self.changes if c.action in ("create", "update")]

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action == "conflict"]

    @property
    def resources(self) -> list[Resource]:
        """The resources as planned (repeated routes of a re-run dropped): for -o and files."""
        return [c.resource for c in self.changes]

    @property
    def legacy_to_delete(self) -> list[LegacyResource]:
        """Legacy resources that a converted resource replaces: what --prune-legacy deletes."""
        return [legacy for legacy, _ in self.replaced]


def build(resources: list[Resource], live: dict[Key, dict[str, Any]], legacy: list[LegacyResource]
          ) -> Plan:
    """Compare each converted resource with the live object of the same kind and name."""
    plan = Plan([_change(res, live.get(res.key)) for res in resources])
    by_legacy: dict[Key, list[Resource]] = {}
    for res in plan.resources:
        for source in res.legacy:
            by_legacy.setdefault(_key(source), []).append(res)
    for source in legacy:
        replacing = by_legacy.get(_key(source))
        if replacing:
            plan.replaced.append((source, replacing))
        else:
            plan.unconverted.append(source)
    return plan


def _key(resource: LegacyResource) -> Key:
    return (resource.kind, resource.namespace, resource.name)


def _change(res: Resource, current: dict[str, Any] | None) -> Change:
    if current is None:
        return Change("create", res, res.document())
    why = _conflict(res, current)
    if why:
        return Change("conflict", res, res.document(), current, note=why)
    note = ""
    if res.merged_into is not None and res.kind == "VirtualService":
        spec = drop_repeated_routes(current.get("spec") or {}, res.spec)
        if spec != res.spec:
            res = replace(res, spec=spec)
            note = "routes already in the live object are not added again"
    body = updated(current, res.document())
    if managed(body) == managed(current):
        return Change("unchanged", res, body, current,
                      note="already migrated" if note else "")
    return Change("update", res, body, current, diff(current, body, res), note)


def _conflict(res: Resource, current: dict[str, Any]) -> str:
    """Why the live object of the same kind and name must not be replaced, or ''."""
    if res.merged_into is not None:
        return ""
    spec = current.get("spec") or {}
    if res.kind == "ServiceEntry" and _same(spec, res.spec, "hosts"):
        return ""  # the one an earlier run wrote from the same EgressRule
    if res.kind == "VirtualService" and res.spec.get("gateways") and _same(
            spec, res.spec, "hosts") and _same(spec, res.spec, "gateways"):
        return ""  # the one an earlier run wrote from Ingresses: same hosts, same gateways
    hosts = spec.get("hosts") or [spec.get("host")]
    ours = res.host or ", ".join(map(str, res.spec.get("hosts") or [])) or "these hosts"
    if res.spec.get("gateways"):
        ours += f" on gateways {', '.join(map(str, res.spec['gateways']))}"
    return (f"a {res.kind} {res.namespace}/{res.name} already exists for "
            f"{', '.join(str(h) for h in hosts)}, not for {ours}"
            f"{_gateways(spec, bool(res.spec.get('gateways')))}: rename or merge it by hand")


def _same(live_spec: dict[str, Any], spec: dict[str, Any], key: str) -> bool:
    """The same list under ``key`` (order aside): the object written from the same source."""
    return sorted(map(str, live_spec.get(key) or [])) == sorted(map(str, spec.get(key) or []))


def _gateways(spec: dict[str, Any], ours_on_gateways: bool) -> str:
    gateways = spec.get("gateways")
    if not gateways:
        return " (bound to the mesh)" if ours_on_gateways else ""
    if ours_on_gateways:
        return f" (bound to gateways {', '.join(map(str, gateways))})"
    if "mesh" not in gateways:
        return f" (bound to gateways {', '.join(map(str, gateways))}, not to the mesh)"
    return ""


def drop_repeated_routes(live_spec: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The merged spec without appended routes that repeat an earlier one.

    A conversion appends its routes to the live VirtualService's. Run again after --apply
    (legacy not pruned yet), it would append them a second time; a route identical to an
    earlier one can never be chosen (the first match wins), so dropping it is exact.
    """
    out = dict(spec)
    for section in ROUTE_SECTIONS:
        old, new = live_spec.get(section), spec.get(section)
        if not (isinstance(old, list) and isinstance(new, list)) or new[:len(old)] != old:
            continue
        kept = list(old)
        for route in new[len(old):]:
            if route not in kept:
                kept.append(route)
        out[section] = kept
    return out


def updated(live: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The live object with our spec and our labels/annotations added: a replace body.

    ``resourceVersion`` stays, so the server refuses (409) if the object changed since read.
    """
    body = copy.deepcopy(live)
    meta = body.setdefault("metadata", {})
    meta.pop("managedFields", None)
    for key in ("labels", "annotations"):
        merged = {**(meta.get(key) or {}), **(document["metadata"].get(key) or {})}
        if merged:
            meta[key] = merged
    body["spec"] = copy.deepcopy(document["spec"])
    return body


def managed(obj: dict[str, Any]) -> dict[str, Any]:
    """The fields istiomigrate manages, for comparing and diffing."""
    meta = obj.get("metadata") or {}
    view: dict[str, Any] = {k: meta[k] for k in ("labels", "annotations") if meta.get(k)}
    return {"metadata": view, "spec": obj.get("spec") or {}} if view else {
        "spec": obj.get("spec") or {}}


def diff(live: dict[str, Any], body: dict[str, Any], res: Resource) -> str:
    """A unified diff of the managed fields, keys sorted so that only content shows."""
    def lines(obj: dict[str, Any]) -> list[str]:
        return yaml.safe_dump(managed(obj), sort_keys=True, default_flow_style=False,
                              width=1000).splitlines(keepends=True)

    name = f"{res.kind}/{res.namespace}/{res.name}"
    return "".join(difflib.unified_diff(lines(live), lines(body), f"live {name}",
                                        f"planned {name}"))


# ---------------------------------------------------------------------------------------------
# rendering


def render(plan: Plan, header: str, applying: bool = False, prune: bool = False,
           target: str | None = None) -> str:
    """The plan as text for a person: one block per resource, then the legacy resources.

    ``target`` (a line saying which Istio the resources are written for) follows the header:
    the resources' shape depends on it, so whoever reviews the plan must see it.
    """
    out = [f"istiomigrate plan, {header}", *([target] if target else []), ""]
    for change in plan.changes:
        out += _render_change(change)
    if not plan.changes:
        out.append("no v1alpha3 resources to write")
    out += ["", "legacy resources:"]
    rows = [(_legacy_label(legacy), "replaced by " + ", ".join(
        f"{r.kind} {r.namespace}/{r.name}" for r in replacing))
        for legacy, replacing in plan.replaced]
    rows += [(_legacy_label(x), "not converted (see the findings): kept")
             for x in plan.unconverted]
    width = max((len(label) for label, _ in rows), default=0)
    out += [f"  {label:<{width}}  ->  {what}" for label, what in rows] or ["  none found"]
    out += ["", _summary(plan), _next_step(plan, applying, prune)]
    return "\n".join(shown(line) for line in out) + "\n"  # names and diffs are input


def _render_change(change: Change) -> list[str]:
    lines = [f"{change.action:<10} {change.label}"]
    sources = ", ".join(_legacy_label(x) for x in change.resource.legacy)
    if sources:
        lines.append(f"{'':<10} from {sources}")
    if change.note:
        lines.append(f"{'':<10} {change.note}")
    lines += [f"{'':<10} {line}" for line in change.diff.splitlines()]
    return lines


def _legacy_label(legacy: LegacyResource) -> str:
    return f"{legacy.kind} {legacy.namespace}/{legacy.name}"


def _summary(plan: Plan) -> str:
    conflicts = plan.count("conflict")
    text = (f"plan: {plan.count('create')} to create, {plan.count('update')} to update, "
            f"{plan.count('unchanged')} unchanged")
    if conflicts:
        text += f", {conflicts} in conflict"
    return text + f"; {len(plan.replaced)} legacy resources replaced."


def _next_step(plan: Plan, applying: bool, prune: bool) -> str:
    if plan.conflicts:
        return "conflicts block --apply: resolve them by hand, then run again."
    if applying:
        return ("applying: server dry run of every change first, then the changes"
                + (", then the backup and deletion of the legacy resources." if prune else "."))
    return ("dry run: nothing was changed. --apply performs this plan; --apply --prune-legacy "
            f"also deletes the {len(plan.replaced)} legacy resources replaced.")

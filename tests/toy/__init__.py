"""A toy output target, registered only by the tests that import it.

It proves the architecture's promise: a target is one module. It renders the
plan to a trivial format (one ``Route`` per routed host, one ``Policy`` per
host with policies, one ``Entry`` per external destination) and touches no
other module of istiomigrate.
"""

from __future__ import annotations

from typing import Any

from istiomigrate.kinds import Kind
from istiomigrate.model import Resource, Role
from istiomigrate.options import Options
from istiomigrate.plan import model as m
from istiomigrate.plan.normal import label_key, route_form
from istiomigrate.read.inventory import ExistingResource
from istiomigrate.targets import Rendered, Simulator, register

API_VERSION = "toy.example/v1"
KINDS = tuple(Kind("toy.example", "v1", plural, kind)
              for plural, kind in (("routes", "Route"), ("policies", "Policy"),
                                   ("entries", "Entry")))


class ToyTarget:
    name = "toy"
    versions: tuple[str, ...] = ("toy",)

    def kinds(self, version: str) -> tuple[Kind, ...]:
        return KINDS

    def schema_dir(self, version: str) -> str | None:
        return None

    def render(self, plan: m.Plan, existing: list[ExistingResource],
               options: Options) -> Rendered:
        out: list[Resource] = []
        for fqdn, host in plan.hosts.items():
            name = fqdn.replace(".", "-")
            if host.routed:
                routes = [route_form(r) for r in host.http + host.tcp]
                out.append(Resource("Route", host.namespace, name, {"host": fqdn,
                                    "routes": routes}, host.rules, host=fqdn, role=Role.ROUTES,
                                    api_version=API_VERSION))
            if host.policies:
                spec = {"host": fqdn, "labelSets": sorted(label_key(k) for k in host.policies)}
                out.append(Resource("Policy", host.namespace, name, spec, host.policy_sources,
                                    host=fqdn, role=Role.POLICY, api_version=API_VERSION))
        for entry in plan.entries:
            spec = {"hosts": entry.hosts, "ports": [p.number for p in entry.ports]}
            out.append(Resource("Entry", entry.namespace, entry.name, spec, [entry.rule],
                                role=Role.ENTRY, api_version=API_VERSION))
        return Rendered(out, [])

    def meaning(self, docs: list[dict[str, Any]], cluster_domain: str) -> dict[str, Any]:
        return {"hosts": {d["spec"]["host"]: d["spec"] for d in docs if d["kind"] == "Route"}}

    def simulator(self, version: str) -> Simulator | None:
        return None


TARGET = register(ToyTarget())

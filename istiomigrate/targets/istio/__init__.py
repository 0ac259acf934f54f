"""The Istio v1alpha3 target, in the dialects of Istio 0.8 and 1.0 (docs/semantics.md §1).

Light at import (the CLI lists targets before it knows what it will run):
rendering, reading back and simulating are imported when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from istiomigrate import kinds
from istiomigrate.kinds import Kind
from istiomigrate.targets import Rendered, Simulator, register
from istiomigrate.targets.istio.dialect import Dialect

if TYPE_CHECKING:
    from istiomigrate.options import Options
    from istiomigrate.plan.model import Plan
    from istiomigrate.read.inventory import ExistingResource

VERSION = "v1alpha3"
API_VERSION = f"{kinds.NETWORKING_GROUP}/{VERSION}"
DIALECTS = {
    "0.8": Dialect("0.8", API_VERSION, subnet_list=False, outlier_under_http=True),
    "1.0": Dialect("1.0", API_VERSION, subnet_list=True, outlier_under_http=False),
}


class IstioV1alpha3:
    name = "istio-v1alpha3"
    versions = tuple(DIALECTS)

    def kinds(self, version: str) -> tuple[Kind, ...]:
        return kinds.networking(VERSION)

    def schema_dir(self, version: str) -> str:
        return f"{VERSION}-{version}"

    def render(self, plan: Plan, existing: list[ExistingResource], options: Options) -> Rendered:
        from istiomigrate.subsets import SubsetNames
        from istiomigrate.targets.istio.context import Context
        from istiomigrate.targets.istio.existing import ExistingIndex
        from istiomigrate.targets.istio.render import render

        ctx = Context(options, DIALECTS[options.target], SubsetNames(),
                      ExistingIndex(existing, options.cluster_domain))
        return Rendered(render(plan, ctx), ctx.findings)

    def check_output(self, docs: list[dict[str, Any]], version: str,
                     cluster_domain: str) -> list[tuple[int, str]]:
        """What Pilot ``version``'s own validation refuses in ``docs`` (index, message)."""
        from istiomigrate.targets.istio.validation import cross_problems, problems

        found = [(i, p) for i, doc in enumerate(docs) for p in problems(doc, version)]
        return found + cross_problems(docs, cluster_domain)

    def meaning(self, docs: list[dict[str, Any]], cluster_domain: str) -> dict[str, Any]:
        from istiomigrate.targets.istio.meaning import meaning

        return meaning(docs, cluster_domain)

    def simulator(self, version: str) -> Simulator:
        from istiomigrate.simulate import gateway, v1alpha3

        return Simulator(v1alpha3.index, v1alpha3.simulate, gateway.index, gateway.simulate)


TARGET = register(IstioV1alpha3())

"""Today's Istio as a target: ``networking.istio.io/v1`` for Istio 1.22-1.30 (semantics §8).

The v1alpha3 target's renderer with the modern dialect (``dialect.py``): the
same resources, the fields spelled as 1.30.3's proto has them, and the legacy
behaviour pinned wherever modern defaults differ (retries, panic threshold,
exportTo). ``latest`` is 1.30, the release the rules were read at.

Light at import, like every built-in target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from istiomigrate import kinds
from istiomigrate.kinds import Kind
from istiomigrate.targets import Rendered, Simulator, register
from istiomigrate.targets.modern.dialect import ModernDialect

if TYPE_CHECKING:
    from istiomigrate.options import Options
    from istiomigrate.plan.model import Plan
    from istiomigrate.read.inventory import ExistingResource

VERSION = "v1"
API_VERSION = f"{kinds.NETWORKING_GROUP}/{VERSION}"
LATEST = "1.30"
RELEASES = tuple(f"1.{minor}" for minor in range(22, 31))
SCHEMA_DIR = f"{VERSION}-{LATEST}"
DIALECT = ModernDialect(LATEST, API_VERSION, subnet_list=True, outlier_under_http=False)


class IstioV1:
    name = "istio-v1"
    versions = (*RELEASES, "latest")

    def kinds(self, version: str) -> tuple[Kind, ...]:
        return kinds.networking(VERSION)

    def schema_dir(self, version: str) -> str:
        # One proto from 1.22 to 1.30: 1.30.3's schema forbids what each of them removed.
        return SCHEMA_DIR

    def render(self, plan: Plan, existing: list[ExistingResource], options: Options) -> Rendered:
        from istiomigrate.subsets import SubsetNames
        from istiomigrate.targets.istio.context import Context
        from istiomigrate.targets.istio.existing import ExistingIndex
        from istiomigrate.targets.modern.render import render

        ctx = Context(options, DIALECT, SubsetNames(),
                      ExistingIndex(existing, options.cluster_domain))
        return Rendered(render(plan, ctx), ctx.findings)

    def meaning(self, docs: list[dict[str, Any]], cluster_domain: str) -> dict[str, Any]:
        from istiomigrate.targets.modern.meaning import meaning

        return meaning(docs, cluster_domain)

    def simulator(self, version: str) -> Simulator | None:
        # The v1alpha3 simulator models 1.0's defaults (no retries, outlier spelling, no
        # headers/percentage fields): it would misjudge this output. None until a modern one.
        return None


TARGET = register(IstioV1())

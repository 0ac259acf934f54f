"""The plan is the normal form: what a target writes must mean what the plan says.

For every fixture case and random legacy configurations, the normal form of
the plan (``plan.normal``) equals the normal form the target reads back from
its own output (``Target.meaning``). A renderer that drops, bends or
misspells a field fails here whatever its output looks like.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from istiomigrate import plan, targets
from istiomigrate.options import Options
from istiomigrate.plan.normal import normal_form
from istiomigrate.read.inventory import read_paths
from tests.helpers import FIXTURES, convert_paths
from tests.test_verify import inventories

CASES = sorted((FIXTURES / "cases").glob("*/input.yaml"))


def _without_existing(path: Path) -> bool:
    return read_paths([str(path)]).existing == []


@pytest.mark.parametrize("target", ["0.8", "1.0"])
@pytest.mark.parametrize("case", [c for c in CASES if _without_existing(c)],
                         ids=lambda p: p.parent.name)
def test_render_keeps_the_plan(case: Path, target: str) -> None:
    options = Options(target=target)
    planned = plan.build(read_paths([str(case)]), options)
    docs, _ = convert_paths([case], target=target)
    read_back = targets.for_version(target).meaning(docs, options.cluster_domain)
    assert normal_form(planned) == {k: read_back[k] for k in ("hosts", "entries")}


def _modern_plan_form(planned: plan.model.Plan) -> dict:
    """The plan's normal form as modern Istio can keep it: ``websocketUpgrade`` is gone from
    the API, every route allows upgrades, and IM121 says so for the routes that asked."""
    form = normal_form(planned)
    for host in form["hosts"].values():
        for route in host.get("http", []):
            route.pop("websocketUpgrade", None)
    return form


def _modern_meaning(planned: plan.model.Plan, options: Options) -> dict:
    rendered = targets.for_version(options.target).render(planned, [], options)
    docs = [r.document() for r in rendered.resources]
    read_back = targets.for_version(options.target).meaning(docs, options.cluster_domain)
    return {k: read_back[k] for k in ("hosts", "entries")}


# Legacy never verified an originated TLS server; the modern target keeps that only when asked.
MODERN = Options(target="1.30", insecure_skip_verify=True)


@pytest.mark.parametrize("case", [c for c in CASES if _without_existing(c)],
                         ids=lambda p: p.parent.name)
def test_modern_render_keeps_the_plan(case: Path) -> None:
    planned = plan.build(read_paths([str(case)]), MODERN)
    assert _modern_plan_form(planned) == _modern_meaning(planned, MODERN)


@pytest.mark.parametrize("options, differs", [
    (Options(target="1.30"), "caCertificates"),  # TLS origination now verifies
    (replace(MODERN, accept_target_defaults=True), "retries"),  # modern default retries
])
def test_modern_defaults_taken_are_differences(options: Options, differs: str) -> None:
    planned = plan.build(read_paths([str(FIXTURES / "cases" / "egress" / "input.yaml")]), options)
    got = _modern_meaning(planned, options)
    assert _modern_plan_form(planned) != got
    assert differs in repr(got)


def test_a_modern_renderer_that_forgets_an_override_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from istiomigrate.targets.modern import dialect

    planned = plan.build(read_paths([str(FIXTURES / "cases" / "http-actions" / "input.yaml")]),
                         MODERN)
    # retries left to the target's default where legacy had none: modern would retry
    monkeypatch.setattr(dialect.ModernDialect, "retries", lambda self, route, ctx: (
        None if route.retries is None else {"attempts": route.retries.attempts}))
    assert _modern_plan_form(planned) != _modern_meaning(planned, MODERN)


def test_a_default_route_without_its_override_is_a_difference() -> None:
    """The VirtualService written for a host without RouteRules means "legacy's default
    route" only with ``retries: {attempts: 0}``; without it, modern Istio retries."""
    case = FIXTURES / "cases" / "modern-policies" / "input.yaml"
    planned = plan.build(read_paths([str(case)]), MODERN)
    docs = [r.document() for r in targets.for_version("1.30").render(planned, [], MODERN).resources]
    target = targets.for_version("1.30")
    assert _modern_plan_form(planned) == {k: target.meaning(docs, "cluster.local")[k]
                                          for k in ("hosts", "entries")}
    for doc in docs:
        for route in doc["spec"].get("http", []):
            if route.get("name"):
                del route["retries"]
    assert _modern_plan_form(planned) != {k: target.meaning(docs, "cluster.local")[k]
                                          for k in ("hosts", "entries")}


def test_a_renderer_that_bends_a_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from istiomigrate.targets.istio import fields

    case = FIXTURES / "cases" / "http-actions" / "input.yaml"
    planned = plan.build(read_paths([str(case)]), Options())
    monkeypatch.setattr(fields, "_fault", lambda fault, dialect: {})
    docs, _ = convert_paths([case])
    assert normal_form(planned) != {k: targets.for_version("1.0").meaning(docs, "cluster.local")[k]
                                    for k in ("hosts", "entries")}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inventories())
def test_render_keeps_the_plan_for_random_configurations(case) -> None:
    inventory, _ = case
    inventory.existing.clear()  # merging into hand-written resources is not the plan's
    options = Options(target="1.0")
    planned = plan.build(inventory, options)
    target = targets.for_version("1.0")
    rendered = target.render(planned, [], options)
    docs = [r.document() for r in rendered.resources]
    read_back = target.meaning(docs, options.cluster_domain)
    assert normal_form(planned) == {k: read_back[k] for k in ("hosts", "entries")}

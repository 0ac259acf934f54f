"""verify covers ingress routing: Istio 0.7/0.8's Ingress against the converted Gateway.

Every Ingress fixture converted by the project's converter routes requests from
outside the mesh as Istio did, but for the differences its findings announce
(IM216, IM308, IM309); the old converter's goldens and hand-broken conversions
do not. A property test converts random sets of istio-class Ingresses and
verifies them. Hypothesis profiles as in ``test_verify`` (``HYPOTHESIS_PROFILE``).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.cli.verify import read_converted
from istiomigrate.findings import SourceRef
from istiomigrate.options import Options
from istiomigrate.pipeline import convert
from istiomigrate.read.ingress import CLASS_ANNOTATION, IngressSpec
from istiomigrate.read.inventory import Inventory, LegacyResource, read_paths
from istiomigrate.read.legacy import SPEC_MODELS
from istiomigrate.read.services import ServicePorts
from istiomigrate.simulate.request import NO_ROUTE, REFUSED, ROUTE
from istiomigrate.verify import compare, explain
from tests.helpers import CONFORMANCE, FIXTURES, namespace_repaired

settings.register_profile("ingress-ci", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ingress-long", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile(
    "ingress-long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "ingress-ci")
NEEDS_CORPUS = pytest.mark.skipif(not CONFORMANCE.is_dir(),
                                  reason=f"{CONFORMANCE} is absent (../shared is not here)")
CASES = sorted((FIXTURES / "cases").glob("ingress-*/input.yaml"))
GATEWAY_FQDN = "k8s-ingress.istio-system.svc.cluster.local"


def converted(inventory: Inventory, options: Options | None = None) -> tuple[list[dict], list]:
    result = convert(inventory, options or Options())
    return [r.document() for r in result.resources], [*inventory.findings, *result.findings]


def ingress_only(result) -> list:
    return [d for d in result.differences if d.request.gateway]


def unexplained(inventory: Inventory, docs: list[dict], findings: list, **kwargs) -> list:
    return explain(compare(inventory, docs, findings, **kwargs).differences, findings)[1]


def show(differences: list) -> str:
    return "\n\n".join(d.describe() for d in differences[:5])


def ingress_requests(inventory: Inventory, docs: list[dict], **kwargs) -> int:
    result = compare(inventory, docs, **kwargs)
    return result.requests - compare(Inventory(legacy=[r for r in inventory.legacy
                                                       if r.kind != "Ingress"]), docs).requests


# --- the fixtures, converted by the project's converter --------------------------------------

EXPLAINED_BY = {"ingress-classes": {"IM309"}, "ingress-merge": set(),
                "ingress-named-ports": {"IM308"}, "ingress-tls": {"IM216"}}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.parent.name)
def test_ingress_case_verifies(case: Path) -> None:
    inventory = read_paths([str(case)])
    docs, findings = converted(inventory)
    result = compare(inventory, docs, findings)
    assert ingress_requests(inventory, docs) > 20
    remaining = explain(result.differences, findings)[1]
    assert not remaining, show(remaining)
    codes = {f.code for d in ingress_only(result) for f in d.explained_by}
    assert codes == EXPLAINED_BY[case.parent.name]


def test_ingress_case_with_another_gateway_verifies() -> None:
    """--ingress-gateway-selector: verify is told which workload serves the ingress."""
    case = FIXTURES / "cases" / "ingress-classes" / "input.yaml"
    inventory = read_paths([str(case)])
    options = Options(ingress_gateway_selector=(("app", "edge-gateway"),),
                      ingress_gateway_namespace="front")
    docs, findings = converted(inventory, options)
    assert not unexplained(inventory, docs, findings, ingress_gateway={"app": "edge-gateway"})
    # the default workload (istio=ingressgateway) is not selected: everything is refused
    refused = unexplained(inventory, docs, findings)
    assert refused and {d.new.status for d in refused} == {REFUSED}


def test_ingress_tree_verifies() -> None:
    inventory = read_paths([str(FIXTURES / "trees" / "ingress")])
    docs, findings = converted(inventory)
    result = compare(inventory, docs, findings)
    assert result.requests > 30 and not result.differences, show(result.differences)


# --- conformance cases 20 and 21 --------------------------------------------------------------


def corpus(*names: str) -> Inventory:
    return read_paths([str(CONFORMANCE / "v1alpha1" / name) for name in names])


def golden(name: str) -> list[dict]:
    return read_converted([str(CONFORMANCE / "v1alpha3" / f"{name}.yaml.golden")])


CASE_20 = ("myservice-ingress.yaml",)
CASE_21 = ("myservice-ingress.yaml", "another-ingress.yaml")


@NEEDS_CORPUS
@pytest.mark.parametrize("inputs", [CASE_20, CASE_21], ids=["20", "21"])
def test_conformance_case_converted_by_us_verifies(inputs: tuple[str, ...]) -> None:
    inventory = corpus(*inputs)
    docs, findings = converted(inventory)
    result = compare(inventory, docs, findings)
    assert ingress_requests(inventory, docs) > 10
    assert not result.differences, show(result.differences)


@NEEDS_CORPUS
@pytest.mark.parametrize(("inputs", "name"), [(CASE_20, "myservice-gateway"),
                                              (CASE_21, "merged-gateway")], ids=["20", "21"])
def test_old_golden_fails_verify(inputs: tuple[str, ...], name: str) -> None:
    """The VirtualService in istio-system: short backend names resolve there."""
    inventory = corpus(*inputs)
    findings = converted(inventory)[1]
    remaining = unexplained(inventory, golden(name), findings)
    assert remaining
    assert {a.kind for d in remaining for a in d.aspects} == {"destinations"}
    assert all(d.legacy[0].ref.label() == "Ingress default/simple-ingress" for d in remaining)
    hosts = {dest.host for d in remaining for dest in d.new.destinations}
    assert hosts == {"myservice-service.istio-system.svc.cluster.local:9080",
                     "my-ui.istio-system.svc.cluster.local:80"}


@NEEDS_CORPUS
def test_case_20_golden_with_its_namespace_repaired_verifies() -> None:
    inventory = corpus(*CASE_20)
    findings = converted(inventory)[1]
    assert not unexplained(inventory, namespace_repaired(golden("myservice-gateway")), findings)


@NEEDS_CORPUS
def test_case_21_golden_hides_foo_bar_behind_a_prefix() -> None:
    """Namespace repaired, the golden still keeps file order: /foo/bar/ is never reached."""
    inventory = corpus(*CASE_21)
    findings = converted(inventory)[1]
    remaining = unexplained(inventory, namespace_repaired(golden("merged-gateway")), findings)
    assert {d.request.header("uri") for d in remaining} == {"/foo/bar/"}
    diff = remaining[0]
    assert [d.host for d in diff.old.destinations] == [
        "anotherservice-service.default.svc.cluster.local:7080"]
    assert [d.host for d in diff.new.destinations] == [
        "myservice-service.default.svc.cluster.local:9080"]


@NEEDS_CORPUS
def test_command_on_golden_21(tmp_path: Path) -> None:
    files = [str(CONFORMANCE / "v1alpha1" / name) for name in CASE_21]
    golden_file = str(CONFORMANCE / "v1alpha3" / "merged-gateway.yaml.golden")
    result = CliRunner().invoke(app, ["verify", *files, "--against", golden_file])
    assert result.exit_code == 1
    assert "at the ingress gateway" in result.stdout
    assert "legacy resources: Ingress default/simple-ingress" in result.stdout


def test_command_exits_0_on_our_conversion(tmp_path: Path) -> None:
    case = str(FIXTURES / "cases" / "ingress-merge" / "input.yaml")
    out = tmp_path / "out.yaml"
    out.write_text(yaml.safe_dump_all(converted(read_paths([case]))[0]))
    result = CliRunner().invoke(app, ["verify", case, "--against", str(out)])
    assert result.exit_code == 0, result.output


def test_command_json_marks_ingress_requests(tmp_path: Path) -> None:
    case = str(FIXTURES / "cases" / "ingress-named-ports" / "input.yaml")
    out = tmp_path / "out.yaml"
    out.write_text(yaml.safe_dump_all(converted(read_paths([case]))[0]))
    result = CliRunner().invoke(app, ["verify", case, "--against", str(out), "--format", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["explained"] == len(data["differences"])
    first = data["differences"][0]
    assert first["request"]["gateway"] is True and first["request"]["port"] == 80
    assert first["legacy_resources"] == ["Ingress shop/store"]
    assert [f["code"] for f in first["explained_by"]] == ["IM308"]


def test_command_exits_2_on_a_gateway_of_the_wrong_shape(tmp_path: Path) -> None:
    case = str(FIXTURES / "cases" / "ingress-merge" / "input.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\n"
                   "metadata: {name: g, namespace: istio-system}\nspec: {selector: [x]}\n")
    result = CliRunner().invoke(app, ["verify", case, "--against", str(bad)])
    assert result.exit_code == 2 and "spec.selector: expected object" in result.stderr


# --- hand-broken conversions: verify must catch each -------------------------------------------


def vs_for(docs: list[dict], host: str) -> dict:
    return next(d for d in docs if d["kind"] == "VirtualService" and d["spec"]["hosts"] == [host])


def reorder_paths(docs: list[dict]) -> None:
    """Exact /api/v1/products after the /api/ prefix: it is never reached."""
    http = vs_for(docs, "bookinfo.example.com")["spec"]["http"]
    http.append(http.pop(0))


def file_order(docs: list[dict]) -> None:
    """The prefix / first (the 0.8 converter's defect): it hides every other path."""
    http = vs_for(docs, "bookinfo.example.com")["spec"]["http"]
    http.insert(0, http.pop())


def exact_to_prefix(docs: list[dict]) -> None:
    match = vs_for(docs, "bookinfo.example.com")["spec"]["http"][0]["match"][0]
    match["uri"] = {"prefix": match["uri"].pop("exact")}


def wrong_port(docs: list[dict]) -> None:
    route = vs_for(docs, "ratings.example.com")["spec"]["http"][0]["route"][0]
    route["destination"]["port"] = {"number": 8080}


def unbound(docs: list[dict]) -> None:
    del vs_for(docs, "ratings.example.com")["spec"]["gateways"]


def bound_by_namespace_slash_name(docs: list[dict]) -> None:
    vs_for(docs, "ratings.example.com")["spec"]["gateways"] = ["istio-system/k8s-ingress"]


def other_selector(docs: list[dict]) -> None:
    next(d for d in docs if d["kind"] == "Gateway")["spec"]["selector"] = {"istio": "ingress"}


def server_without_host(docs: list[dict]) -> None:
    gateway = next(d for d in docs if d["kind"] == "Gateway")
    gateway["spec"]["servers"][0]["hosts"] = ["bookinfo.example.com"]


@pytest.mark.parametrize("breakage", [reorder_paths, file_order, exact_to_prefix, wrong_port,
                                      unbound, bound_by_namespace_slash_name, other_selector,
                                      server_without_host])
def test_verify_catches_a_broken_ingress_conversion(breakage) -> None:
    inventory = read_paths([str(FIXTURES / "cases" / "ingress-merge" / "input.yaml")])
    docs, findings = converted(inventory)
    assert not unexplained(inventory, docs, findings)
    broken = copy.deepcopy(docs)
    breakage(broken)
    remaining = unexplained(inventory, broken, findings)
    assert remaining, f"{breakage.__name__} went unnoticed"
    assert all(d.request.gateway and d.legacy for d in remaining)
    assert {i.ref.kind for d in remaining for i in d.legacy} == {"Ingress"}


def test_tls_paths_served_on_port_80_are_caught() -> None:
    """Routes without their port match: each port serves the other's paths too."""
    inventory = read_paths([str(FIXTURES / "cases" / "ingress-tls" / "input.yaml")])
    docs, findings = converted(inventory)
    broken = copy.deepcopy(docs)
    for route in vs_for(broken, "shop.example.com")["spec"]["http"]:
        route["match"][0].pop("port")
    remaining = unexplained(inventory, broken, findings)
    assert {d.request.port for d in remaining} == {80, 443}
    assert "/api/x" in {d.request.header("uri") for d in remaining if d.request.port == 80}


def test_dropped_certificate_host_is_caught() -> None:
    """IM216 explains the refusal of hosts no TLS Ingress served, not of those it did."""
    inventory = read_paths([str(FIXTURES / "cases" / "ingress-tls" / "input.yaml")])
    docs, findings = converted(inventory)
    broken = copy.deepcopy(docs)
    gateway = next(d for d in broken if d["kind"] == "Gateway")
    gateway["spec"]["servers"][1]["hosts"] = ["pay.example.com"]
    remaining = unexplained(inventory, broken, findings)
    assert remaining and {d.request.host for d in remaining} == {"shop.example.com"}
    assert {(d.old.status, d.new.status) for d in remaining} == {(ROUTE, REFUSED)}


# --- random Ingresses, converted then verified --------------------------------------------------

NAMESPACES = ("default", "ns1")
SERVICES = ("a", "b", "c")
HOSTS = (None, "a.example.com", "b.example.com", "a-example.com", "*.example.com")
PATHS = (None, "/", "/.*", "/foo", "/foo/.*", "/foo/bar", "/foo/bar/.*", "/fo", "/foo/", "/x/.*")
PORTS = (80, 8080, 9080, "http", "http-web", "grpc", "tcp")


def ingress(name: str, namespace: str, spec: dict) -> LegacyResource:
    raw = {"apiVersion": "extensions/v1beta1", "kind": "Ingress",
           "metadata": {"name": name, "namespace": namespace,
                        "annotations": {CLASS_ANNOTATION: "istio"}}, "spec": spec}
    return LegacyResource("Ingress", namespace, name, IngressSpec.model_validate(spec),
                          SourceRef("Ingress", namespace, name), None, raw)


def route_rule(name: str, namespace: str, service: str, labels: dict,
               match: dict | None = None) -> LegacyResource:
    spec: dict = {"destination": {"name": service}, "route": [{"labels": labels}]}
    if match:
        spec["match"] = match
    model = SPEC_MODELS["RouteRule"].model_validate(spec)
    return LegacyResource("RouteRule", namespace, name, model,
                          SourceRef("RouteRule", namespace, name), None, {"spec": spec})


backends = st.fixed_dictionaries({"serviceName": st.sampled_from(SERVICES),
                                  "servicePort": st.sampled_from(PORTS)})


@st.composite
def http_paths(draw) -> list[dict]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        item: dict = {"backend": draw(backends)}
        path = draw(st.sampled_from(PATHS))
        if path is not None:
            item["path"] = path
        out.append(item)
    return out


@st.composite
def ingress_specs(draw) -> dict:
    spec: dict = {"rules": [{"http": {"paths": draw(http_paths())}} | (
        {"host": host} if (host := draw(st.sampled_from(HOSTS))) else {})
        for _ in range(draw(st.integers(0, 2)))]}
    if draw(st.integers(0, 3)) == 0 or not spec["rules"]:
        spec["backend"] = draw(backends)
    if draw(st.booleans()):
        hosts = sorted({r["host"] for r in spec["rules"] if "host" in r})
        spec["tls"] = [{"secretName": "certs"} | ({"hosts": hosts} if hosts else {})]
    return spec


@st.composite
def ingress_inventories(draw) -> Inventory:
    inventory = Inventory()
    for i in range(draw(st.integers(1, 4))):
        namespace = draw(st.sampled_from(NAMESPACES))
        inventory.legacy.append(ingress(f"ing{i % 3}", namespace, draw(ingress_specs())))
    ports = ServicePorts()
    for namespace in NAMESPACES:
        for name in draw(st.sets(st.sampled_from(SERVICES))):
            declared = draw(st.sets(st.sampled_from(
                [("http", 80), ("http-web", 8080), ("grpc", 9080), ("tcp", 9080),
                 (None, 8080)]), min_size=1, max_size=3))
            unique = {number: name for name, number in declared}  # one name per number
            ports.add((namespace, name), [(n, p) for p, n in sorted(unique.items())])
            inventory.services[(namespace, name)] = {"app": name}
    inventory.service_ports = ports
    if draw(st.integers(0, 3)) == 0:
        namespace, service = draw(st.sampled_from(NAMESPACES)), draw(st.sampled_from(SERVICES))
        match = draw(st.sampled_from([None, {"request": {"headers": {"uri": {"prefix": "/foo"}}}}]))
        inventory.legacy.append(route_rule("rr", namespace, service, {"version": "v2"}, match))
    return inventory


@settings(PROFILE)
@given(ingress_inventories())
@example(Inventory(legacy=[ingress("tls", "default", {
    "tls": [{"secretName": "x"}], "rules": [{"host": "a.example.com", "http": {"paths": [
        {"path": "/foo", "backend": {"serviceName": "a", "servicePort": 80}}]}}]})]))
def test_random_ingresses_convert_and_verify(inventory: Inventory) -> None:
    docs, findings = converted(inventory)
    remaining = unexplained(inventory, docs, findings, max_per_host=200)
    assert not remaining, show(remaining)


def test_tls_only_ingress_differs_in_sni_only() -> None:
    """The TLS-only example above: port 80 answered 404 and is refused now, nothing routed
    there either way: no difference. Port 443 refuses hosts no certificate names (IM216)."""
    inventory = Inventory(legacy=[ingress("tls", "default", {
        "tls": [{"secretName": "x"}], "rules": [{"host": "a.example.com", "http": {"paths": [
            {"path": "/foo", "backend": {"serviceName": "a", "servicePort": 80}}]}}]})])
    docs, findings = converted(inventory)
    result = compare(inventory, docs, findings)
    statuses = {(d.request.port, d.old.status, d.new.status) for d in result.differences}
    assert statuses == {(443, NO_ROUTE, REFUSED)}
    assert {d.request.host for d in result.differences} == {"istiomigrate-unknown.example.com"}
    assert all(f.code == "IM216" for d in result.differences for f in d.explained_by)


def test_wildcard_host_stays_on_its_port() -> None:
    inventory = Inventory(legacy=[
        ingress("plain", "default", {"rules": [{"host": "a.example.com", "http": {"paths": [
            {"backend": {"serviceName": "a", "servicePort": 80}}]}}]}),
        ingress("secure", "default", {"tls": [{"secretName": "certs"}], "rules": [
            {"host": "*.example.com", "http": {"paths": [
                {"backend": {"serviceName": "b", "servicePort": 80}}]}}]})])
    docs, findings = converted(inventory)
    remaining = unexplained(inventory, docs, findings)
    assert not remaining, show(remaining)

"""verify: converted config must route every request as the legacy config did.

Property tests generate random legacy configurations, convert them with the
project's converter and check that every difference the simulators find is
explained by a finding. Hand-broken conversions and the old converter's
goldens show that verify does see real differences.

Hypothesis profiles: ``ci`` (default, 200 examples) and ``long`` (2000),
chosen with the environment variable ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.findings import Finding, SourceRef
from istiomigrate.options import Options
from istiomigrate.pipeline import convert
from istiomigrate.read.inventory import ExistingResource, Inventory, LegacyResource, read_paths
from istiomigrate.read.legacy import SPEC_MODELS
from istiomigrate.verify import compare, explain, verify

settings.register_profile("ci", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# Applied to this module's property test only, so other modules keep their own settings.
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "verify"
CORPUS = ROOT.parent / "shared" / "conformance" / "istioctl-0.8"
NEEDS_CORPUS = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is absent (../shared)")
PER_HOST = 150  # requests per host in property tests: enough to meet every condition
NAMESPACES = ("default", "ns1")
SERVICES = ("a", "b", "c")
DOMAIN = "svc.cluster.local"


def legacy(kind: str, namespace: str, name: str, spec: dict) -> LegacyResource:
    model = SPEC_MODELS[kind].model_validate(spec)
    ref = SourceRef(kind, namespace, name)
    return LegacyResource(kind, namespace, name, model, ref, None, {"spec": spec})


def converted(inventory: Inventory, options: Options | None = None) -> tuple[list[dict], list]:
    result = convert(inventory, options or Options())
    return [r.document() for r in result.resources], [*inventory.findings, *result.findings]


def unexplained(inventory: Inventory, docs: list[dict], findings: list) -> list:
    return explain(verify(inventory, docs, findings, max_per_host=PER_HOST), findings)[1]


def show(differences: list) -> str:
    return "\n\n".join(d.describe() for d in differences[:5])


# --- strategies for legacy configurations ---------------------------------------------------

HEADER_CONDITIONS = (
    ("uri", {"prefix": "/api"}),
    ("uri", {"exact": "/login"}),
    ("uri", {"regex": "/items/[0-9]+"}),
    ("cookie", {"regex": "^(.*?;)?(user=jason)(;.*)?$"}),
    ("x-user", {"exact": "bob"}),
    ("X-Version", {"prefix": "v2"}),
    ("method", {"exact": "POST"}),
)
EXTERNAL = ("httpbin.org", "*.foo.com", "*bar.com")


@st.composite
def service_ref(draw, allow_namespace: bool = True) -> dict:
    out = {"name": draw(st.sampled_from(SERVICES))}
    if allow_namespace and draw(st.booleans()):
        out["namespace"] = draw(st.sampled_from(NAMESPACES))
    return out


@st.composite
def source_ref(draw, namespace: str) -> dict:
    """A source by name, or by FQDN in the rule's own namespace (see test_source_fqdn_...)."""
    if draw(st.integers(0, 3)) == 0:
        return {"service": f"{draw(st.sampled_from(SERVICES))}.{namespace}.{DOMAIN}"}
    return draw(service_ref())


@st.composite
def match(draw, namespace: str) -> dict | None:
    out: dict = {}
    if draw(st.booleans()):
        source = draw(source_ref(namespace))
        if draw(st.booleans()):
            source["labels"] = {"version": draw(st.sampled_from(["v1", "v2"]))}
        out["source"] = source
    headers = draw(st.lists(st.sampled_from(HEADER_CONDITIONS), max_size=2,
                            unique_by=lambda h: h[0]))
    if headers:
        out["request"] = {"headers": dict(headers)}
    return out or None


@st.composite
def route(draw) -> list[dict] | None:
    shape = draw(st.sampled_from(["none", "one", "split", "other-host"]))
    if shape == "none":
        return None
    if shape == "one":
        entry: dict = {"labels": {"version": draw(st.sampled_from(["v1", "v2", "v3"]))}}
        if draw(st.booleans()):
            entry["weight"] = 100
        return [entry]
    weight = draw(st.integers(min_value=0, max_value=100))
    first: dict = {"labels": {"version": "v1"}, "weight": weight}
    second: dict = {"labels": {"version": "v2"}, "weight": 100 - weight}
    if shape == "other-host":
        second["destination"] = draw(service_ref())
    return [first, second]


@st.composite
def actions(draw) -> dict:
    out: dict = {}
    picks = draw(st.sets(st.sampled_from(
        ["timeout", "retries", "fault", "mirror", "headers", "websocket", "cors", "rewrite"])))
    if "timeout" in picks:
        out["httpReqTimeout"] = {"simpleTimeout": {"timeout": draw(st.sampled_from(
            ["1s", "500ms", "1m"]))}}
    if "retries" in picks:
        out["httpReqRetries"] = {"simpleRetry": {"attempts": draw(st.integers(1, 3)),
                                                 "perTryTimeout": "2s"}}
    if "fault" in picks:
        out["httpFault"] = {"abort": {"percent": draw(st.sampled_from([10, 50, 100])),
                                      "httpStatus": 503}}
    if "mirror" in picks:
        mirror = draw(service_ref())
        if draw(st.booleans()):
            mirror["labels"] = {"version": "v2"}
        out["mirror"] = mirror
    if "headers" in picks:
        out["appendHeaders"] = {"x-migrated": "yes"}
    if "websocket" in picks:
        out["websocketUpgrade"] = True
    if "cors" in picks:
        out["corsPolicy"] = {"allowOrigin": ["http://foo.example"], "maxAge": "300s"}
    if "rewrite" in picks:
        out["rewrite"] = {"uri": "/v2"}
    return out


@st.composite
def route_rule(draw, index: int) -> LegacyResource:
    namespace = draw(st.sampled_from(NAMESPACES))
    spec: dict = {"destination": draw(service_ref()),
                  "precedence": draw(st.integers(min_value=0, max_value=2))}
    condition = draw(match(namespace))
    if condition:
        spec["match"] = condition
    if draw(st.integers(0, 9)) == 0:
        spec["redirect"] = {"uri": "/moved"}
    else:
        entries = draw(route())
        if entries:
            spec["route"] = entries
        spec.update(draw(actions()))
    return legacy("RouteRule", namespace, f"rule-{index}", spec)


@st.composite
def tcp_rule(draw, index: int) -> LegacyResource:
    spec = {"destination": {"name": draw(st.sampled_from(SERVICES))},
            "precedence": draw(st.integers(0, 2)),
            "match": {"tcp": {
                "sourceSubnet": draw(st.lists(st.sampled_from(["10.0.0.0/8", "192.168.1.0/24"]),
                                              max_size=2, unique=True)),
                "destinationSubnet": draw(st.lists(st.sampled_from(["172.16.0.0/12"]),
                                                   max_size=1))}},
            "route": [{"labels": {"version": draw(st.sampled_from(["v1", "v2"]))}}]}
    namespace = draw(st.sampled_from(NAMESPACES))
    if draw(st.booleans()):
        spec["match"]["source"] = draw(source_ref(namespace))
    return legacy("RouteRule", namespace, f"tcp-{index}", spec)


@st.composite
def destination_policy(draw, index: int, external: list[str]) -> LegacyResource:
    if external and draw(st.integers(0, 3)) == 0:
        destination = {"service": draw(st.sampled_from(external))}
    else:
        destination = draw(service_ref())
        if draw(st.booleans()):
            destination["labels"] = {"version": draw(st.sampled_from(["v1", "v2"]))}
    spec: dict = {"destination": destination}
    if draw(st.integers(0, 4)) == 0:
        spec["source"] = draw(service_ref())
    if draw(st.booleans()):
        spec["loadBalancing"] = {"name": draw(st.sampled_from(["RANDOM", "LEAST_CONN"]))}
    cb = draw(st.dictionaries(
        st.sampled_from(["maxConnections", "httpMaxPendingRequests", "httpMaxRequests",
                         "httpMaxRequestsPerConnection", "httpMaxRetries"]),
        st.integers(1, 100), max_size=3))
    # An outlier field is always set: see test_simple_cb_without_outlier_fields (xfail).
    cb.update(draw(st.dictionaries(
        st.sampled_from(["httpConsecutiveErrors", "httpMaxEjectionPercent"]),
        st.integers(1, 100), min_size=1, max_size=2)))
    cb["sleepWindow"] = draw(st.sampled_from(["30s", "3m"]))  # both required (§4.7)
    cb["httpDetectionInterval"] = draw(st.sampled_from(["10s", "1m"]))
    if draw(st.booleans()) or not spec.get("loadBalancing"):
        spec["circuitBreaker"] = {"simpleCb": cb}
    return legacy("DestinationPolicy", draw(st.sampled_from(NAMESPACES)), f"policy-{index}", spec)


@st.composite
def egress_rule(draw, index: int, service: str) -> LegacyResource:
    if service[0].isdigit():
        ports = [{"port": 3306, "protocol": "tcp"}]
    else:
        ports = draw(st.lists(st.sampled_from([{"port": 80, "protocol": "http"},
                                               {"port": 443, "protocol": "https"}]),
                              min_size=1, max_size=2, unique_by=lambda p: p["port"]))
    spec = {"destination": {"service": service}, "ports": ports}
    return legacy("EgressRule", draw(st.sampled_from(NAMESPACES)), f"egress-{index}", spec)


@st.composite
def external_rule(draw, index: int, host: str) -> LegacyResource:
    spec: dict = {"destination": {"service": host}, "precedence": 1}
    if draw(st.booleans()):
        spec["match"] = {"request": {"headers": {"x-user": {"exact": "bob"}}}}
    spec["httpReqTimeout"] = {"simpleTimeout": {"timeout": "3s"}}
    return legacy("RouteRule", "default", f"external-{index}", spec)


def existing_rule(host: str) -> ExistingResource:
    """A DestinationRule already in the input: its subset for v3 is reused, nothing conflicts."""
    data = {"apiVersion": "networking.istio.io/v1alpha3", "kind": "DestinationRule",
            "metadata": {"name": f"{host}-existing", "namespace": "default"},
            "spec": {"host": host, "subsets": [{"name": "third", "labels": {"version": "v3"}}]}}
    ref = SourceRef("DestinationRule", "default", f"{host}-existing")
    return ExistingResource("DestinationRule", "default", f"{host}-existing", data, None, ref)


@st.composite
def inventories(draw) -> tuple[Inventory, Options]:
    resources = [draw(route_rule(i)) for i in range(draw(st.integers(0, 5)))]
    resources += [draw(tcp_rule(i)) for i in range(draw(st.integers(0, 1)))]
    egress = draw(st.lists(st.sampled_from([*EXTERNAL, "10.1.0.0/16"]), max_size=2, unique=True))
    egress_rules = [draw(egress_rule(i, s)) for i, s in enumerate(egress)]
    # Policies for external hosts only without TLS origination: see test_external_policy_...
    plain = [r.spec.destination.service for r in egress_rules if not r.spec.destination.service[
        0].isdigit() and all(p.protocol != "https" for p in r.spec.ports)]
    resources += [draw(destination_policy(i, plain)) for i in range(draw(st.integers(0, 3)))]
    resources += egress_rules
    named = [s for s in egress if s in EXTERNAL and "*" not in s]
    if named and draw(st.booleans()):
        resources.append(draw(external_rule(0, named[0])))
    inventory = Inventory(legacy=resources)
    for namespace in NAMESPACES:
        for name in draw(st.sets(st.sampled_from(SERVICES))):
            selector = {"app": name}
            if draw(st.booleans()):
                selector["tier"] = "backend"
            inventory.services[(namespace, name)] = selector
    if draw(st.integers(0, 4)) == 0:
        inventory.existing.append(existing_rule(draw(st.sampled_from(SERVICES))))
    options = Options(target=draw(st.sampled_from(["0.8", "1.0"])))
    return inventory, options


@settings(PROFILE)
@given(inventories())
def test_every_difference_is_explained_by_a_finding(case) -> None:
    inventory, options = case
    docs, findings = converted(inventory, options)
    remaining = unexplained(inventory, docs, findings)
    assert not remaining, show(remaining)


# --- hand-broken conversions: verify must catch each ----------------------------------------

BOOKINFO = FIXTURES / "bookinfo.yaml"


def bookinfo() -> tuple[Inventory, list[dict], list]:
    inventory = read_paths([str(BOOKINFO)])
    docs, findings = converted(inventory)
    return inventory, docs, findings


def find(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixture_conversion_verifies(fixture: Path) -> None:
    inventory = read_paths([str(fixture)])
    docs, findings = converted(inventory)
    result = compare(inventory, docs, findings)
    assert result.requests > 50
    assert result.differences, "each fixture has intended differences (IM204, IM208, IM213)"
    assert not explain(result.differences, findings)[1], show(result.differences)


def drop_source(docs: list[dict]) -> None:
    reviews = find(docs, "VirtualService", "reviews")
    for route in reviews["spec"]["http"]:
        for match in route.get("match", []):
            match.pop("sourceLabels", None)


def drop_subset(docs: list[dict]) -> None:
    rule = find(docs, "DestinationRule", "reviews")
    rule["spec"]["subsets"] = [s for s in rule["spec"]["subsets"] if s["name"] != "v3"]


def reorder(docs: list[dict]) -> None:
    http = find(docs, "VirtualService", "reviews")["spec"]["http"]
    http[0], http[1] = http[1], http[0]


def drop_fallthrough(docs: list[dict]) -> None:
    find(docs, "VirtualService", "ratings")["spec"]["http"].pop()


def drop_circuit_breaker(docs: list[dict]) -> None:
    for subset in find(docs, "DestinationRule", "reviews")["spec"]["subsets"]:
        subset.pop("trafficPolicy", None)


def passthrough(docs: list[dict]) -> None:
    entry = find(docs, "ServiceEntry", "httpbin")
    for port in entry["spec"]["ports"]:
        if port["number"] == 443:
            port["protocol"] = "HTTPS"


@pytest.mark.parametrize("breakage", [drop_source, drop_subset, reorder, drop_fallthrough,
                                      drop_circuit_breaker, passthrough])
def test_verify_catches_a_broken_conversion(breakage) -> None:
    inventory, docs, findings = bookinfo()
    broken = copy.deepcopy(docs)
    breakage(broken)
    remaining = explain(verify(inventory, broken, findings), findings)[1]
    assert remaining, f"{breakage.__name__} went unnoticed"


def test_missing_subset_is_reported_as_503() -> None:
    inventory, docs, findings = bookinfo()
    drop_subset(docs)
    statuses = {d.new.status for d in verify(inventory, docs, findings)}
    assert "unavailable" in statuses


def test_findings_explain_only_what_they_say() -> None:
    """IM208 accounts for the shared unlabelled policy; without it, the same differences show."""
    inventory, docs, findings = bookinfo()
    differences = verify(inventory, docs, findings)
    shared = [d for d in differences if any(a.kind == "policy" for a in d.aspects)]
    assert shared and all({f.code for f in d.explained_by} == {"IM208"} for d in shared)
    others = [f for f in findings if f.code != "IM208"]
    assert len(explain(shared, others)[1]) == len(shared)
    unrelated = Finding("IM208", "elsewhere", SourceRef("DestinationPolicy", "x", "y"))
    assert len(explain(shared, [unrelated])[1]) == len(shared)


def test_fractional_fault_truncated_as_pilot_did_routes_the_same() -> None:
    rules = [legacy("RouteRule", "default", "r", {
        "destination": {"name": "a"}, "match": {"request": {"headers": {"x": {"exact": "1"}}}},
        "httpFault": {"abort": {"percent": 12.5, "httpStatus": 500}}}),
        legacy("RouteRule", "default", "s", {
            "destination": {"name": "a"}, "httpFault": {"abort": {"percent": 7.5,
                                                                   "httpStatus": 500}}})]
    inventory = Inventory(legacy=rules)
    docs, findings = converted(inventory)
    assert verify(inventory, docs, findings) == []
    assert sorted(f.source.name for f in findings if f.code == "IM206") == ["r", "s"]


# --- the old converter's test cases -----------------------------------------------------------

CASES = {
    1: (["rule-default-route.yaml"], "rule-default-route"),
    2: (["rule-weighted-route.yaml"], "rule-weighted-route"),
    3: (["rule-default-route.yaml", "rule-content-route.yaml"], "rule-content-route"),
    4: (["rule-default-route.yaml", "rule-regex-route.yaml"], "rule-regex-route"),
    5: (["rule-default-route.yaml", "rule-fault-injection.yaml"], "rule-fault-injection"),
    6: (["rule-default-route.yaml", "rule-redirect-injection.yaml"], "rule-redirect-injection"),
    7: (["rule-default-route.yaml", "rule-websocket-route.yaml"], "rule-websocket-route"),
    8: (["rule-default-route-append-headers.yaml"], "rule-default-route-append-headers"),
    9: (["rule-default-route-cors-policy.yaml"], "rule-default-route-cors-policy"),
    10: (["rule-default-route-mirrored.yaml"], "rule-default-route-mirrored"),
    11: (["egress-rule-google.yaml"], "egress-rule-google"),
    12: (["egress-rule-httpbin.yaml"], "egress-rule-httpbin"),
    13: (["egress-rule-tcp-wikipedia-cidr.yaml"], "egress-rule-tcp-wikipedia-cidr"),
    14: (["egress-rule-wildcard-httpbin.yaml"], "egress-rule-wildcard-httpbin"),
    15: (["destination-policy-helloworld.yaml"], "destination-rule-helloworld"),
    16: (["route-rule-80-20.yaml"], "route-rule-80-20"),
    17: (["route-rule-80-20.yaml", "destination-policy-helloworld.yaml"],
         "route-rule-80-20-with-destpolicy"),
    18: (["destination-policy-helloworld.yaml", "route-rule-80-20.yaml"],
         "destination-rule-helloworld-with-80-20"),
    19: (["nolabel-destination-policy.yaml"], "nolabel-destination-rule"),
    # 20 and 21 are Ingresses: tests/test_verify_ingress.py covers them.
}


def case_inventory(number: int) -> Inventory:
    return read_paths([str(CORPUS / "v1alpha1" / name) for name in CASES[number][0]])


@NEEDS_CORPUS
@pytest.mark.parametrize("number", sorted(CASES))
def test_conformance_case_converted_by_us_verifies(number: int) -> None:
    inventory = case_inventory(number)
    docs, findings = converted(inventory)
    remaining = explain(verify(inventory, docs, findings), findings)[1]
    assert not remaining, show(remaining)


def golden(number: int) -> list[dict]:
    from istiomigrate.cli.verify import read_converted

    return read_converted([str(CORPUS / "v1alpha3" / f"{CASES[number][1]}.yaml.golden")])


@NEEDS_CORPUS
@pytest.mark.parametrize(("number", "aspect"), [(3, "destinations"), (5, "fault"),
                                                (19, "policy")])
def test_old_golden_fails_verify(number: int, aspect: str) -> None:
    """Cases 3 and 5 lost their source match, 19 its circuit breaker: verify sees it."""
    differences = verify(case_inventory(number), golden(number))
    assert differences
    assert aspect in {a.kind for d in differences for a in d.aspects}


# --- converter bugs verify found, now fixed: each stays as a regression test ------------------


def assert_verifies(resources: list[LegacyResource], services: dict | None = None,
                    existing: list[ExistingResource] | None = None) -> None:
    inventory = Inventory(legacy=resources, services=services or {}, existing=existing or [])
    docs, findings = converted(inventory)
    remaining = unexplained(inventory, docs, findings)
    assert not remaining, show(remaining)


def test_fault_without_percent() -> None:
    assert_verifies([legacy("RouteRule", "default", "r", {
        "destination": {"name": "a"}, "httpFault": {"abort": {"httpStatus": 503}}})])


def test_simple_cb_without_outlier_fields() -> None:
    assert_verifies([legacy("DestinationPolicy", "default", "p", {
        "destination": {"name": "a"}, "circuitBreaker": {"simpleCb": {
            "maxConnections": 5, "sleepWindow": "30s", "httpDetectionInterval": "10s"}}})])


@pytest.mark.parametrize("missing", ["sleepWindow", "httpDetectionInterval"])
def test_simple_cb_without_its_durations_is_rejected_as_pilot_did(missing: str) -> None:
    """§4.7: Pilot's validation refused it, and its cluster builder dereferenced both."""
    cb = {"maxConnections": 5, "sleepWindow": "30s", "httpDetectionInterval": "10s"}
    del cb[missing]
    with pytest.raises(ValidationError, match=f"simpleCb needs {missing}"):
        legacy("DestinationPolicy", "default", "p", {
            "destination": {"name": "a"}, "circuitBreaker": {"simpleCb": cb}})


def test_external_policy_with_tls_origination() -> None:
    assert_verifies([
        legacy("EgressRule", "default", "e", {"destination": {"service": "httpbin.org"},
                                              "ports": [{"port": 443, "protocol": "https"}]}),
        legacy("DestinationPolicy", "default", "p", {
            "destination": {"service": "httpbin.org"},
            "circuitBreaker": {"simpleCb": {"maxConnections": 5, "httpConsecutiveErrors": 3,
                                            "sleepWindow": "30s",
                                            "httpDetectionInterval": "10s"}}})])


def test_source_without_name_is_rejected_as_pilot_did() -> None:
    with pytest.raises(ValidationError, match="needs a name or a service"):
        legacy("RouteRule", "default", "r", {
            "destination": {"name": "a"}, "match": {"source": {"labels": {"app": "x"}}},
            "route": [{"labels": {"version": "v2"}}]})


def test_conflicting_egress_rules() -> None:
    assert_verifies([
        legacy("EgressRule", "default", "e1", {"destination": {"service": "httpbin.org"},
                                               "ports": [{"port": 80, "protocol": "http"}]}),
        legacy("EgressRule", "default", "e2", {"destination": {"service": "httpbin.org"},
                                               "ports": [{"port": 443, "protocol": "https"}]})])


def test_policy_merged_into_existing_subset() -> None:
    existing = existing_rule("a")
    existing.data["spec"]["subsets"][0]["labels"] = {"version": "v2"}
    assert_verifies([
        legacy("RouteRule", "default", "r", {"destination": {"name": "a"},
                                             "route": [{"labels": {"version": "v2"}}]}),
        legacy("DestinationPolicy", "default", "p", {
            "destination": {"name": "a", "labels": {"version": "v2"}},
            "loadBalancing": {"name": "RANDOM"}})], existing=[existing])


def test_source_fqdn_in_another_namespace() -> None:
    assert_verifies([legacy("RouteRule", "default", "r", {
        "destination": {"name": "a"},
        "match": {"source": {"service": "b.ns1.svc.cluster.local"}},
        "route": [{"labels": {"version": "v2"}}]})],
        services={("ns1", "b"): {"app": "b-real"}, ("default", "b"): {"app": "b-default"}})


# --- the command ------------------------------------------------------------------------------

runner = CliRunner()


def write_docs(path: Path, docs: list[dict]) -> str:
    path.write_text(yaml.safe_dump_all(docs))
    return str(path)


def test_command_exits_0_when_nothing_differs(tmp_path: Path) -> None:
    """The fixture without the parts whose differences are intended (sources, IM208's host)."""
    legacy_file = tmp_path / "legacy.yaml"
    legacy_file.write_text(
        "\n---\n".join(p for p in BOOKINFO.read_text().split("\n---\n")
                       if "ratings" not in p and "source:" not in p))
    out = write_docs(tmp_path / "out.yaml", converted(read_paths([str(legacy_file)]))[0])
    result = runner.invoke(app, ["verify", str(legacy_file), "--against", out])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


@NEEDS_CORPUS
def test_command_on_an_old_golden(tmp_path: Path) -> None:
    files = [str(CORPUS / "v1alpha1" / name) for name in CASES[3][0]]
    golden_file = str(CORPUS / "v1alpha3" / f"{CASES[3][1]}.yaml.golden")
    result = runner.invoke(app, ["verify", *files, "--against", golden_file])
    assert result.exit_code == 1 and "RouteRule default/content-route" in result.stdout


def test_command_exits_1_and_prints_each_difference(tmp_path: Path) -> None:
    _, docs, _ = bookinfo()
    reorder(docs)
    out = write_docs(tmp_path / "out.yaml", docs)
    result = runner.invoke(app, ["verify", str(BOOKINFO), "--against", out])
    assert result.exit_code == 1
    assert "request:" in result.stdout and "legacy:" in result.stdout
    assert "VirtualService bookinfo/reviews" in result.stdout


def test_command_json(tmp_path: Path) -> None:
    _, docs, _ = bookinfo()
    out = write_docs(tmp_path / "out.yaml", docs)
    result = runner.invoke(app, ["verify", str(BOOKINFO), "--against", out, "--format", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["requests"] > 100
    assert data["explained"] == len(data["differences"])
    first = data["differences"][0]
    assert {"request", "legacy", "converted", "aspects", "legacy_resources",
            "converted_resources", "explained_by"} <= set(first)


@pytest.mark.parametrize("against", ["missing.yaml", "bad.yaml", "shape.yaml", "weight.yaml"])
def test_command_exits_2_on_bad_input(tmp_path: Path, against: str) -> None:
    (tmp_path / "bad.yaml").write_text("kind: VirtualService\nspec: [unclosed\n")
    (tmp_path / "shape.yaml").write_text(
        "kind: VirtualService\nmetadata: {name: r}\nspec: {hosts: [reviews], http: [{route: x}]}\n")
    (tmp_path / "weight.yaml").write_text(
        "kind: VirtualService\nmetadata: {name: r, namespace: bookinfo}\nspec:\n"
        "  hosts: [reviews]\n  http: [{route: [{destination: {host: reviews}, weight: x},"
        " {destination: {host: reviews}, weight: y}]}]\n")
    result = runner.invoke(app, ["verify", str(BOOKINFO), "--against",
                                 str(tmp_path / against)])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- as Pilot read it

_USER_MAPS = {"headers", "appendHeaders", "sourceLabels", "labels", "selector"}


def _snake(data: object) -> object:
    """``data`` with every field name in proto (snake_case) form; user-data maps kept."""
    if isinstance(data, list):
        return [_snake(item) for item in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        name = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        out[name] = value if key in _USER_MAPS else _snake(value)
    return out


def _with_nulls(docs: list[dict]) -> list[dict]:
    """Every HTTP route gains keys written with no value (``match:``, ``timeout:``)."""
    out = copy.deepcopy(docs)
    for doc in out:
        for route in doc["spec"].get("http", []):
            route.setdefault("match", None)
            route.setdefault("timeout", None)
        doc["spec"].setdefault("trafficPolicy", None)
    return out


def test_against_reads_snake_case_and_nulls_as_pilot_did(tmp_path: Path) -> None:
    legacy_file = tmp_path / "legacy.yaml"
    legacy_file.write_text(
        "\n---\n".join(p for p in BOOKINFO.read_text().split("\n---\n")
                       if "ratings" not in p and "source:" not in p))
    docs = converted(read_paths([str(legacy_file)]))[0]
    assert any("sourceLabels" in json.dumps(d) or "perTryTimeout" in json.dumps(d)
               or "subsets" in json.dumps(d) for d in docs)
    as_written = [{**d, "spec": _snake(d["spec"])} for d in _with_nulls(docs)]
    assert as_written != docs
    out = write_docs(tmp_path / "out.yaml", as_written)
    result = runner.invoke(app, ["verify", str(legacy_file), "--against", out])
    assert result.exit_code == 0, result.output
    # and a difference spelt in snake_case is still seen: the retries are read, not dropped
    broken = copy.deepcopy(as_written)
    for doc in broken:
        for route in doc["spec"].get("http", []):
            route["retries"] = {"attempts": 7, "per_try_timeout": "9s"}
    out = write_docs(tmp_path / "broken.yaml", broken)
    result = runner.invoke(app, ["verify", str(legacy_file), "--against", out])
    assert result.exit_code == 1 and "retries" in result.stdout, result.output


def test_as_pilot_read_renames_fields_not_user_data() -> None:
    from istiomigrate.read.protojson import as_pilot_read

    doc = {"kind": "VirtualService", "metadata": {"name": "a_b"}, "spec": {
        "hosts": ["r"], "http": [{
            "match": [{"headers": {"x_user": {"exact": "1"}}, "source_labels": {"app_id": "x"}}],
            "route": [{"destination": {"host": "r"}}], "append_headers": {"x_a": "1"},
            "retries": {"attempts": 2, "per_try_timeout": "1s"}, "rewrite": None,
            "cors_policy": {"max_age": "1s", "maxAge": "2s"}}]}}
    got = as_pilot_read(doc)
    route = got["spec"]["http"][0]
    assert route["match"] == [{"headers": {"x_user": {"exact": "1"}},
                               "sourceLabels": {"app_id": "x"}}]
    assert route["appendHeaders"] == {"x_a": "1"}
    assert route["retries"] == {"attempts": 2, "perTryTimeout": "1s"}
    assert "rewrite" not in route
    assert route["corsPolicy"] == {"maxAge": "2s"}  # the JSON name wins over its twin
    assert got["metadata"] == {"name": "a_b"}
    listed = as_pilot_read({"kind": "List", "items": [doc]})
    assert listed["items"][0] == got

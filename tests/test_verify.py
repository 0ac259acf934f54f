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
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis import given
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.convert import Options, convert
from istiomigrate.findings import Finding, SourceRef
from istiomigrate.legacy import SPEC_MODELS
from istiomigrate.reader import ExistingResource, Inventory, LegacyResource, read_paths
from istiomigrate.verify import compare, explain, verify

settings.register_profile("ci", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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
    return legacy("RouteRule", draw(st.sampled_from(NAMESPACES)), f"tcp-{index}", spec)


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
    if draw(st.booleans()):
        cb["sleepWindow"] = draw(st.sampled_from(["30s", "3m"]))
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
            inventory.services[(namespace, name)] = {"app": name}
    if draw(st.integers(0, 4)) == 0:
        inventory.existing.append(existing_rule(draw(st.sampled_from(SERVICES))))
    options = Options(target=draw(st.sampled_from(["0.8", "1.0"])))
    return inventory, options


@given(inventories())
def test_every_difference_is_explained_by_a_finding(case) -> None:
    inventory, options = case
    docs, findings = converted(inventory, options)
    remaining = unexplained(inventory, docs, findings)
    assert not remaining, show(remaining)

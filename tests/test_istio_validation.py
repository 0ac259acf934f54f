"""Pilot's own validation (istio 0.8.0/1.0.0 ``model/validation.go``), beyond the schemas.

Each rule is proved by a document it refuses, next to a baseline both releases accept;
the pipeline reports what it refuses as IM307.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from istiomigrate.findings import Severity
from istiomigrate.model import Resource
from istiomigrate.pipeline import Conversion, validate
from istiomigrate.targets.istio.validation import cross_problems, problems

BOTH = ("0.8", "1.0")


def _doc(kind: str, spec: dict[str, Any], name: str = "x") -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1alpha3", "kind": kind,
            "metadata": {"name": name, "namespace": "shop"}, "spec": spec}


BASE = {
    "VirtualService": _doc("VirtualService", {
        "hosts": ["cart"],
        "http": [{"match": [{"headers": {"x-a": {"exact": "1"}}, "sourceLabels": {"app": "web"}}],
                  "route": [{"destination": {"host": "cart", "subset": "v1"}, "weight": 90},
                            {"destination": {"host": "cart", "subset": "v2",
                                             "port": {"number": 80}}, "weight": 10}],
                  "timeout": "3s", "retries": {"attempts": 3, "perTryTimeout": "1s"},
                  "fault": {"delay": {"percent": 5, "fixedDelay": "1s"}},
                  "corsPolicy": {"allowMethods": ["GET"], "maxAge": "60s"},
                  "appendHeaders": {"x-b": "1"}}]}),
    "DestinationRule": _doc("DestinationRule", {
        "host": "cart",
        "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 10}}},
        "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                    {"name": "v2", "labels": {"version": "v2"}}]}),
    "ServiceEntry": _doc("ServiceEntry", {
        "hosts": ["api.example.com"], "addresses": ["10.0.0.0/24"],
        "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}],
        "resolution": "NONE"}),
    "Gateway": _doc("Gateway", {
        "selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                     "hosts": ["shop.example.com"]}]}),
}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation putting ``value`` at a dotted path (``[n]`` for list items) of ``spec``."""
    def apply(doc: dict[str, Any]) -> None:
        node: Any = doc
        keys = [int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "")
                .split(".")]
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return apply


# (kind, versions that refuse, mutation, fragment of the message)
REFUSED = [
    ("VirtualService", BOTH, _set("spec.http.0.retries.attempts", 0), "attempts must be positive"),
    ("VirtualService", BOTH, _set("spec.http.0.retries", {"perTryTimeout": "1s"}),
     "attempts must be positive"),
    ("VirtualService", BOTH, _set("spec.http.0.route.0.weight", 101), "not in range 0..100"),
    ("VirtualService", BOTH, _set("spec.http.0.route.0.weight", 95), "total destination weight"),
    ("VirtualService", ("1.0",), _set("spec.http.0.route.0.weight", 80), "!= 100"),
    ("VirtualService", BOTH, _set("spec.hosts", []), "at least one host"),
    ("VirtualService", BOTH, _set("spec.hosts", [""]), "empty domain name"),
    ("VirtualService", BOTH, _set("spec.hosts", ["bad_host.example"]), "invalid"),
    ("VirtualService", BOTH, _set("spec.hosts", ["*"]), "wildcard host *"),
    ("VirtualService", BOTH, _set("spec.hosts", ["*.example.com", "a.example.com"]), "duplicate"),
    ("VirtualService", ("1.0",), _set("spec.hosts", ["10.0.0.0/8"]), "invalid"),
    ("VirtualService", ("0.8",), _set("spec.gateways", ["gw.istio-system"]), "DNS-1123 label"),
    ("VirtualService", BOTH, _set("spec.gateways", ["istio-system/gw"]), "istio-system/gw"),
    ("VirtualService", BOTH, _set("spec.http", []), "must be provided"),
    ("VirtualService", BOTH, _set("spec.http.0.route", []), "route or a redirect"),
    ("VirtualService", BOTH, _set("spec.http.0.redirect", {"uri": "/x"}),
     "both route and redirect"),
    ("VirtualService", BOTH, _set("spec.http.0.route.0.destination.subset", "v_1"),
     "DNS-1123 label"),
    ("VirtualService", BOTH, _set("spec.http.0.route.1.destination.port", {"number": 70000}),
     "1..65535"),
    ("VirtualService", BOTH, _set("spec.http.0.timeout", "0s"), "at least 1ms"),
    ("VirtualService", BOTH, _set("spec.http.0.timeout", "1500us"), "millisecond precision"),
    ("VirtualService", BOTH, _set("spec.http.0.retries.perTryTimeout", "500us"), "at least 1ms"),
    ("VirtualService", BOTH, _set("spec.http.0.corsPolicy.maxAge", "1500ms"), "whole seconds"),
    ("VirtualService", BOTH, _set("spec.http.0.corsPolicy.allowMethods", ["FETCH"]),
     "not a supported HTTP method"),
    ("VirtualService", BOTH, _set("spec.http.0.appendHeaders", {"X-B": "1"}), "lower case"),
    ("VirtualService", BOTH, _set("spec.http.0.match.0.headers", {"": {"exact": "1"}}),
     "cannot be empty"),
    ("VirtualService", BOTH, _set("spec.http.0.match.0.sourceLabels", {"app": "a b"}),
     "invalid label value"),
    ("VirtualService", BOTH, _set("spec.http.0.fault", {}), "abort and/or a delay"),
    ("VirtualService", BOTH, _set("spec.http.0.fault.delay.percent", 101), "0..100"),
    ("VirtualService", BOTH, _set("spec.http.0.fault.abort", {"percent": 1, "grpcStatus": "X"}),
     "not supported"),
    ("VirtualService", BOTH, _set("spec.http.0.fault.abort", {"percent": 1, "httpStatus": 700}),
     "0..600"),
    ("VirtualService", BOTH, _set("spec.http.0.rewrite", {}), "uri, authority, or both"),
    ("VirtualService", ("1.0",), _set("spec.tcp", [{"route": [
        {"destination": {"host": "cart"}, "weight": 50},
        {"destination": {"host": "cart", "subset": "v1"}, "weight": 50}]}]),
     "exactly one destination"),
    ("VirtualService", BOTH, _set("metadata.name", "Cart_1"), "DNS-1123 subdomain"),
    ("DestinationRule", BOTH, _set("spec.host", ""), "empty domain name"),
    ("DestinationRule", BOTH, _set("spec.subsets.0.name", "V.1"), "DNS-1123 label"),
    ("DestinationRule", BOTH, _set("spec.subsets.0.labels", {"version": "v 1"}), "invalid label"),
    ("DestinationRule", BOTH, _set("spec.trafficPolicy", {}), "at least one field"),
    ("DestinationRule", ("0.8",), _set("spec.trafficPolicy", {"portLevelSettings": [
        {"port": {"number": 443}, "tls": {"mode": "SIMPLE"}}]}), "at least one field"),
    ("DestinationRule", ("0.8",), _set("spec.trafficPolicy", {"outlierDetection": {
        "consecutiveErrors": 5}}), "must have http"),
    ("DestinationRule", ("0.8",), _set("spec.trafficPolicy", {"outlierDetection": {
        "http": {"consecutiveErrors": -1}}}), "cannot be negative"),
    ("DestinationRule", BOTH, _set("spec.trafficPolicy", {"outlierDetection": {
        "consecutiveErrors": -1}}), ""),  # 0.8: no http; 1.0: negative
    ("DestinationRule", BOTH, _set("spec.trafficPolicy", {"connectionPool": {}}),
     "must have http or tcp"),
    ("DestinationRule", BOTH, _set("spec.trafficPolicy.connectionPool.tcp.connectTimeout", "0s"),
     "at least 1ms"),
    ("DestinationRule", BOTH, _set("spec.trafficPolicy", {"tls": {"mode": "MUTUAL"}}),
     "required for MUTUAL"),
    ("ServiceEntry", BOTH, _set("spec.hosts", ["*"]), "neither * nor a short name"),
    ("ServiceEntry", BOTH, _set("spec.hosts", ["api"]), "neither * nor a short name"),
    ("ServiceEntry", BOTH, _set("spec.hosts", []), "at least one host"),
    ("ServiceEntry", ("0.8",), _set("spec.addresses", ["10.0.0.1"]), "CIDR block"),
    ("ServiceEntry", BOTH, _set("spec.addresses", ["10.0.0.0/33"]), "CIDR block"),
    ("ServiceEntry", BOTH, _set("spec.ports.0.number", 0), "1..65535"),
    ("ServiceEntry", BOTH, _set("spec.ports.0.name", "HTTPS_1"), "DNS-1123 label"),
    ("ServiceEntry", BOTH, _set("spec.ports.0.protocol", "QUIC"), "unsupported protocol"),
    ("ServiceEntry", ("0.8",), _set("spec.ports.0.protocol", "TLS"), "unsupported protocol"),
    ("ServiceEntry", BOTH, _set("spec.ports", [{"number": 443, "name": "a", "protocol": "TCP"},
                                               {"number": 443, "name": "a", "protocol": "TCP"}]),
     "already defined"),
    ("ServiceEntry", BOTH, _set("spec.resolution", "STATIC"), "endpoints are required"),
    ("Gateway", BOTH, _set("spec.servers", []), "at least one server"),
    ("Gateway", BOTH, _set("spec.servers.0.hosts", []), "at least one host"),
    ("Gateway", ("1.0",), _set("spec.servers.0.hosts", ["shop"]), "short names"),
    ("Gateway", BOTH, _set("spec.servers.0.port.protocol", "QUIC"), "unsupported protocol"),
    ("Gateway", ("1.0",), _set("spec.servers.0.port", {"number": 443, "name": "https",
                                                        "protocol": "HTTPS"}),
     "must have TLS settings"),
    ("Gateway", BOTH, _set("spec.servers.0.tls", {"mode": "SIMPLE"}), "server certificate"),
    ("Gateway", ("1.0",), _set("spec.servers.0.port.name", ""), "port name must be set"),
]


@pytest.mark.parametrize("version", BOTH)
@pytest.mark.parametrize("kind", sorted(BASE))
def test_baselines_are_accepted(kind: str, version: str) -> None:
    assert problems(BASE[kind], version) == []


@pytest.mark.parametrize(("kind", "refusing", "mutate", "fragment"), REFUSED,
                         ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_each_rule_refuses_a_document(kind: str, refusing: tuple[str, ...],
                                      mutate: Callable[[dict[str, Any]], None],
                                      fragment: str) -> None:
    doc = copy.deepcopy(BASE[kind])
    mutate(doc)
    for version in BOTH:
        found = problems(doc, version)
        if version in refusing:
            assert any(fragment in p for p in found), (version, found)
        else:
            assert found == [], (version, found)


def test_zero_weight_beside_others_is_valid_but_not_written() -> None:
    """0.8's validation lets weight 0 pass (only > 100 is refused); its runtime breaks (D1)."""
    doc = copy.deepcopy(BASE["VirtualService"])
    doc["spec"]["http"][0]["route"][0]["weight"] = 100
    doc["spec"]["http"][0]["route"][1]["weight"] = 0
    assert problems(doc, "0.8") == [] and problems(doc, "1.0") == []


def test_subsets_referenced_must_be_defined() -> None:
    vs, dr = copy.deepcopy(BASE["VirtualService"]), copy.deepcopy(BASE["DestinationRule"])
    assert cross_problems([vs, dr], "cluster.local") == []
    dr["spec"]["subsets"] = dr["spec"]["subsets"][:1]
    found = cross_problems([vs, dr], "cluster.local")
    assert [(i, "subset 'v2' is not defined" in m) for i, m in found] == [(0, True)]
    dr["spec"]["host"] = "cart.shop.svc.cluster.local"  # the same host, spelt in full
    assert len(cross_problems([vs, dr], "cluster.local")) == 1
    assert cross_problems([vs], "cluster.local") == []  # its rule is not ours to judge


@pytest.mark.parametrize("version", BOTH)
def test_pipeline_reports_refusals_as_im307(version: str) -> None:
    spec = copy.deepcopy(BASE["VirtualService"]["spec"])
    spec["http"][0]["retries"] = {"attempts": 0}
    findings = validate(Conversion([Resource("VirtualService", "shop", "cart", spec)]), version)
    assert [f.code for f in findings] == ["IM307"]
    assert findings[0].severity is Severity.ERROR
    assert "spec.http[0].retries.attempts" in findings[0].message
    assert f"fails Istio {version}'s own validation" in findings[0].message

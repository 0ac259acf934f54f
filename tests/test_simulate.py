"""The routing simulators: Pilot 0.8's v1alpha1 semantics, Pilot 0.8/1.0's v1alpha3 semantics.

Each test pins one rule of evaluation that ``verify`` relies on, and the
normalisation that makes equal behaviour in both APIs compare equal.
"""

from __future__ import annotations

import re

import pytest

from istiomigrate.findings import SourceRef
from istiomigrate.read.ingress import IngressSpec
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.read.legacy import SPEC_MODELS
from istiomigrate.simulate import gateway, generate, ingress_v1, v1alpha1, v1alpha3
from istiomigrate.simulate.request import (
    BLOCKED,
    NO_ROUTE,
    REFUSED,
    ROUTE,
    UNAVAILABLE,
    Caller,
    Ref,
    Request,
    host_matches,
    labels_of,
    string_matches,
)

A = "a.default.svc.cluster.local"
B = "b.default.svc.cluster.local"
EXTERNAL = Caller.external()


def res(kind: str, name: str, spec: dict, namespace: str = "default") -> LegacyResource:
    model = SPEC_MODELS[kind].model_validate(spec)
    return LegacyResource(kind, namespace, name, model, SourceRef(kind, namespace, name), None,
                          {"spec": spec})


def old(resources: list[LegacyResource], request: Request):
    return v1alpha1.simulate(v1alpha1.index(resources), request)


def new(docs: list[dict], request: Request):
    return v1alpha3.simulate(v1alpha3.index(docs), request)


def doc(kind: str, name: str, spec: dict, namespace: str = "default") -> dict:
    return {"apiVersion": "networking.istio.io/v1alpha3", "kind": kind,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def pod(labels: dict, *services: str, namespace: str = "default") -> Caller:
    return Caller(namespace, labels_of(labels), frozenset(services))


def subsets_of(outcome) -> list[dict]:
    return [dict(d.labels) for d in outcome.destinations]


def rule(name: str, precedence: int = 0, match: dict | None = None, version: str = "v1",
         namespace: str = "default", **extra) -> LegacyResource:
    spec = {"destination": {"name": "a", "namespace": "default"}, "precedence": precedence,
            "route": [{"labels": {"version": version}}], **extra}
    if match:
        spec["match"] = match
    return res("RouteRule", name, spec, namespace)


# --- v1alpha1 -------------------------------------------------------------------------------


def test_higher_precedence_first_then_namespace_slash_name() -> None:
    rules = [rule("z", 1, version="v1", namespace="b"), rule("y", 1, version="v2", namespace="a"),
             rule("x", 0, version="v3")]
    assert subsets_of(old(rules, Request.http(A, EXTERNAL))) == [{"version": "v2"}]


def test_a_request_matching_no_rule_reaches_the_whole_service() -> None:
    rules = [rule("r", match={"request": {"headers": {"x-user": {"exact": "bob"}}}})]
    outcome = old(rules, Request.http(A, EXTERNAL))
    assert outcome.status == ROUTE and subsets_of(outcome) == [{}]
    assert outcome.destinations[0].weight == 100


def test_header_names_are_case_insensitive() -> None:
    rules = [rule("r", match={"request": {"headers": {"X-User": {"prefix": "bo"}}}}, version="v2")]
    outcome = old(rules, Request.http(A, EXTERNAL, {"x-user": "bob"}))
    assert subsets_of(outcome) == [{"version": "v2"}]


def test_source_needs_the_callers_service_and_labels() -> None:
    rules = [rule("r", match={"source": {"name": "b", "labels": {"version": "v1"}}},
                  version="v2")]
    member = pod({"app": "b", "version": "v1"}, B)
    wrong_labels = pod({"app": "b", "version": "v2"}, B)
    same_labels_not_member = pod({"app": "b", "version": "v1"}, namespace="other")
    assert subsets_of(old(rules, Request.http(A, member))) == [{"version": "v2"}]
    for caller in (wrong_labels, same_labels_not_member, EXTERNAL):
        assert subsets_of(old(rules, Request.http(A, caller))) == [{}]


def test_policy_needs_the_exact_label_set() -> None:
    labelled = res("DestinationPolicy", "p", {"destination": {"name": "a", "labels": {
        "version": "v1"}}, "loadBalancing": {"name": "RANDOM"}})
    whole = old([labelled], Request.http(A, EXTERNAL))
    routed = old([labelled, rule("r")], Request.http(A, EXTERNAL))
    assert whole.destinations[0].policy == ()
    assert dict(routed.destinations[0].policy) == {"loadBalancer": "RANDOM"}


def test_unlabelled_policy_applies_only_to_unlabelled_traffic() -> None:
    policy = res("DestinationPolicy", "p", {"destination": {"name": "a"},
                                            "loadBalancing": {"name": "RANDOM"}})
    assert dict(old([policy], Request.http(A, EXTERNAL)).destinations[0].policy) == {
        "loadBalancer": "RANDOM"}
    assert old([policy, rule("r")], Request.http(A, EXTERNAL)).destinations[0].policy == ()


def test_policy_source_and_smallest_key() -> None:
    def policy(name, lb, namespace="default", source=None):
        spec = {"destination": {"name": "a", "namespace": "default"},
                "loadBalancing": {"name": lb}}
        if source:
            spec["source"] = source
        return res("DestinationPolicy", name, spec, namespace)

    policies = [policy("z", "RANDOM", "b"), policy("y", "LEAST_CONN", "a", {"name": "b"}),
                policy("x", "ROUND_ROBIN", "c")]
    from_b = old(policies, Request.http(A, pod({}, "b.a.svc.cluster.local", namespace="a")))
    others = old(policies, Request.http(A, EXTERNAL))
    assert dict(from_b.destinations[0].policy) == {"loadBalancer": "LEAST_CONN"}
    assert dict(others.destinations[0].policy) == {"loadBalancer": "RANDOM"}


def test_simple_circuit_breaker_always_enables_outlier_detection() -> None:
    policy = res("DestinationPolicy", "p", {"destination": {"name": "a"}, "circuitBreaker": {
        "simpleCb": {"maxConnections": 5, "httpMaxRequestsPerConnection": 0,
                     "sleepWindow": "30s", "httpDetectionInterval": "10s"}}})
    fields = dict(old([policy], Request.http(A, EXTERNAL)).destinations[0].policy)
    assert fields == {"pool": (("maxConnections", 5),), "outlierDetection": (
        ("baseEjectionTime", 30.0), ("interval", 10.0))}


def test_fault_percent_truncated_and_zero_disables() -> None:
    def faulted(percent):
        abort = {"httpStatus": 503}
        if percent is not None:
            abort["percent"] = percent
        return old([rule("r", httpFault={"abort": abort})], Request.http(A, EXTERNAL))

    assert faulted(50.7).actions.fault == (("abort", (50, 503)),)
    assert faulted(None).actions.fault == ()
    assert faulted(0).actions.fault == ()


def test_egress_hosts_ports_and_tls_origination() -> None:
    egress = [res("EgressRule", "e", {"destination": {"service": "*.foo.com"}, "ports": [
        {"port": 80, "protocol": "http"}, {"port": 443, "protocol": "https"}]})]
    plain = old(egress, Request.http("www.foo.com", EXTERNAL, port=80))
    tls = old(egress, Request.http("www.foo.com", EXTERNAL, port=443))
    assert plain.status == ROUTE and plain.egress == "HTTP"
    assert dict(tls.destinations[0].policy) == {"tls": "SIMPLE"} and tls.egress == "HTTP"
    assert old(egress, Request.http("foo.com", EXTERNAL, port=80)).status == BLOCKED
    assert old(egress, Request.http("www.foo.com", EXTERNAL, port=8080)).status == BLOCKED


def test_of_two_egress_rules_for_one_service_the_smaller_key_wins() -> None:
    egress = [res("EgressRule", "b", {"destination": {"service": "x.com"}, "ports": [
        {"port": 443, "protocol": "https"}]}),
        res("EgressRule", "a", {"destination": {"service": "x.com"}, "ports": [
            {"port": 80, "protocol": "http"}]})]
    assert old(egress, Request.http("x.com", EXTERNAL, port=443)).status == BLOCKED


def test_tcp_rules_match_subnets() -> None:
    tcp = res("RouteRule", "t", {"destination": {"name": "a"}, "match": {"tcp": {
        "sourceSubnet": ["10.0.0.0/8", "11.0.0.0/8"], "destinationSubnet": ["172.16.0.0/12"]}},
        "route": [{"labels": {"version": "v2"}}]})
    inside = Request.tcp(A, EXTERNAL, None, "11.1.1.1", "172.16.0.9")
    outside = Request.tcp(A, EXTERNAL, None, "12.1.1.1", "172.16.0.9")
    assert subsets_of(old([tcp], inside)) == [{"version": "v2"}]
    assert subsets_of(old([tcp], outside)) == [{}]
    assert subsets_of(old([tcp], Request.http(A, EXTERNAL))) == [{}]


# --- v1alpha3 -------------------------------------------------------------------------------

DR = doc("DestinationRule", "a", {"host": "a", "subsets": [
    {"name": "one", "labels": {"version": "v1"}}, {"name": "two", "labels": {"version": "v2"}}]})


def vs(http: list[dict], namespace: str = "default", host: str = "a") -> dict:
    return doc("VirtualService", "a", {"hosts": [host], "http": http}, namespace)


def to(subset: str | None = None, host: str = "a", weight: int | None = None) -> dict:
    dest: dict = {"destination": {"host": host}}
    if subset:
        dest["destination"]["subset"] = subset
    if weight is not None:
        dest["weight"] = weight
    return dest


def test_short_hosts_resolve_in_the_resources_namespace() -> None:
    elsewhere = vs([{"route": [to("one")]}], namespace="ns1")
    assert subsets_of(new([elsewhere, DR], Request.http(A, EXTERNAL))) == [{}]
    assert subsets_of(new([vs([{"route": [to("one")]}]), DR], Request.http(A, EXTERNAL))) == [
        {"version": "v1"}]


def test_first_matching_route_wins_and_no_match_is_404() -> None:
    routes = [{"match": [{"uri": {"prefix": "/x"}}, {"headers": {"u": {"exact": "1"}}}],
               "route": [to("two")]},
              {"match": [{"method": {"exact": "POST"}}], "route": [to("one")]}]
    config = [vs(routes), DR]
    assert subsets_of(new(config, Request.http(A, EXTERNAL, {"u": "1", "method": "POST"}))) == [
        {"version": "v2"}]
    assert subsets_of(new(config, Request.http(A, EXTERNAL, {"method": "POST"}))) == [
        {"version": "v1"}]
    assert new(config, Request.http(A, EXTERNAL)).status == NO_ROUTE


def test_routes_filtered_out_by_source_labels_leave_the_default_route() -> None:
    routes = [{"match": [{"sourceLabels": {"app": "b"}}], "route": [to("two")]}]
    assert subsets_of(new([vs(routes), DR], Request.http(A, pod({"app": "c"})))) == [{}]
    routes.append({"match": [{"uri": {"exact": "/only"}}], "route": [to("one")]})
    assert new([vs(routes), DR], Request.http(A, pod({"app": "c"}))).status == NO_ROUTE


def test_missing_subset_is_503() -> None:
    outcome = new([vs([{"route": [to("three")]}]), DR], Request.http(A, EXTERNAL))
    assert outcome.status == UNAVAILABLE


def test_weights_single_destination_and_zero() -> None:
    config = [vs([{"route": [to("one", weight=0), to("two", weight=100)]}]), DR]
    outcome = new(config, Request.http(A, EXTERNAL))
    assert [(dict(d.labels), d.weight) for d in outcome.destinations] == [({"version": "v2"},
                                                                           100)]


def test_subset_policy_on_top_of_the_top_level_one() -> None:
    rule_ = doc("DestinationRule", "a", {"host": "a", "trafficPolicy": {
        "loadBalancer": {"simple": "RANDOM"},
        "connectionPool": {"tcp": {"maxConnections": 1}, "http": {"maxRequestsPerConnection": 3}},
        "outlierDetection": {"consecutiveErrors": 2, "interval": "1s"}}, "subsets": [
        {"name": "one", "labels": {"version": "v1"}, "trafficPolicy": {
            "connectionPool": {"http": {"http1MaxPendingRequests": 9}},
            "outlierDetection": {"http": {"maxEjectionPercent": 50}}}}]})
    outcome = new([vs([{"route": [to("one")]}]), rule_], Request.http(A, EXTERNAL))
    assert dict(outcome.destinations[0].policy) == {
        "loadBalancer": "RANDOM", "maxRequestsPerConnection": 3,
        "pool": (("http1MaxPendingRequests", 9),),
        "outlierDetection": (("maxEjectionPercent", 50),)}


def test_port_level_settings_replace_every_component() -> None:
    rule_ = doc("DestinationRule", "x", {"host": "x.com", "trafficPolicy": {
        "connectionPool": {"tcp": {"maxConnections": 1}},
        "portLevelSettings": [{"port": {"number": 443}, "tls": {"mode": "SIMPLE"}}]}})
    entry = doc("ServiceEntry", "x", {"hosts": ["x.com"], "ports": [
        {"number": 443, "protocol": "HTTP", "name": "http-443"},
        {"number": 80, "protocol": "HTTP", "name": "http-80"}]})
    on_443 = new([rule_, entry], Request.http("x.com", EXTERNAL, port=443))
    on_80 = new([rule_, entry], Request.http("x.com", EXTERNAL, port=80))
    assert dict(on_443.destinations[0].policy) == {"tls": "SIMPLE"}
    assert dict(on_80.destinations[0].policy) == {"pool": (("maxConnections", 1),)}


def test_https_service_entry_port_is_passthrough() -> None:
    entry = doc("ServiceEntry", "x", {"hosts": ["x.com"], "ports": [
        {"number": 443, "protocol": "HTTPS", "name": "https"}]})
    assert new([entry], Request.http("x.com", EXTERNAL, port=443)).egress == "TLS"
    assert new([entry], Request.http("y.com", EXTERNAL, port=443)).status == BLOCKED


# --- the same behaviour in both APIs compares equal -----------------------------------------


@pytest.mark.parametrize("outlier", [
    {"http": {"consecutiveErrors": 3, "baseEjectionTime": "60s", "interval": "10s",
              "maxEjectionPercent": 100}},
    {"consecutiveErrors": 3, "baseEjectionTime": "1m", "interval": "10000ms",
     "maxEjectionPercent": 100},
])
def test_route_with_policy_equal_in_both_apis(outlier: dict) -> None:
    legacy = [rule("r", version="v1", httpReqTimeout={"simpleTimeout": {"timeout": "1.5s"}}),
              res("DestinationPolicy", "p", {"destination": {"name": "a", "labels": {
                  "version": "v1"}}, "loadBalancing": {"name": "LEAST_CONN"},
                  "circuitBreaker": {"simpleCb": {
                      "maxConnections": 7, "httpConsecutiveErrors": 3, "sleepWindow": "1m",
                      "httpDetectionInterval": "10s",
                      "httpMaxEjectionPercent": 100}}})]
    converted = [vs([{"route": [to("one")], "timeout": "1500ms"}]),
                 doc("DestinationRule", "a", {"host": "a", "subsets": [
                     {"name": "one", "labels": {"version": "v1"}, "trafficPolicy": {
                         "loadBalancer": {"simple": "LEAST_CONN"},
                         "connectionPool": {"tcp": {"maxConnections": 7}},
                         "outlierDetection": outlier}}]})]
    request = Request.http(A, EXTERNAL)
    assert old(legacy, request) == new(converted, request)


def test_redirect_and_actions_equal_in_both_apis() -> None:
    legacy = [res("RouteRule", "r", {"destination": {"name": "a"}, "redirect": {"uri": "/n"}}),
              rule("s", precedence=1, match={"request": {"headers": {"x": {"exact": "1"}}}},
                   mirror={"name": "b"}, appendHeaders={"h": "v"}, websocketUpgrade=True,
                   rewrite={"uri": "/r"}, httpReqRetries={"simpleRetry": {"attempts": 2}},
                   corsPolicy={"allowOrigin": ["o"], "allowMethods": ["GET", "POST"],
                               "maxAge": "2m"})]
    converted = [vs([{"match": [{"headers": {"x": {"exact": "1"}}}], "route": [to("one")],
                      "mirror": {"host": "b"}, "appendHeaders": {"h": "v"},
                      "websocketUpgrade": True, "rewrite": {"uri": "/r"},
                      "retries": {"attempts": 2},
                      "corsPolicy": {"allowOrigin": ["o"], "allowMethods": ["GET", "POST"],
                                     "maxAge": "120s"}},
                     {"redirect": {"uri": "/n"}}]), DR]
    for headers in ({"x": "1"}, {}):
        request = Request.http(A, EXTERNAL, headers)
        assert old(legacy, request) == new(converted, request)


# --- matching helpers and request generation ------------------------------------------------


def test_string_and_host_matching() -> None:
    assert string_matches({"regex": "b.*"}, "bar") and not string_matches({"regex": "b"}, "bar")
    assert not string_matches({"exact": "x"}, None)
    assert host_matches("*.foo.com", "a.foo.com") and not host_matches("*.foo.com", "foo.com")
    assert host_matches("*foo.com", "barfoo.com") and not host_matches("x.com", "y.com")


@pytest.mark.parametrize("pattern", [
    "b.*", "^(.*?;)?(user=jason)(;.*)?$", "/items/[0-9]+", r"\d{3}-\w+", "(GET|POST)",
    "[^/]+/v[12]", "a|b", r"\s*x\S+",
])
def test_regex_examples_match_and_counterexamples_do_not(pattern: str) -> None:
    example = generate.regex_example(pattern)
    miss = generate.regex_counterexample(pattern)
    assert example is not None and re.fullmatch(pattern, example)
    assert miss is not None and not re.fullmatch(pattern, miss)


def test_header_sets_meet_miss_and_omit_each_condition() -> None:
    sets = generate.header_sets([{"uri": {"prefix": "/api"}, "x": {"exact": "1"}}])
    assert {} in sets and {"uri": "/apix", "x": "1"} in sets
    assert {"uri": "/ap", "x": "1"} in sets and {"uri": "/apix", "x": None} in sets


def test_addresses_inside_and_outside_every_subnet() -> None:
    found = generate.addresses(["10.0.0.0/8", "192.168.1.7/32"])
    assert "10.0.0.1" in found and "192.168.1.7" in found and len(found) == 3


def test_generation_is_bounded_and_deterministic() -> None:
    rules = [rule(f"r{i}", match={"request": {"headers": {f"h{i}": {"exact": "v"}}},
                                  "source": {"name": f"s{i}"}}) for i in range(8)]
    legacy = v1alpha1.index(rules)
    first = generate.generate(legacy, v1alpha3.index([]), max_per_host=50)
    assert len(first) == 50
    assert first == generate.generate(legacy, v1alpha3.index([]), max_per_host=50)


def test_destination_order_does_not_matter() -> None:
    legacy = [res("RouteRule", "r", {"destination": {"name": "a"}, "route": [
        {"labels": {"version": "v1"}, "weight": 80}, {"labels": {"version": "v2"}, "weight": 20}]})]
    converted = [vs([{"route": [to("two", weight=20), to("one", weight=80)]}]), DR]
    request = Request.http(A, EXTERNAL)
    assert old(legacy, request) == new(converted, request)


# --- the ingress: Istio 0.7/0.8's Ingress, and the v1alpha3 ingress gateway -----------------


def ingress(name: str, spec: dict, namespace: str = "web") -> LegacyResource:
    raw = {"metadata": {"name": name, "namespace": namespace,
                        "annotations": {"kubernetes.io/ingress.class": "istio"}}, "spec": spec}
    return LegacyResource("Ingress", namespace, name, IngressSpec.model_validate(spec),
                          SourceRef("Ingress", namespace, name), None, raw)


def paths(*items: tuple[str | None, str, int | str], host: str | None = None) -> dict:
    rule: dict = {"http": {"paths": [{"backend": {"serviceName": svc, "servicePort": port}} | (
        {"path": path} if path is not None else {}) for path, svc, port in items]}}
    return {"rules": [rule | ({"host": host} if host else {})]}


def legacy_ingress(*ingresses: LegacyResource, ports: dict | None = None):
    config = ingress_v1.index(ingresses, ports or {})
    return lambda host, path="/", port=80: ingress_v1.simulate(
        config, Request.ingress(host, path, port))


def dest(outcome) -> list[str]:
    return [d.host for d in outcome.destinations]


def web(name: str, port: int | str) -> str:
    return f"{name}.web.svc.cluster.local:{port}"


def test_ingress_paths_in_routes_by_path_order_across_ingresses() -> None:
    ask = legacy_ingress(
        ingress("b", paths(("/.*", "root", 80), ("/foo/.*", "foo", 80))),
        ingress("a", paths(("/foo/bar", "bar", 80), ("/foo/bar/.*", "deep", 80))))
    assert dest(ask("x.com", "/foo/bar")) == [web("bar", 80)]
    assert dest(ask("x.com", "/foo/bar/z")) == [web("deep", 80)]
    assert dest(ask("x.com", "/foo/ba")) == [web("foo", 80)]
    assert dest(ask("x.com", "/fo")) == [web("root", 80)]
    assert ask("x.com", "/foo/bar").matched == Ref("Ingress", "web", "a")


def test_ingress_host_exact_else_any_else_404() -> None:
    ask = legacy_ingress(ingress("i", {"rules": [
        paths(("/x", "shop", 80), host="shop.com")["rules"][0],
        paths(("/.*", "any", 80))["rules"][0]]}))
    assert dest(ask("shop.com", "/x")) == [web("shop", 80)]
    assert ask("shop.com", "/y").status == NO_ROUTE  # shop.com's own routes only
    assert dest(ask("other.com", "/y")) == [web("any", 80)]


def test_tls_ingress_on_443_only_and_port_80_always_listens() -> None:
    secure = legacy_ingress(ingress("s", {"tls": [{"secretName": "x"}],
                                          **paths((None, "app", 80))}))
    assert dest(secure("a.com", "/", 443)) == [web("app", 80)]
    assert secure("a.com", "/", 80).status == NO_ROUTE
    plain = legacy_ingress(ingress("p", paths((None, "app", 80))))
    assert plain("a.com", "/", 443).status == REFUSED
    assert plain("a.com", "/", 8080).status == REFUSED


def test_ingress_ports_named_resolved_missing_or_not_http_dropped() -> None:
    ports = {("web", "app"): [("http-main", 8000), ("metrics", 9102), (None, 7000)]}
    ask = legacy_ingress(ingress("i", paths(
        ("/named", "app", "http-main"), ("/metrics", "app", 9102), ("/raw", "app", 7000),
        ("/gone", "app", 1234), ("/unknown", "other", "http"), ("/.*", "app", 8000))),
        ports=ports)
    assert dest(ask("a.com", "/named")) == [web("app", 8000)]
    for dropped in ("/metrics", "/raw", "/gone"):
        assert dest(ask("a.com", dropped)) == [web("app", 8000)]  # the prefix /, not its own
    assert dest(ask("a.com", "/unknown")) == [web("other", "http")]  # Service not in input


def test_default_backend_is_the_last_route_for_any_host() -> None:
    ask = legacy_ingress(ingress("i", {"backend": {"serviceName": "dflt", "servicePort": 80},
                                       **paths(("/a/.*", "a", 80))}))
    assert dest(ask("x.com", "/a/b")) == [web("a", 80)]
    assert dest(ask("x.com", "/b")) == [web("dflt", 80)]


def test_backend_route_rules_applied_to_ingress_traffic() -> None:
    rules = [res("RouteRule", "r", {"destination": {"name": "app"},
                                    "route": [{"labels": {"version": "v2"}}]}, "web")]
    config = ingress_v1.index([ingress("i", paths((None, "app", 80)))], {},
                              legacy=v1alpha1.index(rules))
    outcome = ingress_v1.simulate(config, Request.ingress("a.com", "/"))
    assert [(d.host, dict(d.labels)) for d in outcome.destinations] == [
        (web("app", 80), {"version": "v2"})]
    assert Ref("RouteRule", "web", "r") in outcome.involved


GATEWAY = doc("Gateway", "gw", {"selector": {"istio": "ingressgateway"}, "servers": [
    {"port": {"number": 80, "protocol": "HTTP", "name": "http"}, "hosts": ["*"]},
    {"port": {"number": 443, "protocol": "HTTPS", "name": "https"}, "hosts": ["a.com"],
     "tls": {"mode": "SIMPLE", "serverCertificate": "c", "privateKey": "k"}}]}, "istio-system")


def gvs(name: str, hosts: list[str], http: list[dict], gateways: list[str] | None = None,
        namespace: str = "web") -> dict:
    return doc("VirtualService", name, {
        "hosts": hosts, "gateways": gateways or ["gw.istio-system.svc.cluster.local"],
        "http": http}, namespace)


def via(host: str, port: int | None = None, **destination) -> dict:
    return {"route": [{"destination": {"host": host, **({"port": {"number": port}} if port
                                                       else {}), **destination}}]}


def at_gateway(*docs: dict, workload: dict | None = None, ports: dict | None = None):
    config = gateway.index(list(docs), workload=workload, service_ports=ports or {})
    return lambda host, path="/", port=80: gateway.simulate(
        config, Request.ingress(host, path, port))


def test_gateway_binding_by_short_name_or_fqdn_not_mesh_or_namespace_slash_name() -> None:
    ask = at_gateway(
        GATEWAY, gvs("short", ["short.com"], [via("s", 80)], ["gw"], "istio-system"),
        gvs("fqdn", ["fqdn.com"], [via("f", 80)]),
        gvs("short-elsewhere", ["elsewhere.com"], [via("e", 80)], ["gw"]),
        gvs("slash", ["slash.com"], [via("x", 80)], ["istio-system/gw"]),
        gvs("mesh", ["mesh.com"], [via("m", 80)], ["mesh"]))
    assert dest(ask("short.com")) == ["s.istio-system.svc.cluster.local:80"]
    assert dest(ask("fqdn.com")) == [web("f", 80)]
    for unbound in ("elsewhere.com", "slash.com", "mesh.com"):
        assert ask(unbound).status == NO_ROUTE


def test_gateway_selector_and_ports() -> None:
    binding = gvs("v", ["*"], [via("app", 80)])
    assert at_gateway(GATEWAY, binding)("a.com", "/", 8080).status == REFUSED
    assert at_gateway(GATEWAY, binding, workload={"app": "edge"})("a.com").status == REFUSED
    assert dest(at_gateway(GATEWAY, binding, workload={"istio": "ingressgateway", "x": "y"})(
        "a.com")) == [web("app", 80)]


def test_gateway_tls_sni_picks_the_server_and_an_unknown_sni_is_refused() -> None:
    ask = at_gateway(GATEWAY, gvs("v", ["*"], [via("app", 80)]))
    assert dest(ask("a.com", "/", 443)) == [web("app", 80)]
    refused = ask("b.com", "/", 443)
    assert refused.status == REFUSED and refused.detail.startswith(gateway.NO_SNI)
    assert gateway.simulate(gateway.index([GATEWAY]), Request.ingress(
        "a.com", "/", 443, tls=False)).status == REFUSED


def test_gateway_port_matches_and_a_virtual_service_without_routes_is_skipped() -> None:
    ask = at_gateway(
        GATEWAY,
        gvs("a", ["a.com"], [{"match": [{"uri": {"prefix": "/"}, "port": 443}],
                              **via("secure", 80)}]),
        gvs("any", ["*"], [{"match": [{"uri": {"exact": "/x"}, "port": 80}], **via("x", 80)},
                           {"match": [{"uri": {"prefix": "/"}, "sourceLabels": {"a": "b"}}],
                            **via("never", 80)}]))
    assert dest(ask("a.com", "/", 443)) == [web("secure", 80)]
    assert dest(ask("a.com", "/x", 80)) == [web("x", 80)]  # a.com's VS has no port-80 route
    assert ask("a.com", "/y", 80).status == NO_ROUTE


def test_gateway_hosts_match_wildcards_both_ways() -> None:
    server_hosts = doc("Gateway", "gw", {"selector": {}, "servers": [
        {"port": {"number": 80, "protocol": "HTTP"}, "hosts": ["a.example.com"]}]},
        "istio-system")
    ask = at_gateway(server_hosts, gvs("wild", ["*.example.com"], [via("w", 80)]),
                     gvs("other", ["b.other.com"], [via("o", 80)]))
    assert dest(ask("c.example.com")) == [web("w", 80)]  # the VS host is the domain
    assert ask("b.other.com").status == NO_ROUTE
    assert gateway.hostname_matches("*.com", "*.example.com")
    assert gateway.hostname_matches("a.example.com", "*")
    assert not gateway.hostname_matches("a.example.com", "b.example.com")


def test_gateway_destination_ports() -> None:
    ports = {("web", "one"): [("http", 8000)], ("web", "two"): [("http", 1), ("grpc", 2)]}
    ask = at_gateway(GATEWAY, gvs("v", ["*"], [
        {"match": [{"uri": {"exact": "/one"}}], **via("one")},
        {"match": [{"uri": {"exact": "/two"}}], **via("two")},
        {"match": [{"uri": {"exact": "/named"}}], "route": [
            {"destination": {"host": "one", "port": {"name": "http"}}}]},
        {"match": [{"uri": {"exact": "/subset"}}], **via("one", 80, subset="v9")}]), ports=ports)
    assert dest(ask("a.com", "/one")) == [web("one", 8000)]  # the Service's only port
    assert dest(ask("a.com", "/two")) == [web("two", 80)]  # else the gateway port
    assert ask("a.com", "/named").status == UNAVAILABLE  # black hole
    assert ask("a.com", "/subset").status == UNAVAILABLE
    assert ask("a.com", "/other").status == NO_ROUTE


def test_ingress_requests_meet_and_just_miss_every_path() -> None:
    found = generate.ingress_paths([{"exact": "/a/b"}, {"prefix": "/api/"}])
    assert {"/a/b", "/a/bx", "/a/", "/api/", "/api/x", "/api", "/", "/istiomigrate-nowhere"} <= (
        set(found))
    legacy = ingress_v1.index([ingress("i", paths(("/api/.*", "app", 80), host="a.com"))], {})
    requests = generate.ingress_requests(legacy, gateway.index([GATEWAY]))
    assert {(r.host, r.port) for r in requests} >= {
        ("a.com", 80), ("a.com", 443), (generate.UNKNOWN_HOST, 80)}
    assert all(r.gateway and r.caller == EXTERNAL for r in requests)
    assert {r.tls for r in requests if r.port == 443} == {True}


# --- header names: only the exact lower-case keys are the request's own (§3.3) ------------


def test_legacy_capitalised_special_key_is_an_ordinary_header() -> None:
    rules = [rule("cap", 2, {"request": {"headers": {"Authority": {"exact": A}}}}, "v2"),
             rule("low", 1, {"request": {"headers": {"authority": {"exact": A}}}}, "v3")]
    assert subsets_of(old(rules, Request.http(A, EXTERNAL))) == [{"version": "v3"}]


def test_v1alpha3_headers_authority_is_not_the_request_authority() -> None:
    def host_for(match: dict) -> str:
        docs = [vs([{"match": [match], "route": [to(host="b")]}, {"route": [to()]}])]
        return new(docs, Request.http(A, EXTERNAL)).destinations[0].host.split(".")[0]

    assert host_for({"headers": {"authority": {"exact": A}}}) == "a"  # an ordinary header
    assert host_for({"authority": {"exact": A}}) == "b"  # the request's authority

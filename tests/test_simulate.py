"""The routing simulators: Pilot 0.8's v1alpha1 semantics, Pilot 0.8/1.0's v1alpha3 semantics.

Each test pins one rule of evaluation that ``verify`` relies on, and the
normalisation that makes equal behaviour in both APIs compare equal.
"""

from __future__ import annotations

import re

import pytest

from istiomigrate.findings import SourceRef
from istiomigrate.legacy import SPEC_MODELS
from istiomigrate.reader import LegacyResource
from istiomigrate.simulate import generate, v1alpha1, v1alpha3
from istiomigrate.simulate.request import (
    BLOCKED,
    NO_ROUTE,
    ROUTE,
    UNAVAILABLE,
    Caller,
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
        "simpleCb": {"maxConnections": 5, "httpMaxRequestsPerConnection": 0}}})
    fields = dict(old([policy], Request.http(A, EXTERNAL)).destinations[0].policy)
    assert fields == {"pool": (("maxConnections", 5),), "outlierDetection": ()}


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
    {"http": {"consecutiveErrors": 3, "baseEjectionTime": "60s", "maxEjectionPercent": 100}},
    {"consecutiveErrors": 3, "baseEjectionTime": "1m", "maxEjectionPercent": 100},
])
def test_route_with_policy_equal_in_both_apis(outlier: dict) -> None:
    legacy = [rule("r", version="v1", httpReqTimeout={"simpleTimeout": {"timeout": "1.5s"}}),
              res("DestinationPolicy", "p", {"destination": {"name": "a", "labels": {
                  "version": "v1"}}, "loadBalancing": {"name": "LEAST_CONN"},
                  "circuitBreaker": {"simpleCb": {
                      "maxConnections": 7, "httpConsecutiveErrors": 3, "sleepWindow": "1m",
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

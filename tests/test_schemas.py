"""Tests for the hand-written JSON Schemas and istiomigrate.schemas."""

from __future__ import annotations

import copy
import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from istiomigrate import schemas, targets
from istiomigrate.schemas import (
    LEGACY_KINDS,
    OUTPUT_KINDS,
    validate_legacy,
    validate_output,
)
from istiomigrate.schemas import (
    TARGETS as ALL_TARGETS,
)

# The v1alpha3 targets: these tests build and read v1alpha3 documents (modern Istio's
# v1 output: tests/test_modern.py).
TARGETS = tuple(t for t in ALL_TARGETS
                if str(targets.for_version(t).schema_dir(t)).startswith("v1alpha3"))
SCHEMA_ROOT = Path(__file__).resolve().parent.parent / "schemas"
SCHEMA_FILES = sorted(SCHEMA_ROOT.glob("*/*.json"))
V3 = "networking.istio.io/v1alpha3"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def paths(problems: list[tuple[str, str]]) -> list[str]:
    return [p for p, _ in problems]


def output_paths(problems: list[str]) -> list[str]:
    return [p.split(": ", 1)[0] for p in problems]


# --------------------------------------------------------------------------- the files


def test_all_schema_files_present() -> None:
    expected = {f"legacy/{k}.json" for k in LEGACY_KINDS} | {
        f"{targets.for_version(t).schema_dir(t)}/{k}.json" for t in ALL_TARGETS
        for k in OUTPUT_KINDS
    }
    found = {str(p.relative_to(SCHEMA_ROOT)) for p in SCHEMA_FILES}
    assert found == expected
    assert (SCHEMA_ROOT / "README.md").is_file()


def test_module_finds_source_schemas() -> None:
    assert schemas._schema_dir().resolve() == SCHEMA_ROOT


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    schema = load(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["kind"] == {"const": path.stem}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schema_files_are_pretty_printed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def _objects(node: Any, where: str = "") -> list[tuple[str, dict]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append((where, node))
        for key, value in node.items():
            found.extend(_objects(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_objects(value, f"{where}/{i}"))
    return found


# Objects that are open by nature: Any payloads and server-side field sets.
OPEN_OBJECTS = {"/$defs/Any", "/$defs/ManagedFieldsEntry/properties/fieldsV1"}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_object_is_closed(path: Path) -> None:
    for where, node in _objects(load(path)):
        if where in OPEN_OBJECTS:
            continue
        # Either a strict message (false) or a map (a schema for the values).
        assert "additionalProperties" in node, where
        if "properties" in node:
            assert node["additionalProperties"] is False, where


KUBERNETES_DEFS = ("/$defs/ObjectMeta", "/$defs/OwnerReference", "/$defs/ManagedFieldsEntry")


@pytest.mark.parametrize("kind", LEGACY_KINDS)
def test_legacy_fields_have_both_spellings(kind: str) -> None:
    checked = 0
    for where, node in _objects(load(SCHEMA_ROOT / "legacy" / f"{kind}.json")):
        # Kubernetes envelope and ObjectMeta are not protobuf messages.
        if where == "" or where.startswith(KUBERNETES_DEFS) or where == "/$defs/Any":
            continue
        props = node.get("properties", {})
        for name, sub in props.items():
            if "_" in name:
                twin = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)
            else:
                twin = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
            if twin != name:
                assert props.get(twin) == sub, f"{where}: {name} has no twin {twin}"
                checked += 1
    assert checked > 0


# --------------------------------------------------------------------------- legacy

RULE_CAMEL: dict = {
    "apiVersion": "config.istio.io/v1alpha2",
    "kind": "RouteRule",
    "metadata": {"name": "reviews-default", "namespace": "default", "labels": {"app": "r"}},
    "spec": {
        "destination": {"name": "reviews", "namespace": "default"},
        "precedence": 2,
        "match": {
            "source": {"name": "productpage", "labels": {"version": "v1"}},
            "request": {
                "headers": {
                    "uri": {"prefix": "/api/"},
                    "cookie": {"regex": "^(.*?;)?(user=jason)(;.*)?$"},
                    "x-env": {"exact": "qa"},
                }
            },
        },
        "route": [
            {"labels": {"version": "v1"}, "weight": 75},
            {"labels": {"version": "v2"}, "weight": 25},
        ],
        "rewrite": {"uri": "/v1/api/", "authority": "reviews.internal"},
        "websocketUpgrade": True,
        "httpReqTimeout": {"simpleTimeout": {"timeout": "10s"}},
        "httpReqRetries": {"simpleRetry": {"attempts": 3, "perTryTimeout": "2s"}},
        "httpFault": {
            "delay": {"percent": 10.5, "fixedDelay": "5s"},
            "abort": {"percent": 1, "httpStatus": 503},
        },
        "mirror": {"name": "reviews", "labels": {"version": "v3"}},
        "corsPolicy": {
            "allowOrigin": ["example.com"],
            "allowMethods": ["GET", "POST"],
            "allowHeaders": ["X-Foo"],
            "exposeHeaders": ["X-Bar"],
            "maxAge": "24h",
            "allowCredentials": False,
        },
        "appendHeaders": {"x-migrated": "yes"},
    },
}

RULE_SNAKE: dict = {
    "kind": "RouteRule",
    "metadata": {"name": "reviews-snake"},
    "spec": {
        "destination": {"name": "reviews"},
        "route": [{"labels": {"version": "v1"}}],
        "websocket_upgrade": False,
        "http_req_timeout": {"simple_timeout": {"timeout": "1.5s", "override_header_name": "x"}},
        "http_req_retries": {"simple_retry": {"attempts": 2, "per_try_timeout": "100ms"}},
        "http_fault": {
            "delay": {"percent": 50, "exponential_delay": "1m"},
            "abort": {"http2_error": "INTERNAL_ERROR", "override_header_name": "x"},
        },
        "cors_policy": {"allow_origin": ["*"], "max_age": "1h30m", "allow_credentials": True},
        "append_headers": {"a": "b"},
    },
}

RULE_REDIRECT: dict = {
    "apiVersion": "config.istio.io/v1beta1",
    "kind": "RouteRule",
    "metadata": {"name": "ratings-redirect"},
    "spec": {
        "destination": {"service": "ratings.default.svc.cluster.local"},
        "match": {"request": {"headers": {"uri": {"exact": "/v1/getProductRatings"}}}},
        "redirect": {"uri": "/v1/bookRatings", "authority": "bookratings.default"},
    },
}

RULE_L4: dict = {
    "kind": "RouteRule",
    "metadata": {"name": "mongo"},
    "spec": {
        "destination": {"name": "mongo", "domain": "svc.cluster.local"},
        "match": {
            "tcp": {"sourceSubnet": ["10.0.0.0/8"], "destination_subnet": ["10.1.2.3"]},
            "udp": {"source_subnet": ["192.168.0.0/16"]},
        },
        "route": [{"destination": {"name": "mongo-backup"}, "weight": 100}],
        "l4Fault": {
            "throttle": {
                "percent": 5,
                "downstreamLimitBps": 1000,
                "upstream_limit_bps": "2000",
                "throttleAfterBytes": 1024.0,
                "throttle_for_period": "250us",
            },
            "terminate": {"percent": 1, "terminateAfterPeriod": "0"},
        },
    },
}

POLICY_CAMEL: dict = {
    "apiVersion": "config.istio.io/v1alpha2",
    "kind": "DestinationPolicy",
    "metadata": {"name": "reviews-cb", "namespace": "default"},
    "spec": {
        "destination": {"name": "reviews", "labels": {"version": "v1"}},
        "source": {"name": "productpage"},
        "loadBalancing": {"name": "LEAST_CONN"},
        "circuitBreaker": {
            "simpleCb": {
                "maxConnections": 100,
                "httpMaxPendingRequests": 10,
                "httpMaxRequests": 1000,
                "sleepWindow": "15m",
                "httpConsecutiveErrors": 7,
                "httpDetectionInterval": "5m",
                "httpMaxRequestsPerConnection": 10,
                "httpMaxEjectionPercent": 50,
                "httpMaxRetries": 3,
            }
        },
    },
}

POLICY_SNAKE: dict = {
    "kind": "DestinationPolicy",
    "metadata": {"name": "ratings-lb"},
    "spec": {
        "destination": {"name": "ratings"},
        "load_balancing": {"name": "RANDOM"},
        "circuit_breaker": {
            "simple_cb": {
                "max_connections": 1,
                "http_max_pending_requests": 1,
                "http_max_requests": 1,
                "sleep_window": "30s",
                "http_consecutive_errors": 1,
                "http_detection_interval": "10s",
                "http_max_requests_per_connection": 1,
                "http_max_ejection_percent": 100,
                "http_max_retries": 0,
            }
        },
    },
}

EGRESS: dict = {
    "apiVersion": "config.istio.io/v1alpha2",
    "kind": "EgressRule",
    "metadata": {"name": "foo-egress"},
    "spec": {
        "destination": {"service": "*.foo.com"},
        "ports": [{"port": 80, "protocol": "http"}, {"port": 443, "protocol": "HTTPS"}],
        "useEgressProxy": False,
    },
}

LEGACY_VALID = {
    "rule-camel": RULE_CAMEL,
    "rule-snake": RULE_SNAKE,
    "rule-redirect": RULE_REDIRECT,
    "rule-l4": RULE_L4,
    "policy-camel": POLICY_CAMEL,
    "policy-snake": POLICY_SNAKE,
    "egress": EGRESS,
}


@pytest.mark.parametrize("name", LEGACY_VALID)
def test_legacy_valid_documents(name: str) -> None:
    assert validate_legacy(copy.deepcopy(LEGACY_VALID[name])) == []


def test_legacy_snake_case_egress_rule() -> None:
    doc = copy.deepcopy(EGRESS)
    del doc["spec"]["useEgressProxy"]
    doc["spec"]["use_egress_proxy"] = True
    assert validate_legacy(doc) == []


def test_legacy_cluster_metadata_is_tolerated() -> None:
    doc = copy.deepcopy(RULE_REDIRECT)
    doc["metadata"].update(
        {
            "uid": "0b5d4c3e-1111-2222-3333-444455556666",
            "resourceVersion": "12345",
            "generation": 3,
            "creationTimestamp": "2018-05-01T10:00:00Z",
            "selfLink": "/apis/config.istio.io/v1alpha2/namespaces/default/routerules/x",
            "generateName": "x-",
            "clusterName": "",
            "finalizers": ["foregroundDeletion"],
            "deletionTimestamp": None,
            "deletionGracePeriodSeconds": 30,
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u"}],
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Update",
                    "apiVersion": "config.istio.io/v1alpha2",
                    "time": "2018-05-01T10:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {".": {}}},
                }
            ],
        }
    )
    assert validate_legacy(doc) == []


def test_legacy_unquoted_label_values_accepted() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["metadata"]["labels"]["version"] = 1.0
    doc["spec"]["route"][0]["labels"]["version"] = 1.0
    doc["spec"]["route"][1]["labels"] = {"canary": True, "build": 42}
    doc["spec"]["match"]["source"]["labels"]["version"] = 2
    assert validate_legacy(doc) == []


def test_legacy_label_value_must_be_scalar() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["route"][0]["labels"]["version"] = {"v": 1}
    assert validate_legacy(doc) == [
        ("spec.route[0].labels.version", "expected string, number or boolean, got object")
    ]


def test_legacy_unknown_spec_field() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["fooBar"] = 1
    assert validate_legacy(doc) == [("spec.fooBar", "unknown field 'fooBar'")]


def test_legacy_misspelt_nested_field_names_path_and_suggests() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["route"][1]["weigth"] = doc["spec"]["route"][1].pop("weight")
    [(path, message)] = validate_legacy(doc)
    assert path == "spec.route[1].weigth"
    assert message == "unknown field 'weigth' (did you mean 'weight'?)"


def test_legacy_misspelt_snake_case_field() -> None:
    doc = copy.deepcopy(POLICY_SNAKE)
    cb = doc["spec"]["circuit_breaker"]["simple_cb"]
    cb["http_max_request"] = cb.pop("http_max_requests")
    [(path, message)] = validate_legacy(doc)
    assert path == "spec.circuit_breaker.simple_cb.http_max_request"
    assert message.startswith("unknown field 'http_max_request'")


def test_legacy_unknown_metadata_field() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["metadata"]["nmae"] = "x"
    assert paths(validate_legacy(doc)) == ["metadata.nmae"]


def test_legacy_v1alpha3_field_in_legacy_rule_is_unknown() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["hosts"] = ["reviews"]
    assert validate_legacy(doc) == [("spec.hosts", "unknown field 'hosts'")]


def test_legacy_both_spellings_at_once_rejected() -> None:
    doc = copy.deepcopy(EGRESS)
    doc["spec"]["use_egress_proxy"] = True
    [(path, message)] = validate_legacy(doc)
    assert path == "spec"
    assert "'useEgressProxy'" in message and "'use_egress_proxy'" in message


def test_legacy_wrong_type_message() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["route"][1]["weight"] = "25"
    assert validate_legacy(doc) == [("spec.route[1].weight", "expected integer, got string '25'")]


def test_legacy_weight_range() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["route"][1]["weight"] = 125
    assert validate_legacy(doc) == [
        ("spec.route[1].weight", "must be at most 100, got integer 125")
    ]


def test_legacy_percent_is_a_float_field() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["httpFault"]["delay"]["percent"] = 0.5
    assert validate_legacy(doc) == []
    doc["spec"]["httpFault"]["delay"]["percent"] = "10"
    assert paths(validate_legacy(doc)) == ["spec.httpFault.delay.percent"]


def test_legacy_missing_destination() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    del doc["spec"]["destination"]
    assert validate_legacy(doc) == [("spec.destination", "missing required field")]


def test_legacy_missing_metadata_name() -> None:
    doc = copy.deepcopy(EGRESS)
    del doc["metadata"]["name"]
    assert validate_legacy(doc) == [("metadata.name", "missing required field")]


def test_legacy_string_match_oneof() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["match"]["request"]["headers"]["uri"] = {"exact": "/a", "prefix": "/b"}
    [(path, message)] = validate_legacy(doc)
    assert path == "spec.match.request.headers.uri"
    assert message.startswith("only one of 'exact', 'prefix' may be set")
    doc["spec"]["match"]["request"]["headers"]["uri"] = {}
    [(path, message)] = validate_legacy(doc)
    assert path == "spec.match.request.headers.uri"
    assert message.startswith("must set one of 'exact', 'prefix', 'regex'")


def test_legacy_timeout_oneof() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["httpReqTimeout"]["custom"] = {"@type": "type.googleapis.com/x.Timeout"}
    [(path, message)] = validate_legacy(doc)
    assert path == "spec.httpReqTimeout"
    assert "'simpleTimeout', 'custom'" in message and "timeout_policy" in message


def test_legacy_route_and_redirect_exclusive() -> None:
    doc = copy.deepcopy(RULE_REDIRECT)
    doc["spec"]["route"] = [{"labels": {"version": "v1"}}]
    [(path, message)] = validate_legacy(doc)
    assert path == "spec"
    assert "'route', 'redirect'" in message


@pytest.mark.parametrize(
    "value", ["3m", "1.5s", "100ms", "1h30m", "250us", "0", "10s", ".5s", "+2s", "1µs", "5ns"]
)
def test_legacy_good_durations(value: str) -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["httpReqTimeout"]["simpleTimeout"]["timeout"] = value
    assert validate_legacy(doc) == []


@pytest.mark.parametrize("value", ["10", "10 s", "1d", "-1s", "s", "1.5", "", "PT10S"])
def test_legacy_bad_durations(value: str) -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["httpReqTimeout"]["simpleTimeout"]["timeout"] = value
    [(path, message)] = validate_legacy(doc)
    assert path == "spec.httpReqTimeout.simpleTimeout.timeout"
    assert message.startswith("expected a duration")


def test_legacy_duration_must_be_a_string() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["httpReqTimeout"]["simpleTimeout"]["timeout"] = 10
    assert validate_legacy(doc) == [
        ("spec.httpReqTimeout.simpleTimeout.timeout", "expected string, got integer 10")
    ]


def test_legacy_enum_message() -> None:
    doc = copy.deepcopy(POLICY_CAMEL)
    doc["spec"]["loadBalancing"]["name"] = "LEAST_REQUEST"
    assert validate_legacy(doc) == [
        (
            "spec.loadBalancing.name",
            "must be one of ROUND_ROBIN, LEAST_CONN, RANDOM, got string 'LEAST_REQUEST'",
        )
    ]


def test_legacy_egress_protocol() -> None:
    doc = copy.deepcopy(EGRESS)
    doc["spec"]["ports"][0]["protocol"] = "udp"
    [(path, message)] = validate_legacy(doc)
    assert path == "spec.ports[0].protocol"
    assert "HTTP, HTTPS, GRPC, HTTP2, TCP, MONGO" in message


def test_legacy_egress_requires_ports() -> None:
    doc = copy.deepcopy(EGRESS)
    del doc["spec"]["ports"]
    assert validate_legacy(doc) == [("spec.ports", "missing required field")]


def test_legacy_api_version_and_kind() -> None:
    doc = copy.deepcopy(EGRESS)
    doc["apiVersion"] = "networking.istio.io/v1alpha3"
    assert paths(validate_legacy(doc)) == ["apiVersion"]
    assert validate_legacy({"kind": "VirtualService", "metadata": {"name": "x"}, "spec": {}}) == [
        (
            "kind",
            "unsupported kind 'VirtualService'; "
            "expected one of RouteRule, DestinationPolicy, EgressRule",
        )
    ]


def test_legacy_not_a_mapping() -> None:
    assert validate_legacy(["x"]) == [("", "expected an object, got array")]  # type: ignore[arg-type]


def test_legacy_odd_keys_are_bracketed_in_paths() -> None:
    doc = copy.deepcopy(RULE_CAMEL)
    doc["spec"]["appendHeaders"]["x.y/z"] = 5
    assert validate_legacy(doc) == [
        ('spec.appendHeaders["x.y/z"]', "expected string, got integer 5")
    ]


SPEC_KEYS = set(load(SCHEMA_ROOT / "legacy" / "RouteRule.json")["$defs"]["RouteRule"]["properties"])


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9_]{0,20}\Z").filter(lambda k: k not in SPEC_KEYS))
def test_legacy_any_unknown_spec_key_is_named(key: str) -> None:
    doc = copy.deepcopy(RULE_REDIRECT)
    doc["spec"][key] = "x"
    problems = validate_legacy(doc)
    assert problems[0][0] == f"spec.{key}"
    assert problems[0][1].startswith(f"unknown field '{key}'")


# --------------------------------------------------------------------------- v1alpha3


def meta(name: str) -> dict:
    return {"name": name, "namespace": "default", "labels": {"migrated-from": "v1alpha1"}}


def virtual_service(target: str) -> dict:
    tcp_match = (
        {"destinationSubnet": "10.0.0.0/8", "port": 27017}
        if target == "0.8"
        else {"destinationSubnets": ["10.0.0.0/8"], "port": 27017}
    )
    http = [
        {
            "match": [
                {
                    "uri": {"prefix": "/api/"},
                    "headers": {"cookie": {"regex": "^(.*?;)?(user=jason)(;.*)?$"}},
                    "sourceLabels": {"app": "productpage", "version": "v1"},
                    "port": 9080,
                    "gateways": ["mesh"],
                },
                {"method": {"exact": "GET"}, "authority": {"prefix": "reviews"}},
                {"scheme": {"exact": "https"}},
            ],
            "route": [
                {
                    "destination": {
                        "host": "reviews.default.svc.cluster.local",
                        "subset": "v1",
                        "port": {"number": 9080},
                    },
                    "weight": 75,
                },
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": 25},
            ],
            "rewrite": {"uri": "/v1/api/", "authority": "reviews.internal"},
            "websocketUpgrade": True,
            "timeout": "10s",
            "retries": {"attempts": 3, "perTryTimeout": "2s"},
            "fault": {
                "delay": {"percent": 10, "fixedDelay": "5s"},
                "abort": {"percent": 1, "httpStatus": 503},
            },
            "mirror": {"host": "reviews", "subset": "v3"},
            "corsPolicy": {
                "allowOrigin": ["example.com"],
                "allowMethods": ["GET", "POST"],
                "allowHeaders": ["X-Foo"],
                "exposeHeaders": ["X-Bar"],
                "maxAge": "24h",
                "allowCredentials": False,
            },
            "appendHeaders": {"x-migrated": "yes"},
        },
        {
            "match": [{"uri": {"exact": "/v1/getProductRatings"}}],
            "redirect": {"uri": "/v1/bookRatings", "authority": "bookratings.default"},
        },
        {"route": [{"destination": {"host": "reviews", "port": {"name": "http"}}}]},
    ]
    return {
        "apiVersion": V3,
        "kind": "VirtualService",
        "metadata": meta("reviews"),
        "spec": {
            "hosts": ["reviews", "reviews.example.com"],
            "gateways": ["mesh", "bookinfo-gateway"],
            "http": http,
            "tcp": [
                {
                    "match": [tcp_match],
                    "route": [{"destination": {"host": "mongo", "port": {"number": 5555}}}],
                }
            ],
        },
    }


def destination_rule(target: str) -> dict:
    if target == "0.8":
        outlier = {
            "http": {
                "consecutiveErrors": 7,
                "interval": "5m",
                "baseEjectionTime": "15m",
                "maxEjectionPercent": 10,
            }
        }
        consistent = {"httpHeader": "x-user", "minimumRingSize": 1024}
    else:
        outlier = {
            "consecutiveErrors": 7,
            "interval": "5m",
            "baseEjectionTime": "15m",
            "maxEjectionPercent": 10,
        }
        consistent = {"httpCookie": {"name": "user", "path": "/", "ttl": "0s"}}
    return {
        "apiVersion": V3,
        "kind": "DestinationRule",
        "metadata": meta("reviews"),
        "spec": {
            "host": "reviews.default.svc.cluster.local",
            "trafficPolicy": {
                "loadBalancer": {"simple": "LEAST_CONN"},
                "connectionPool": {
                    "tcp": {"maxConnections": 100, "connectTimeout": "30ms"},
                    "http": {
                        "http1MaxPendingRequests": 10,
                        "http2MaxRequests": 1000,
                        "maxRequestsPerConnection": 10,
                        "maxRetries": 3,
                    },
                },
                "outlierDetection": outlier,
                "portLevelSettings": [
                    {
                        "port": {"number": 443},
                        "loadBalancer": {"consistentHash": consistent},
                        "tls": {
                            "mode": "SIMPLE",
                            "sni": "reviews.example.com",
                            "subjectAltNames": ["reviews.example.com"],
                            "caCertificates": "/etc/certs/ca.pem",
                        },
                    },
                    {
                        "port": {"number": 9443},
                        "tls": {
                            "mode": "MUTUAL",
                            "clientCertificate": "/etc/certs/cert.pem",
                            "privateKey": "/etc/certs/key.pem",
                        },
                    },
                ],
            },
            "subsets": [
                {"name": "v1", "labels": {"version": "v1"}},
                {
                    "name": "v2",
                    "labels": {"version": "v2"},
                    "trafficPolicy": {
                        "loadBalancer": {"simple": "ROUND_ROBIN"},
                        "tls": {"mode": "ISTIO_MUTUAL"},
                    },
                },
            ],
        },
    }


def service_entry(target: str) -> dict:
    return {
        "apiVersion": V3,
        "kind": "ServiceEntry",
        "metadata": meta("foo-egress"),
        "spec": {
            "hosts": ["*.foo.com"],
            "addresses": ["92.198.174.192/27"],
            "ports": [
                {"number": 80, "protocol": "HTTP", "name": "http-80"},
                {"number": 443, "protocol": "HTTPS", "name": "https-443"},
            ],
            "location": "MESH_EXTERNAL",
            "resolution": "DNS",
            "endpoints": [
                {"address": "us.foo.com", "ports": {"http-80": 8080}, "labels": {"geo": "us"}}
            ],
        },
    }


def gateway(target: str) -> dict:
    return {
        "apiVersion": V3,
        "kind": "Gateway",
        "metadata": meta("bookinfo-gateway"),
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "servers": [
                {
                    "port": {"number": 80, "name": "http", "protocol": "HTTP"},
                    "hosts": ["bookinfo.example.com"],
                    "tls": {"httpsRedirect": True},
                },
                {
                    "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                    "hosts": ["bookinfo.example.com"],
                    "tls": {
                        "mode": "SIMPLE",
                        "serverCertificate": "/etc/istio/ingressgateway-certs/tls.crt",
                        "privateKey": "/etc/istio/ingressgateway-certs/tls.key",
                    },
                },
                {
                    "port": {"number": 8443, "name": "https-mutual", "protocol": "HTTPS"},
                    "hosts": ["*"],
                    "tls": {
                        "mode": "MUTUAL",
                        "serverCertificate": "/c.pem",
                        "privateKey": "/k.pem",
                        "caCertificates": "/ca.pem",
                        "subjectAltNames": ["client.example.com"],
                    },
                },
            ],
        },
    }


BUILDERS = {
    "VirtualService": virtual_service,
    "DestinationRule": destination_rule,
    "ServiceEntry": service_entry,
    "Gateway": gateway,
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", OUTPUT_KINDS)
def test_output_valid_documents(kind: str, target: str) -> None:
    assert validate_output(BUILDERS[kind](target), target) == []


@pytest.mark.parametrize("target", TARGETS)
def test_output_misspelt_subset_names_path(target: str) -> None:
    doc = virtual_service(target)
    route = doc["spec"]["http"][0]["route"][0]
    route["destination"]["subst"] = route["destination"].pop("subset")
    assert validate_output(doc, target) == [
        "spec.http[0].route[0].destination.subst: unknown field 'subst' (did you mean 'subset'?)"
    ]


@pytest.mark.parametrize("target", TARGETS)
def test_output_wrong_type_names_path(target: str) -> None:
    doc = virtual_service(target)
    doc["spec"]["http"][0]["route"][0]["destination"]["subset"] = 1
    assert validate_output(doc, target) == [
        "spec.http[0].route[0].destination.subset: expected string, got integer 1"
    ]


@pytest.mark.parametrize("target", TARGETS)
def test_output_rejects_snake_case(target: str) -> None:
    doc = virtual_service(target)
    doc["spec"]["http"][0]["cors_policy"] = doc["spec"]["http"][0].pop("corsPolicy")
    assert output_paths(validate_output(doc, target)) == ["spec.http[0].cors_policy"]


@pytest.mark.parametrize("target", TARGETS)
def test_output_label_values_must_be_strings(target: str) -> None:
    doc = destination_rule(target)
    doc["spec"]["subsets"][0]["labels"]["version"] = 1.0
    assert validate_output(doc, target) == [
        "spec.subsets[0].labels.version: expected string, got number 1.0"
    ]
    doc = destination_rule(target)
    doc["metadata"]["labels"]["version"] = 1
    assert output_paths(validate_output(doc, target)) == ["metadata.labels.version"]


@pytest.mark.parametrize("target", TARGETS)
def test_output_required_fields(target: str) -> None:
    vs = virtual_service(target)
    del vs["spec"]["hosts"]
    del vs["spec"]["http"][0]["route"][1]["destination"]["host"]
    assert sorted(validate_output(vs, target)) == [
        "spec.hosts: missing required field",
        "spec.http[0].route[1].destination.host: missing required field",
    ]
    dr = destination_rule(target)
    del dr["spec"]["host"]
    del dr["spec"]["subsets"][1]["name"]
    assert sorted(validate_output(dr, target)) == [
        "spec.host: missing required field",
        "spec.subsets[1].name: missing required field",
    ]
    se = service_entry(target)
    del se["spec"]["ports"][0]["protocol"]
    assert validate_output(se, target) == ["spec.ports[0].protocol: missing required field"]
    gw = gateway(target)
    del gw["spec"]["servers"][0]["hosts"]
    assert validate_output(gw, target) == ["spec.servers[0].hosts: missing required field"]


@pytest.mark.parametrize("target", TARGETS)
def test_output_api_version_is_required_and_fixed(target: str) -> None:
    doc = gateway(target)
    doc["apiVersion"] = "networking.istio.io/v1beta1"
    assert output_paths(validate_output(doc, target)) == ["apiVersion"]
    del doc["apiVersion"]
    assert validate_output(doc, target) == ["apiVersion: missing required field"]


@pytest.mark.parametrize("target", TARGETS)
def test_output_gateway_tls_requires_certificates(target: str) -> None:
    doc = gateway(target)
    del doc["spec"]["servers"][1]["tls"]["privateKey"]
    [problem] = validate_output(doc, target)
    assert problem.startswith("spec.servers[1].tls.privateKey: missing required field")
    assert "SIMPLE" in problem


@pytest.mark.parametrize("target", TARGETS)
def test_output_destination_rule_mutual_tls_requires_client_cert(target: str) -> None:
    doc = destination_rule(target)
    del doc["spec"]["trafficPolicy"]["portLevelSettings"][1]["tls"]["clientCertificate"]
    assert output_paths(validate_output(doc, target)) == [
        "spec.trafficPolicy.portLevelSettings[1].tls.clientCertificate"
    ]


@pytest.mark.parametrize("target", TARGETS)
def test_output_port_selector_is_a_oneof(target: str) -> None:
    doc = virtual_service(target)
    doc["spec"]["http"][0]["route"][0]["destination"]["port"] = {"number": 9080, "name": "http"}
    [problem] = validate_output(doc, target)
    assert problem.startswith(
        "spec.http[0].route[0].destination.port: only one of 'number', 'name'"
    )


@pytest.mark.parametrize("target", TARGETS)
def test_output_fault_delay_needs_a_delay(target: str) -> None:
    doc = virtual_service(target)
    del doc["spec"]["http"][0]["fault"]["delay"]["fixedDelay"]
    [problem] = validate_output(doc, target)
    assert problem.startswith(
        "spec.http[0].fault.delay: must set one of 'fixedDelay', 'exponentialDelay'"
    )


@pytest.mark.parametrize("target", TARGETS)
def test_output_fault_percent_is_an_integer(target: str) -> None:
    doc = virtual_service(target)
    doc["spec"]["http"][0]["fault"]["abort"]["percent"] = 0.5
    assert output_paths(validate_output(doc, target)) == ["spec.http[0].fault.abort.percent"]


@pytest.mark.parametrize("target", TARGETS)
def test_output_bad_duration(target: str) -> None:
    doc = virtual_service(target)
    doc["spec"]["http"][0]["timeout"] = "10 seconds"
    [problem] = validate_output(doc, target)
    assert problem.startswith("spec.http[0].timeout: expected a duration")


def test_output_unknown_kind_and_target() -> None:
    assert validate_output({"kind": "RouteRule"}, "1.0") == [
        "kind: unsupported kind 'RouteRule'; "
        "expected one of VirtualService, DestinationRule, ServiceEntry, Gateway"
    ]
    with pytest.raises(ValueError, match="unknown target"):
        validate_output(gateway("1.0"), "1.1")


def test_output_validators_are_cached() -> None:
    schemas._validator.cache_clear()
    for _ in range(3):
        validate_output(gateway("1.0"), "1.0")
    info = schemas._validator.cache_info()
    assert info.misses == 1 and info.hits == 2


# --------------------------------------------------------------------------- 0.8 vs 1.0


def test_outlier_detection_nested_in_08_only() -> None:
    doc = destination_rule("0.8")
    doc["spec"]["trafficPolicy"]["portLevelSettings"][0]["loadBalancer"] = {"simple": "RANDOM"}
    assert validate_output(doc, "0.8") == []
    assert validate_output(doc, "1.0") == [
        "spec.trafficPolicy.outlierDetection.http: unknown field 'http'"
    ]


def test_outlier_detection_flat_in_10_only() -> None:
    doc = destination_rule("1.0")
    doc["spec"]["trafficPolicy"]["portLevelSettings"][0]["loadBalancer"] = {"simple": "RANDOM"}
    assert validate_output(doc, "1.0") == []
    problems = validate_output(doc, "0.8")
    assert output_paths(problems) == [
        "spec.trafficPolicy.outlierDetection.consecutiveErrors",
        "spec.trafficPolicy.outlierDetection.interval",
        "spec.trafficPolicy.outlierDetection.baseEjectionTime",
        "spec.trafficPolicy.outlierDetection.maxEjectionPercent",
    ]
    assert all("unknown field" in p for p in problems)


def test_destination_subnet_singular_in_08_plural_in_10() -> None:
    vs08 = virtual_service("0.8")
    vs10 = virtual_service("1.0")
    assert validate_output(vs08, "0.8") == []
    assert validate_output(vs10, "1.0") == []
    assert validate_output(vs08, "1.0") == [
        "spec.tcp[0].match[0].destinationSubnet: unknown field 'destinationSubnet' "
        "(did you mean 'destinationSubnets'?)"
    ]
    assert validate_output(vs10, "0.8") == [
        "spec.tcp[0].match[0].destinationSubnets: unknown field 'destinationSubnets' "
        "(did you mean 'destinationSubnet'?)"
    ]


def test_consistent_hash_differs() -> None:
    dr08 = destination_rule("0.8")
    dr10 = destination_rule("1.0")
    assert output_paths(validate_output(dr08, "1.0")) == [
        "spec.trafficPolicy.outlierDetection.http",
        "spec.trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash.httpHeader",
        "spec.trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash",
    ]
    lb10 = dr10["spec"]["trafficPolicy"]["portLevelSettings"][0]["loadBalancer"]
    lb10["consistentHash"] = {"useSourceIp": True, "minimumRingSize": "2048"}
    assert validate_output(dr10, "1.0") == []
    lb10["consistentHash"] = {"useSourceIp": True, "httpHeaderName": "x-user"}
    [problem] = validate_output(dr10, "1.0")
    assert "only one of 'httpHeaderName', 'useSourceIp'" in problem


def test_tls_routes_and_remove_response_headers_only_in_10() -> None:
    doc = virtual_service("1.0")
    doc["spec"]["tls"] = [
        {
            "match": [{"port": 443, "sniHosts": ["login.example.com"]}],
            "route": [{"destination": {"host": "login.prod.svc.cluster.local"}}],
        }
    ]
    doc["spec"]["http"][0]["removeResponseHeaders"] = ["x-internal"]
    assert validate_output(doc, "1.0") == []
    old = copy.deepcopy(doc)
    old["spec"]["tcp"][0]["match"] = [{"port": 27017}]
    assert sorted(output_paths(validate_output(old, "0.8"))) == [
        "spec.http[0].removeResponseHeaders",
        "spec.tls",
    ]
    del doc["spec"]["tls"][0]["match"][0]["sniHosts"]
    assert validate_output(doc, "1.0") == ["spec.tls[0].match[0].sniHosts: missing required field"]


def test_fields_added_after_10_are_rejected() -> None:
    doc = virtual_service("1.0")
    doc["spec"]["http"][0]["appendRequestHeaders"] = {"a": "b"}
    doc["spec"]["http"][0]["fault"]["abort"]["percentage"] = {"value": 0.1}
    assert sorted(output_paths(validate_output(doc, "1.0"))) == [
        "spec.http[0].appendRequestHeaders",
        "spec.http[0].fault.abort.percentage",
    ]


def test_service_entry_resolution_required_in_10_only() -> None:
    doc = service_entry("1.0")
    del doc["spec"]["resolution"]
    assert validate_output(doc, "0.8") == []
    assert validate_output(doc, "1.0") == ["spec.resolution: missing required field"]


def test_gateway_selector_required_in_10_only() -> None:
    doc = gateway("1.0")
    del doc["spec"]["selector"]
    assert validate_output(doc, "0.8") == []
    assert validate_output(doc, "1.0") == ["spec.selector: missing required field"]


def test_port_protocol_tls_spelling() -> None:
    doc = service_entry("1.0")
    doc["spec"]["ports"][1]["protocol"] = "TLS"
    assert validate_output(doc, "1.0") == []
    assert output_paths(validate_output(doc, "0.8")) == ["spec.ports[1].protocol"]
    doc["spec"]["ports"][1]["protocol"] = "TCP-TLS"
    assert validate_output(doc, "0.8") == []
    assert output_paths(validate_output(doc, "1.0")) == ["spec.ports[1].protocol"]


LEGACY_YAML = """\
apiVersion: config.istio.io/v1alpha2
kind: RouteRule
metadata:
  name: reviews-v1
  namespace: default
  creationTimestamp: 2018-05-01T10:00:00Z
  labels:
    version: 1.0
spec:
  destination:
    name: reviews
  route:
  - labels:
      version: 1.0
    weight: 100
  http_req_timeout:
    simple_timeout:
      timeout: 3m
"""


def test_legacy_document_loaded_from_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    doc = yaml.safe_load(LEGACY_YAML)
    assert isinstance(doc["metadata"]["creationTimestamp"], datetime.datetime)
    assert doc["spec"]["route"][0]["labels"]["version"] == 1.0
    assert validate_legacy(doc) == []
    doc["spec"]["route"][0][80] = "x"
    assert validate_legacy(doc) == [("spec.route[0].80", "unknown field '80'")]


def test_output_reports_non_string_values_without_crashing() -> None:
    doc = gateway("1.0")
    doc["metadata"]["name"] = datetime.date(2018, 5, 1)
    assert validate_output(doc, "1.0") == ["metadata.name: expected string, got date 2018-05-01"]

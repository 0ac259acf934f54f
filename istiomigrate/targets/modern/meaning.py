"""What ``networking.istio.io/v1`` config means on Istio 1.30.3, in the plan's normal form.

The normal form's vocabulary is 1.0's (``plan/normal.py``), so each document
is first translated to the v1alpha3 1.0 reading of the same behaviour, then
read by the v1alpha3 target's ``meaning``. The translation is the modern
target's semantics (docs/semantics.md §8), independent of its renderer:

- fields the proto reserved (``appendHeaders``, ``websocketUpgrade``,
  ``fault.abort.percent``, …) are pruned by the API server: read as absent;
- moved fields are read back under their 1.0 names (``headers.request.add``,
  ``percentage.value``, ``allowOrigins[].exact``, ``consecutive5xxErrors``);
- where a modern default differs from legacy, an explicit override that
  restores legacy reads as nothing, and a missing one reads as the modern
  default, spelled in 1.0's terms: a route without ``retries`` has Istio's
  default retries, outlier detection without ``minHealthPercent: 50`` has a
  panic threshold of 0, TLS origination without ``insecureSkipVerify`` checks
  the certificate against the system CAs (``caCertificates: system``), a host
  no VirtualService covers carries ``retries`` of Istio's default route.

So a conversion that forgets an override differs from the plan, and a test
comparing the two catches it.
"""

from __future__ import annotations

import copy
from typing import Any

from istiomigrate.model import Json
from istiomigrate.plan.ingress import CERT_DIR, CERT_SECRET
from istiomigrate.targets.istio import meaning as v1alpha3
from istiomigrate.targets.modern.dialect import (
    DEFAULT_RETRIES,
    LEGACY_MIN_HEALTH_PERCENT,
    LEGACY_RETRY_ON,
)
from istiomigrate.targets.modern.render import DEFAULT_ROUTE

# HTTPRoute fields reserved in api 1.30.3 virtual_service.proto: the API server drops them.
_RESERVED_ROUTE = ("appendHeaders", "removeResponseHeaders", "appendResponseHeaders",
                   "appendRequestHeaders", "removeRequestHeaders", "websocketUpgrade")
_ALL = ["*"]


def meaning(docs: list[Json], cluster_domain: str = v1alpha3.CLUSTER_DOMAIN) -> dict[str, Any]:
    """The normal form of modern documents; see the module docstring for the reading."""
    def resolve(host: str, namespace: str) -> str:
        return v1alpha3.fqdn(host, namespace, cluster_domain)

    read: list[Json] = []
    covered: set[str] = set()  # hosts whose requests a mesh VirtualService governs
    for doc in docs:
        doc = _translated(copy.deepcopy(doc), cluster_domain)
        if doc["kind"] == "VirtualService" and _bound_to_mesh(doc):
            ns = doc["metadata"]["namespace"]
            covered.update(resolve(h, ns) for h in doc["spec"].get("hosts", []))
            if _is_legacy_default(doc, resolve):
                continue
        read.append(doc)
    out: dict[str, Any] = v1alpha3.meaning(read, cluster_domain)
    for fqdn, entry in out["hosts"].items():
        if fqdn not in covered:  # only a DestinationRule: Istio's default route serves it
            entry["retries"] = dict(DEFAULT_RETRIES)
    for doc in read:
        if doc["kind"] == "ServiceEntry" and _has_http(doc["spec"]) and \
                not set(doc["spec"].get("hosts", [])) <= covered:
            out["entries"][doc["metadata"]["name"]]["retries"] = dict(DEFAULT_RETRIES)
    return out


def _bound_to_mesh(doc: Json) -> bool:
    return "mesh" in (doc["spec"].get("gateways") or ["mesh"])


def _has_http(spec: Json) -> bool:
    return any(str(p.get("protocol", "")).upper().startswith("HTTP") for p in spec["ports"])


def _is_legacy_default(doc: Json, resolve: v1alpha3.Resolve) -> bool:
    """The VirtualService the target writes for a host that had no RouteRule: read as "no
    VirtualService, no retries", legacy's default route. Only its exact shape counts."""
    spec, ns = doc["spec"], doc["metadata"]["namespace"]
    routes = spec.get("http") or []
    if set(spec) - {"hosts", "http"} or len(spec.get("hosts", [])) != 1 or len(routes) != 1:
        return False
    route = routes[0]
    host = resolve(spec["hosts"][0], ns)
    target = [{"destination": {"host": h}} for h in (spec["hosts"][0], host)]
    return route.get("name") == DEFAULT_ROUTE and set(route) == {"name", "route"} and \
        route["route"] in ([t] for t in target)


def _translated(doc: Json, cluster_domain: str) -> Json:
    """The document as 1.0 would spell the behaviour 1.30.3 gives it (modified in place)."""
    spec = doc.get("spec") or {}
    if spec.get("exportTo") == _ALL:
        del spec["exportTo"]
    kind = doc["kind"]
    if kind == "VirtualService":
        for route in spec.get("http") or []:
            _route(route)
        if "gateways" in spec:
            spec["gateways"] = [_gateway_ref(g, cluster_domain) for g in spec["gateways"]]
    elif kind == "DestinationRule":
        host = str(spec.get("host", ""))
        if "trafficPolicy" in spec:
            spec["trafficPolicy"] = _policy(spec["trafficPolicy"], host)
        for subset in spec.get("subsets") or []:
            if "trafficPolicy" in subset:
                subset["trafficPolicy"] = _policy(subset["trafficPolicy"], host)
    elif kind == "Gateway":
        for server in spec.get("servers") or []:
            tls = server.get("tls")
            if isinstance(tls, dict) and tls.get("credentialName") == CERT_SECRET:
                del tls["credentialName"]  # the same secret 0.8 mounted at CERT_DIR
                tls.update(serverCertificate=f"{CERT_DIR}/tls.crt",
                           privateKey=f"{CERT_DIR}/tls.key")
    return doc


def _gateway_ref(ref: str, cluster_domain: str) -> str:
    """``namespace/name`` as the FQDN 1.0 named a Gateway by."""
    if "/" in ref:
        namespace, name = ref.split("/", 1)
        return f"{name}.{namespace}.svc.{cluster_domain}"
    return ref


def _route(route: Json) -> None:
    for name in _RESERVED_ROUTE:
        route.pop(name, None)
    headers = route.get("headers")
    if isinstance(headers, dict):
        request = headers.get("request")
        if isinstance(request, dict) and "add" in request:
            route["appendHeaders"] = request.pop("add")
            if not request:
                del headers["request"]
        if not headers:
            del route["headers"]
    if "fault" in route:
        _fault(route)
    if "corsPolicy" in route:
        _cors(route["corsPolicy"])
    if "redirect" not in route:
        _retries(route)
    mirror = route.get("mirrorPercentage")
    if isinstance(mirror, dict) and mirror.get("value") == 100:
        del route["mirrorPercentage"]


def _percent(section: Json, deprecated_read: bool) -> Json | None:
    """A fault section with ``percent``; None: the section never fires."""
    out = dict(section)
    percentage = out.pop("percentage", None)
    legacy = out.pop("percent", None)
    if isinstance(percentage, dict) and "value" in percentage:
        value = percentage["value"]
        out["percent"] = int(value) if float(value).is_integer() else value
    elif deprecated_read and legacy is not None:
        out["percent"] = legacy
    else:
        return None
    return out


def _fault(route: Json) -> None:
    fault = route["fault"]
    # delay.percent is deprecated but read; abort.percent is reserved (1.30.3 TranslateFault).
    for section, deprecated_read in (("delay", True), ("abort", False)):
        if section in fault:
            kept = _percent(fault[section], deprecated_read)
            if kept is None:
                del fault[section]
            else:
                fault[section] = kept
    if not fault:
        del route["fault"]


def _cors(cors: Json) -> None:
    origins = cors.get("allowOrigins")
    if isinstance(origins, list) and all(set(o) == {"exact"} for o in origins):
        del cors["allowOrigins"]
        cors["allowOrigin"] = [o["exact"] for o in origins]


def _retries(route: Json) -> None:
    retries = route.get("retries")
    if retries is None:
        route["retries"] = dict(DEFAULT_RETRIES)
        return
    if int(retries.get("attempts", 0)) <= 0:  # 1.30.3 ConvertPolicy: no retry policy
        del route["retries"]
        return
    if retries.get("retryOn") == LEGACY_RETRY_ON:
        del retries["retryOn"]
    elif "retryOn" not in retries:
        retries["retryOn"] = DEFAULT_RETRIES["retryOn"]


def _policy(policy: Json, host: str) -> Json:
    out = dict(policy)
    lb = out.get("loadBalancer")
    if isinstance(lb, dict) and lb.get("simple") == "LEAST_REQUEST":
        out["loadBalancer"] = {**lb, "simple": "LEAST_CONN"}  # what legacy LEAST_CONN was
    outlier = out.get("outlierDetection")
    if isinstance(outlier, dict):
        out["outlierDetection"] = _outlier(outlier)
    tls = out.get("tls")
    if isinstance(tls, dict):
        out["tls"] = _tls(tls, host)
    if isinstance(out.get("portLevelSettings"), list):
        out["portLevelSettings"] = [_policy(p, host) if isinstance(p, dict) else p
                                    for p in out["portLevelSettings"]]
    return out


def _outlier(outlier: Json) -> Json:
    out = dict(outlier)
    out.pop("consecutiveErrors", None)  # deprecated and never read at 1.30.3
    if "consecutive5xxErrors" in out:
        out["consecutiveErrors"] = out.pop("consecutive5xxErrors")
    if out.get("minHealthPercent") == LEGACY_MIN_HEALTH_PERCENT:
        del out["minHealthPercent"]
    else:
        out.setdefault("minHealthPercent", 0)
    return out


def _tls(tls: Json, host: str) -> Json:
    out = dict(tls)
    if out.get("mode") != "SIMPLE":
        return out
    if "sni" not in out and "*" not in host:
        out["sni"] = host  # automatic SNI: the request's host, which is this one
    if out.get("insecureSkipVerify") is True:
        del out["insecureSkipVerify"]
    elif "caCertificates" not in out:
        out["caCertificates"] = "system"
    return out

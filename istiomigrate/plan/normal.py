"""The normal form of a plan: what routes where, without names, layout or spelling choices.

Two configurations mean the same when their normal forms are equal. Tests
compare the normal form of the plan made from legacy input with the normal
form a target reads back from its own output (``Target.meaning``), so a
renderer that drops or bends a field is caught whatever its output looks like.
It is written independently of every target's renderer, on purpose: a mistake in
spelling a field must not be in both the output and the yardstick.

The vocabulary is Istio 1.0's v1alpha3 field names, which every later API
version still understands; subsets become the labels they select, hosts are
FQDNs, a lone destination without weight weighs 100, and durations are
seconds.
"""

from __future__ import annotations

from typing import Any

from istiomigrate.durations import parse_duration
from istiomigrate.plan import model as m
from istiomigrate.subsets import LabelSet

DURATION_KEYS = frozenset({"timeout", "perTryTimeout", "fixedDelay", "maxAge", "interval",
                           "baseEjectionTime", "connectTimeout"})


def seconds(value: Any) -> Any:
    """Durations compared as numbers: ``3m`` and ``180.000s`` mean the same."""
    if isinstance(value, dict):
        return {k: parse_duration(v) if k in DURATION_KEYS and isinstance(v, str) else seconds(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [seconds(v) for v in value]
    return value


def label_key(labels: dict[str, str] | LabelSet) -> str:
    """``version=v1,zone=a``: how a subset's policy is keyed."""
    items = labels.items() if isinstance(labels, dict) else labels
    return ",".join(f"{k}={v}" for k, v in sorted(items))


def normal_form(plan: m.Plan) -> dict[str, Any]:
    """``{"hosts": {fqdn: {namespace, http, tcp, policies}}, "entries": {name: entry}}``.

    The ingress is not part of it: its meaning is the gateway's, compared by
    ``verify`` request by request.
    """
    hosts: dict[str, dict[str, Any]] = {}
    for fqdn, host in plan.hosts.items():
        entry: dict[str, Any] = {}
        if host.routed:
            entry["namespace"] = host.namespace
            for section, routes, present in (("http", host.http, host.has_http_rules),
                                             ("tcp", host.tcp, host.has_tcp_rules)):
                if present and routes:
                    entry[section] = [route_form(r) for r in routes]
        policies = policies_form(host)
        if policies:
            entry["policies"] = policies
        if entry:
            hosts[fqdn] = entry
    entries = {e.name: entry_form(e) for e in plan.entries}
    out: dict[str, Any] = seconds({"hosts": hosts, "entries": entries})
    return out


def route_form(route: m.Route) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if route.matches:
        out["match"] = [form for match in route.matches for form in _match_forms(match)]
    if route.redirect is not None:
        out["redirect"] = _set(uri=route.redirect.uri, authority=route.redirect.authority)
    else:
        lone = len(route.destinations) == 1
        out["route"] = [{**destination_form(d),
                         "weight": d.weight if d.weight is not None else (100 if lone else 0)}
                        for d in route.destinations]
    if route.rewrite is not None:
        out["rewrite"] = _set(uri=route.rewrite.uri, authority=route.rewrite.authority)
    if route.websocket_upgrade is not None:
        out["websocketUpgrade"] = route.websocket_upgrade
    if route.timeout:
        out["timeout"] = route.timeout
    if route.retries is not None:
        out["retries"] = _set(attempts=route.retries.attempts,
                              perTryTimeout=route.retries.per_try_timeout)
    if route.fault is not None:
        out["fault"] = _fault_form(route.fault)
    if route.mirror is not None:
        out["mirror"] = destination_form(route.mirror)
    if route.cors is not None:
        cors = route.cors
        out["corsPolicy"] = _set(
            allowOrigin=_listed(cors.allow_origin), allowMethods=_listed(cors.allow_methods),
            allowHeaders=_listed(cors.allow_headers), exposeHeaders=_listed(cors.expose_headers),
            maxAge=cors.max_age, allowCredentials=cors.allow_credentials)
    if route.append_headers:
        out["appendHeaders"] = dict(route.append_headers)
    return out


def _set(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _listed(value: tuple[str, ...] | None) -> list[str] | None:
    return list(value) if value is not None else None


def _match_forms(match: m.HttpMatch | m.TcpMatch) -> list[dict[str, Any]]:
    """One form per match; a TCP match is one per source subnet (subnets are OR-ed)."""
    if isinstance(match, m.HttpMatch):
        out: dict[str, Any] = {}
        for condition in match.conditions:
            value = {condition.match.kind: condition.match.value}
            if condition.attribute == "header":
                out.setdefault("headers", {})[condition.name] = value
            else:
                out[condition.attribute] = value
        if match.source_labels:
            out["sourceLabels"] = dict(match.source_labels)
        return [out]
    forms = []
    for source in match.source_subnets or (None,):
        form: dict[str, Any] = {}
        if match.destination_subnets:
            form["destinationSubnets"] = list(match.destination_subnets)
        if source:
            form["sourceSubnet"] = source
        if match.source_labels:
            form["sourceLabels"] = dict(match.source_labels)
        if form:
            forms.append(form)
    return forms


def destination_form(dest: m.Destination) -> dict[str, Any]:
    out: dict[str, Any] = {"host": dest.host.fqdn, "labels": dict(dest.labels)}
    if dest.port is not None:
        out["port"] = {"number": dest.port}
    return out


def _fault_form(fault: m.Fault) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fault.delay is not None:
        out["delay"] = {"percent": fault.delay.percent, "fixedDelay": fault.delay.fixed_delay}
    if fault.abort is not None:
        out["abort"] = {"percent": fault.abort.percent, "httpStatus": fault.abort.http_status}
    return out


# Components a port-level setting repeats from the host's policy (Pilot applies either).
_PORT_COMPONENTS = ("loadBalancer", "connectionPool", "outlierDetection")


def policies_form(host: m.HostPlan) -> dict[str, Any]:
    """``top`` for what applies to every instance, then one entry per subset's label set."""
    out: dict[str, Any] = {}
    top: dict[str, Any] = policy_form(host.policies[()]) if () in host.policies else {}
    if host.tls is not None:
        out_ports: list[dict[str, Any]] = []
        for number in sorted(set(host.tls.ports)):
            tls: dict[str, Any] = {"mode": "SIMPLE"}
            if "*" not in host.host.fqdn:
                tls["sni"] = host.host.fqdn
            kept: dict[str, Any] = {k: top[k] for k in _PORT_COMPONENTS if k in top}
            out_ports.append({"port": {"number": number}, **kept, "tls": tls})
        top["portLevelSettings"] = out_ports
    if top:
        out["top"] = top
    for labels in host.subsets:
        policy = host.policies.get(labels)
        out[label_key(labels)] = policy_form(policy) if policy is not None else {}
    return out


def policy_form(policy: m.Policy) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if policy.load_balancer:
        out["loadBalancer"] = {"simple": policy.load_balancer}
    pool = policy.connection_pool
    if pool is not None:
        tcp = _set(maxConnections=pool.max_connections)
        http = _set(http1MaxPendingRequests=pool.http1_max_pending_requests,
                    http2MaxRequests=pool.http2_max_requests,
                    maxRequestsPerConnection=pool.max_requests_per_connection,
                    maxRetries=pool.max_retries)
        out["connectionPool"] = _set(tcp=tcp or None, http=http or None)
    outlier = policy.outlier_detection
    if outlier is not None:
        out["outlierDetection"] = _set(
            consecutiveErrors=outlier.consecutive_errors, interval=outlier.interval,
            baseEjectionTime=outlier.base_ejection_time,
            maxEjectionPercent=outlier.max_ejection_percent)
    return out


def entry_form(entry: m.EgressEntry) -> dict[str, Any]:
    return {"hosts": list(entry.hosts), "addresses": list(entry.addresses),
            "ports": sorted([p.number, p.protocol.upper()] for p in entry.ports),
            "location": "MESH_EXTERNAL", "resolution": "NONE"}

"""What Pilot's own validation refuses in a v1alpha3 document, beyond the JSON Schema.

The schemas (``schemas/v1alpha3-*``) say which fields exist and their types; they
cannot say that ``retries.attempts`` must be positive or that several weights must
add up to 100. Those rules live in istio/istio ``pilot/pkg/model/validation.go``
(``ValidateVirtualService``, ``ValidateDestinationRule``, ``ValidateServiceEntry``,
``ValidateGateway``), which ``istioctl`` and the admission webhook run, and which
differ between tag ``0.8.0`` and ``1.0.0``. This module restates them (read for the
facts, not translated line by line) so that a document Istio would refuse is an
IM307 here instead of a failed ``kubectl apply`` or ``istioctl create``.

``problems(doc, version)`` checks one document; ``cross_problems(docs)`` checks
what no single document can show: every ``subset`` a route names is defined by
the DestinationRule written for that host. Both return ``(index, message)`` or
messages that start with the field's path, like the schema's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

_LABEL = r"[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?"
_DNS1123_LABEL = re.compile(f"^{_LABEL}$")
_WILDCARD_LABEL = re.compile(rf"^(\*|(\*|\*-)?({_LABEL}))$")
_TAG = re.compile(r"^[-A-Za-z0-9_./]*$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS",
                      "TRACE"})
_PROTOCOLS = {"0.8": frozenset({"tcp", "udp", "grpc", "http", "http2", "https", "mongo", "redis"}),
              "1.0": frozenset({"tcp", "udp", "grpc", "http", "http2", "https", "tls", "mongo",
                                "redis"})}
_TLS_PROTOCOLS = frozenset({"https", "tls"})
_HTTP_PROTOCOLS = frozenset({"http", "http2", "grpc"})
_NS = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "us": 10**3, "µs": 10**3,
       "ns": 1}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")

Problems = list[str]


# --------------------------------------------------------------------------- entry points


def problems(doc: dict[str, Any], version: str) -> Problems:
    """Every rule of Pilot ``version``'s validation that ``doc`` breaks, path first."""
    kind = doc.get("kind")
    spec = doc.get("spec")
    out = _name_problems(doc)
    check = _KINDS.get(str(kind))
    if check is not None and isinstance(spec, dict):
        out.extend(f"spec.{p}" if not p.startswith(".") else f"spec{p}"
                   for p in check(spec, version))
    return out


def cross_problems(docs: list[dict[str, Any]], cluster_domain: str) -> list[tuple[int, str]]:
    """A route's subset must be defined where Pilot looks for it, or the route gets a 503.

    Only hosts whose DestinationRule is among ``docs`` are checked: a host whose rule
    lives elsewhere (not converted, not merged into) cannot be judged from here.
    """
    defined: dict[str, set[str]] = {}
    for doc in docs:
        if doc.get("kind") == "DestinationRule":
            spec = doc.get("spec") or {}
            host = _fqdn(str(spec.get("host", "")), _namespace(doc), cluster_domain)
            names = {str(s.get("name")) for s in spec.get("subsets") or [] if isinstance(s, dict)}
            defined.setdefault(host, set()).update(names)
    out = []
    for index, doc in enumerate(docs):
        if doc.get("kind") != "VirtualService":
            continue
        for path, dest in _destinations(doc.get("spec") or {}):
            subset = dest.get("subset")
            host = _fqdn(str(dest.get("host", "")), _namespace(doc), cluster_domain)
            if subset and host in defined and subset not in defined[host]:
                out.append((index, f"spec.{path}.subset: subset {subset!r} is not defined by "
                                   f"the DestinationRule for {host}"))
    return out


# --------------------------------------------------------------------------- kinds


def _virtual_service(spec: dict[str, Any], version: str) -> Iterator[str]:
    gateways = _list(spec.get("gateways"))
    to_mesh = not gateways or "mesh" in gateways
    for i, gateway in enumerate(gateways):
        if version == "0.8" and not _is_label(gateway):
            yield f"gateways[{i}]: {gateway!r} is not a DNS-1123 label (0.8 requires one)"
        elif version != "0.8" and (err := _fqdn_error(str(gateway))):
            yield f"gateways[{i}]: {err}"
    hosts = _list(spec.get("hosts"))
    if not hosts:
        yield "hosts: a VirtualService must have at least one host"
    valid = True
    for i, host in enumerate(hosts):
        err = _route_host_error(str(host), version)
        if err is None and to_mesh and host == "*":
            err = "wildcard host * is not allowed for virtual services bound to the mesh"
        if err:
            valid = False
            yield f"hosts[{i}]: {err}"
    if valid:
        for i, a in enumerate(hosts):
            for b in hosts[i + 1:]:
                if _hosts_match(str(a), str(b)):
                    yield f"hosts: duplicate hosts {a!r} and {b!r}"
    kinds = ("http", "tcp") if version == "0.8" else ("http", "tcp", "tls")
    if not any(_list(spec.get(k)) for k in kinds):
        yield f"http: {' or '.join(kinds)} must be provided"
    for i, route in enumerate(_list(spec.get("http"))):
        yield from _at(f"http[{i}]", _http_route(_dict(route), version))
    if version != "0.8":
        for i, route in enumerate(_list(spec.get("tcp"))):
            yield from _at(f"tcp[{i}]", _tcp_route(_dict(route), version))


def _http_route(route: dict[str, Any], version: str) -> Iterator[str]:
    weighted = _list(route.get("route"))
    if route.get("redirect") is not None:
        for field, what in (("route", "route"), ("fault", "fault"), ("rewrite", "rewrite")):
            if route.get(field):
                yield f"{field}: a route cannot have both {what} and redirect"
        if route.get("websocketUpgrade"):
            yield "websocketUpgrade: not allowed on redirect rules"
        yield from _either("redirect", _dict(route.get("redirect")))
    elif not weighted:
        yield "route: a route or a redirect is required"
    if route.get("rewrite") is not None:
        yield from _either("rewrite", _dict(route.get("rewrite")))
    for name in _dict(route.get("appendHeaders")):
        yield from _at("appendHeaders", _header_name(name))
    for i, match in enumerate(_list(route.get("match"))):
        match = _dict(match)
        for name in _dict(match.get("headers")):
            yield from _at(f"match[{i}].headers", _header_name(name))
        yield from _at(f"match[{i}].sourceLabels", _labels(match.get("sourceLabels")))
        if version != "0.8" and match.get("port"):
            yield from _at(f"match[{i}].port", _port_number(match.get("port")))
    if route.get("corsPolicy") is not None:
        yield from _at("corsPolicy", _cors(_dict(route.get("corsPolicy"))))
    if route.get("fault") is not None:
        yield from _at("fault", _fault(_dict(route.get("fault"))))
    if route.get("mirror") is not None:
        yield from _at("mirror", _destination(_dict(route.get("mirror")), version))
    if route.get("retries") is not None:
        retries = _dict(route.get("retries"))
        if not isinstance(retries.get("attempts"), int) or retries["attempts"] <= 0:
            yield "retries.attempts: attempts must be positive"
        yield from _at("retries.perTryTimeout", _duration(retries.get("perTryTimeout")))
    yield from _at("route", _weights(weighted, version))
    yield from _at("timeout", _duration(route.get("timeout")))


def _tcp_route(route: dict[str, Any], version: str) -> Iterator[str]:
    """1.0 only (0.8 did not validate TCP routes): one destination, valid matches."""
    for i, match in enumerate(_list(route.get("match"))):
        match = _dict(match)
        for j, subnet in enumerate(_list(match.get("destinationSubnets"))):
            if err := _ipv4_subnet_error(str(subnet)):
                yield f"match[{i}].destinationSubnets[{j}]: {err}"
        if match.get("sourceSubnet") and (err := _ipv4_subnet_error(str(match["sourceSubnet"]))):
            yield f"match[{i}].sourceSubnet: {err}"
        if match.get("port"):
            yield from _at(f"match[{i}].port", _port_number(match.get("port")))
        yield from _at(f"match[{i}].sourceLabels", _labels(match.get("sourceLabels")))
    weighted = _list(route.get("route"))
    if len(weighted) != 1:
        yield f"route: a TCP route must have exactly one destination, not {len(weighted)}"
    yield from _at("route", _weights(weighted, version))


def _weights(weighted: list[Any], version: str) -> Iterator[str]:
    total = 0
    for i, entry in enumerate(weighted):
        entry = _dict(entry)
        if entry.get("destination") is None:
            yield f"[{i}].destination: destination is required"
        else:
            yield from _at(f"[{i}].destination", _destination(_dict(entry["destination"]),
                                                              version))
        weight = entry.get("weight", 0)
        if not isinstance(weight, int) or not 0 <= weight <= 100:
            yield f"[{i}].weight: {weight!r} is not in range 0..100"
        else:
            total += weight
    if len(weighted) > 1 and version == "0.8" and total > 100:
        yield f": total destination weight {total} > 100"
    if len(weighted) > 1 and version != "0.8" and total != 100:
        yield f": total destination weight {total} != 100"


def _destination(dest: dict[str, Any], version: str) -> Iterator[str]:
    if err := _route_host_error(str(dest.get("host", "")), version):
        yield f".host: {err}"
    if "subset" in dest and not _is_label(dest["subset"]):
        yield f".subset: {dest['subset']!r} is not a DNS-1123 label"
    if dest.get("port") is not None:
        port = _dict(dest["port"])
        if port.get("number"):
            yield from _at(".port.number", _port_number(port["number"]))
        elif not _is_label(port.get("name")):
            yield ".port: a port selector needs a number in 1..65535 or a DNS-1123 name"


def _cors(cors: dict[str, Any]) -> Iterator[str]:
    for i, method in enumerate(_list(cors.get("allowMethods"))):
        if method not in _METHODS:
            yield f".allowMethods[{i}]: {method!r} is not a supported HTTP method"
    for field in ("allowHeaders", "exposeHeaders"):
        for name in _list(cors.get(field)):
            yield from _at(f".{field}", _header_name(name))
    if cors.get("maxAge") is not None:
        yield from _at(".maxAge", _duration(cors["maxAge"]))
        ns = _nanoseconds(cors["maxAge"])
        if ns is not None and ns % 10**9:
            yield ".maxAge: max_age is accurate only to whole seconds"


def _fault(fault: dict[str, Any]) -> Iterator[str]:
    abort, delay = fault.get("abort"), fault.get("delay")
    if abort is None and delay is None:
        yield ": a fault must have an abort and/or a delay"
    if abort is not None:
        abort = _dict(abort)
        yield from _at(".abort.percent", _percent(abort.get("percent", 0)))
        if "grpcStatus" in abort or "http2Error" in abort:
            yield ".abort: gRPC and HTTP/2 aborts are not supported"
        status = abort.get("httpStatus", 0)
        if not isinstance(status, int) or not 0 <= status <= 600:
            yield f".abort.httpStatus: {status!r} is not in range 0..600"
    if delay is not None:
        delay = _dict(delay)
        yield from _at(".delay.percent", _percent(delay.get("percent", 0)))
        if "exponentialDelay" in delay:
            yield ".delay.exponentialDelay: not supported"
        yield from _at(".delay.fixedDelay", _duration(delay.get("fixedDelay")))


def _destination_rule(spec: dict[str, Any], version: str) -> Iterator[str]:
    if err := _route_host_error(str(spec.get("host", "")), version):
        yield f"host: {err}"
    if spec.get("trafficPolicy") is not None:
        yield from _at("trafficPolicy", _traffic_policy(_dict(spec["trafficPolicy"]), version))
    for i, subset in enumerate(_list(spec.get("subsets"))):
        subset = _dict(subset)
        if not _is_label(subset.get("name")):
            yield f"subsets[{i}].name: {subset.get('name')!r} is not a DNS-1123 label"
        yield from _at(f"subsets[{i}].labels", _labels(subset.get("labels")))
        if subset.get("trafficPolicy") is not None:
            yield from _at(f"subsets[{i}].trafficPolicy",
                           _traffic_policy(_dict(subset["trafficPolicy"]), version))


_POLICY_FIELDS = ("outlierDetection", "connectionPool", "loadBalancer", "tls")


def _traffic_policy(policy: dict[str, Any], version: str, *, port_level: bool = False
                    ) -> Iterator[str]:
    fields = _POLICY_FIELDS if version == "0.8" or port_level else (*_POLICY_FIELDS,
                                                                     "portLevelSettings")
    if not any(policy.get(f) is not None for f in fields):
        yield ": a traffic policy must have at least one field"
        return
    if policy.get("outlierDetection") is not None:
        yield from _at(".outlierDetection", _outlier(_dict(policy["outlierDetection"]), version))
    if policy.get("connectionPool") is not None:
        yield from _at(".connectionPool", _pool(_dict(policy["connectionPool"])))
    if policy.get("tls") is not None:
        tls = _dict(policy["tls"])
        if tls.get("mode") == "MUTUAL":
            for field in ("clientCertificate", "privateKey"):
                if not tls.get(field):
                    yield f".tls.{field}: required for MUTUAL TLS"
    if version != "0.8" and not port_level:
        for i, entry in enumerate(_list(policy.get("portLevelSettings"))):
            entry = _dict(entry)
            if entry.get("port") is None:
                yield f".portLevelSettings[{i}].port: a port is required"
            yield from _at(f".portLevelSettings[{i}]",
                           _traffic_policy(entry, version, port_level=True))


def _outlier(outlier: dict[str, Any], version: str) -> Iterator[str]:
    if version == "0.8":
        if outlier.get("http") is None:
            yield ": outlier detection must have http (0.8)"
            return
        outlier, prefix = _dict(outlier["http"]), ".http"
    else:
        prefix = ""
    for field in ("baseEjectionTime", "interval"):
        yield from _at(f"{prefix}.{field}", _duration(outlier.get(field)))
    if _negative(outlier.get("consecutiveErrors")):
        yield f"{prefix}.consecutiveErrors: cannot be negative"
    yield from _at(f"{prefix}.maxEjectionPercent", _percent(outlier.get("maxEjectionPercent", 0)))


def _pool(pool: dict[str, Any]) -> Iterator[str]:
    if pool.get("http") is None and pool.get("tcp") is None:
        yield ": a connection pool must have http or tcp"
    http, tcp = _dict(pool.get("http")), _dict(pool.get("tcp"))
    for field in ("http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection",
                  "maxRetries"):
        if _negative(http.get(field)):
            yield f".http.{field}: must be non-negative"
    if _negative(tcp.get("maxConnections")):
        yield ".tcp.maxConnections: must be non-negative"
    yield from _at(".tcp.connectTimeout", _duration(tcp.get("connectTimeout")))


def _service_entry(spec: dict[str, Any], version: str) -> Iterator[str]:
    hosts = _list(spec.get("hosts"))
    if not hosts:
        yield "hosts: a ServiceEntry must have at least one host"
    for i, host in enumerate(hosts):
        host = str(host)
        if host == "*" or "." not in host:
            yield f"hosts[{i}]: {host!r}: neither * nor a short name is allowed"
        elif err := _wildcard_domain_error(host):
            yield f"hosts[{i}]: {err}"
    resolution = spec.get("resolution", "NONE")
    for i, address in enumerate(_list(spec.get("addresses"))):
        address = str(address)
        err = _cidr_error(address) if version == "0.8" else _ipv4_subnet_error(address)
        if err:
            yield f"addresses[{i}]: {err}"
        elif version != "0.8" and "/" in address and resolution not in ("NONE", "STATIC"):
            yield f"addresses[{i}]: CIDR addresses are allowed only for NONE/STATIC resolution"
    names: set[Any] = set()
    numbers: set[Any] = set()
    protocols = _PROTOCOLS["0.8" if version == "0.8" else "1.0"]
    for i, port in enumerate(_list(spec.get("ports"))):
        port = _dict(port)
        name, number = port.get("name"), port.get("number")
        if name in names:
            yield f"ports[{i}].name: port name {name!r} already defined"
        if number in numbers:
            yield f"ports[{i}].number: port {number!r} already defined"
        names.add(name)
        numbers.add(number)
        if not _is_label(name):
            yield f"ports[{i}].name: {name!r} is not a DNS-1123 label"
        if str(port.get("protocol", "")).lower() not in protocols:
            yield f"ports[{i}].protocol: unsupported protocol {port.get('protocol')!r}"
        yield from _at(f"ports[{i}].number", _port_number(number))
    endpoints = _list(spec.get("endpoints"))
    if resolution == "NONE" and endpoints:
        yield "endpoints: no endpoints may be given for resolution NONE"
    elif resolution == "STATIC" and not endpoints:
        yield "endpoints: endpoints are required for resolution STATIC"
    elif resolution == "DNS" and not endpoints:
        for i, host in enumerate(hosts):
            if _fqdn_error(str(host)):
                yield f"hosts[{i}]: must be a FQDN for resolution DNS without endpoints"
    elif resolution not in ("NONE", "STATIC", "DNS"):
        yield f"resolution: unsupported resolution {resolution!r}"


def _gateway(spec: dict[str, Any], version: str) -> Iterator[str]:
    servers = _list(spec.get("servers"))
    if not servers:
        yield "servers: a Gateway must have at least one server"
    port_names: set[Any] = set()
    for i, server in enumerate(servers):
        server = _dict(server)
        yield from _at(f"servers[{i}]", _server(server, version))
        name = _dict(server.get("port")).get("name")
        if version != "0.8" and name in port_names:
            yield f"servers[{i}].port.name: port names must be unique: {name!r}"
        port_names.add(name)


def _server(server: dict[str, Any], version: str) -> Iterator[str]:
    hosts = _list(server.get("hosts"))
    if not hosts:
        yield ".hosts: a server must have at least one host"
    for i, host in enumerate(hosts):
        host = str(host)
        if version == "0.8":
            err = _wildcard_domain_error(host) and _ipv4_subnet_error(host)
        elif host != "*" and "." not in host:
            err = "short names are not allowed in Gateway server hosts"
        else:
            err = _wildcard_domain_error(host)
        if err:
            yield f".hosts[{i}]: {err}"
    port = server.get("port")
    tls = server.get("tls")
    if port is None:
        yield ".port: a port is required"
        return
    port = _dict(port)
    protocol = str(port.get("protocol", "")).lower()
    if protocol not in _PROTOCOLS["0.8" if version == "0.8" else "1.0"]:
        yield f".port.protocol: unsupported protocol {port.get('protocol')!r}"
        return
    if port.get("number"):
        yield from _at(".port.number", _port_number(port["number"]))
    if version == "0.8" and not port.get("number") and not port.get("name"):
        yield ".port: either a port number or a name must be set"
    if version != "0.8" and not port.get("name"):
        yield ".port.name: a port name must be set"
    if tls is not None:
        tls = _dict(tls)
        mode = tls.get("mode", "PASSTHROUGH")
        if mode in ("SIMPLE", "MUTUAL") and not tls.get("serverCertificate"):
            yield f".tls.serverCertificate: {mode} TLS requires a server certificate"
        if mode == "MUTUAL" and not tls.get("caCertificates"):
            yield ".tls.caCertificates: MUTUAL TLS requires a client CA bundle"
    if version == "0.8":
        return
    if protocol in _TLS_PROTOCOLS and tls is None:
        yield ".tls: a server must have TLS settings for HTTPS/TLS ports"
    elif protocol not in _TLS_PROTOCOLS and tls is not None:
        certs = any(tls.get(f) for f in ("caCertificates", "privateKey", "serverCertificate"))
        redirect_only = tls.get("mode", "PASSTHROUGH") == "PASSTHROUGH" and not certs
        if protocol not in _HTTP_PROTOCOLS or not redirect_only:
            yield ".tls: TLS settings are not allowed on a plain-text port"


_KINDS: dict[str, Callable[[dict[str, Any], str], Iterator[str]]] = {
    "VirtualService": _virtual_service,
    "DestinationRule": _destination_rule,
    "ServiceEntry": _service_entry,
    "Gateway": _gateway,
}


# --------------------------------------------------------------------------- values


def _name_problems(doc: dict[str, Any]) -> Problems:
    """Kubernetes refuses an object whose name is not a DNS-1123 subdomain."""
    name = _dict(doc.get("metadata")).get("name")
    if not isinstance(name, str) or len(name) > 253 or not _K8S_NAME.match(name):
        return [f"metadata.name: {name!r} is not a valid DNS-1123 subdomain"]
    return []


def _route_host_error(host: str, version: str) -> str | None:
    """0.8 accepts a wildcard domain or an IPv4 address/CIDR; 1.0 only a wildcard domain."""
    err = _wildcard_domain_error(host)
    if err and version == "0.8" and _ipv4_subnet_error(host) is None:
        return None
    return err


def _wildcard_domain_error(host: str) -> str | None:
    if not host:
        return "empty domain name not allowed"
    if len(host) > 255:
        return f"domain name {host!r} too long (max 255)"
    first, _, rest = host.partition(".")
    if len(first) > 63 or not _WILDCARD_LABEL.match(first):
        return f"domain name {host!r} invalid (label {first!r} invalid)"
    return _labels_error(host, rest) if "." in host else None


def _fqdn_error(host: str) -> str | None:
    if not host:
        return "empty domain name not allowed"
    if len(host) > 255:
        return f"domain name {host!r} too long (max 255)"
    return _labels_error(host, host)


def _labels_error(host: str, labels: str) -> str | None:
    for label in labels.split("."):
        if not _is_label(label):
            return f"domain name {host!r} invalid (label {label!r} invalid)"
    return None


def _is_label(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def _ipv4_subnet_error(value: str) -> str | None:
    """An IPv4 address, or (exactly one ``/``) an IPv4 CIDR block."""
    if value.count("/") == 1:
        return _cidr_error(value)
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return f"{value!r} is not a valid IPv4 address"
    return None


def _cidr_error(value: str) -> str | None:
    """CIDR notation (``a.b.c.d/n``) only: a bare address is refused, as by 0.8's ServiceEntry."""
    address, slash, bits = value.partition("/")
    try:
        ipaddress.IPv4Address(address)
        if not slash or not bits.isdigit() or int(bits) > 32:
            raise ValueError(value)
    except ValueError:
        return f"{value!r} is not a valid IPv4 CIDR block"
    return None


def _header_name(name: Any) -> Iterator[str]:
    if not name:
        yield ": header name cannot be empty"
    elif str(name).lower() != name:
        yield f": header name {name!r} must be in lower case"


def _labels(labels: Any) -> Iterator[str]:
    for key, value in _dict(labels).items():
        if not _TAG.match(str(key)):
            yield f": invalid label key {key!r}"
        if not _TAG.match(str(value)):
            yield f": invalid label value {value!r}"


def _percent(value: Any) -> Iterator[str]:
    if not isinstance(value, int) or not 0 <= value <= 100:
        yield f": percentage {value!r} is not in range 0..100"


def _port_number(value: Any) -> Iterator[str]:
    if not isinstance(value, int) or not 1 <= value <= 65535:
        yield f": port number {value!r} must be in the range 1..65535"


def _duration(value: Any) -> Iterator[str]:
    """Absent is fine; present must be at least 1 ms and a whole number of ms."""
    if value is None:
        return
    ns = _nanoseconds(value)
    if ns is None:
        yield f": {value!r} is not a duration"
    elif ns < 10**6:
        yield f": duration {value!r} must be at least 1ms"
    elif ns % 10**6:
        yield f": duration {value!r}: only millisecond precision is supported"


def _nanoseconds(value: Any) -> int | None:
    """A Go duration in whole nanoseconds (exact: no float rounding), None if unparsable."""
    if not isinstance(value, str) or not value or value.startswith("-"):
        return None
    body = value.removeprefix("+")
    if body == "0":
        return 0
    total, pos = Decimal(0), 0
    while pos < len(body):
        part = _DURATION_PART.match(body, pos)
        if not part:
            return None
        try:
            total += Decimal(part.group(1)) * _NS[part.group(2)]
        except InvalidOperation:
            return None
        pos = part.end()
    return int(total)


def _negative(value: Any) -> bool:
    return isinstance(value, int) and value < 0


# --------------------------------------------------------------------------- helpers


def _hosts_match(a: str, b: str) -> bool:
    """``Hostname.Matches`` of istio 0.8.0/1.0.0 ``model/service.go``: wildcards either way."""
    if "*" not in a and "*" not in b:
        return a == b
    a_wild, b_wild = "*" in a, "*" in b
    longer, shorter = a.lstrip("*"), b.lstrip("*")
    if len(longer) < len(shorter):
        longer, shorter, a_wild, b_wild = shorter, longer, b_wild, a_wild
    if not longer.endswith(shorter):
        return False
    return not (a_wild and not b_wild and longer[:len(longer) - len(shorter)] == ".")


def _destinations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for section in ("http", "tcp", "tls"):
        for i, route in enumerate(_list(spec.get(section))):
            route = _dict(route)
            for j, entry in enumerate(_list(route.get("route"))):
                dest = _dict(_dict(entry).get("destination"))
                if dest:
                    yield f"{section}[{i}].route[{j}].destination", dest
            if route.get("mirror"):
                yield f"{section}[{i}].mirror", _dict(route["mirror"])


def _fqdn(host: str, namespace: str, cluster_domain: str) -> str:
    """Short hosts resolve against the document's namespace (``ResolveShortnameToFQDN``)."""
    if "." in host or host.startswith("*"):
        return host
    return f"{host}.{namespace}.svc.{cluster_domain}"


def _namespace(doc: dict[str, Any]) -> str:
    return str(_dict(doc.get("metadata")).get("namespace") or "default")


def _either(field: str, value: dict[str, Any]) -> Iterator[str]:
    if not value.get("uri") and not value.get("authority"):
        yield f"{field}: must specify uri, authority, or both"


def _at(prefix: str, found: Iterator[str]) -> Iterator[str]:
    """Messages of a nested check, their path put under ``prefix``."""
    for message in found:
        if message.startswith((".", "[", ":")):
            yield f"{prefix}{message}"
        else:
            yield f"{prefix}.{message}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

"""Requests and outcomes: the common language of both simulators.

Both APIs are judged by what they do to one request, so the outcome is
normalised until equal behaviour compares equal: a subset becomes the pod
labels it selects (the whole service is the empty label set), durations are
seconds, a lone destination carries weight 100, and traffic policies use one
layout for v1alpha1's circuit breaker and v1alpha3's 0.8 and 1.0 fields.
Fields that do not take part in the comparison (``detail``, ``involved``,
``matched``) say where an outcome came from, for the report.

The small matching helpers live here too, because both simulators must apply
exactly the same string, host and subnet semantics (Envoy's): a difference
between the APIs must come from the config, never from two implementations
of a header match.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from istiomigrate.durations import parse_duration

Labels = frozenset[tuple[str, str]]
Policy = tuple[tuple[str, Any], ...]
NO_LABELS: Labels = frozenset()
HTTP = "http"
TCP = "tcp"
# Pseudo-headers every HTTP request carries; ``authority`` defaults to the host.
DEFAULT_HEADERS = {"uri": "/", "method": "GET", "scheme": "http"}
ORIGINAL_DST = "original-dst:"  # destination of address-based (CIDR) egress: the address itself
INGRESS_HTTP, INGRESS_HTTPS = 80, 443  # the ingress ports of Istio 0.7/0.8 and of its gateway


def labels_of(mapping: Mapping[str, Any] | None) -> Labels:
    return frozenset((str(k), str(v)) for k, v in (mapping or {}).items())


def show_labels(labels: Iterable[tuple[str, str]]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels))


class Ref(NamedTuple):
    """A config resource an outcome depends on: ``kind namespace/name``."""

    kind: str
    namespace: str
    name: str

    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class Caller:
    """Who sends the request: its pod labels and the services that select it.

    v1alpha1 selected callers by service (the FQDNs of the caller's service
    instances) and labels; v1alpha3 by labels only. An external caller (no
    sidecar identity: ``namespace`` None) has neither.
    """

    namespace: str | None
    labels: Labels = NO_LABELS
    services: frozenset[str] = frozenset()

    @classmethod
    def external(cls) -> Caller:
        return cls(None)

    def describe(self) -> str:
        if self.namespace is None:
            return "external caller"
        services = ",".join(sorted(self.services)) or "no service"
        return f"pod {{{show_labels(self.labels)}}} in {self.namespace} ({services})"

    def as_dict(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "labels": dict(sorted(self.labels)),
                "services": sorted(self.services)}


@dataclass(frozen=True)
class Request:
    """One request: destination host (FQDN; empty for a TCP connection to a bare address).

    ``gateway``: the request enters the mesh through the ingress gateway from outside
    (``Request.ingress``): ``host`` is then the Host header (and the TLS SNI), ``port``
    the gateway port, and the ``scheme`` header says whether the client speaks TLS.
    """

    host: str
    caller: Caller
    protocol: str = HTTP
    headers: tuple[tuple[str, str], ...] = ()
    port: int | None = None
    source_ip: str | None = None
    destination_ip: str | None = None
    gateway: bool = False

    @classmethod
    def http(cls, host: str, caller: Caller, headers: Mapping[str, str] | None = None,
             port: int | None = None) -> Request:
        """An HTTP request; header names are lower-cased and the pseudo-headers filled in."""
        given = {k.lower(): v for k, v in (headers or {}).items()}
        full = {**DEFAULT_HEADERS, "authority": host, **given}
        return cls(host, caller, HTTP, tuple(sorted(full.items())), port)

    @classmethod
    def ingress(cls, host: str, path: str = "/", port: int = INGRESS_HTTP,
                headers: Mapping[str, str] | None = None, tls: bool | None = None) -> Request:
        """A request from outside the mesh to the ingress gateway, for ``host`` and ``path``.

        The client speaks TLS (with ``host`` as SNI) on port 443 unless ``tls`` says
        otherwise, plain HTTP on any other port.
        """
        secure = port == INGRESS_HTTPS if tls is None else tls
        given = {k.lower(): v for k, v in (headers or {}).items()}
        full = {**DEFAULT_HEADERS, "uri": path, "authority": host,
                "scheme": "https" if secure else "http", **given}
        return cls(host, Caller.external(), HTTP, tuple(sorted(full.items())), port,
                   gateway=True)

    @property
    def tls(self) -> bool:
        """Whether the client speaks TLS to the gateway (ingress requests)."""
        return self.header("scheme") == "https"

    @classmethod
    def tcp(cls, host: str, caller: Caller, port: int | None = None, source_ip: str | None = None,
            destination_ip: str | None = None) -> Request:
        return cls(host, caller, TCP, (), port, source_ip, destination_ip)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def describe(self) -> str:
        port = f":{self.port}" if self.port else ""
        if self.protocol == TCP:
            addrs = f" {self.source_ip or '?'} -> {self.destination_ip or '?'}"
            return f"TCP {self.host or '(address)'}{port}{addrs} from {self.caller.describe()}"
        if self.gateway:
            extra = {k: v for k, v in self.headers
                     if k not in ("uri", "method", "authority", "scheme")}
            more = f" {extra}" if extra else ""
            return (f"{self.header('method')} {self.header('scheme')}://"
                    f"{self.header('authority')}:{self.port}{self.header('uri')}{more} at the "
                    "ingress gateway, from outside the mesh")
        extra = {k: v for k, v in self.headers if k not in ("uri", "method", "authority")
                 and not (k == "scheme" and v == "http")}
        more = f" {extra}" if extra else ""
        return (f"{self.header('method')} {self.header('authority')}{port}{self.header('uri')} "
                f"(host {self.host}){more} from {self.caller.describe()}")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"host": self.host, "protocol": self.protocol,
                               "caller": self.caller.as_dict()}
        if self.headers:
            out["headers"] = dict(self.headers)
        for key in ("port", "source_ip", "destination_ip"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.gateway:
            out["gateway"] = True
        return out


@dataclass(frozen=True)
class Destination:
    """Where a share of the traffic goes: host, the pod labels it may reach, its policy."""

    host: str
    labels: Labels
    weight: int
    policy: Policy = ()

    def describe(self) -> str:
        subset = f"{{{show_labels(self.labels)}}}" if self.labels else " (whole service)"
        policy = f" policy {dict(self.policy)}" if self.policy else ""
        return f"{self.weight}% {self.host}{subset}{policy}"


@dataclass(frozen=True)
class Actions:
    """What a matched HTTP route does besides choosing destinations, normalised."""

    rewrite: tuple[tuple[str, str], ...] = ()
    timeout: float | None = None
    retries: tuple[int, float | None] | None = None
    fault: tuple[tuple[str, Any], ...] = ()
    mirror: tuple[str, Labels | None] | None = None  # labels None: the subset is missing (503)
    cors: tuple[tuple[str, Any], ...] | None = None
    append_headers: frozenset[tuple[str, str]] = frozenset()
    websocket: bool = False

    def changed(self) -> dict[str, Any]:
        """The fields that differ from no action at all, for display."""
        blank = Actions()
        return {k: getattr(self, k) for k in self.__dataclass_fields__
                if getattr(self, k) != getattr(blank, k)}


ROUTE, REDIRECT, NO_ROUTE, UNAVAILABLE, BLOCKED, REFUSED = (
    "route", "redirect", "no_route", "unavailable", "blocked", "refused")


@dataclass(frozen=True)
class Outcome:
    """What happens to a request.

    ``status``: ``route`` (to ``destinations``), ``redirect``, ``no_route``
    (HTTP 404, or a refused TCP connection), ``unavailable`` (HTTP 503: a
    destination subset is not defined), ``blocked`` (external host not
    allowed by any EgressRule/ServiceEntry), ``refused`` (ingress requests: nothing
    accepts the connection on that port, or the TLS handshake fails). Destinations of
    ingress requests are ``host:port`` (the port as the backend was named: a number, or
    a name nothing resolved), with no policy. ``egress`` is the protocol the
    application must speak to an external host (``HTTP`` when the sidecar
    originates TLS, ``TLS`` for passthrough).
    """

    status: str
    destinations: tuple[Destination, ...] = ()
    redirect: tuple[str, str] | None = None
    actions: Actions = Actions()
    egress: str | None = None
    detail: str = field(default="", compare=False)
    involved: tuple[Ref, ...] = field(default=(), compare=False)
    matched: Ref | None = field(default=None, compare=False)

    def describe(self) -> str:
        parts = [self.status]
        if self.redirect is not None:
            parts.append(f"to uri={self.redirect[0]!r} authority={self.redirect[1]!r}")
        parts.extend(d.describe() for d in self.destinations)
        changed = self.actions.changed()
        if changed:
            parts.append(f"actions {changed}")
        if self.egress:
            parts.append(f"app speaks {self.egress}")
        if self.detail:
            parts.append(f"({self.detail})")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.redirect is not None:
            out["redirect"] = {"uri": self.redirect[0], "authority": self.redirect[1]}
        if self.destinations:
            out["destinations"] = [
                {"host": d.host, "labels": dict(sorted(d.labels)), "weight": d.weight,
                 "policy": _jsonable(dict(d.policy))} for d in self.destinations]
        changed = self.actions.changed()
        if changed:
            out["actions"] = _jsonable(changed)
        if self.egress:
            out["egress"] = self.egress
        if self.detail:
            out["detail"] = self.detail
        if self.matched:
            out["matched"] = self.matched.label()
        out["involved"] = [r.label() for r in self.involved]
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, frozenset):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def with_port(host: str, port: int | str | None) -> str:
    """An ingress destination as outcomes show it: ``host:port``, the host alone without port."""
    return host if port is None or port == "" else f"{host}:{port}"


def port_of(destination: str) -> str | None:
    """The port part of ``with_port``'s result (a number or a port name), if any."""
    host, sep, port = destination.rpartition(":")
    return port if sep and host and not destination.startswith(ORIGINAL_DST) else None


def weighted(entries: Iterable[tuple[str, Labels, int, Policy]]) -> tuple[Destination, ...]:
    """Envoy's view of a weighted route: equal targets merged, zero weights gone, one = 100%."""
    merged: dict[tuple[str, Labels], tuple[int, Policy]] = {}  # the first policy is kept
    for host, labels, weight, policy in entries:
        if weight <= 0:
            continue
        total, first = merged.get((host, labels), (0, policy))
        merged[(host, labels)] = (total + weight, first)
    if len(merged) == 1:
        (key, (_, only)), = merged.items()
        merged = {key: (100, only)}
    out = [Destination(h, lab, w, p) for (h, lab), (w, p) in merged.items()]
    return tuple(sorted(out, key=lambda d: (d.host, sorted(d.labels))))  # sets do not sort


# --- matching, as Envoy did it for both APIs -------------------------------------------------


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def string_matches(condition: Mapping[str, Any], value: str | None) -> bool:
    """A StringMatch (exact, prefix or regex; regexes match the whole value) against a value."""
    if value is None:
        return False
    exact: object = condition.get("exact")
    if exact is not None:
        return value == exact
    if condition.get("prefix") is not None:
        return value.startswith(condition["prefix"])
    if condition.get("regex") is not None:
        compiled = _compiled(condition["regex"])
        return compiled is not None and compiled.fullmatch(value) is not None
    return False


def host_matches(pattern: str, host: str) -> bool:
    """Envoy's domain match: exact, or a leading ``*`` standing for at least one character."""
    if pattern == "*":
        return True
    if pattern.startswith("*"):
        suffix = pattern[1:]
        return host.endswith(suffix) and len(host) > len(suffix)
    return pattern == host


def specificity(pattern: str) -> tuple[int, int]:
    """Sort key: exact names before wildcards, longer wildcards before shorter."""
    return (1, -len(pattern)) if pattern.startswith("*") else (0, 0)


def in_subnet(cidr: str, address: str | None) -> bool:
    if address is None:
        return False
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def seconds(value: Any) -> float | None:
    """A Go/protobuf duration in seconds; None when absent, zero or unreadable."""
    if value is None or value == "":
        return None
    try:
        total = parse_duration(str(value))
    except ValueError:
        return None
    return total or None


def policy_key(fields: Mapping[str, Any]) -> Policy:
    """A normalised traffic policy (see ``PolicyBuilder``) as a hashable, sorted tuple."""
    return tuple(sorted((k, v) for k, v in fields.items() if v is not None))


# Normalised policy components. ``pool`` holds Envoy's circuit-breaker
# thresholds, which Pilot always replaced together; the other keys are cluster
# fields replaced one by one.
POOL_FIELDS = ("maxConnections", "http1MaxPendingRequests", "http2MaxRequests", "maxRetries")
OUTLIER_FIELDS = ("consecutiveErrors", "interval", "baseEjectionTime", "maxEjectionPercent")

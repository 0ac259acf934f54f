"""Requests worth asking both configs: derived from the conditions the configs test.

A difference between two routing configs can only show on a request that
some condition of one of them tells apart, so requests are built from those
conditions: for every header condition a value that satisfies it and one
that just misses it (prefix minus its last character, another exact value,
a string the regex rejects, the header absent); every caller label set the
configs name (source labels, Service selectors), with and without membership
of the source service, plus a caller that matches nothing and an external
one; every host; for TCP, addresses inside and outside every subnet; for
external hosts, every declared port and one that is not. The combinations
are capped per host, with a deterministic sample, so that the run time is
bounded and the same configs always give the same requests.

Requests through the ingress gateway (``ingress_requests``) are built the same
way from the paths of the Ingresses and of the VirtualServices bound to the
gateway: for every host (and one no config names), on ports 80 and 443 and
every other gateway port, the exact path, the exact path plus a suffix and
minus its last character, every prefix, a longer path under it and the prefix
minus its last character.
"""

from __future__ import annotations

import ipaddress
import itertools
import random
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from istiomigrate.hosts import is_ip_or_cidr
from istiomigrate.read.legacy import IstioService
from istiomigrate.simulate.request import (
    INGRESS_HTTP,
    INGRESS_HTTPS,
    Caller,
    Labels,
    Request,
    host_matches,
    labels_of,
)
from istiomigrate.simulate.v1alpha1 import HTTP_EGRESS, LegacyConfig
from istiomigrate.simulate.v1alpha3 import HTTP_PORTS, NetworkingConfig, most_specific

if TYPE_CHECKING:
    from istiomigrate.simulate.gateway import GatewayConfig
    from istiomigrate.simulate.ingress_v1 import IngressConfig

try:  # the stdlib's regex parser; private, so everything below has a fallback
    # Private modules (Python 3.11+) that typeshed has no stubs for: typed as Any.
    import re._constants as _c  # type: ignore[import-not-found]
    import re._parser as _parser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - other Pythons
    _parser = None
    _c = None

MAX_PER_HOST = 2000
UNKNOWN_HOST = "istiomigrate-unknown.example.com"  # a Host header no config names
OTHER_NAMESPACE = "istiomigrate-elsewhere"
NOMATCH = Caller("istiomigrate-nowhere", frozenset({("istiomigrate-sim", "nomatch")}),
                 frozenset({"nomatch.istiomigrate-nowhere.svc.cluster.local"}))
OUTSIDE_ADDRESSES = ("203.0.113.77", "198.51.100.9", "192.0.2.33", "100.64.99.1")
_CANDIDATES = ("", "a", "x", "0", "/", "-", "#", "zz-nomatch-zz", "abc", "/api", "GET", "v1")
# What ``sample_key`` sorts requests by: their fields, each made sortable.
SampleKey = tuple[str, str, int, tuple[tuple[str, str], ...], str, str, str,
                  tuple[tuple[str, str], ...], tuple[str, ...], bool]
Clause = dict[str, dict[str, Any]]  # one match: header name -> StringMatch, as data


class _Pod(Protocol):
    """Makes a caller: a pod of ``namespace`` with ``labels``, member of its Services."""

    def __call__(self, namespace: str, labels: Labels, extra: Iterable[str] = ...) -> Caller: ...


def sample_key(request: Request) -> SampleKey:
    """A total, process-independent order on requests (frozensets do not sort)."""
    caller = request.caller
    return (request.host, request.protocol, request.port or 0, request.headers,
            request.source_ip or "", request.destination_ip or "", caller.namespace or "",
            tuple(sorted(caller.labels)), tuple(sorted(caller.services)), request.gateway)


def generate(legacy: LegacyConfig, converted: NetworkingConfig,
             services: Mapping[tuple[str, str], dict[str, str]] | None = None,
             hosts: Iterable[str] | None = None, max_per_host: int = MAX_PER_HOST) -> list[Request]:
    """Requests for every host of both configs (or ``hosts``), at most ``max_per_host`` each."""
    services = services or {}
    callers = sorted(_callers(legacy, converted, services), key=lambda c: sample_key(
        Request("", c)))
    wanted = sorted(set(hosts) if hosts is not None else all_hosts(legacy, converted))
    out: list[Request] = []
    for host in wanted:
        out.extend(_cap(host, list(_for_host(host, legacy, converted, callers)), max_per_host))
    out.extend(_cap("(addresses)", list(_address_requests(legacy, converted)), max_per_host))
    return out


def _cap(seed: str, requests: list[Request], limit: int) -> list[Request]:
    unique = sorted(set(requests), key=sample_key)
    if len(unique) <= limit:
        return unique
    return sorted(random.Random(seed).sample(unique, limit), key=sample_key)


# --- hosts ----------------------------------------------------------------------------------


def concrete(pattern: str) -> list[str]:
    """Host names a (possibly wildcard) host pattern stands for."""
    if pattern == "*" or is_ip_or_cidr(pattern):
        return []
    if pattern.startswith("*."):
        return [f"www{pattern[1:]}"]
    if pattern.startswith("*"):
        return [f"x{pattern[1:]}", f"www.{pattern[1:]}"]
    return [pattern]


def all_hosts(legacy: LegacyConfig, converted: NetworkingConfig) -> set[str]:
    """Every concrete host either config routes, has a policy for, or lets out of the mesh."""
    out: set[str] = set()
    patterns = legacy.hosts() | converted.hosts()
    # Hosts of address-based ServiceEntries are labels, not names anyone resolves.
    patterns -= {h for e in converted.service_entries if e.spec.get("addresses") for h in e.hosts}
    patterns.update(r.spec.destination.service for r in legacy.egress)
    for pattern in patterns:
        out.update(concrete(pattern))
    return out


# --- callers --------------------------------------------------------------------------------


def members(services: Mapping[tuple[str, str], dict[str, str]], namespace: str, labels: Labels,
            cluster_domain: str) -> frozenset[str]:
    """FQDNs of the Services in ``namespace`` whose selector picks a pod with ``labels``."""
    return frozenset(f"{name}.{ns}.svc.{cluster_domain}" for (ns, name), selector in
                     services.items() if ns == namespace and selector and
                     labels_of(selector) <= labels)


def _callers(legacy: LegacyConfig, converted: NetworkingConfig,
             services: Mapping[tuple[str, str], dict[str, str]]) -> set[Caller]:
    domain = legacy.cluster_domain

    def pod(namespace: str, labels: Labels, extra: Iterable[str] = ()) -> Caller:
        return Caller(namespace, labels, members(services, namespace, labels, domain) | set(extra))

    out = {Caller.external(), NOMATCH}
    for (namespace, _), selector in services.items():
        out.add(pod(namespace, labels_of(selector)))
    for source, namespace in _sources(legacy):
        out.update(_source_callers(legacy, services, source, namespace, pod))
    for vs in converted.virtual_services:
        for route in (vs.spec.get("http") or []) + (vs.spec.get("tcp") or []):
            for match in route.get("match") or []:
                labels = labels_of(match.get("sourceLabels"))
                if labels:
                    out.add(pod(vs.ref.namespace, labels))
                    out.add(pod(OTHER_NAMESPACE, labels))
    return out


def _sources(legacy: LegacyConfig) -> Iterator[tuple[IstioService, str]]:
    for rules in itertools.chain(legacy.http_rules.values(), legacy.tcp_rules.values()):
        for rule in rules:
            if rule.spec.match and rule.spec.match.source:
                yield rule.spec.match.source, rule.namespace
    for policies in legacy.policies.values():
        for policy in policies:
            if policy.spec.source:
                yield policy.spec.source, policy.namespace


def _source_callers(legacy: LegacyConfig, services: Mapping[tuple[str, str], dict[str, str]],
                    source: IstioService, namespace: str, pod: _Pod) -> set[Caller]:
    """Members of the source service with and without its labels, and look-alikes elsewhere."""
    wanted = labels_of(source.labels)
    if not (source.name or source.service):
        return {pod(namespace, wanted), pod(OTHER_NAMESPACE, wanted)}
    host = legacy.host_of(source, namespace)
    parts = host.split(".")
    name, ns = parts[0], parts[1] if len(parts) > 1 else namespace
    selector = services.get((ns, name))
    bases = [labels_of(selector)] if selector else [labels_of({"app": name}), frozenset()]
    out: set[Caller] = set()
    for base in bases:
        for labels in {base | wanted, base}:
            out.add(pod(ns, labels, [host]))
            out.add(pod(OTHER_NAMESPACE, labels))
    return out


# --- headers --------------------------------------------------------------------------------


def _clauses(host: str, legacy: LegacyConfig, converted: NetworkingConfig) -> list[Clause]:
    """Every match clause that can apply to ``host``: {header name: StringMatch}."""
    out: list[Clause] = []
    rules = [r for pattern, rs in sorted(legacy.http_rules.items()) if host_matches(pattern, host)
             for r in rs]
    for rule in rules:
        match = rule.spec.match
        headers = match.request.headers if match and match.request else None
        if headers:
            out.append({k.lower(): v.model_dump(exclude_none=True) for k, v in headers.items()})
    for vs in most_specific(converted.virtual_services, host):
        for route in vs.spec.get("http") or []:
            for match in route.get("match") or []:
                clause = {k: match[k] for k in ("uri", "method", "authority", "scheme")
                          if isinstance(match.get(k), dict)}
                clause.update({k.lower(): v for k, v in (match.get("headers") or {}).items()
                               if isinstance(v, dict)})
                if clause:
                    out.append(clause)
    unique: list[Clause] = []
    for clause in out:
        if clause not in unique:
            unique.append(clause)
    return unique


def header_sets(clauses: list[Clause]) -> list[dict[str, str | None]]:
    """Header assignments: none, each clause met, each clause just missed, pairs of clauses met."""
    out: list[dict[str, str | None]] = [{}]
    met = [{name: satisfying(cond) for name, cond in clause.items()} for clause in clauses]
    for clause, values in zip(clauses, met, strict=True):
        out.append(values)
        for name, cond in clause.items():
            for miss in [*missing(cond), None]:
                out.append({**values, name: miss})
    for a, b in itertools.combinations(met, 2):
        if all(a[k] == b[k] for k in a.keys() & b.keys()):
            out.append({**a, **b})
    return out


def satisfying(cond: Mapping[str, Any]) -> str | None:
    if cond.get("exact") is not None:
        return str(cond["exact"])
    if cond.get("prefix") is not None:
        return str(cond["prefix"]) + "x"
    if cond.get("regex") is not None:
        return regex_example(str(cond["regex"]))
    return None


def missing(cond: Mapping[str, Any]) -> list[str]:
    """Values that just miss a condition (none for a regex that matches everything)."""
    if cond.get("exact") is not None:
        value = str(cond["exact"])
        return [value + "-other", value[:-1]] if value else ["x"]
    if cond.get("prefix") is not None:
        value = str(cond["prefix"])
        return [value[:-1]] if value else []
    if cond.get("regex") is not None:
        miss = regex_counterexample(str(cond["regex"]))
        return [miss] if miss is not None else []
    return []


def regex_example(pattern: str) -> str | None:
    """A string the regex matches in full: built from its parse tree, else found by trying."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None
    guess = None
    if _parser is not None:
        try:
            guess = _build(_parser.parse(pattern))
        except (ValueError, TypeError, KeyError, IndexError, RecursionError):
            guess = None
    if guess is not None and compiled.fullmatch(guess):
        return guess
    for candidate in _CANDIDATES:
        if compiled.fullmatch(candidate):
            return candidate
    return None


def regex_counterexample(pattern: str) -> str | None:
    try:
        compiled = re.compile(pattern)
    except re.error:
        return None
    example = regex_example(pattern) or ""
    for candidate in (*_CANDIDATES, example + "#", "#" + example, example[:-1]):
        if not compiled.fullmatch(candidate):
            return candidate
    return None


def _build(items: Iterable[tuple[Any, Any]]) -> str:
    """A short string for a parsed regex; raises ValueError for what it cannot build."""
    out: list[str] = []
    for op, arg in items:
        if op is _c.LITERAL:
            out.append(chr(arg))
        elif op is _c.NOT_LITERAL:
            out.append("a" if arg != ord("a") else "b")
        elif op is _c.ANY:
            out.append("a")
        elif op is _c.IN:
            out.append(_char_in(arg))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            count = low if low > 0 else min(1, high)
            out.append(_build(sub) * count)
        elif op is _c.SUBPATTERN:
            out.append(_build(arg[-1]))
        elif op is _c.BRANCH:
            out.append(_build(arg[1][0]))
        elif op is _c.CATEGORY:
            out.append(_category(arg))
        elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
            continue
        else:
            raise ValueError(f"cannot build {op}")
    return "".join(out)


def _char_in(items: Sequence[tuple[Any, Any]]) -> str:
    if items and items[0][0] is _c.NEGATE:
        excluded = {chr(a) for op, a in items[1:] if op is _c.LITERAL}
        for char in "xq0_-":
            if char not in excluded:
                return char
        raise ValueError("negated set")
    op, arg = items[0]
    if op is _c.LITERAL:
        return chr(arg)
    if op is _c.RANGE:
        return chr(arg[0])
    if op is _c.CATEGORY:
        return _category(arg)
    raise ValueError(f"cannot build set item {op}")


def _category(arg: object) -> str:
    name = str(arg)
    if "NOT" in name:
        return "-" if "WORD" in name else "a"
    if "DIGIT" in name:
        return "0"
    if "SPACE" in name:
        return " "
    return "a"


# --- requests per host ----------------------------------------------------------------------


def _for_host(host: str, legacy: LegacyConfig, converted: NetworkingConfig,
              callers: list[Caller]) -> Iterator[Request]:
    external = legacy.is_external(host)
    ports: list[int | None] = [None]
    tcp_ports: list[int] = []
    if external:
        ports, tcp_ports = _external_ports(host, legacy, converted)
    sets = header_sets(_clauses(host, legacy, converted))
    for caller, headers, port in itertools.product(callers, sets, ports):
        given = {k: v for k, v in headers.items() if v is not None}  # None: header absent
        yield Request.http(host, caller, given, port)
    for caller, port in itertools.product(callers, tcp_ports):
        yield Request.tcp(host, caller, port)
    if not external and (legacy.tcp_rules.get(host) or _has_tcp(host, converted)):
        yield from _tcp_requests(host, legacy, converted, callers)


def _external_ports(host: str, legacy: LegacyConfig,
                    converted: NetworkingConfig) -> tuple[list[int | None], list[int]]:
    """HTTP ports and TCP ports declared for an external host, plus one declared nowhere."""
    declared: dict[int, bool] = {}
    for rule in legacy.egress:
        service = rule.spec.destination.service
        if not is_ip_or_cidr(service) and host in [*concrete(service), service]:
            for port in rule.spec.ports:
                declared[port.port] = port.protocol.lower() in HTTP_EGRESS
    for entry in converted.service_entries:
        if any(host in [*concrete(h), h] for h in entry.hosts):
            for port in entry.spec.get("ports") or []:
                if isinstance(port.get("number"), int):
                    is_http = str(port.get("protocol", "")).upper() in HTTP_PORTS | {"HTTPS"}
                    declared.setdefault(port["number"], is_http)
    unused = max(declared, default=8079) + 1
    http = sorted(p for p, is_http in declared.items() if is_http)
    tcp = sorted(p for p, is_http in declared.items() if not is_http)
    return [*http, unused], tcp


def _has_tcp(host: str, converted: NetworkingConfig) -> bool:
    return any(vs.spec.get("tcp") for vs in most_specific(converted.virtual_services, host))


def _subnets(host: str, legacy: LegacyConfig,
             converted: NetworkingConfig) -> tuple[set[str], set[str]]:
    sources: set[str] = set()
    dests: set[str] = set()
    for rule in legacy.tcp_rules.get(host, []):
        tcp = rule.spec.match.tcp
        sources.update(tcp.source_subnet or [])
        dests.update(tcp.destination_subnet or [])
    for vs in most_specific(converted.virtual_services, host):
        for route in vs.spec.get("tcp") or []:
            for match in route.get("match") or []:
                sources.update([match["sourceSubnet"]] if match.get("sourceSubnet") else [])
                dests.update(match.get("destinationSubnets") or [])
                dests.update([match["destinationSubnet"]] if match.get("destinationSubnet")
                             else [])
    return sources, dests


def addresses(subnets: Iterable[str]) -> list[str]:
    """One address inside each subnet, and one outside all of them."""
    networks = []
    for subnet in subnets:
        try:
            networks.append(ipaddress.ip_network(subnet, strict=False))
        except ValueError:
            continue
    inside = {str(next(iter(n.hosts()), n.network_address)) for n in networks}
    for candidate in (*OUTSIDE_ADDRESSES, *(str(n.broadcast_address + 1) for n in networks
                                            if n.version == 4 and int(n.broadcast_address) <
                                            2**32 - 1)):
        address = ipaddress.ip_address(candidate)
        if not any(address in n for n in networks):
            inside.add(candidate)
            break
    return sorted(inside)


def _tcp_requests(host: str, legacy: LegacyConfig, converted: NetworkingConfig,
                  callers: list[Caller]) -> Iterator[Request]:
    sources, dests = _subnets(host, legacy, converted)
    for caller, src, dst in itertools.product(callers, addresses(sources), addresses(dests)):
        yield Request.tcp(host, caller, None, src, dst)


def _address_requests(legacy: LegacyConfig, converted: NetworkingConfig) -> Iterator[Request]:
    """TCP connections to bare addresses, for CIDR EgressRules and ServiceEntry addresses."""
    blocks: dict[str, set[int]] = {}
    for rule in legacy.egress:
        if is_ip_or_cidr(rule.spec.destination.service):
            blocks.setdefault(rule.spec.destination.service, set()).update(
                p.port for p in rule.spec.ports)
    for entry in converted.service_entries:
        numbers = {p["number"] for p in entry.spec.get("ports") or [] if
                   isinstance(p.get("number"), int)}
        for block in entry.spec.get("addresses") or []:
            blocks.setdefault(str(block), set()).update(numbers)
    if not blocks:
        return
    every_port = set().union(*blocks.values())
    ports = sorted(every_port | {max(every_port, default=0) + 1})
    for address, port in itertools.product(addresses(blocks), ports):
        yield Request.tcp("", Caller("default"), port, None, address)


# --- through the ingress gateway ------------------------------------------------------------


def ingress_requests(legacy: IngressConfig, converted: GatewayConfig,
                     max_per_host: int = MAX_PER_HOST) -> list[Request]:
    """Requests from outside the mesh to the ingress: ``legacy`` an ``ingress_v1.IngressConfig``,
    ``converted`` a ``gateway.GatewayConfig``. Per host, the paths of the rules and
    VirtualServices that can apply to it."""
    hosts = {UNKNOWN_HOST}
    for pattern in legacy.hosts() | converted.hosts():
        hosts.update(concrete(pattern))
    ports = {INGRESS_HTTP: False, INGRESS_HTTPS: True}
    ports.update({p: tls for p, tls in converted.ports().items() if p not in ports})
    by_pattern: dict[str, list[dict[str, Any]]] = {}
    for path in legacy.paths():
        by_pattern.setdefault(path.host, []).append({path.kind: path.value})
    services: dict[str, list[int]] = {}  # VirtualServices by host pattern
    # uri conditions, other header clauses
    found_in: list[tuple[list[dict[str, Any]], list[Clause]]] = []
    for vs in converted.virtual_services:
        uris: list[dict[str, Any]] = []
        clauses: list[Clause] = []
        for route in vs.spec.get("http") or []:
            for match in route.get("match") or []:
                if isinstance(match.get("uri"), dict):
                    uris.append(match["uri"])
                clause = {k: match[k] for k in ("method", "scheme") if isinstance(match.get(k),
                                                                                 dict)}
                clause.update({k.lower(): v for k, v in (match.get("headers") or {}).items()
                               if isinstance(v, dict)})
                if clause:
                    clauses.append(clause)
        for pattern in set(vs.hosts):
            services.setdefault(pattern, []).append(len(found_in))
        found_in.append((uris, clauses))
    wild_paths = [p for p in by_pattern if p.startswith("*")]
    wild_services = [p for p in services if p.startswith("*")]
    out: list[Request] = []
    for host in sorted(hosts):
        conditions = [c for pattern in (host, *wild_paths) if host_matches(pattern, host)
                      for c in by_pattern.get(pattern, [])]
        clauses = []
        for pattern in (host, *wild_services):
            if not host_matches(pattern, host):
                continue
            for i in services.get(pattern, []):
                conditions.extend(found_in[i][0])
                clauses.extend(c for c in found_in[i][1] if c not in clauses)
        found = [Request.ingress(host, path, port, {k: v for k, v in headers.items()
                                                    if v is not None}, tls)
                 for (port, tls), path, headers in itertools.product(
                     sorted(ports.items()), ingress_paths(conditions), header_sets(clauses))]
        out.extend(_cap(f"ingress {host}", found, max_per_host))
    return out


def ingress_paths(conditions: Iterable[Mapping[str, Any]]) -> list[str]:
    """Paths that meet and just miss every path condition, and two that meet none."""
    out = {"/", "/istiomigrate-nowhere"}
    for cond in conditions:
        met = satisfying(cond)
        out.update(p for p in (met, *missing(cond)) if p is not None)
        if cond.get("exact") is not None:
            out.add(str(cond["exact"]) + "x")
        if cond.get("prefix") is not None:
            out.update({str(cond["prefix"]), str(cond["prefix"]) + "x/y"})
    return sorted(p for p in out if p)

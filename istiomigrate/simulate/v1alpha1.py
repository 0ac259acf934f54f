"""How Pilot 0.8 routed a request under v1alpha1 config (docs/semantics.md §2-§4, §6).

Read from istio/istio 0.8.0 (``pilot/pkg/model/config.go``,
``pilot/pkg/proxy/envoy/v1``):

- rules: every RouteRule of every namespace whose destination resolves to
  the host, highest precedence first, ties by ``namespace/name``; a rule with
  a ``source`` applies only when one of the caller's service instances has
  the source's FQDN and the caller's labels include the source's labels. The
  first rule whose match holds wins; none: the whole service (fallthrough).
- a source without ``name``/``service`` resolves to ``.NS.svc.DOMAIN``,
  which is no caller's service: it never matches (Pilot also rejected it).
- policies: per cluster (host and exact label set), the DestinationPolicy
  with the smallest ``namespace/name`` among those whose source matches the
  caller. A simple circuit breaker always turned on outlier detection; fields
  at zero were left to Envoy's defaults. Load balancing was not applied to
  the original-destination clusters of external hosts.
- egress: an EgressRule allows an external host (wildcards as Envoy domains)
  on its ports; of two rules for the same service the smaller key wins. An
  ``https`` port means the application speaks HTTP and the sidecar
  originates TLS. Route rules for an external host keep their matches and
  actions, but all traffic goes to the one external cluster (no labels).
- faults: percentages were truncated to integers; a zero (or absent)
  percentage or status disabled the fault.

Deliberately not modelled: Envoy v1's 15 s default route timeout, L4 and
exponential faults and custom policies (Pilot ignored them), mutual TLS.
TCP rules (``match.tcp``) follow their documented meaning (subnets OR-ed
within a list, both lists AND-ed); Pilot 0.8's Envoy v1 path never built
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from istiomigrate.hosts import is_ip_or_cidr, resolve_host
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.read.legacy import CorsPolicy, HTTPFaultInjection, IstioService, L4MatchAttributes
from istiomigrate.simulate.request import (
    BLOCKED,
    NO_LABELS,
    ORIGINAL_DST,
    REDIRECT,
    ROUTE,
    TCP,
    Actions,
    Caller,
    Labels,
    Outcome,
    Policy,
    Ref,
    Request,
    host_matches,
    in_subnet,
    labels_of,
    policy_key,
    seconds,
    specificity,
    string_matches,
    weighted,
)

HTTP_EGRESS = {"http": "HTTP", "http2": "HTTP2", "grpc": "GRPC", "https": "HTTP"}
TCP_EGRESS = {"tcp": "TCP", "mongo": "MONGO"}
_POOL = {"max_connections": "maxConnections",
         "http_max_pending_requests": "http1MaxPendingRequests",
         "http_max_requests": "http2MaxRequests", "http_max_retries": "maxRetries"}

Egress = tuple[LegacyResource, str, str]  # the EgressRule, its port's protocol, the cluster host


def ref(resource: LegacyResource) -> Ref:
    return Ref(resource.kind, resource.namespace, resource.name)


def _key(resource: LegacyResource) -> str:
    return f"{resource.namespace}/{resource.name}"


@dataclass
class LegacyConfig:
    """v1alpha1 resources indexed the way Pilot looked them up."""

    cluster_domain: str = "cluster.local"
    http_rules: dict[str, list[LegacyResource]] = field(default_factory=dict)
    tcp_rules: dict[str, list[LegacyResource]] = field(default_factory=dict)
    policies: dict[str, list[LegacyResource]] = field(default_factory=dict)
    egress: list[LegacyResource] = field(default_factory=list)

    def host_of(self, service: IstioService, namespace: str) -> str:
        return resolve_host(service, namespace, self.cluster_domain).fqdn

    def is_external(self, host: str) -> bool:
        return not host.endswith(f".svc.{self.cluster_domain}")

    def hosts(self) -> set[str]:
        return set(self.http_rules) | set(self.tcp_rules) | set(self.policies)


def index(resources: Iterable[LegacyResource],
          cluster_domain: str = "cluster.local") -> LegacyConfig:
    """Group rules and policies by destination FQDN, in Pilot's order; drop conflicting egress."""
    config = LegacyConfig(cluster_domain)
    items = sorted(resources, key=lambda r: (-getattr(r.spec, "precedence", 0), _key(r)))
    seen_egress: set[str] = set()
    for res in items:
        dest = res.spec.destination
        if dest is None or not (dest.name or dest.service):
            continue
        if res.kind == "EgressRule":
            if dest.service and dest.service not in seen_egress:
                seen_egress.add(dest.service)
                config.egress.append(res)
            continue
        host = config.host_of(dest, res.namespace)
        if res.kind == "DestinationPolicy":
            config.policies.setdefault(host, []).append(res)
        elif res.kind == "RouteRule" and not (res.spec.match and res.spec.match.udp):
            table = config.tcp_rules if res.spec.match and res.spec.match.tcp else config.http_rules
            table.setdefault(host, []).append(res)
    for policies in config.policies.values():
        policies.sort(key=_key)
    config.egress.sort(key=_key)
    return config


def simulate(config: LegacyConfig, request: Request) -> Outcome:
    """The outcome of one request under v1alpha1 config."""
    egress: Egress | None = None
    if not request.host or config.is_external(request.host):
        egress = _egress(config, request)
        if egress is None:
            return Outcome(BLOCKED, detail="no EgressRule allows this host and port",
                           involved=tuple(ref(r) for r in config.egress))
    # Pilot built an external host's routes from the rules for the EgressRule's service.
    host = egress[2] if egress else request.host
    rules = (config.tcp_rules if request.protocol == TCP else config.http_rules).get(host, [])
    involved = _involved(config, host, rules, egress)
    if egress is not None and (egress[1] not in HTTP_EGRESS or request.protocol == TCP):
        return _egress_outcome(config, request, egress, involved)
    for rule in rules:
        if _applies(config, rule, request):
            return _rule_outcome(config, rule, request, egress, involved)
    target = egress[2] if egress else request.host
    dest = _destination(config, request, target, NO_LABELS, 100, egress)
    return Outcome(ROUTE, weighted([dest]), egress=_app_protocol(egress),
                   detail="no rule matched: the whole service", involved=involved)


def _involved(config: LegacyConfig, host: str, rules: list[LegacyResource],
              egress: Egress | None) -> tuple[Ref, ...]:
    refs = [ref(r) for r in rules]
    refs.extend(ref(p) for p in config.policies.get(host, []))
    if egress:
        refs.append(ref(egress[0]))
    return tuple(refs)


# --- matching -------------------------------------------------------------------------------


def source_matches(config: LegacyConfig, source: IstioService | None, namespace: str,
                   caller: Caller) -> bool:
    """Pilot's MatchSource: a caller service has the source's FQDN and its labels."""
    if source is None:
        return True
    if not (source.name or source.service):
        return False
    host = config.host_of(source, namespace)
    return host in caller.services and labels_of(source.labels) <= caller.labels


def _applies(config: LegacyConfig, rule: LegacyResource, request: Request) -> bool:
    match = rule.spec.match
    if match is None:
        return True
    if not source_matches(config, match.source, rule.namespace, request.caller):
        return False
    if request.protocol == TCP:
        return _subnets_match(match.tcp, request)
    headers = match.request.headers if match.request else None
    return all(string_matches(cond.model_dump(exclude_none=True), _header(request, name))
               for name, cond in (headers or {}).items())


_SPECIAL_KEYS = frozenset({"uri", "authority", "scheme", "method"})


def _header(request: Request, name: str) -> str | None:
    """Pilot's ``buildHTTPRouteMatch`` made only the exact lower-case keys special: ``Authority``
    is an ordinary header (Envoy lower-cases it to ``authority``), which requests never carry."""
    if name != name.lower() and name.lower() in _SPECIAL_KEYS:
        return None
    return request.header(name)


def _subnets_match(tcp: L4MatchAttributes | None, request: Request) -> bool:
    if tcp is None:
        return True
    sources, dests = tcp.source_subnet or [], tcp.destination_subnet or []
    return (not sources or any(in_subnet(s, request.source_ip) for s in sources)) and (
        not dests or any(in_subnet(d, request.destination_ip) for d in dests))


# --- egress ---------------------------------------------------------------------------------


def _egress(config: LegacyConfig, request: Request) -> Egress | None:
    """The EgressRule allowing this request: (rule, port protocol, cluster host)."""
    found = []
    for rule in config.egress:
        service = rule.spec.destination.service
        if is_ip_or_cidr(service):
            covers = request.protocol == TCP and in_subnet(service, request.destination_ip)
            target = ORIGINAL_DST + str(request.destination_ip)
        else:
            covers = bool(request.host) and host_matches(service, request.host)
            target = service
        if not covers:
            continue
        for port in rule.spec.ports:
            if request.port is None or port.port == request.port:
                found.append((specificity(service), rule, port.protocol.lower(), target))
                break
    if not found:
        return None
    _, rule, protocol, target = min(found, key=lambda f: f[0])
    return rule, protocol, target


def _app_protocol(egress: Egress | None) -> str | None:
    if egress is None:
        return None
    protocol = egress[1]
    return HTTP_EGRESS.get(protocol) or TCP_EGRESS.get(protocol) or protocol.upper()


def _egress_outcome(config: LegacyConfig, request: Request, egress: Egress,
                    involved: tuple[Ref, ...]) -> Outcome:
    dest = _destination(config, request, egress[2], NO_LABELS, 100, egress)
    return Outcome(ROUTE, weighted([dest]), egress=_app_protocol(egress),
                   detail=f"egress port {egress[1]}", involved=involved, matched=ref(egress[0]))


# --- outcome of a rule ----------------------------------------------------------------------


def _rule_outcome(config: LegacyConfig, rule: LegacyResource, request: Request,
                  egress: Egress | None, involved: tuple[Ref, ...]) -> Outcome:
    spec = rule.spec
    if spec.redirect is not None and request.protocol != TCP:
        redirect = (spec.redirect.uri or "", spec.redirect.authority or "")
        return Outcome(REDIRECT, redirect=redirect, egress=_app_protocol(egress),
                       involved=involved, matched=ref(rule))
    own = config.host_of(spec.destination, rule.namespace)
    entries = spec.route or []
    dests = []
    for entry in entries:
        host = config.host_of(entry.destination, rule.namespace) if entry.destination and (
            entry.destination.name or entry.destination.service) else own
        weight = 100 if len(entries) == 1 else (entry.weight or 0)
        labels = labels_of(entry.labels)
        if egress is not None:
            host, labels = egress[2], NO_LABELS
        dests.append(_destination(config, request, host, labels, weight, egress))
    if not dests:
        target = egress[2] if egress else own
        dests.append(_destination(config, request, target, NO_LABELS, 100, egress))
    actions = Actions() if request.protocol == TCP else actions_of(config, rule)
    return Outcome(ROUTE, weighted(dests), actions=actions, egress=_app_protocol(egress),
                   involved=involved, matched=ref(rule))


def _destination(config: LegacyConfig, request: Request, host: str, labels: Labels, weight: int,
                 egress: Egress | None) -> tuple[str, Labels, int, Policy]:
    external = egress is not None and (host == egress[2])
    fields = policy_fields(config, request.caller, host, labels, external)
    if external and egress is not None and egress[1] == "https":
        fields["tls"] = "SIMPLE"
    return host, labels, weight, policy_key(fields)


def chosen_policy(config: LegacyConfig, caller: Caller, host: str,
                  labels: Labels) -> LegacyResource | None:
    """Pilot's Policy(): exact labels, source matching the caller, smallest namespace/name."""
    for policy in config.policies.get(host, []):
        if labels_of(policy.spec.destination.labels) != labels:
            continue
        if source_matches(config, policy.spec.source, policy.namespace, caller):
            return policy
    return None


def policy_fields(config: LegacyConfig, caller: Caller, host: str, labels: Labels,
                  external: bool) -> dict[str, Any]:
    """The normalised policy of the cluster (host, labels) as seen by this caller."""
    policy = chosen_policy(config, caller, host, labels)
    out: dict[str, Any] = {}
    if policy is None:
        return out
    spec = policy.spec
    if spec.load_balancing and spec.load_balancing.name and not external:
        out["loadBalancer"] = spec.load_balancing.name
    cb = spec.circuit_breaker.simple_cb if spec.circuit_breaker else None
    if cb is None:
        return out
    pool = tuple(sorted((name, getattr(cb, attr)) for attr, name in _POOL.items()
                        if (getattr(cb, attr) or 0) > 0))
    out["pool"] = pool or None
    if (cb.http_max_requests_per_connection or 0) > 0:
        out["maxRequestsPerConnection"] = cb.http_max_requests_per_connection
    outlier = {
        "consecutiveErrors": cb.http_consecutive_errors or None,
        "interval": seconds(cb.http_detection_interval),
        "baseEjectionTime": seconds(cb.sleep_window),
        "maxEjectionPercent": cb.http_max_ejection_percent or None,
    }
    # Pilot enabled outlier detection for every simple circuit breaker.
    out["outlierDetection"] = policy_key(outlier)
    return out


def actions_of(config: LegacyConfig, rule: LegacyResource) -> Actions:
    spec = rule.spec
    rewrite = spec.rewrite.model_dump(exclude_none=True) if spec.rewrite else {}
    simple_timeout = spec.http_req_timeout.simple_timeout if spec.http_req_timeout else None
    retry = spec.http_req_retries.simple_retry if spec.http_req_retries else None
    mirror = None
    if spec.mirror is not None and (spec.mirror.name or spec.mirror.service):
        mirror = (config.host_of(spec.mirror, rule.namespace), labels_of(spec.mirror.labels))
    return Actions(
        rewrite=tuple(sorted((k, v) for k, v in rewrite.items() if v)),
        timeout=seconds(simple_timeout.timeout) if simple_timeout else None,
        retries=(retry.attempts, seconds(retry.per_try_timeout))
        if retry and (retry.attempts or 0) > 0 else None,
        fault=_fault(spec.http_fault),
        mirror=mirror,
        cors=_cors(spec.cors_policy),
        append_headers=frozenset((spec.append_headers or {}).items()),
        websocket=bool(spec.websocket_upgrade),
    )


def _fault(fault: HTTPFaultInjection | None) -> tuple[tuple[str, Any], ...]:
    if fault is None:
        return ()
    out: list[tuple[str, Any]] = []
    delay, abort = fault.delay, fault.abort
    if delay is not None and int(delay.percent or 0) > 0 and seconds(delay.fixed_delay):
        out.append(("delay", (int(delay.percent or 0), seconds(delay.fixed_delay))))
    if abort is not None and int(abort.percent or 0) > 0 and (abort.http_status or 0) > 0:
        out.append(("abort", (int(abort.percent or 0), abort.http_status)))
    return tuple(out)


def _cors(cors: CorsPolicy | None) -> tuple[tuple[str, Any], ...] | None:
    if cors is None:
        return None
    max_age = seconds(cors.max_age)
    return cors_key(cors.allow_origin, cors.allow_methods, cors.allow_headers,
                    cors.expose_headers, max_age, cors.allow_credentials)


def cors_key(origins: Iterable[str] | None, methods: Iterable[str] | None,
             headers: Iterable[str] | None, expose: Iterable[str] | None,
             max_age: float | None, credentials: bool | None) -> tuple[tuple[str, Any], ...]:
    """CORS as Envoy received it: lists joined by commas, max age in whole seconds."""
    return (("allowOrigin", tuple(origins or ())), ("allowMethods", ",".join(methods or ())),
            ("allowHeaders", ",".join(headers or ())), ("exposeHeaders", ",".join(expose or ())),
            ("maxAge", int(max_age) if max_age else None), ("allowCredentials", credentials))

"""RouteRule -> planned routes, field by field (docs/semantics.md §3)."""

from __future__ import annotations

import re

from istiomigrate.durations import parse_duration
from istiomigrate.errors import InputError
from istiomigrate.hosts import Host
from istiomigrate.plan import model as m
from istiomigrate.plan.context import Context
from istiomigrate.plan.resolve import destination_host
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.read.legacy import CorsPolicy, StringMatch
from istiomigrate.subsets import label_set

# v1alpha1 carried these request attributes as pseudo-headers; the plan has attributes for them.
PSEUDO_HEADERS = ("uri", "scheme", "method", "authority")


def _bad(rule: LegacyResource, field: str, message: str) -> InputError:
    return InputError(
        f"RouteRule {rule.namespace}/{rule.name}: {message}",
        file=rule.ref.file,
        line=rule.ref.line,
        field=field,
    )


def origin(rule: LegacyResource) -> str:
    where = f" ({rule.ref.location()})" if rule.ref.file else ""
    return f"from RouteRule {rule.namespace}/{rule.name}{where}"


def http_route(rule: LegacyResource, ctx: Context) -> m.Route:
    """The planned route of one HTTP RouteRule."""
    spec = rule.spec
    match = http_match(rule, ctx)
    route = m.Route(origin(rule), (match,) if match else (), rule=rule)
    if spec.redirect:
        route.redirect = m.Redirect(spec.redirect.uri, spec.redirect.authority)
    else:
        route.destinations = destinations(rule, ctx)
    if spec.rewrite:
        route.rewrite = m.Rewrite(spec.rewrite.uri, spec.rewrite.authority)
    route.websocket_upgrade = spec.websocket_upgrade
    route.timeout = _timeout(rule, ctx)
    route.retries = _retries(rule, ctx)
    route.fault = _fault(rule, ctx)
    if spec.mirror:
        route.mirror = m.Destination(ctx.host(spec.mirror, rule.namespace),
                                     label_set(spec.mirror.labels))
    if spec.cors_policy:
        route.cors = _cors(spec.cors_policy)
    route.append_headers = dict(spec.append_headers or {})
    if spec.l4_fault:
        ctx.report("IM304", "l4Fault cannot be expressed in v1alpha3; dropped", rule.ref)
    return route


def _cors(cors: CorsPolicy) -> m.Cors:
    def listed(name: str) -> tuple[str, ...] | None:
        value = getattr(cors, name)
        return tuple(value) if value is not None else None

    return m.Cors(listed("allow_origin"), listed("allow_methods"), listed("allow_headers"),
                  listed("expose_headers"), cors.max_age, cors.allow_credentials)


def http_match(rule: LegacyResource, ctx: Context) -> m.HttpMatch | None:
    match = rule.spec.match
    if match is None:
        return None
    conditions = []
    headers = match.request.headers if match.request else None
    for name, condition in (headers or {}).items():
        value = _string_match(rule, name, condition)
        if name in PSEUDO_HEADERS:  # only the exact lower-case keys were special (§3.3)
            conditions.append(m.Condition(name, value))
            continue
        key = name.lower()
        if key in PSEUDO_HEADERS:
            ctx.report("IM212", f"match header {name!r} was an ordinary header {key!r} to "
                       f"Pilot, not the request's {key}: converted as that header, which "
                       f"requests do not carry; write {key!r} in lower case if you meant the "
                       f"request's {key}", rule.ref)
        conditions.append(m.Condition("header", value, key))
    labels = tuple(source_labels(rule, ctx).items())
    if not (conditions or labels):
        return None
    return m.HttpMatch(tuple(conditions), labels)


def _string_match(rule: LegacyResource, header: str, condition: StringMatch) -> m.StringMatch:
    given = condition.model_dump(exclude_none=True)
    field = f"spec.match.request.headers.{header}"
    if len(given) != 1:
        raise _bad(rule, field, "a header match needs exactly one of exact, prefix, regex")
    if "regex" in given:
        try:
            re.compile(given["regex"])
        except re.error as exc:
            raise _bad(rule, field + ".regex", f"regex does not compile: {exc}") from None
    kind: m.MatchKind = ("exact" if condition.exact is not None
                         else "prefix" if condition.prefix is not None else "regex")
    return m.StringMatch(kind, given[kind])


def source_labels(rule: LegacyResource, ctx: Context) -> dict[str, str]:
    """The caller condition as labels: the source Service's selector plus the rule's labels.

    v1alpha3 (0.8, 1.0) selects callers by pod labels only, so a named source
    becomes the labels its Service selects. Never dropped: if the Service is
    not in the input, ``app: <name>`` is the usual convention, and a warning says so.
    """
    match = rule.spec.match
    source = match.source if match else None
    if source is None:
        return {}
    labels: dict[str, str] = {}
    if source.name or source.service:
        host = ctx.host(source, rule.namespace)
        name, namespace = _service_key(host, rule.namespace, ctx.options.cluster_domain)
        selector = ctx.services.get((namespace, name))
        if selector:
            labels.update(selector)
            ctx.report(
                "IM213",
                f"source {host.fqdn} became sourceLabels {_show(selector)}: v1alpha3 matches "
                "these labels on callers in every namespace",
                rule.ref,
            )
        else:
            labels["app"] = name
            ctx.report(
                "IM204",
                f"source service {host.fqdn} is not in the input; matched callers by app={name}",
                rule.ref,
            )
    labels.update(source.labels or {})
    return labels


def _service_key(host: Host, namespace: str, cluster_domain: str) -> tuple[str, str]:
    """(name, namespace) of the Service behind a host, also when given as an in-mesh FQDN."""
    if host.name is not None and host.namespace is not None:
        return host.name, host.namespace
    parts = host.fqdn.split(".")
    if len(parts) > 3 and ".".join(parts[2:]) == f"svc.{cluster_domain}":
        return parts[0], parts[1]
    return parts[0], namespace


def _show(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def destinations(rule: LegacyResource, ctx: Context) -> tuple[m.Destination, ...]:
    spec = rule.spec
    own = destination_host(rule, ctx.options.cluster_domain)
    entries = spec.route or []
    if not entries:
        return (m.Destination(own),)
    weights = [entry.weight for entry in entries]
    if len(entries) > 1 or weights[0]:  # a lone weight 0 is unset (``ValidateWeights``)
        total = sum(w or 0 for w in weights)
        if total != 100:
            raise _bad(rule, "spec.route", f"route weights sum to {total}, not 100")
    out = []
    for i, entry in enumerate(entries):
        host = own
        if entry.destination is not None:
            if not (entry.destination.name or entry.destination.service):
                raise _bad(rule, f"spec.route[{i}].destination", "empty destination")
            host = ctx.host(entry.destination, rule.namespace)
        if len(entries) > 1 and not entry.weight:
            continue  # int(0) weighted clusters got nothing; 0.8 would refuse them (§3.7, D1)
        out.append(m.Destination(host, label_set(entry.labels), entry.weight or None))
    return tuple(out)


def _timeout(rule: LegacyResource, ctx: Context) -> str | None:
    timeout = rule.spec.http_req_timeout
    if timeout is None:
        return None
    if timeout.custom is not None:
        ctx.report("IM302", "httpReqTimeout.custom cannot be expressed; dropped", rule.ref)
    simple = timeout.simple_timeout
    if simple is None:
        return None
    if simple.override_header_name:
        ctx.report("IM205", "httpReqTimeout.simpleTimeout.overrideHeaderName dropped", rule.ref)
    given: str | None = simple.timeout
    if not given or _under_1ms(given):
        return None  # Pilot sent timeout_ms 0 (no timeout); 0.8/1.0 refuse ``0s`` (§3.10)
    return given


def _under_1ms(text: str) -> bool:
    """``protoDurationToMS`` gives 0 below 1 ms: what Pilot made of the timeout."""
    return parse_duration(text) < 1e-3


def _retries(rule: LegacyResource, ctx: Context) -> m.Retries | None:
    retries = rule.spec.http_req_retries
    if retries is None:
        return None
    if retries.custom is not None:
        ctx.report("IM302", "httpReqRetries.custom cannot be expressed; dropped", rule.ref)
    simple = retries.simple_retry
    if simple is None:
        return None
    if simple.override_header_name:
        ctx.report("IM205", "httpReqRetries.simpleRetry.overrideHeaderName dropped", rule.ref)
    if not simple.attempts or simple.attempts <= 0:
        # Pilot made a retry policy only for attempts > 0; 0.8/1.0 refuse attempts 0 (§3.11).
        if simple.per_try_timeout:
            ctx.report("IM110", "httpReqRetries.simpleRetry has no attempts: Pilot never retried, "
                       "so perTryTimeout never applied; no retries written", rule.ref)
        return None
    per_try = simple.per_try_timeout
    return m.Retries(simple.attempts, per_try if per_try and not _under_1ms(per_try) else None)


def _fault(rule: LegacyResource, ctx: Context) -> m.Fault | None:
    """Faults as Pilot 0.8 injected them: only with a percent above zero (whole percents)."""
    fault = rule.spec.http_fault
    if fault is None:
        return None
    delay = abort = None
    if fault.delay:
        given = fault.delay
        if given.exponential_delay:
            ctx.report("IM303", "httpFault.delay.exponentialDelay cannot be expressed; dropped",
                       rule.ref)
        if given.override_header_name:
            ctx.report("IM205", "httpFault.delay.overrideHeaderName dropped", rule.ref)
        percent = _percent(rule, "delay", given.percent, ctx)
        if given.fixed_delay and percent:
            delay = m.Delay(percent, given.fixed_delay)
    if fault.abort:
        stop = fault.abort
        if stop.override_header_name:
            ctx.report("IM205", "httpFault.abort.overrideHeaderName dropped", rule.ref)
        for field, value in (("grpcStatus", stop.grpc_status), ("http2Error", stop.http2_error)):
            if value:
                ctx.report("IM207", f"httpFault.abort.{field} was never implemented by Pilot "
                           "(no abort happened); dropped", rule.ref)
        percent = _percent(rule, "abort", stop.percent, ctx)
        if stop.http_status and percent:
            abort = m.Abort(percent, stop.http_status)
    return m.Fault(delay, abort) if delay or abort else None


def _percent(rule: LegacyResource, which: str, value: float | None, ctx: Context) -> int:
    """Pilot 0.8 truncated the percentage to an integer; zero or none injected nothing."""
    if not value:
        ctx.report("IM212", f"httpFault.{which} without a percentage: Pilot injected nothing; "
                   "dropped", rule.ref)
        return 0
    whole = int(value)
    if whole != value:
        ctx.report("IM206", f"httpFault.{which}.percent {value} truncated to {whole}, as Pilot "
                   "0.8 did: v1alpha3 takes whole percents", rule.ref)
    return whole


def tcp_route(rule: LegacyResource, ctx: Context) -> m.Route | None:
    """The planned route of a rule with ``match.tcp``; None for ``match.udp`` (IM301)."""
    match = rule.spec.match
    if match.udp:
        ctx.report("IM301", "match.udp cannot be expressed in v1alpha3; rule dropped", rule.ref)
        return None
    if match.request and match.request.headers:
        ctx.report("IM212", "match.request is ignored on a TCP (match.tcp) rule", rule.ref)
    labels = tuple(source_labels(rule, ctx).items())
    condition = m.TcpMatch(tuple(match.tcp.source_subnet or ()),
                           tuple(match.tcp.destination_subnet or ()), labels)
    matches = (condition,) if condition != m.TcpMatch() else ()
    return m.Route(origin(rule), matches, destinations(rule, ctx), rule=rule)

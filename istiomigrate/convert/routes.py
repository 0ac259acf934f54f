"""RouteRule -> HTTPRoute / TCPRoute, field by field (MAPPING §3)."""

from __future__ import annotations

import itertools
import re

from istiomigrate.convert.context import Context
from istiomigrate.errors import InputError
from istiomigrate.hosts import Host
from istiomigrate.reader import LegacyResource
from istiomigrate.resolve import destination_host

# v1alpha1 carried these request attributes as pseudo-headers; v1alpha3 has fields for them.
PSEUDO_HEADERS = ("uri", "scheme", "method", "authority")


def _bad(rule: LegacyResource, field: str, message: str) -> InputError:
    return InputError(
        f"RouteRule {rule.namespace}/{rule.name}: {message}",
        file=rule.ref.file,
        line=rule.ref.line,
        field=field,
    )


def http_route(rule: LegacyResource, placed_in: str, ctx: Context) -> dict:
    """One HTTPRoute for one RouteRule; fields the rule does not set are not written."""
    spec = rule.spec
    route: dict = {}
    match = http_match(rule, ctx)
    if match:
        route["match"] = [match]
    if spec.redirect:
        route["redirect"] = spec.redirect.model_dump(exclude_none=True)
    else:
        route["route"] = destinations(rule, placed_in, ctx)
    if spec.rewrite:
        route["rewrite"] = spec.rewrite.model_dump(exclude_none=True)
    if spec.websocket_upgrade is not None:
        route["websocketUpgrade"] = spec.websocket_upgrade
    route.update(_timeout(rule, ctx))
    route.update(_retries(rule, ctx))
    route.update(_fault(rule, ctx))
    if spec.mirror:
        route["mirror"] = _destination(ctx.host(spec.mirror, rule.namespace), spec.mirror.labels,
                                       placed_in, ctx)
    if spec.cors_policy:
        route["corsPolicy"] = spec.cors_policy.model_dump(exclude_none=True, by_alias=True)
    if spec.append_headers:
        route["appendHeaders"] = dict(spec.append_headers)
    if spec.l4_fault:
        ctx.report("IM304", "l4Fault cannot be expressed in v1alpha3; dropped", rule.ref)
    return route


def http_match(rule: LegacyResource, ctx: Context) -> dict:
    match = rule.spec.match
    if match is None:
        return {}
    out: dict = {}
    headers = match.request.headers if match.request else None
    for name, condition in (headers or {}).items():
        value = _string_match(rule, name, condition)
        key = name.lower()
        if key in PSEUDO_HEADERS:
            out[key] = value
        else:
            out.setdefault("headers", {})[key] = value
    labels = source_labels(rule, ctx)
    if labels:
        out["sourceLabels"] = labels
    return out


def _string_match(rule: LegacyResource, header: str, condition) -> dict:
    given = condition.model_dump(exclude_none=True)
    field = f"spec.match.request.headers.{header}"
    if len(given) != 1:
        raise _bad(rule, field, "a header match needs exactly one of exact, prefix, regex")
    if "regex" in given:
        try:
            re.compile(given["regex"])
        except re.error as exc:
            raise _bad(rule, field + ".regex", f"regex does not compile: {exc}") from None
    return given


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
    if host.in_mesh:
        return host.name, host.namespace  # type: ignore[return-value]
    parts = host.fqdn.split(".")
    if len(parts) > 3 and ".".join(parts[2:]) == f"svc.{cluster_domain}":
        return parts[0], parts[1]
    return parts[0], namespace


def _show(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def destinations(rule: LegacyResource, placed_in: str, ctx: Context) -> list[dict]:
    spec = rule.spec
    own = destination_host(rule, ctx.options.cluster_domain)
    entries = spec.route or []
    if not entries:
        return [{"destination": {"host": ctx.shown(own, placed_in)}}]
    weights = [entry.weight for entry in entries]
    if len(entries) > 1 or weights[0] is not None:
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
        item = {"destination": _destination(host, entry.labels, placed_in, ctx)}
        if entry.weight is not None:
            item["weight"] = entry.weight
        out.append(item)
    return out


def _destination(host: Host, labels: dict[str, str] | None, placed_in: str, ctx: Context) -> dict:
    out = {"host": ctx.shown(host, placed_in)}
    subset = ctx.subsets.name(host.fqdn, labels)
    if subset:
        out["subset"] = subset
    return out


def _timeout(rule: LegacyResource, ctx: Context) -> dict:
    timeout = rule.spec.http_req_timeout
    if timeout is None:
        return {}
    if timeout.custom is not None:
        ctx.report("IM302", "httpReqTimeout.custom cannot be expressed; dropped", rule.ref)
    simple = timeout.simple_timeout
    if simple is None:
        return {}
    if simple.override_header_name:
        ctx.report("IM205", "httpReqTimeout.simpleTimeout.overrideHeaderName dropped", rule.ref)
    return {"timeout": simple.timeout} if simple.timeout else {}


def _retries(rule: LegacyResource, ctx: Context) -> dict:
    retries = rule.spec.http_req_retries
    if retries is None:
        return {}
    if retries.custom is not None:
        ctx.report("IM302", "httpReqRetries.custom cannot be expressed; dropped", rule.ref)
    simple = retries.simple_retry
    if simple is None:
        return {}
    if simple.override_header_name:
        ctx.report("IM205", "httpReqRetries.simpleRetry.overrideHeaderName dropped", rule.ref)
    out: dict = {"attempts": simple.attempts or 0}
    if simple.per_try_timeout:
        out["perTryTimeout"] = simple.per_try_timeout
    return {"retries": out}


def _fault(rule: LegacyResource, ctx: Context) -> dict:
    """Faults as Pilot 0.8 injected them: only with a percent above zero (whole percents)."""
    fault = rule.spec.http_fault
    if fault is None:
        return {}
    out: dict = {}
    if fault.delay:
        delay = fault.delay
        if delay.exponential_delay:
            ctx.report("IM303", "httpFault.delay.exponentialDelay cannot be expressed; dropped",
                       rule.ref)
        if delay.override_header_name:
            ctx.report("IM205", "httpFault.delay.overrideHeaderName dropped", rule.ref)
        percent = _percent(rule, "delay", delay.percent, ctx)
        if delay.fixed_delay and percent:
            out["delay"] = {"percent": percent, "fixedDelay": delay.fixed_delay}
    if fault.abort:
        abort = fault.abort
        if abort.override_header_name:
            ctx.report("IM205", "httpFault.abort.overrideHeaderName dropped", rule.ref)
        for field, value in (("grpcStatus", abort.grpc_status), ("http2Error", abort.http2_error)):
            if value:
                ctx.report("IM207", f"httpFault.abort.{field} was never implemented by Pilot "
                           "(no abort happened); dropped", rule.ref)
        percent = _percent(rule, "abort", abort.percent, ctx)
        if abort.http_status and percent:
            out["abort"] = {"percent": percent, "httpStatus": abort.http_status}
    return {"fault": out} if out else {}


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


def tcp_route(rule: LegacyResource, placed_in: str, ctx: Context) -> dict | None:
    """A TCPRoute for a rule with ``match.tcp``; v1alpha1's subnet lists are OR-ed."""
    match = rule.spec.match
    if match.udp:
        ctx.report("IM301", "match.udp cannot be expressed in v1alpha3; rule dropped", rule.ref)
        return None
    if match.request and match.request.headers:
        ctx.report("IM212", "match.request is ignored on a TCP (match.tcp) rule", rule.ref)
    labels = source_labels(rule, ctx)
    sources = match.tcp.source_subnet or [None]
    dests = match.tcp.destination_subnet or []
    entries = []
    if ctx.options.target == "1.0":
        for src in sources:
            entries.append(_l4(src, {"destinationSubnets": dests} if dests else {}, labels))
    else:
        for src, dst in itertools.product(sources, dests or [None]):
            entries.append(_l4(src, {"destinationSubnet": dst} if dst else {}, labels))
    route: dict = {}
    entries = [e for e in entries if e]
    if entries:
        route["match"] = entries
    route["route"] = destinations(rule, placed_in, ctx)
    return route


def _l4(source: str | None, dest: dict, labels: dict[str, str]) -> dict:
    out = dict(dest)
    if source:
        out["sourceSubnet"] = source
    if labels:
        out["sourceLabels"] = labels
    return out

"""Resolve step: group legacy resources by host in Pilot's order (docs/semantics.md §2-§3).

Pilot 0.8 evaluated every RouteRule of every namespace whose destination
resolved to a host, highest ``precedence`` first, ties broken by the key
``namespace/name``; the first rule whose match held won, and a request that
matched none still reached the service. This module fixes that order once,
so that conversion only has to translate each rule in turn.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from istiomigrate.errors import InputError
from istiomigrate.findings import Finding
from istiomigrate.hosts import Host, resolve_host
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.read.legacy import IstioService


@dataclass
class HostRules:
    """Everything legacy that targets one FQDN, in evaluation order."""

    host: Host
    http: list[LegacyResource] = field(default_factory=list)
    tcp: list[LegacyResource] = field(default_factory=list)
    policies: list[LegacyResource] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        """Where outputs go: the destination's namespace, else the first rule's or policy's."""
        if self.host.namespace:
            return self.host.namespace
        first = (self.http or self.tcp or self.policies)[0]
        return first.namespace


def destination_host(resource: LegacyResource, cluster_domain: str) -> Host:
    dest = resource.spec.destination
    if dest is None or not (dest.name or dest.service):
        raise InputError(
            f"{resource.kind} {resource.namespace}/{resource.name}: destination needs a name "
            "or a service",
            file=resource.ref.file,
            line=resource.ref.line,
            field="spec.destination",
        )
    return resolve_host(dest, resource.namespace, cluster_domain)


def precedence_key(rule: LegacyResource) -> tuple[int, str]:
    return (-rule.spec.precedence, f"{rule.namespace}/{rule.name}")


def is_tcp(rule: LegacyResource) -> bool:
    match = rule.spec.match
    return bool(match and (match.tcp or match.udp))


def is_unconditional(rule: LegacyResource) -> bool:
    match = rule.spec.match
    if match is None:
        return True
    headers = match.request.headers if match.request else None
    return not (headers or match.tcp or match.udp or _source_condition(match.source))


def _source_condition(source: IstioService | None) -> bool:
    return bool(source and (source.name or source.service or source.labels))


def group_by_host(
    rules: list[LegacyResource], policies: list[LegacyResource], cluster_domain: str
) -> dict[str, HostRules]:
    """Map FQDN -> HostRules, rules sorted by precedence then key, hosts in FQDN order."""
    groups: dict[str, HostRules] = {}

    def group(resource: LegacyResource) -> HostRules:
        host = destination_host(resource, cluster_domain)
        return groups.setdefault(host.fqdn, HostRules(host))

    for rule in sorted(rules, key=precedence_key):
        target = group(rule)
        (target.tcp if is_tcp(rule) else target.http).append(rule)
    for policy in sorted(policies, key=lambda p: f"{p.namespace}/{p.name}"):
        group(policy).policies.append(policy)
    return dict(sorted(groups.items()))


def order_findings(rules: list[LegacyResource]) -> list[Finding]:
    """Shadowed rules and precedence ties whose matches can overlap."""
    findings: list[Finding] = []
    catch_all: LegacyResource | None = None
    seen: dict[str, LegacyResource] = {}
    by_precedence: dict[int, list[LegacyResource]] = defaultdict(list)
    for rule in rules:
        key = match_key(rule)
        if catch_all is not None:
            findings.append(_shadowed(rule, catch_all, "an unconditional rule"))
        elif key in seen:
            findings.append(_shadowed(rule, seen[key], "a rule with the same match"))
        seen.setdefault(key, rule)
        if is_unconditional(rule) and catch_all is None:
            catch_all = rule
        by_precedence[rule.spec.precedence].append(rule)
    for tied in by_precedence.values():
        for i, first in enumerate(tied):
            for second in tied[i + 1 :]:
                if may_overlap(first, second):
                    findings.append(
                        Finding(
                            "IM202",
                            f"same precedence {first.spec.precedence} as RouteRule "
                            f"{first.namespace}/{first.name} and their matches can overlap; "
                            "v1alpha1 left the order undefined, the output puts "
                            f"{first.namespace}/{first.name} first",
                            second.ref,
                        )
                    )
    return findings


def _shadowed(rule: LegacyResource, by: LegacyResource, why: str) -> Finding:
    return Finding(
        "IM203",
        f"can never match: {why}, RouteRule {by.namespace}/{by.name}, comes first; kept in place",
        rule.ref,
    )


def match_key(rule: LegacyResource) -> str:
    match = rule.spec.match
    return match.model_dump_json(exclude_none=True) if match else "{}"


def may_overlap(a: LegacyResource, b: LegacyResource) -> bool:
    """False only when some header both rules test exactly has different values."""
    ha = _exact_headers(a)
    hb = _exact_headers(b)
    if any(key in hb and hb[key] != value for key, value in ha.items()):
        return False
    la = _source_labels(a)
    lb = _source_labels(b)
    return not any(key in lb and lb[key] != value for key, value in la.items())


def _exact_headers(rule: LegacyResource) -> dict[str, str]:
    match = rule.spec.match
    headers = match.request.headers if match and match.request else None
    return {k.lower(): m.exact for k, m in (headers or {}).items() if m.exact is not None}


def _source_labels(rule: LegacyResource) -> dict[str, str]:
    match = rule.spec.match
    return dict(match.source.labels or {}) if match and match.source else {}

"""EgressRule -> planned external destinations, with TLS origination kept (docs/semantics.md §6)."""

from __future__ import annotations

from istiomigrate.errors import InputError
from istiomigrate.hosts import dns_label, is_ip_or_cidr
from istiomigrate.plan import model as m
from istiomigrate.plan.context import Context
from istiomigrate.read.inventory import LegacyResource

# Hosts for IP/CIDR egress rules live under this suffix: ".invalid" is reserved
# (RFC 2606) and never resolves, so it cannot collide with an in-mesh name.
CIDR_HOST_SUFFIX = "egress.invalid"
ORIGINATION_PORT_PROTOCOL = "HTTP"


def egress_entry(rule: LegacyResource, ctx: Context) -> tuple[m.EgressEntry, list[int]]:
    """The planned entry, and the ports whose TLS the sidecar must originate."""
    spec = rule.spec
    dest = spec.destination
    if dest is None or not dest.service:
        raise InputError(
            f"EgressRule {rule.namespace}/{rule.name}: destination.service is required",
            file=rule.ref.file, line=rule.ref.line, field="spec.destination.service",
        )
    ignored = [f for f in ("name", "namespace", "domain", "labels") if getattr(dest, f)]
    if ignored:
        ctx.report("IM212", f"destination.{', '.join(ignored)} ignored by Pilot for egress rules",
                   rule.ref)
    if spec.use_egress_proxy:
        ctx.report("IM210", "useEgressProxy: true has no ServiceEntry equivalent (use an egress "
                   "gateway); traffic goes out directly from the sidecar", rule.ref)
    if not spec.ports:
        raise InputError(f"EgressRule {rule.namespace}/{rule.name}: ports must not be empty",
                         file=rule.ref.file, line=rule.ref.line, field="spec.ports")
    if is_ip_or_cidr(dest.service):
        hosts = [f"{dns_label(rule.name)}.{dns_label(rule.namespace)}.{CIDR_HOST_SUFFIX}"]
        addresses = [dest.service]
    else:
        hosts, addresses = [dest.service], []
    ports, originate = [], []
    for port in spec.ports:
        protocol = port.protocol.upper()
        if protocol == "HTTPS" and ctx.options.egress_tls == "originate":
            protocol = ORIGINATION_PORT_PROTOCOL
            originate.append(port.port)
            ctx.report("IM104", f"port {port.port} https: the app speaks HTTP and the sidecar "
                       "originates TLS, as in v1alpha1; port written as HTTP with a "
                       "DestinationRule for TLS (use --egress-tls passthrough for apps that "
                       "speak TLS themselves)", rule.ref)
        elif protocol == "HTTPS":
            ctx.report("IM105", f"port {port.port} https kept as HTTPS (TLS passthrough): the "
                       "application must now speak TLS itself", rule.ref)
        ports.append(m.EgressPort(port.port, protocol))
    entry = m.EgressEntry(rule, dns_label(rule.name), rule.namespace, hosts, addresses, ports)
    return entry, originate


def winning_egress_rules(rules: list[LegacyResource], ctx: Context) -> list[LegacyResource]:
    """Pilot kept one EgressRule per destination service: the smallest ``namespace/name``."""
    kept: dict[str, LegacyResource] = {}
    for rule in sorted(rules, key=lambda r: f"{r.namespace}/{r.name}"):
        service = rule.spec.destination.service if rule.spec.destination else None
        winner = kept.setdefault(service or f"<none {id(rule)}>", rule)
        if winner is not rule:
            ctx.report("IM214", f"EgressRule {winner.namespace}/{winner.name} is also for "
                       f"{service} and wins (smallest namespace/name, as in Pilot); this one's "
                       "ports stay closed", rule.ref)
    winners = {id(rule) for rule in kept.values()}
    return [rule for rule in rules if id(rule) in winners]

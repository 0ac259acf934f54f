"""EgressRule -> ServiceEntry, with TLS origination kept working (MAPPING §6)."""

from __future__ import annotations

from istiomigrate.convert.context import Context
from istiomigrate.errors import InputError
from istiomigrate.hosts import dns_label, is_ip_or_cidr
from istiomigrate.reader import LegacyResource

# Hosts for IP/CIDR egress rules live under this suffix: ".invalid" is reserved
# (RFC 2606) and never resolves, so it cannot collide with an in-mesh name.
CIDR_HOST_SUFFIX = "egress.invalid"
ORIGINATION_PORT_PROTOCOL = "HTTP"


def service_entry(rule: LegacyResource, ctx: Context) -> tuple[dict, list[tuple[str, int]]]:
    """The ServiceEntry spec, and the (host, port) pairs whose TLS the sidecar must originate."""
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
    out: dict = {}
    if is_ip_or_cidr(dest.service):
        host = f"{dns_label(rule.name)}.{dns_label(rule.namespace)}.{CIDR_HOST_SUFFIX}"
        out["hosts"] = [host]
        out["addresses"] = [dest.service]
    else:
        out["hosts"] = [dest.service]
    ports, originate = [], []
    for port in spec.ports:
        protocol = port.protocol.upper()
        if protocol == "HTTPS" and ctx.options.egress_tls == "originate":
            protocol = ORIGINATION_PORT_PROTOCOL
            originate.append((dest.service, port.port))
            ctx.report("IM104", f"port {port.port} https: the app speaks HTTP and the sidecar "
                       "originates TLS, as in v1alpha1; port written as HTTP with a "
                       "DestinationRule for TLS (use --egress-tls passthrough for apps that "
                       "speak TLS themselves)", rule.ref)
        elif protocol == "HTTPS":
            ctx.report("IM105", f"port {port.port} https kept as HTTPS (TLS passthrough): the "
                       "application must now speak TLS itself", rule.ref)
        ports.append({"number": port.port, "protocol": protocol,
                      "name": f"{protocol.lower()}-{port.port}"})
    out["ports"] = ports
    out["location"] = "MESH_EXTERNAL"
    out["resolution"] = "NONE"
    return out, originate


# Pilot applies a matching port-level entry instead of the top-level settings, component by
# component: a port that only set TLS would lose the host's pool and outlier detection.
_PORT_COMPONENTS = ("loadBalancer", "connectionPool", "outlierDetection")


def tls_origination(host: str, ports: list[int], top: dict) -> dict:
    """Port-level TLS settings that originate TLS to ``host``; SNI only for a concrete name.

    Each entry repeats the top-level components of ``top`` so that the port keeps them.
    """
    settings = []
    for number in sorted(set(ports)):
        tls: dict = {"mode": "SIMPLE"}
        if "*" not in host:
            tls["sni"] = host
        kept = {key: top[key] for key in _PORT_COMPONENTS if key in top}
        settings.append({"port": {"number": number}, **kept, "tls": tls})
    return {"portLevelSettings": settings}

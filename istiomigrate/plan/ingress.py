"""Kubernetes Ingresses of class istio -> planned ingress routes (docs/semantics.md §7).

What the legacy config did, read from istio/istio:

- ``pilot/pkg/config/kube/ingress/conversion.go`` (tags 0.7.1, 0.8.0), ``convertIngress``:
  each path is a rule for its host (none: any host); a path ending in ``.*`` is a
  prefix without the ``.*``, any other path exact, no path the prefix ``/``; the
  default backend is a rule for any host with the prefix ``/``. ``spec.tls`` marks
  every rule of the Ingress as TLS; only its first ``secretName`` is kept, as a marker.
- ``pilot/pkg/proxy/envoy/v1/ingress.go`` (0.7.1, unchanged in 0.8.0),
  ``BuildIngressRoutes``: rules of every Ingress of every namespace are merged per
  host, those of TLS Ingresses on port 443 only and the others on port 80 only,
  each host's routes sorted by ``RoutesByPath`` (``resources.go``: exact paths
  first in lexicographic order, then prefixes in reverse lexicographic order). Port
  443 presents the one certificate mounted at ``/etc/istio/ingress-certs``,
  whatever secret the Ingress named. ``buildIngressRoute``: the backend is
  ``serviceName`` resolved in the Ingress's namespace; a path whose Service has no
  such port, or a port that is not HTTP by its name (``http``, ``http2``, ``grpc``
  prefixes), was dropped; the backend's RouteRules were combined into the routes.
- Only ``kubernetes.io/ingress.class`` was read from the annotations.

How the targets write this down is theirs (``targets/istio/gateway.py``). The 0.8 helm
chart mounts the secret ``istio-ingressgateway-certs`` at ``/etc/istio/ingressgateway-certs``
in the ingress gateway (pods labelled ``istio: ingressgateway``, namespace
``istio-system``), which the findings name.
"""

from __future__ import annotations

from typing import Literal

from istiomigrate.hosts import Host
from istiomigrate.plan import model as m
from istiomigrate.plan.context import Context
from istiomigrate.read.ingress import CLASS_ANNOTATION, IngressBackend, annotations_of
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.read.services import ServicePorts

CERT_SECRET = "istio-ingressgateway-certs"
CERT_DIR = "/etc/istio/ingressgateway-certs"
HTTP, HTTPS = 80, 443
ANY_HOST = "*"
_HTTP_PROTOCOLS = ("http", "http2", "grpc")
# Annotations that tools write for their own bookkeeping: no ingress controller reads them.
_BOOKKEEPING = ("kubectl.kubernetes.io/", "kubernetes.io/change-cause", "meta.helm.sh/",
                "helm.sh/", "argocd.argoproj.io/", "kustomize.config.k8s.io/",
                "config.kubernetes.io/", "deployment.kubernetes.io/")
_Path = m.IngressPath


def plan_ingresses(ingresses: list[LegacyResource], ctx: Context,
                   routed_hosts: set[str]) -> m.IngressPlan | None:
    """Every path of every Ingress of class istio, per port and host, in Pilot's order.

    ``ingresses`` come in file order; ``routed_hosts`` are the FQDNs that RouteRules
    route, whose rules Pilot 0.7 also applied to ingress traffic. None when no path
    is left to route.
    """
    if not ingresses:
        return None
    paths: list[_Path] = []
    for ingress in sorted(ingresses, key=_key):  # stable: equal keys keep file order
        paths.extend(_paths(ingress, ctx, ctx.service_ports, routed_hosts))
    table: dict[int, dict[str, list[_Path]]] = {HTTP: {}, HTTPS: {}}
    for path in paths:
        table[path.port].setdefault(path.host, []).append(path)
    if not paths:
        return None
    for port, hosts in table.items():
        for host in hosts:
            hosts[host] = _routes_by_path(hosts[host], port, ctx)
    contributing = {id(p.ingress) for p in paths}
    rank = {id(ingress): (_key(ingress), n) for n, ingress in enumerate(ingresses)}
    return m.IngressPlan(table, [i for i in ingresses if id(i) in contributing], rank)


def _key(ingress: LegacyResource) -> str:
    return f"{ingress.namespace}/{ingress.name}"


# --------------------------------------------------------------------------- reading


def _paths(ingress: LegacyResource, ctx: Context, service_ports: ServicePorts,
           routed_hosts: set[str]) -> list[_Path]:
    spec, ref = ingress.spec, ingress.ref
    _annotation_findings(ingress, ctx)
    port = HTTPS if spec.tls else HTTP
    found: list[_Path] = []
    if spec.backend is not None:
        path = _path(ingress, "spec.backend", ANY_HOST, port, None, spec.backend, ctx,
                     service_ports)
        if path is not None:
            found.append(path)
            ctx.report("IM109", f"the default backend ({spec.backend.service_name}) is the last "
                       f"route for hosts no Ingress names (host {ANY_HOST}, prefix /), as in "
                       "Istio 0.7 (Istio 1.0's own Ingress support ignores it)", ref)
    for i, rule in enumerate(spec.rules or []):
        host = rule.host or ANY_HOST
        if rule.http is None:
            ctx.report("IM212", f"spec.rules[{i}] (host {host}) has no http paths: Pilot "
                       "ignored it; nothing converted", ref)
            continue
        for j, item in enumerate(rule.http.paths):
            where = f"spec.rules[{i}].http.paths[{j}]"
            if item.path_type is not None:
                ctx.report("IM212", f"{where}.pathType {item.path_type} ignored: Istio 0.8 "
                           "predates it; the path keeps Istio's meaning (.* suffix: prefix, "
                           "else exact)", ref)
            path = _path(ingress, where, host, port, item.path, item.backend, ctx, service_ports)
            if path is not None:
                found.append(path)
    if spec.ingress_class_name is not None:
        ctx.report("IM212", f"spec.ingressClassName {spec.ingress_class_name} ignored: Istio "
                   f"0.8 predates it and read the annotation {CLASS_ANNOTATION}", ref)
    if spec.tls and found:
        _tls_findings(ingress, found, ctx)
    for fqdn in sorted({p.backend.fqdn for p in found} & routed_hosts):
        ctx.report("IM309", f"RouteRules for {fqdn} also routed this Ingress's requests in "
                   "Istio 0.7/0.8 (Pilot combined them with the ingress paths); a VirtualService "
                   "bound to a gateway does not apply the mesh VirtualService of its "
                   "destination, so ingress requests now reach every instance of the service: "
                   "copy the matches, subsets and weights you need into the ingress "
                   "VirtualService", ref)
    return found


def _annotation_findings(ingress: LegacyResource, ctx: Context) -> None:
    ignored = sorted(str(k) for k in annotations_of(ingress.raw) if str(k) != CLASS_ANNOTATION
                     and not str(k).startswith(_BOOKKEEPING))
    if ignored:
        ctx.report("IM215", f"annotation {', '.join(ignored)} had no effect in Istio 0.7/0.8 "
                   f"(Pilot read only {CLASS_ANNOTATION}); not converted, so the routes do "
                   "what Istio did, not what another ingress controller would have done",
                   ingress.ref)


def _path(ingress: LegacyResource, where: str, host: str, port: int, path: str | None,
          backend: IngressBackend, ctx: Context,
          service_ports: ServicePorts) -> _Path | None:
    """The path as Pilot 0.7 routed it, or None when Pilot dropped it (IM218)."""
    kind: Literal["exact", "prefix"]
    if not path:
        kind, value = "prefix", "/"
    elif path.endswith(".*"):
        kind, value = "prefix", path[:-2]
    else:
        kind, value = "exact", path
    name, namespace = backend.service_name, ingress.namespace
    target = Host(f"{name}.{namespace}.svc.{ctx.options.cluster_domain}", name, namespace)
    wanted = backend.service_port
    ports = service_ports.get((namespace, name))
    number: int | None = wanted if isinstance(wanted, int) else None
    if ports is None:
        if number is None:
            ctx.report("IM308", f"{where}: servicePort {wanted} of {name} is a port name and "
                       f"Service {namespace}/{name} is not in the input: the destination has no "
                       "port (Istio 0.8/1.0 send destinations with a port name to a black hole); "
                       "add its number, or convert with the Service's manifest", ingress.ref)
        return _Path(ingress, where, host, port, kind, value, target, number)
    found = [(n, p) for n, p in ports if (p == wanted if number is not None else n == wanted)]
    problem = None
    if not found:
        named = "" if number is not None else "named "
        problem = f"Service {namespace}/{name} has no port {named}{wanted}"
    elif not _is_http(found[0][0]):
        problem = (f"port {found[0][1]} of Service {namespace}/{name} is not HTTP by its name "
                   f"({found[0][0] or 'unnamed'}; Pilot wanted an http, http2 or grpc prefix)")
    if problem is not None:
        ctx.report("IM218", f"{where} ({host}{' ' + path if path else ''}): {problem}, so Pilot "
                   "dropped this path; not converted either (the output routes no request "
                   "Istio did not); fix the Service and add the route if you want it",
                   ingress.ref)
        return None
    return _Path(ingress, where, host, port, kind, value, target, found[0][1])


def _is_http(port_name: str | None) -> bool:
    """Pilot 0.7's ConvertProtocol: the name's prefix up to the first '-', any case."""
    return (port_name or "").split("-", 1)[0].lower() in _HTTP_PROTOCOLS


def _tls_findings(ingress: LegacyResource, paths: list[_Path], ctx: Context) -> None:
    spec, ref = ingress.spec, ingress.ref
    secrets = sorted({t.secret_name for t in spec.tls if t.secret_name})
    named = f"secret {', '.join(secrets)}" if secrets else "no secret"
    ctx.report("IM216", f"spec.tls names {named}, but Istio 0.7/0.8 served every TLS Ingress with "
               "the one certificate its ingress mounted (secret istio-ingress-certs), and on "
               f"port 443 only; so does the output: port 443 of the ingress gateway presents "
               f"secret {CERT_SECRET} in {ctx.options.ingress_gateway_namespace} (mounted at "
               f"{CERT_DIR}): create it with a certificate for every HTTPS host; clients must "
               "send one of those hosts as SNI", ref)
    hosts = sorted({p.host for p in paths})
    for i, tls in enumerate(spec.tls):
        if tls.hosts and sorted(tls.hosts) != hosts:
            ctx.report("IM212", f"spec.tls[{i}].hosts ignored by Pilot: port 443 serves this "
                       f"Ingress's rule hosts ({', '.join(hosts)})", ref)


# --------------------------------------------------------------------------- ordering


def _routes_by_path(paths: list[_Path], port: int, ctx: Context) -> list[_Path]:
    """Istio 0.7's RoutesByPath: exact paths ascending, then prefixes descending (stable)."""
    exact = sorted((p for p in paths if p.kind == "exact"), key=lambda p: p.value)
    prefix = sorted((p for p in paths if p.kind == "prefix"), key=lambda p: p.value, reverse=True)
    ordered = exact + prefix
    first: dict[tuple[str, str], _Path] = {}
    for path in ordered:
        winner = first.setdefault((path.kind, path.value), path)
        if winner is not path:
            ctx.report("IM217", f"{path.where}: {path.kind} {path.value} for host {path.host} "
                       f"on port {port} is also {winner.where} of Ingress "
                       f"{_key(winner.ingress)}; Pilot's order between them was undefined: "
                       "that one comes first (smaller namespace/name) and this one never "
                       "matches", path.ingress.ref)
    return ordered



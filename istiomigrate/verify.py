"""Verify a conversion by behaviour: ask both configs the same requests, compare outcomes.

``verify(inventory, docs, findings)`` simulates every generated request
under the legacy v1alpha1 resources of ``inventory`` (Pilot 0.8) and under
the converted v1alpha3 documents (Pilot 0.8/1.0), and returns one
``Difference`` per request whose outcome differs, with the aspects that
differ and the resources involved. ``explain`` splits differences into those
a finding accounts for and the rest: the rest are conversion bugs, or legacy
behaviour the converter changed without saying so.

Hosts configured only by v1alpha3 resources that were already in the input
(``inventory.existing``) are not compared: their config is not converted.

When the input has Ingresses of class istio, requests from outside the mesh
to the ingress (ports 80 and 443, every host and path the Ingresses and the
gateway's VirtualServices name, and a host none names) are compared too:
Istio 0.7/0.8's ingress (``simulate.ingress_v1``) against the Gateways that
select the ingress gateway's labels and the VirtualServices bound to them
(``simulate.gateway``). Their differences name the Ingresses involved. A
port on which no Ingress routed anything and no Gateway server listens is
not a difference (404 before, connection refused now: neither routes).

Which finding explains which difference. A finding explains an aspect of a
difference when its legacy resource is involved in the request (a rule or
policy of one of its hosts, or the EgressRule that let it out) and:

======  ==============================================  ==========================================
code    meaning                                         explains
======  ==============================================  ==========================================
IM103   merged into an existing v1alpha3 resource       routing aspects when the request went
                                                        through an existing VirtualService (its
                                                        routes come first); policy aspects when an
                                                        existing DestinationRule set a policy (its
                                                        fields win), never a policy just lost; any
                                                        aspect of an ingress request that went
                                                        through an existing Gateway or
                                                        VirtualService
IM105   egress HTTPS kept as TLS passthrough            any aspect of requests to that host
IM204   source guessed as ``app=<name>``                routing aspects (status, redirect,
                                                        destinations, route actions), for callers
                                                        for which the rule's source holds in one
                                                        API only, given the ``app`` guess
IM205   overrideHeaderName dropped                      timeout, retries, fault of its rule
IM206   fault percentage rounded                        fault of its rule
IM207   abort grpcStatus/http2Error                     fault of its rule
IM208   unlabelled policy now shared by subsets         policy of a labelled destination of its host
IM210   useEgressProxy dropped                          egress protocol of its host
IM213   source matched by labels in every namespace     routing aspects, for callers for which the
                                                        rule's source holds in one API only, given
                                                        the Service's selector
IM216   Ingress TLS on the gateway's one certificate    status of an ingress request no Ingress
                                                        routed (404) whose SNI is no HTTPS host of
                                                        the gateway (TLS handshake refused)
IM301   UDP match dropped                               any aspect of its host
IM302   custom timeout/retry dropped                    timeout, retries of its rule
IM303   exponential delay dropped                       fault of its rule
IM304   L4 fault dropped                                fault of its rule
IM305   source-selected policy not applied              policy of a destination of its host, for
                                                        callers its source selected
IM306   custom load balancer/circuit breaker dropped    policy of a destination of its host
IM308   Ingress servicePort name not resolved           destinations of ingress requests routed by
                                                        a path of its Ingress that named the port
IM309   backend RouteRules not applied at the gateway   any aspect of ingress requests routed by a
                                                        path of its Ingress whose backend has
                                                        RouteRules
======  ==============================================  ==========================================

"Its rule" is the RouteRule that matched the request under v1alpha1. Other
codes explain nothing: they report conversions that route exactly as before
(IM209's loser was not applied by Pilot either; IM202's order is Pilot's;
IM218's path was dropped by Pilot and is not converted; IM217's order between
identical paths was undefined in Pilot, and the simulator takes the one it
documents; IM109's default backend is the last route for any host in both).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from istiomigrate.findings import Finding
from istiomigrate.kinds import INGRESS_KIND
from istiomigrate.read.inventory import Inventory, LegacyResource
from istiomigrate.simulate import gateway, generate, ingress_v1, v1alpha1, v1alpha3
from istiomigrate.simulate.request import (
    NO_ROUTE,
    REFUSED,
    Actions,
    Caller,
    Labels,
    Outcome,
    Ref,
    Request,
    labels_of,
    port_of,
    show_labels,
)
from istiomigrate.targets import Simulator

ACTION_FIELDS = tuple(Actions.__dataclass_fields__)
ROUTING = frozenset({"status", "redirect", "destinations", *ACTION_FIELDS})


class Aspect(NamedTuple):
    """What differs: a field of the outcome, for ``policy`` the destination it concerns."""

    kind: str
    host: str | None = None
    labels: Labels | None = None

    def describe(self) -> str:
        if self.kind == "policy":
            return f"policy of {self.host}{{{show_labels(self.labels or ())}}}"
        return self.kind


@dataclass(frozen=True)
class Involved:
    """A legacy resource a request depends on, with what explanations need to know of it."""

    ref: Ref
    host: str | None = None  # destination FQDN (rules, policies) or egress service
    source_host: str | None = None  # a rule's or policy's source service FQDN
    source_labels: Labels = frozenset()  # the source's own labels
    selector: Labels | None = None  # the source Service's selector, when the input has it

    def legacy_source_holds(self, caller: Caller) -> bool:
        """v1alpha1: the caller is an instance of the source service and has its labels."""
        return self.source_host in caller.services and self.source_labels <= caller.labels

    def labels_hold(self, caller: Caller, selector: Labels) -> bool:
        """v1alpha3: the caller's labels include the source labels made of ``selector``."""
        return (selector | self.source_labels) <= caller.labels


@dataclass
class Difference:
    request: Request
    old: Outcome
    new: Outcome
    aspects: tuple[Aspect, ...]
    legacy: tuple[Involved, ...]
    explained_by: tuple[Finding, ...] = field(default=())
    existing: tuple[Ref, ...] = ()  # input v1alpha3 resources (with policies) it went through

    @property
    def converted(self) -> tuple[Ref, ...]:
        return self.new.involved

    def describe(self) -> str:
        lines = [f"request:   {self.request.describe()}",
                 f"  legacy:    {self.old.describe()}",
                 f"  converted: {self.new.describe()}",
                 f"  differs in: {', '.join(a.describe() for a in self.aspects)}",
                 f"  legacy resources: {_refs(i.ref for i in self.legacy)}",
                 f"  converted resources: {_refs(self.converted)}"]
        if self.explained_by:
            codes = ", ".join(f"{f.code} ({f.source.label() if f.source else '-'})"
                              for f in self.explained_by)
            lines.append(f"  explained by: {codes}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": self.request.as_dict(),
            "legacy": self.old.as_dict(),
            "converted": self.new.as_dict(),
            "aspects": [a.describe() for a in self.aspects],
            "legacy_resources": [i.ref.label() for i in self.legacy],
            "converted_resources": [r.label() for r in self.converted],
            "explained_by": [f.as_dict() for f in self.explained_by],
        }


def _refs(refs: Iterable[Ref]) -> str:
    return ", ".join(r.label() for r in refs) or "(none)"


@dataclass
class Comparison:
    requests: int
    differences: list[Difference]


def verify(legacy_inventory: Inventory, converted_docs: list[dict[str, Any]],
           findings: Iterable[Finding] = (), *, cluster_domain: str = "cluster.local",
           default_namespace: str = "default",
           max_per_host: int = generate.MAX_PER_HOST,
           ingress_gateway: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
           simulator: Simulator | None = None) -> list[Difference]:
    """Requests whose outcome under ``converted_docs`` differs from the legacy one."""
    return compare(legacy_inventory, converted_docs, findings, cluster_domain=cluster_domain,
                   default_namespace=default_namespace, max_per_host=max_per_host,
                   ingress_gateway=ingress_gateway, simulator=simulator).differences


def compare(legacy_inventory: Inventory, converted_docs: list[dict[str, Any]],
            findings: Iterable[Finding] = (), *, cluster_domain: str = "cluster.local",
            default_namespace: str = "default",
            max_per_host: int = generate.MAX_PER_HOST,
            ingress_gateway: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
            simulator: Simulator | None = None) -> Comparison:
    """``verify``, also saying how many requests were compared.

    ``simulator`` is the target's (``Target.simulator``; default: Istio 1.0's). When the
    legacy input has Ingresses (of class istio), requests from outside the mesh through
    the ingress are compared too: the legacy ingress against the Gateways that select
    ``ingress_gateway``'s labels (default ``istio=ingressgateway``).
    """
    sim = simulator or _default_simulator()
    legacy = v1alpha1.index(legacy_inventory.legacy, cluster_domain)
    converted = sim.index(converted_docs, cluster_domain, default_namespace)
    hosts = generate.all_hosts(legacy, converted) - _existing_only(legacy_inventory, legacy)
    requests = generate.generate(legacy, converted, legacy_inventory.services, hosts,
                                 max_per_host)
    pairs: Iterable[tuple[Request, Outcome, Outcome]] = (
        (r, v1alpha1.simulate(legacy, r), sim.simulate(converted, r)) for r in requests)
    ingresses = legacy_inventory.of_kind(INGRESS_KIND)
    if ingresses:
        pairs = itertools.chain(pairs, _ingress_pairs(
            legacy_inventory, ingresses, converted_docs, legacy, cluster_domain,
            default_namespace, ingress_gateway, max_per_host, sim))
    involved = _involved_index(legacy_inventory, legacy)
    by_source = _by_source(findings)
    existing = {Ref(e.kind, e.namespace, e.name) for e in legacy_inventory.existing
                if e.kind != "DestinationRule" or _sets_policy(e.data.get("spec") or {})}
    differences = []
    compared = 0
    for request, old, new in pairs:
        compared += 1
        if old != new:
            diff = Difference(request, old, new, aspects(old, new),
                              _legacy_involved(old, new, legacy, involved),
                              existing=tuple(r for r in new.involved if r in existing))
            diff.explained_by = explaining(diff, _candidates(diff, by_source))
            differences.append(diff)
    return Comparison(compared, differences)


def _default_simulator() -> Simulator:
    from istiomigrate import targets

    simulator = targets.for_version(targets.DEFAULT_VERSION).simulator(targets.DEFAULT_VERSION)
    assert simulator is not None
    return simulator


def _ingress_pairs(inventory: Inventory, ingresses: list[LegacyResource],
                   docs: list[dict[str, Any]],
                   legacy: v1alpha1.LegacyConfig, cluster_domain: str, default_namespace: str,
                   workload: Mapping[str, str] | Iterable[tuple[str, str]] | None,
                   max_per_host: int,
                   sim: Simulator) -> Iterator[tuple[Request, Outcome, Outcome]]:
    """Requests through the ingress, with their legacy and converted outcomes."""
    old_ingress = ingress_v1.index(ingresses, inventory.service_ports, cluster_domain, legacy)
    gateways = sim.gateway_index(docs, cluster_domain, default_namespace, workload,
                                 inventory.service_ports)
    for request in generate.ingress_requests(old_ingress, gateways, max_per_host):
        old = ingress_v1.simulate(old_ingress, request)
        new = sim.gateway_simulate(gateways, request)
        yield request, old, old if _unserved_port(old_ingress, request, old, new) else new


def _unserved_port(config: ingress_v1.IngressConfig, request: Request, old: Outcome,
                   new: Outcome) -> bool:
    """A port no Ingress routed anything on, and no Gateway server listens on: the same.

    Istio 0.7's ingress listened on port 80 even with nothing to route there (404);
    the gateway listens only on the ports of its servers (refused). Neither routes.
    """
    return (old.status == NO_ROUTE and new.status == REFUSED
            and not config.tables.get(request.port or 0)
            and new.detail.startswith(gateway.NO_SERVER))


def _sets_policy(spec: Mapping[str, Any]) -> bool:
    """Whether an existing DestinationRule has traffic policy fields that could win a merge."""
    return bool(spec.get("trafficPolicy")) or any(
        isinstance(s, dict) and s.get("trafficPolicy") for s in spec.get("subsets") or [])


def _existing_only(inventory: Inventory, legacy: v1alpha1.LegacyConfig) -> set[str]:
    """Hosts whose only config is v1alpha3 that was already there before the conversion."""
    docs = [e.data for e in inventory.existing]
    existing = v1alpha3.index(docs, legacy.cluster_domain)
    empty = v1alpha1.LegacyConfig(legacy.cluster_domain)
    return generate.all_hosts(empty, existing) - generate.all_hosts(legacy, v1alpha3.index([]))


def _involved_index(inventory: Inventory, legacy: v1alpha1.LegacyConfig) -> dict[Ref, Involved]:
    out = {}
    for res in inventory.legacy:
        dest = res.spec.destination
        host = None
        if dest is not None and (dest.name or dest.service):
            host = dest.service if res.kind == "EgressRule" else legacy.host_of(dest, res.namespace)
        ref = v1alpha1.ref(res)
        out[ref] = Involved(ref, host, *_source(res, legacy, inventory.services))
    return out


def _source(res: LegacyResource, legacy: v1alpha1.LegacyConfig,
            services: Mapping[tuple[str, str], Mapping[str, str]],
            ) -> tuple[str | None, Labels, Labels | None]:
    """(source FQDN, source labels, the source Service's selector) of a rule or policy."""
    source = res.spec.match.source if res.kind == "RouteRule" and res.spec.match else (
        getattr(res.spec, "source", None))
    if source is None or not (source.name or source.service):
        return None, frozenset(), None
    host = legacy.host_of(source, res.namespace)
    parts = host.split(".")
    selector = services.get((parts[1], parts[0])) if len(parts) > 2 else None
    return host, labels_of(source.labels), labels_of(selector) if selector else None


def _legacy_involved(old: Outcome, new: Outcome, legacy: v1alpha1.LegacyConfig,
                     index: dict[Ref, Involved]) -> tuple[Involved, ...]:
    """The legacy side's resources, plus the policies of every destination either side chose."""
    refs = list(old.involved)
    for outcome in (old, new):
        hosts = [d.host for d in outcome.destinations]
        if outcome.actions.mirror:
            hosts.append(outcome.actions.mirror[0])
        for host in hosts:
            refs.extend(v1alpha1.ref(p) for p in legacy.policies.get(host, []))
    return tuple(index[r] for r in dict.fromkeys(refs) if r in index)


def aspects(old: Outcome, new: Outcome) -> tuple[Aspect, ...]:
    """The fields in which two outcomes differ; policies only when destinations agree."""
    out: list[Aspect] = []
    if old.status != new.status:
        out.append(Aspect("status"))
    if old.redirect != new.redirect:
        out.append(Aspect("redirect"))
    if old.egress != new.egress:
        out.append(Aspect("egress"))
    before = {(d.host, d.labels): d for d in old.destinations}
    after = {(d.host, d.labels): d for d in new.destinations}
    if {k: d.weight for k, d in before.items()} != {k: d.weight for k, d in after.items()}:
        out.append(Aspect("destinations"))
    else:
        out.extend(Aspect("policy", host, labels) for (host, labels), d in sorted(
            before.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1])))
            if d.policy != after[(host, labels)].policy)
    out.extend(Aspect(name) for name in ACTION_FIELDS
               if getattr(old.actions, name) != getattr(new.actions, name))
    return tuple(out)


# --- explanation ----------------------------------------------------------------------------

Rule = Callable[[Difference, Aspect, Involved], bool]


def _matched(diff: Difference, inv: Involved) -> bool:
    return diff.old.matched == inv.ref


def _policy_of_host(diff: Difference, aspect: Aspect, inv: Involved) -> bool:
    return aspect.kind == "policy" and aspect.host == inv.host


def _guessed_source(diff: Difference, aspect: Aspect, inv: Involved) -> bool:
    """The rule's source holds for this caller in one API only, because app=<name> was a guess."""
    if aspect.kind not in ROUTING or inv.source_host is None:
        return False
    caller = diff.request.caller
    guess = frozenset({("app", inv.source_host.split(".")[0])})
    return inv.legacy_source_holds(caller) != inv.labels_hold(caller, guess)


def _labels_everywhere(diff: Difference, aspect: Aspect, inv: Involved) -> bool:
    """The rule's source holds for this caller in one API only, because labels are not services."""
    if aspect.kind not in ROUTING or inv.source_host is None or inv.selector is None:
        return False
    caller = diff.request.caller
    return inv.legacy_source_holds(caller) != inv.labels_hold(caller, inv.selector)


def _merged(diff: Difference, aspect: Aspect, inv: Involved) -> bool:
    """Routes of an existing VirtualService come first, policies of an existing rule win;
    but a converted policy is never just lost. An existing Gateway keeps its servers."""
    kinds = {r.kind for r in diff.existing}
    if diff.request.gateway:
        return bool(kinds & {"Gateway", "VirtualService"})
    if aspect.kind == "policy":
        kept = [d for d in diff.new.destinations
                if (d.host, d.labels) == (aspect.host, aspect.labels)]
        return "DestinationRule" in kinds and bool(kept and kept[0].policy)
    if aspect.kind == "egress":
        return "ServiceEntry" in kinds
    return "VirtualService" in kinds


def _ingress_matched(diff: Difference, inv: Involved) -> bool:
    """An ingress request that the legacy ingress routed by a path of this Ingress."""
    return diff.request.gateway and diff.old.matched == inv.ref


def _one_certificate(diff: Difference, aspect: Aspect, inv: Involved) -> bool:
    """A request no Ingress routed (404) fails the TLS handshake now: its SNI names no HTTPS
    host of the gateway (Istio 0.7 presented its one certificate to any client)."""
    return (diff.request.gateway and aspect.kind == "status" and inv.ref.kind == "Ingress"
            and diff.old.status == NO_ROUTE and diff.new.status == REFUSED
            and diff.new.detail.startswith(gateway.NO_SNI))


def _named_port(diff: Difference, aspect: Aspect, inv: Involved) -> bool:
    """The Ingress's path named a port nothing resolved: the output has none."""
    return aspect.kind == "destinations" and _ingress_matched(diff, inv) and any(
        not (port_of(d.host) or "0").isdigit() for d in diff.old.destinations)


def _backend_rules(diff: Difference, aspect: Aspect, inv: Involved) -> bool:
    """The legacy ingress applied the backend's RouteRules to this request."""
    return _ingress_matched(diff, inv) and any(r.kind == "RouteRule"
                                               for r in diff.old.involved)


def _fields(*kinds: str) -> Rule:
    return lambda diff, aspect, inv: aspect.kind in kinds and _matched(diff, inv)


EXPLAINS: dict[str, Rule] = {
    "IM103": _merged,
    "IM105": lambda diff, aspect, inv: inv.ref.kind == "EgressRule",
    "IM204": _guessed_source,
    "IM205": _fields("timeout", "retries", "fault"),
    "IM206": _fields("fault"),
    "IM207": _fields("fault"),
    "IM208": lambda diff, aspect, inv: _policy_of_host(diff, aspect, inv) and bool(aspect.labels),
    "IM210": lambda diff, aspect, inv: aspect.kind == "egress",
    "IM213": _labels_everywhere,
    "IM301": lambda diff, aspect, inv: True,
    "IM302": _fields("timeout", "retries"),
    "IM303": _fields("fault"),
    "IM304": _fields("fault"),
    "IM305": lambda diff, aspect, inv: _policy_of_host(diff, aspect, inv) and (
        inv.legacy_source_holds(diff.request.caller)),
    "IM306": _policy_of_host,
    "IM216": _one_certificate,
    "IM308": _named_port,
    "IM309": _backend_rules,
}


def explaining(diff: Difference, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings that together account for every aspect of ``diff``; empty if some aspect is not."""
    by_ref = {i.ref: i for i in diff.legacy}
    used: list[Finding] = []
    seen: set[int] = set()
    relevant = []
    for finding in findings:
        rule = EXPLAINS.get(finding.code)
        src = finding.source
        inv = by_ref.get(Ref(src.kind, src.namespace, src.name)) if src else None
        if rule is not None and inv is not None:
            relevant.append((finding, rule, inv))
    for aspect in diff.aspects:
        found = [f for f, rule, inv in relevant if rule(diff, aspect, inv)]
        if not found:
            return ()
        used.extend(f for f in found if id(f) not in seen)
        seen.update(id(f) for f in found)
    return tuple(used)


def _by_source(findings: Iterable[Finding]) -> dict[Ref, list[tuple[int, Finding]]]:
    """The findings that can explain something, by legacy resource, numbered in order."""
    out: dict[Ref, list[tuple[int, Finding]]] = {}
    for n, finding in enumerate(findings):
        if finding.source is not None and finding.code in EXPLAINS:
            src = finding.source
            out.setdefault(Ref(src.kind, src.namespace, src.name), []).append((n, finding))
    return out


def _candidates(diff: Difference, by_source: dict[Ref, list[tuple[int, Finding]]],
                ) -> list[Finding]:
    """The findings of the legacy resources ``diff`` involves, in their original order."""
    own = {n: f for i in diff.legacy for n, f in by_source.get(i.ref, ())}
    return [own[n] for n in sorted(own)]


def explain(differences: Iterable[Difference],
            findings: Iterable[Finding]) -> tuple[list[Difference], list[Difference]]:
    """Split differences into (explained by a finding, unexplained); sets ``explained_by``."""
    by_source = _by_source(findings)
    explained: list[Difference] = []
    unexplained: list[Difference] = []
    for diff in differences:
        diff.explained_by = explaining(diff, _candidates(diff, by_source))
        (explained if diff.explained_by else unexplained).append(diff)
    return explained, unexplained

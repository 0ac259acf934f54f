"""The routing plan: what the legacy config did, in no output API's terms.

The plan is the pipeline's one normal form between reading and rendering.
It says, per fully qualified host, which routes apply in which order (match
conditions, weighted destinations as host plus subset labels, actions), which
policies apply to which label sets, which external services the mesh may
reach and how the ingress routed. Each item keeps the legacy resources it
came from, so that a target can place its output and a finding can point at
the source. Names of subsets, resource names and field spellings are the
target's business (``istiomigrate.targets``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from istiomigrate.findings import Finding
from istiomigrate.hosts import Host
from istiomigrate.read.inventory import LegacyResource
from istiomigrate.read.services import PortLookup, ServicePorts
from istiomigrate.subsets import LabelSet

MatchKind = Literal["exact", "prefix", "regex"]
# The request attributes v1alpha1 carried as pseudo-headers (Pilot's header.go).
Attribute = Literal["uri", "scheme", "method", "authority", "header"]


@dataclass(frozen=True)
class StringMatch:
    kind: MatchKind
    value: str


@dataclass(frozen=True)
class Condition:
    """One request condition: an attribute (``header`` with its lower-case ``name``)."""

    attribute: Attribute
    match: StringMatch
    name: str = ""


@dataclass(frozen=True)
class HttpMatch:
    """All conditions must hold (AND); ``conditions`` keep the order they were written in."""

    conditions: tuple[Condition, ...] = ()
    source_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TcpMatch:
    """Either subnet list matches if any member does (OR); empty means any."""

    source_subnets: tuple[str, ...] = ()
    destination_subnets: tuple[str, ...] = ()
    source_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Destination:
    """A service, or its instances with ``labels``; ``weight`` as written (None: not given)."""

    host: Host
    labels: LabelSet = ()
    weight: int | None = None
    port: int | None = None


@dataclass(frozen=True)
class Redirect:
    uri: str | None = None
    authority: str | None = None


@dataclass(frozen=True)
class Rewrite:
    uri: str | None = None
    authority: str | None = None


@dataclass(frozen=True)
class Retries:
    attempts: int
    per_try_timeout: str | None = None


@dataclass(frozen=True)
class Delay:
    percent: int
    fixed_delay: str


@dataclass(frozen=True)
class Abort:
    percent: int
    http_status: int


@dataclass(frozen=True)
class Fault:
    delay: Delay | None = None
    abort: Abort | None = None


@dataclass(frozen=True)
class Cors:
    allow_origin: tuple[str, ...] | None = None
    allow_methods: tuple[str, ...] | None = None
    allow_headers: tuple[str, ...] | None = None
    expose_headers: tuple[str, ...] | None = None
    max_age: str | None = None
    allow_credentials: bool | None = None


@dataclass
class Route:
    """One route, in evaluation order within its host.

    An HTTP route has ``HttpMatch`` conditions (any of them: OR), a TCP route
    ``TcpMatch`` ones; none means every request. ``destinations`` is empty
    for a redirect. ``fallthrough`` marks the route appended because no rule
    was unconditional: v1alpha1 sent unmatched requests to the whole service.
    """

    comment: str
    matches: tuple[HttpMatch | TcpMatch, ...] = ()
    destinations: tuple[Destination, ...] = ()
    rule: LegacyResource | None = None
    redirect: Redirect | None = None
    rewrite: Rewrite | None = None
    websocket_upgrade: bool | None = None
    timeout: str | None = None
    retries: Retries | None = None
    fault: Fault | None = None
    mirror: Destination | None = None
    cors: Cors | None = None
    append_headers: dict[str, str] = field(default_factory=dict)
    fallthrough: bool = False


@dataclass(frozen=True)
class ConnectionPool:
    max_connections: int | None = None
    http1_max_pending_requests: int | None = None
    http2_max_requests: int | None = None
    max_requests_per_connection: int | None = None
    max_retries: int | None = None


@dataclass(frozen=True)
class OutlierDetection:
    """Ejection of failing instances; every field None means Envoy's defaults."""

    consecutive_errors: int | None = None
    interval: str | None = None
    base_ejection_time: str | None = None
    max_ejection_percent: int | None = None


@dataclass(frozen=True)
class Policy:
    """What applied to traffic to one label set of a host (the winning DestinationPolicy)."""

    source: LegacyResource
    load_balancer: str | None = None
    connection_pool: ConnectionPool | None = None
    outlier_detection: OutlierDetection | None = None

    def is_empty(self) -> bool:
        return (self.load_balancer, self.connection_pool, self.outlier_detection) == (
            None, None, None)


@dataclass
class TlsOrigination:
    """Ports of an external host whose TLS the sidecar originated (EgressRule ``https``)."""

    rule: LegacyResource
    ports: list[int] = field(default_factory=list)


@dataclass
class HostPlan:
    """Everything the legacy config did for one FQDN.

    ``namespace`` is where resources for the host belong: the destination's
    namespace, else that of its first rule or policy. ``subsets`` are every
    label set that routes, mirrors and policies name; ``wanted_by`` the rules
    (of any host) whose routes or mirrors name one of them, so that a policy
    made only for those subsets can be placed beside the routes that need it.
    """

    host: Host
    namespace: str
    rules: list[LegacyResource] = field(default_factory=list)
    http: list[Route] = field(default_factory=list)
    tcp: list[Route] = field(default_factory=list)
    policy_sources: list[LegacyResource] = field(default_factory=list)
    policies: dict[LabelSet, Policy] = field(default_factory=dict)
    subsets: set[LabelSet] = field(default_factory=set)
    wanted_by: list[LegacyResource] = field(default_factory=list)
    tls: TlsOrigination | None = None
    has_http_rules: bool = False
    has_tcp_rules: bool = False

    @property
    def routed(self) -> bool:
        return self.has_http_rules or self.has_tcp_rules


@dataclass(frozen=True)
class EgressPort:
    number: int
    protocol: str  # upper case; HTTP for a port whose TLS the sidecar originates


@dataclass
class EgressEntry:
    """An external destination the mesh may reach (one EgressRule that Pilot applied)."""

    rule: LegacyResource
    name: str
    namespace: str
    hosts: list[str]
    addresses: list[str]
    ports: list[EgressPort]


@dataclass
class IngressPath:
    """One Ingress path (or default backend) as Pilot 0.7 routed it."""

    ingress: LegacyResource
    where: str  # spec.rules[0].http.paths[1], or spec.backend
    host: str  # ANY_HOST when the rule names none
    port: int  # 443 for every path of an Ingress with spec.tls, else 80
    kind: Literal["exact", "prefix"]
    value: str
    backend: Host
    number: int | None  # None: a port name that could not be resolved (IM308)

    def origin(self) -> str:
        ref = self.ingress.ref
        where = f" ({ref.location()})" if ref.file else ""
        return f"from Ingress {ref.namespace}/{ref.name}{where} {self.where}"


@dataclass
class IngressPlan:
    """Ingress routes per gateway port and host, each host's paths in Pilot's order.

    ``ingresses`` are those that contributed a path (file order); ``rank``
    orders every Ingress by namespace/name, then file order.
    """

    table: dict[int, dict[str, list[IngressPath]]]
    ingresses: list[LegacyResource]
    rank: dict[int, tuple[str, int]]


@dataclass
class Plan:
    hosts: dict[str, HostPlan] = field(default_factory=dict)
    entries: list[EgressEntry] = field(default_factory=list)
    ingress: IngressPlan | None = None
    findings: list[Finding] = field(default_factory=list)
    # The input's Service ports by (namespace, name): a target whose mesh reads port names
    # differently from Pilot 0.8 (modern protocol sniffing) needs them.
    service_ports: PortLookup = field(default_factory=ServicePorts)

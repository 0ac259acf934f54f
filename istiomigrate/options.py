"""What a conversion is asked to do: the options every pipeline step reads.

Light on purpose (standard library only): the CLI builds it before deciding
which heavy modules a command needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EgressTLS = Literal["originate", "passthrough"]


@dataclass(frozen=True)
class Options:
    # A ``--target`` value: the registry (istiomigrate.targets) says which target serves it.
    target: str = "1.0"
    cluster_domain: str = "cluster.local"
    egress_tls: EgressTLS = "originate"
    default_namespace: str = "default"
    # Kubernetes Ingresses of class istio: the ingress gateway's pod labels and namespace
    # (Istio 0.8's helm chart: istio=ingressgateway in istio-system).
    ingress_gateway_selector: tuple[tuple[str, str], ...] = (("istio", "ingressgateway"),)
    ingress_gateway_namespace: str = "istio-system"
    # Targets whose defaults differ from legacy behaviour (modern Istio): write nothing where
    # the legacy behaviour would have to be pinned, and say so (IM120).
    accept_target_defaults: bool = False
    # Modern Istio verifies the certificate of a server it originates TLS to; legacy did not.
    # True keeps legacy's behaviour (insecureSkipVerify), only when asked.
    insecure_skip_verify: bool = False
    # Simulate both configurations and turn unexplained differences into errors (IM310).
    verify: bool = False

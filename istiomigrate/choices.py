"""Option choices that several commands share, so that one option means one thing everywhere."""

from __future__ import annotations

import re
from enum import Enum

INGRESS_GATEWAY_SELECTOR = "istio=ingressgateway"
INGRESS_GATEWAY_SELECTOR_HELP = ("Kubernetes Ingresses of class istio: pod labels of the ingress "
                                 "gateway that serves them (key=value[,key=value]).")
_LABEL = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$")


def parse_selector(text: str) -> tuple[tuple[str, str], ...]:
    """``key=value[,key=value]`` as label pairs; ValueError names what is wrong."""
    pairs = [_LABEL.match(part.strip()) for part in text.split(",")]
    if not all(pairs):
        raise ValueError(f"--ingress-gateway-selector {text!r}: expected key=value[,key=value]")
    return tuple((m.group(1), m.group(2)) for m in pairs if m)


class EgressTLS(str, Enum):
    """What an EgressRule port of protocol ``https`` becomes (docs/semantics.md §6.4)."""

    originate = "originate"
    passthrough = "passthrough"

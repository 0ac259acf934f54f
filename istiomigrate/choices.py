"""Option choices that several commands share, so that one option means one thing everywhere."""

from __future__ import annotations

from enum import Enum


class EgressTLS(str, Enum):
    """What an EgressRule port of protocol ``https`` becomes (MAPPING §6)."""

    originate = "originate"
    passthrough = "passthrough"

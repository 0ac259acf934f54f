"""Where Istio releases read the same v1alpha3 differently (docs/semantics.md §1.2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    version: str
    api_version: str
    # 1.0 made TCP destination subnets a list (0.8: one subnet per match).
    subnet_list: bool
    # 0.8 nested outlier detection under ``http``; 1.0 flattened it.
    outlier_under_http: bool

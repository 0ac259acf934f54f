"""The Istio v1alpha3 target, in the dialects of Istio 0.8 and 1.0."""

from __future__ import annotations

from istiomigrate import kinds
from istiomigrate.kinds import Kind
from istiomigrate.targets import register


class IstioV1alpha3:
    name = "istio-v1alpha3"
    versions = ("0.8", "1.0")
    api_version = f"{kinds.NETWORKING_GROUP}/v1alpha3"

    def kinds(self, version: str) -> tuple[Kind, ...]:
        return kinds.networking("v1alpha3")


TARGET = register(IstioV1alpha3())

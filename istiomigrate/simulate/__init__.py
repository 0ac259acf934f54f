"""Routing simulators for v1alpha1 and v1alpha3: what each API does to one request.

Pure functions over data, no I/O. ``verify`` compares their outcomes over the
requests ``generate`` derives from both configs; a difference is a request
the converted config treats otherwise than the legacy config did.

    legacy = v1alpha1.index(inventory.legacy)
    converted = v1alpha3.index(docs)
    for request in generate.generate(legacy, converted, inventory.services):
        v1alpha1.simulate(legacy, request) == v1alpha3.simulate(converted, request)
"""

from __future__ import annotations

from istiomigrate.simulate import generate, v1alpha1, v1alpha3
from istiomigrate.simulate.request import Actions, Caller, Destination, Outcome, Ref, Request

__all__ = [
    "Actions",
    "Caller",
    "Destination",
    "Outcome",
    "Ref",
    "Request",
    "generate",
    "v1alpha1",
    "v1alpha3",
]

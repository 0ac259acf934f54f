"""Output targets as a registry: one module per target, each implementing :class:`Target`.

A target turns the target-neutral routing plan (``istiomigrate.plan``) into the
resources of one output API. Everything that depends on the output API asks
the registry: the CLI's ``--target`` choices, schema lookup, the reader's
recognition of existing resources to merge into, the cluster client's
resource lists, and the simulator ``verify`` uses. Adding a target is one
module that calls :func:`register` (and, for a built-in one, a line in
``_BUILTIN``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from istiomigrate.findings import Finding
from istiomigrate.kinds import Kind

if TYPE_CHECKING:  # the plan and resources import pydantic models; the registry must not
    from istiomigrate.model import Resource
    from istiomigrate.options import Options
    from istiomigrate.plan.model import Plan
    from istiomigrate.read.inventory import ExistingResource

DEFAULT_VERSION = "1.0"
_BUILTIN = ("istiomigrate.targets.istio", "istiomigrate.targets.modern")


@dataclass
class Rendered:
    """What a target made of a plan: resources and findings."""

    resources: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Simulator:
    """How ``verify`` asks the target's mesh what it does with a request.

    ``index(docs, cluster_domain, default_namespace)`` reads the converted
    documents once; ``simulate(index, request)`` answers one request of the
    mesh's sidecars; ``gateway_index`` and ``gateway_simulate`` do the same for
    the ingress gateway (``gateway_index`` also takes the gateway's labels).
    """

    index: Callable[..., Any]
    simulate: Callable[[Any, Any], Any]
    gateway_index: Callable[..., Any]
    gateway_simulate: Callable[[Any, Any], Any]


class Target(Protocol):
    """What a target declares and does. ``version`` is always one of ``versions``.

    Optionally, a target also has ``check_output(docs, version, cluster_domain)``
    returning ``(document index, message)`` for every rule of its Istio's own
    validation the documents break (what a JSON Schema cannot say: positive retry
    attempts, weights summing to 100, defined subsets); the pipeline's validate step
    reports each as IM307, like a schema failure (``pipeline.validate``).
    """

    name: str
    versions: tuple[str, ...]  # the ``--target`` values it serves, oldest first

    def kinds(self, version: str) -> tuple[Kind, ...]:
        """Kinds and apiVersions it writes, merges into, and lists in a cluster."""
        ...

    def schema_dir(self, version: str) -> str | None:
        """The folder under ``schemas/`` that validates its output; None: no schema."""
        ...

    def render(self, plan: Plan, existing: list[ExistingResource], options: Options
               ) -> Rendered:
        """The plan as resources; ``existing`` are the input's resources of ``kinds``."""
        ...

    def simulator(self, version: str) -> Simulator | None:
        """What ``verify`` simulates its output with; None: it cannot be verified."""
        ...

    def meaning(self, docs: list[dict[str, Any]], cluster_domain: str) -> dict[str, Any]:
        """Its documents read back into the plan's normal form (``plan.normal``)."""
        ...


_REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    """Make ``target`` serve its versions; a version served twice is a programming error."""
    for version in target.versions:
        if version in _REGISTRY and _REGISTRY[version] is not target:
            raise ValueError(f"target version {version} is already served by "
                             f"{_REGISTRY[version].name}")
        _REGISTRY[version] = target
    return target


def versions() -> tuple[str, ...]:
    """Every ``--target`` value, in registration order."""
    _load_builtin()
    return tuple(_REGISTRY)


def for_version(version: str) -> Target:
    """The target serving ``version``; ValueError names the supported ones."""
    _load_builtin()
    try:
        return _REGISTRY[version]
    except KeyError:
        raise ValueError(f"unknown target {version!r}; supported: "
                         f"{', '.join(_REGISTRY)}") from None


def all_kinds() -> tuple[Kind, ...]:
    """Every kind some target writes: what the reader and cluster client recognise."""
    _load_builtin()
    seen: dict[Kind, None] = {}
    for version, target in _REGISTRY.items():
        seen.update(dict.fromkeys(target.kinds(version)))
    return tuple(seen)


def _load_builtin() -> None:
    for module in _BUILTIN:
        importlib.import_module(module)

"""Output targets as a registry: one module per target, each implementing :class:`Target`.

A target turns the target-neutral routing plan (``istiomigrate.plan``) into the
resources of one output API. Everything that depends on the output API asks
the registry: the CLI's ``--target`` choices, schema lookup, the reader's
recognition of existing resources to merge into, the cluster client's
resource lists, and the simulator ``verify`` uses. Adding a target is one
module that calls :func:`register`.
"""

from __future__ import annotations

from typing import Protocol

from istiomigrate.kinds import Kind


class Target(Protocol):
    """What a target declares and does. ``version`` is always one of ``versions``."""

    name: str
    versions: tuple[str, ...]  # the ``--target`` values it serves, oldest first

    def kinds(self, version: str) -> tuple[Kind, ...]:
        """Kinds and apiVersions it writes, merges into, and lists in a cluster."""
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


DEFAULT_VERSION = "1.0"


def _load_builtin() -> None:
    from istiomigrate.targets import istio  # noqa: F401 - registers itself

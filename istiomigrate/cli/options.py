"""Options that several commands share, declared once so that one option means one thing
everywhere.

Each is an ``Annotated`` type for a command's parameter; the default stays on the
parameter (typer wants it there) and is a constant here. Where two commands give the
same flag a different help or default on purpose, both variants sit side by side below.
Choices that come from a registry (``--target``) are built from it, so that a new
entry needs no change here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, cast

import typer

from istiomigrate import targets
from istiomigrate.cli.exits import CommandError


def choice(name: str, values: Iterable[str]) -> type[Enum]:
    """A ``str`` Enum whose members are ``values``, in order: how typer takes a fixed set of
    choices (listed in the help, anything else a usage error, exit 2).

    Its members exist only at run time, so a module declares its choices for the type
    checker as a ``str`` Enum without members, under ``TYPE_CHECKING``.
    """
    members = [(value, value) for value in values]
    # mypy reads Enum(name, ...) as a member lookup unless ``name`` is a literal.
    return cast("type[Enum]", Enum(name, members, type=str, module=__name__))


class EgressTLS(str, Enum):
    """What an EgressRule port of protocol ``https`` becomes (docs/semantics.md §6.4)."""

    originate = "originate"
    passthrough = "passthrough"


_LABEL = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$")


def parse_selector(text: str) -> tuple[tuple[str, str], ...]:
    """``key=value[,key=value]`` as label pairs; ValueError names what is wrong."""
    pairs = [_LABEL.match(part.strip()) for part in text.split(",")]
    if not all(pairs):
        raise ValueError(f"--ingress-gateway-selector {text!r}: expected key=value[,key=value]")
    return tuple((m.group(1), m.group(2)) for m in pairs if m)


def gateway_selector(text: str) -> tuple[tuple[str, str], ...]:
    """``--ingress-gateway-selector`` as label pairs; a malformed one is a usage error."""
    try:
        return parse_selector(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


if TYPE_CHECKING:
    class Target(str, Enum):
        """An Istio version of the target registry (members made from it at run time)."""
else:
    Target = choice("Target", targets.versions())
DEFAULT_TARGET = Target(targets.DEFAULT_VERSION)
TargetOption = Annotated[Target, typer.Option(
    help="Istio version the output is for: the API, schema and defaults it is written "
    "for (verify: the mesh it is simulated on).")]

AcceptTargetDefaults = Annotated[bool, typer.Option(
    "--accept-target-defaults", help="Where the target's defaults differ from legacy "
    "behaviour (modern Istio: retries, retry conditions, panic threshold), take the target's: "
    "write no explicit setting, and report each route or policy affected (IM120).")]
InsecureSkipVerify = Annotated[bool, typer.Option(
    "--insecure-skip-verify", help="Modern Istio: TLS origination for EgressRule https ports "
    "skips verifying the server's certificate, as legacy did (default: verify, IM230).")]

DEFAULT_NAMESPACE = "default"
# check and verify read files only; convert also reads a cluster, where the default is the
# kubeconfig context's namespace, hence no default on the command line.
Namespace = Annotated[str, typer.Option(
    "--namespace", "-n", help="Namespace of resources that do not name one.")]
ConvertNamespace = Annotated[str | None, typer.Option(
    "--namespace", "-n", help="Files: namespace of resources that do not name one "
    "(default: default). --from-cluster: the namespace to migrate (default: the "
    "context's namespace).", show_default=False)]

CLUSTER_DOMAIN = "cluster.local"
ClusterDomain = Annotated[str, typer.Option(
    help="Cluster DNS domain used to resolve short service names.")]

# convert chooses the conversion; verify is told which one was used, to explain differences.
EgressTLSOption = Annotated[EgressTLS, typer.Option(
    help="EgressRule ports of protocol https: 'originate' keeps apps that speak plain HTTP "
    "working (the sidecar originates TLS); 'passthrough' emits HTTPS ports for apps that "
    "speak TLS themselves.")]
EgressTLSUsedOption = Annotated[EgressTLS, typer.Option(
    help="The --egress-tls the conversion used, so that the differences it intended are "
    "marked as explained.")]

INGRESS_GATEWAY_SELECTOR = "istio=ingressgateway"
IngressGatewaySelector = Annotated[str, typer.Option(
    help="Kubernetes Ingresses of class istio: pod labels of the ingress gateway that serves "
    "them (key=value[,key=value]).")]

AllowEmpty = Annotated[bool, typer.Option(
    "--allow-empty", help="Succeed when the paths hold no manifest at all (default: exit 2, "
    "since a mistyped path would otherwise pass).")]


def require_manifests(paths: list[str], count: int, allow_empty: bool) -> None:
    """No manifest file under ``paths`` is a usage error unless ``--allow-empty``: a wrong
    path or glob in CI must not pass as "nothing to migrate"."""
    if count == 0 and not allow_empty:
        raise CommandError(f"no manifests found under {', '.join(paths)} "
                           "(--allow-empty accepts that)")

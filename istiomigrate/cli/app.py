"""The typer app: the root options (``--version``) and one command per module of this package.

Commands are registered here, each through :func:`istiomigrate.cli.exits.command`, so that
no command module imports this one (no cycle) and none can miss the error boundary.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from istiomigrate import __version__
from istiomigrate.cli import check, convert, exits, verify

app = typer.Typer(
    name="istiomigrate",
    help="Migrate Istio's legacy routing config (RouteRule, DestinationPolicy, EgressRule, "
    "Ingress of class istio) to the v1alpha3 networking API, and report every conversion "
    "that is not exact. convert: files, trees or a live cluster. check: the CI gate. "
    "verify: prove the converted config routes as before.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def version_callback(value: bool) -> None:
    if value:
        print(f"istiomigrate {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[bool, typer.Option(
        "--version", callback=version_callback, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """istiomigrate: a careful converter from Istio's v1alpha1 routing API to v1alpha3."""


def _register(name: str, run: Callable[..., int]) -> None:
    """Make ``run`` the command ``name``: its return value is the exit status."""
    app.command(name=name)(exits.command(run))


_register("convert", convert.convert)
_register("check", check.check)
_register("verify", verify.verify)


def main() -> None:
    """Console entry point. Typer's standalone mode maps usage errors to exit 2."""
    # A run allocates millions of short-lived objects and almost no reference cycles:
    # collecting less often saves about a third of the time spent reading a large tree.
    gc.set_threshold(100_000, 50, 100)
    app(prog_name=prog_name(sys.argv[0]))


def prog_name(argv0: str) -> str:
    """``kubectl istiomigrate`` when run as the kubectl plugin (kubectl execs
    ``kubectl-istiomigrate``), so that usage lines show what the user typed."""
    plugin = os.path.basename(argv0).removesuffix(".exe") == "kubectl-istiomigrate"
    return "kubectl istiomigrate" if plugin else "istiomigrate"

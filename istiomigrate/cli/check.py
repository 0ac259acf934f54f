"""The ``istiomigrate check`` command: the CI gate that fails while legacy resources remain.

Importing only light modules at the top, so that a pre-commit hook or CI step
pays for typer and PyYAML and nothing else (no pydantic, jsonschema,
kubernetes client or rich): tests/test_imports.py holds it to that.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from istiomigrate.check import formats as outputs
from istiomigrate.cli.exits import EXIT_FINDINGS, EXIT_OK, CommandError
from istiomigrate.cli.options import (
    DEFAULT_NAMESPACE,
    AllowEmpty,
    Namespace,
    choice,
    require_manifests,
)

if TYPE_CHECKING:
    from enum import Enum

    class CheckFormat(str, Enum):
        """A format of the ``check.formats`` registry (members made from it at run time)."""
else:
    CheckFormat = choice("CheckFormat", outputs.FORMATS)
DEFAULT_FORMAT = CheckFormat("text")


def check(
    paths: Annotated[list[str], typer.Argument(
        help="Files or directories of manifests (*.yaml, *.yml, *.json; searched recursively, "
        "symlinks leaving a directory not followed), or - for standard input.",
        show_default=False, metavar="PATH")],
    output_format: Annotated[CheckFormat, typer.Option(
        "--format", "-f",
        help="text: one line per resource on stdout; json: a stable object (docs/check.md); "
        "github: workflow commands that annotate the files of a pull request; "
        "junit: JUnit XML, one testcase per file.")] = DEFAULT_FORMAT,
    output: Annotated[Path | None, typer.Option(
        "--output", dir_okay=False, show_default=False,
        help="Write the listing to this file (atomically) instead of stdout. (No -o: in "
        "convert, -o names the output format.)")] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    injection: Annotated[bool, typer.Option(
        "--injection",
        help="Also warn about workloads with a manually injected sidecar (istioctl "
        "kube-inject); automatic injection makes mesh upgrades a rolling restart.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict",
        help="Fail (exit 1) on warnings too: files that do not parse, manual injection.")] = False,
    allow_empty: AllowEmpty = False,
) -> int:
    """Fail while legacy Istio routing resources remain: a gate for CI and pre-commit.

    Lists every RouteRule, DestinationPolicy and EgressRule (config.istio.io)
    and every Ingress of class istio, with its file, line and column and the
    command that converts it. Helm templates are searched by their kind:
    lines; such entries are marked unparsed.

    Exit status: 0 no legacy resource; 1 legacy resources found (or, with
    --strict, warnings); 2 bad invocation or unreadable input.
    """
    from istiomigrate.check import find as checks

    result = checks.check_paths(paths, checks.CheckOptions(namespace=namespace,
                                                           injection=injection))
    require_manifests(paths, len(result.sources), allow_empty)
    fmt = output_format.value
    colour = output is None and outputs.use_colour(sys.stdout)
    _write(outputs.render(result, fmt, strict=strict, colour=colour), output)
    sys.stderr.write(outputs.render_diagnostics(result, fmt, outputs.use_colour(sys.stderr)))
    print(outputs.summary_line(result, strict), file=sys.stderr)
    return EXIT_FINDINGS if result.failed(strict) else EXIT_OK


def _write(text: str, output: Path | None) -> None:
    """The listing to stdout, or atomically to ``output`` (no half-written report for CI)."""
    if output is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `check . | head`: the reader left; keep the exit code
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    from istiomigrate.files import atomic_write

    try:
        atomic_write(output, text)
    except OSError as exc:
        raise CommandError(f"{output}: {exc.strerror or exc}") from None

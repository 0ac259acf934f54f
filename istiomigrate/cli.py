"""Command line: the edge where files, terminals and exit codes live.

Exit codes (also in the README): 0 converted with no error findings; 1
converted, but with error findings (output still printed); 2 bad invocation
or unreadable input (nothing on stdout).
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from istiomigrate import __version__
from istiomigrate.errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="istiomigrate",
    help="Migrate Istio v1alpha1 routing config (RouteRule, DestinationPolicy, EgressRule) "
    "to the v1alpha3 networking API, and report every conversion that is not exact.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Target(str, Enum):
    v08 = "0.8"
    v10 = "1.0"


class OutputFormat(str, Enum):
    yaml = "yaml"
    json = "json"


class ReportFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class EgressTLS(str, Enum):
    originate = "originate"
    passthrough = "passthrough"


def stderr_console():
    from rich.console import Console

    if os.environ.get("NO_COLOR"):  # https://no-color.org: no ANSI styling at all
        return Console(stderr=True, color_system=None, highlight=False)
    return Console(stderr=True, highlight=False)


def fail(message: str) -> typer.Exit:
    print(f"istiomigrate: error: {message}", file=sys.stderr)
    return typer.Exit(EXIT_USAGE)


@app.command()
def convert(
    paths: Annotated[list[str], typer.Argument(
        help="Files or directories of manifests (*.yaml, *.yml, *.json; searched recursively), "
        "or - for standard input.", show_default=False)],
    target: Annotated[Target, typer.Option(
        help="Istio version whose v1alpha3 schema the output must satisfy.")] = Target.v10,
    namespace: Annotated[str, typer.Option(
        "--namespace", "-n", help="Namespace of resources that do not name one.")] = "default",
    cluster_domain: Annotated[str, typer.Option(
        help="Cluster DNS domain used to resolve short service names.")] = "cluster.local",
    output: Annotated[OutputFormat, typer.Option(
        "--output", "-o", help="Format of the converted resources on stdout.")] = OutputFormat.yaml,
    egress_tls: Annotated[EgressTLS, typer.Option(
        help="EgressRule ports of protocol https: 'originate' keeps apps that speak plain HTTP "
        "working (the sidecar originates TLS); 'passthrough' emits HTTPS ports for apps that "
        "speak TLS themselves.")] = EgressTLS.originate,
    report_format: Annotated[ReportFormat, typer.Option(
        help="Format of the report of findings.")] = ReportFormat.text,
    report_file: Annotated[Path | None, typer.Option(
        help="Write the report to this file instead of standard error.", show_default=False,
        dir_okay=False)] = None,
) -> None:
    """Convert legacy routing resources and print the v1alpha3 resources on stdout.

    Documents that are not legacy Istio routing resources are passed over;
    Services are read to resolve source matches. The report of findings goes
    to standard error (or --report-file).
    """
    from istiomigrate import emit, pipeline, reader
    from istiomigrate.convert import Options

    options = Options(target=target.value, cluster_domain=cluster_domain,
                      egress_tls=egress_tls.value, default_namespace=namespace)
    try:
        inventory = reader.read_paths(paths, default_namespace=namespace)
        result = pipeline.run(inventory, options)
    except InputError as exc:
        raise fail(str(exc)) from None
    resources = result.conversion.resources
    text = emit.json_stream(resources) if output is OutputFormat.json else emit.yaml_stream(
        resources)
    sys.stdout.write(text)
    sys.stdout.flush()
    report = pipeline.build_report(result)
    write_report(report, report_format, report_file)
    raise typer.Exit(EXIT_FINDINGS if report.has_errors else EXIT_OK)


def write_report(report, report_format: ReportFormat, report_file: Path | None) -> None:
    from istiomigrate import report as reports

    if report_format is ReportFormat.json:
        text = reports.as_json(report)
    elif report_format is ReportFormat.markdown:
        text = reports.as_markdown(report)
    else:
        text = None
    if report_file is not None:
        from istiomigrate.files import atomic_write

        if text is None:
            text = "\n".join(reports.finding_line(f) for f in reports.sorted_findings(
                report.findings)) + "\n"
        atomic_write(report_file, text)
    elif text is not None:
        sys.stderr.write(text)
    else:
        reports.render_text(report, stderr_console())


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


from istiomigrate.check_command import check as _check  # noqa: E402

app.command(name="check")(_check)


def main() -> None:
    """Console entry point. Typer's standalone mode maps usage errors to exit 2."""
    app(prog_name="istiomigrate")

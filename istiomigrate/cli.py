"""Command line: the edge where files, terminals and exit codes live.

Exit codes (also in the README): 0 converted with no error findings; 1
converted, but with error findings (output still printed); 2 bad invocation
or unreadable input (nothing on stdout).
"""

from __future__ import annotations

import gc
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from istiomigrate import __version__
from istiomigrate.choices import (
    INGRESS_GATEWAY_SELECTOR,
    INGRESS_GATEWAY_SELECTOR_HELP,
    EgressTLS,
    parse_selector,
)
from istiomigrate.errors import InputError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

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
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or directories of manifests (*.yaml, *.yml, *.json; searched recursively), "
        "or - for standard input. Omitted with --from-cluster.", show_default=False)] = None,
    target: Annotated[Target, typer.Option(
        help="Istio version whose v1alpha3 schema the output must satisfy.")] = Target.v10,
    namespace: Annotated[str | None, typer.Option(
        "--namespace", "-n", help="Files: namespace of resources that do not name one "
        "(default: default). --from-cluster: the namespace to migrate (default: the "
        "context's namespace).", show_default=False)] = None,
    cluster_domain: Annotated[str, typer.Option(
        help="Cluster DNS domain used to resolve short service names.")] = "cluster.local",
    output: Annotated[OutputFormat | None, typer.Option(
        "--output", "-o", help="Format of the converted resources on stdout (default: yaml). "
        "--from-cluster prints the plan unless -o is given.", show_default=False)] = None,
    egress_tls: Annotated[EgressTLS, typer.Option(
        help="EgressRule ports of protocol https: 'originate' keeps apps that speak plain HTTP "
        "working (the sidecar originates TLS); 'passthrough' emits HTTPS ports for apps that "
        "speak TLS themselves.")] = EgressTLS.originate,
    ingress_gateway_selector: Annotated[str, typer.Option(
        help=INGRESS_GATEWAY_SELECTOR_HELP)] = INGRESS_GATEWAY_SELECTOR,
    ingress_gateway_namespace: Annotated[str, typer.Option(
        help="Kubernetes Ingresses of class istio: namespace of the ingress gateway, where "
        "their Gateway is written.")] = "istio-system",
    report_format: Annotated[ReportFormat, typer.Option(
        help="Format of the report of findings.")] = ReportFormat.text,
    report_file: Annotated[Path | None, typer.Option(
        help="Write the report to this file instead of standard error.", show_default=False,
        dir_okay=False)] = None,
    output_dir: Annotated[Path | None, typer.Option(
        help="Mirror the input tree under this directory, legacy documents replaced by their "
        "conversions; every other byte kept. --from-cluster: one YAML file per resource, "
        "<kind>-<name>.yaml in a directory per namespace.", show_default=False,
        file_okay=False)] = None,
    in_place: Annotated[bool, typer.Option(
        "--in-place", help="Rewrite the input files (atomically). Refused when there are "
        "error findings, unless --allow-lossy.")] = False,
    allow_lossy: Annotated[bool, typer.Option(
        "--allow-lossy", help="Write in place (--in-place) or apply (--apply) even with error "
        "findings.")] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print a unified diff of every file the conversion changes "
        "(on stdout; alone, it writes nothing).")] = False,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Before writing, simulate requests through the legacy and the "
        "converted config; a difference no finding explains is an error (IM310).")] = False,
    from_cluster: Annotated[bool, typer.Option(
        "--from-cluster", help="Read the legacy resources from a live cluster instead of "
        "files, and print the plan: what would be created, updated or left unchanged. "
        "A dry run: nothing is written without --apply.",
        rich_help_panel="Cluster (--from-cluster)")] = False,
    kubeconfig: Annotated[Path | None, typer.Option(
        help="Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster "
        "config).", show_default=False, dir_okay=False,
        rich_help_panel="Cluster (--from-cluster)")] = None,
    context: Annotated[str | None, typer.Option(
        help="Kubeconfig context (default: the current context).", show_default=False,
        rich_help_panel="Cluster (--from-cluster)")] = None,
    all_namespaces: Annotated[bool, typer.Option(
        "--all-namespaces", "-A", help="Migrate every namespace, not just one.",
        rich_help_panel="Cluster (--from-cluster)")] = False,
    request_timeout: Annotated[str | None, typer.Option(
        help="How long to wait for each API request: seconds, or 30s, 1m; 0 waits forever "
        "(default: 30s).", show_default=False, rich_help_panel="Cluster (--from-cluster)")] = None,
    apply: Annotated[bool, typer.Option(
        "--apply", help="Perform the plan: server dry run of every change, then the creates "
        "and updates. Refused with error findings unless --allow-lossy.",
        rich_help_panel="Cluster (--from-cluster)")] = False,
    prune_legacy: Annotated[bool, typer.Option(
        "--prune-legacy", help="With --apply, once every write succeeded: back up the legacy "
        "resources converted, then delete them.",
        rich_help_panel="Cluster (--from-cluster)")] = False,
    backup_dir: Annotated[Path | None, typer.Option(
        help="Where --prune-legacy writes legacy-backup.yaml (default: "
        "./istiomigrate-backup-<UTC time>).", show_default=False, file_okay=False,
        rich_help_panel="Cluster (--from-cluster)")] = None,
) -> None:
    """Convert legacy routing resources to v1alpha3.

    By default the converted resources go to stdout; with --output-dir or
    --in-place, files are rewritten where the legacy documents were. Documents
    that are not legacy Istio routing resources are passed over; Services are
    read to resolve source matches. The report of findings goes to standard
    error (or --report-file). With --from-cluster, the resources are read from
    a cluster and a plan is printed; --apply performs it (docs/cluster.md).
    """
    from istiomigrate import cluster, emit, pipeline, reader
    from istiomigrate.options import Options
    from istiomigrate.progress import Progress

    cluster_args = cluster.ClusterArgs(
        kubeconfig=kubeconfig, context=context, namespace=namespace,
        all_namespaces=all_namespaces, request_timeout=request_timeout,
        output=output.value if output else None, output_dir=output_dir, apply=apply,
        prune_legacy=prune_legacy, backup_dir=backup_dir, allow_lossy=allow_lossy)
    problem = cluster.usage_error(from_cluster, paths, cluster_args, in_place, diff)
    if problem:
        raise fail(problem)
    ingress = _ingress_options(ingress_gateway_selector, ingress_gateway_namespace)
    if from_cluster:
        options = Options(target=target.value, cluster_domain=cluster_domain,
                          egress_tls=egress_tls.value, verify=verify, **ingress)
        try:
            code = cluster.run(cluster_args, options,
                               lambda report: write_report(report, report_format, report_file))
        except (cluster.ClusterError, InputError) as exc:
            raise fail(str(exc)) from None
        raise typer.Exit(code)
    if not paths:  # required without --from-cluster: typer's own "Missing argument" error
        param = next(p for p in ctx.command.params if p.name == "paths")
        param.required = True
        param.process_value(ctx, None)
    namespace = "default" if namespace is None else namespace
    output = OutputFormat.yaml if output is None else output
    if output_dir is not None and in_place:
        raise fail("--output-dir and --in-place exclude each other")
    options = Options(target=target.value, cluster_domain=cluster_domain,
                      egress_tls=egress_tls.value, default_namespace=namespace, verify=verify,
                      **ingress)
    try:
        with Progress("reading") as bar:
            inventory = reader.read_paths(paths, namespace, on_file=bar.advance)
        result = pipeline.run(inventory, options)
        if output_dir is not None or in_place or diff:
            report = _write_files(result, paths, output_dir, in_place, allow_lossy, diff)
        else:
            resources = result.conversion.resources
            sys.stdout.write(emit.json_stream(resources) if output is OutputFormat.json
                             else emit.yaml_stream(resources))
            sys.stdout.flush()
            report = pipeline.build_report(result)
    except InputError as exc:
        raise fail(str(exc)) from None
    write_report(report, report_format, report_file)
    raise typer.Exit(EXIT_FINDINGS if report.has_errors else EXIT_OK)


def _ingress_options(selector: str, namespace: str) -> dict:
    """``key=value[,key=value]`` and a namespace, as Options fields; bad input exits 2."""
    import re

    try:
        pairs = parse_selector(selector)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", namespace):
        raise fail(f"--ingress-gateway-namespace {namespace!r} is not a namespace name")
    return {"ingress_gateway_selector": pairs, "ingress_gateway_namespace": namespace}


def _write_files(result, paths: list[str], output_dir: Path | None, in_place: bool,
                 allow_lossy: bool, diff: bool):
    """Plan every file, write the tree or in place, and print diffs; returns the report."""
    from istiomigrate import pipeline, place, write

    plans = place.plan(result.inventory.files, result.conversion.resources,
                       result.inventory.legacy)
    report = pipeline.build_report(result, plans)
    if in_place and report.has_errors and not allow_lossy:
        print("istiomigrate: error findings: nothing written (--allow-lossy writes anyway)",
              file=sys.stderr)
    elif output_dir is not None:
        write.write_tree(plans, paths, output_dir)
    elif in_place:
        write.write_in_place(plans)
    if diff:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        for item in plans:
            if item.changed:
                sys.stdout.write(_colour_diff(write.unified_diff(item)) if colour
                                 else write.unified_diff(item))
    if not result.inventory.legacy:
        print("istiomigrate: no legacy resources found; nothing to convert", file=sys.stderr)
    return report


def _colour_diff(text: str) -> str:
    colours = {"+": "\x1b[32m", "-": "\x1b[31m", "@": "\x1b[36m"}
    out = []
    for line in text.splitlines(keepends=True):
        start = colours.get(line[:1])
        out.append(f"{start}{line.rstrip(chr(10))}\x1b[0m\n" if start else line)
    return "".join(out)


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

from istiomigrate.verify_command import verify as _verify  # noqa: E402

app.command(name="verify")(_verify)


def main() -> None:
    """Console entry point. Typer's standalone mode maps usage errors to exit 2."""
    # A run allocates millions of short-lived objects and almost no reference cycles:
    # collecting less often saves about a third of the time spent reading a large tree.
    gc.set_threshold(100_000, 50, 100)
    app(prog_name="istiomigrate")

"""The ``istiomigrate convert`` command: files, trees or a live cluster to the target's API.

Exit codes (also in the README): 0 converted with no error findings; 1
converted, but with error findings (output still printed); 2 bad invocation
or unreadable input (nothing on stdout).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypedDict

import typer

from istiomigrate.cli.exits import EXIT_FINDINGS, EXIT_OK, CommandError
from istiomigrate.cli.options import (
    CLUSTER_DOMAIN,
    DEFAULT_NAMESPACE,
    DEFAULT_TARGET,
    INGRESS_GATEWAY_SELECTOR,
    AcceptTargetDefaults,
    AllowEmpty,
    ClusterDomain,
    ConvertNamespace,
    EgressTLS,
    EgressTLSOption,
    IngressGatewaySelector,
    InsecureSkipVerify,
    Target,
    choice,
    gateway_selector,
    require_manifests,
)
from istiomigrate.cluster import CLUSTER_TARGET
from istiomigrate.escape import shown
from istiomigrate.report import REPORTERS

if TYPE_CHECKING:
    from istiomigrate.options import Options
    from istiomigrate.pipeline import Result as PipelineResult
    from istiomigrate.report import Report

CLUSTER_PANEL = "Cluster (--from-cluster)"
_NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class OutputFormat(str, Enum):
    yaml = "yaml"
    json = "json"


if TYPE_CHECKING:
    class ReportFormat(str, Enum):
        """A format of the report registry (members made from it at run time)."""
else:
    ReportFormat = choice("ReportFormat", REPORTERS)
DEFAULT_REPORT_FORMAT = ReportFormat("text")


def convert(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or directories of manifests (*.yaml, *.yml, *.json; searched recursively), "
        "or - for standard input. Omitted with --from-cluster.", show_default=False)] = None,
    target: Annotated[Target | None, typer.Option(
        help="Istio version the output is for: the API, schema and defaults it is written "
        f"for. Default: {DEFAULT_TARGET.value}; with --from-cluster {CLUSTER_TARGET} (a "
        "cluster serving v1alpha1 routing runs Pilot 0.8 or older).",
        show_default=False)] = None,
    namespace: ConvertNamespace = None,
    cluster_domain: ClusterDomain = CLUSTER_DOMAIN,
    output: Annotated[OutputFormat | None, typer.Option(
        "--output", "-o", help="Format of the converted resources on stdout (default: yaml). "
        "--from-cluster prints the plan unless -o is given.", show_default=False)] = None,
    egress_tls: EgressTLSOption = EgressTLS.originate,
    accept_target_defaults: AcceptTargetDefaults = False,
    insecure_skip_verify: InsecureSkipVerify = False,
    ingress_gateway_selector: IngressGatewaySelector = INGRESS_GATEWAY_SELECTOR,
    ingress_gateway_namespace: Annotated[str, typer.Option(
        help="Kubernetes Ingresses of class istio: namespace of the ingress gateway, where "
        "their Gateway is written.")] = "istio-system",
    report_format: Annotated[ReportFormat, typer.Option(
        help="Format of the report of findings.")] = DEFAULT_REPORT_FORMAT,
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
        rich_help_panel=CLUSTER_PANEL)] = False,
    kubeconfig: Annotated[Path | None, typer.Option(
        help="Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster "
        "config).", show_default=False, dir_okay=False,
        rich_help_panel=CLUSTER_PANEL)] = None,
    context: Annotated[str | None, typer.Option(
        help="Kubeconfig context (default: the current context).", show_default=False,
        rich_help_panel=CLUSTER_PANEL)] = None,
    all_namespaces: Annotated[bool, typer.Option(
        "--all-namespaces", "-A", help="Migrate every namespace, not just one.",
        rich_help_panel=CLUSTER_PANEL)] = False,
    request_timeout: Annotated[str | None, typer.Option(
        help="How long to wait for each API request: seconds, or 30s, 1m; 0 waits forever "
        "(default: 30s).", show_default=False, rich_help_panel=CLUSTER_PANEL)] = None,
    apply: Annotated[bool, typer.Option(
        "--apply", help="Perform the plan: server dry run of every change, then the creates "
        "and updates. Refused with error findings unless --allow-lossy.",
        rich_help_panel=CLUSTER_PANEL)] = False,
    prune_legacy: Annotated[bool, typer.Option(
        "--prune-legacy", help="With --apply, once every write succeeded: back up the legacy "
        "resources converted, then delete them.",
        rich_help_panel=CLUSTER_PANEL)] = False,
    backup_dir: Annotated[Path | None, typer.Option(
        help="Where --prune-legacy writes legacy-backup.yaml (default: "
        "./istiomigrate-backup-<UTC time>).", show_default=False, file_okay=False,
        rich_help_panel=CLUSTER_PANEL)] = None,
    allow_empty: AllowEmpty = False,
) -> int:
    """Convert legacy routing resources to v1alpha3, or to v1 for modern Istio (--target).

    By default the converted resources go to stdout; with --output-dir or
    --in-place, files are rewritten where the legacy documents were. Documents
    that are not legacy Istio routing resources are passed over; Services are
    read to resolve source matches. The report of findings goes to standard
    error (or --report-file). With --from-cluster, the resources are read from
    a cluster and a plan is printed; --apply performs it (docs/cluster.md).
    """
    from istiomigrate import cluster
    from istiomigrate.options import Options

    cluster_args = cluster.ClusterArgs(
        kubeconfig=kubeconfig, context=context, namespace=namespace,
        all_namespaces=all_namespaces, request_timeout=request_timeout,
        output=output.value if output else None, output_dir=output_dir, apply=apply,
        prune_legacy=prune_legacy, backup_dir=backup_dir, allow_lossy=allow_lossy,
        target_given=target is not None)
    problem = cluster.usage_error(from_cluster, paths, cluster_args, in_place, diff)
    if problem:
        raise CommandError(problem)
    ingress = _ingress_options(ingress_gateway_selector, ingress_gateway_namespace)
    options = Options(target=_target(target, from_cluster), cluster_domain=cluster_domain,
                      egress_tls=egress_tls.value, verify=verify,
                      accept_target_defaults=accept_target_defaults,
                      insecure_skip_verify=insecure_skip_verify, **ingress)

    if verify:
        _simulated(options.target)

    def report_to(report: Report) -> None:
        write_report(report, report_format.value, report_file)

    if from_cluster:
        return cluster.run(cluster_args, options, report_to)
    paths = _required(ctx, "paths", paths)
    if output_dir is not None and in_place:
        raise CommandError("--output-dir and --in-place exclude each other")
    if in_place and "-" in paths:
        raise CommandError("--in-place cannot rewrite standard input (-); use --output-dir "
                           "or redirect stdout")
    namespace = DEFAULT_NAMESPACE if namespace is None else namespace
    exclude = _output_outside_inputs(paths, output_dir) if output_dir is not None else ()
    from istiomigrate.journal import Conflict

    try:
        _finish_interrupted_run(paths, in_place)
        result = _run(paths, namespace, replace(options, default_namespace=namespace), exclude)
        require_manifests(paths, len(result.inventory.files), allow_empty)
        if output_dir is not None or in_place or diff:
            report = _write_files(result, paths, output_dir, in_place, allow_lossy, diff)
            report_to(report)
        else:
            text, report = _resources_text(result, OutputFormat.yaml if output is None else output)
            report_to(report)  # first: a --report-file that cannot be written leaves stdout empty
            sys.stdout.write(text)
            sys.stdout.flush()
    except Conflict as exc:
        print(f"istiomigrate: error: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    return EXIT_FINDINGS if report.has_errors else EXIT_OK


def _finish_interrupted_run(paths: list[str], in_place: bool) -> None:
    """Complete the journal of a killed ``--in-place`` run before reading the tree.

    Without ``--in-place`` the tree is half converted and is not read: a usage error.
    A file edited since that run read it is a :class:`journal.Conflict` (exit 1).
    """
    from istiomigrate import journal
    from istiomigrate.write import common_base

    if paths == ["-"]:
        return
    base = common_base(paths)
    if not in_place:
        if journal.pending(base):
            raise CommandError(f"{base / journal.JOURNAL}: an interrupted --in-place run left "
                               "this tree half converted; run convert --in-place again to "
                               "complete it")
        return
    done = journal.complete(base)
    if done:
        print(f"istiomigrate: note: completed an interrupted --in-place run "
              f"({len(done)} file(s) written)", file=sys.stderr)


def _target(given: Target | None, from_cluster: bool) -> str:
    """``--target`` as given, else per mode: what a cluster still serving v1alpha1 runs."""
    if given is not None:
        return str(given.value)
    return CLUSTER_TARGET if from_cluster else str(DEFAULT_TARGET.value)


def _simulated(target: str) -> None:
    """``--verify`` needs the target's mesh simulated; a target without a simulator is a
    usage error, said before anything is read."""
    from istiomigrate import targets

    if targets.for_version(target).simulator(target) is None:
        raise CommandError(f"--verify: target {target} has no simulator yet, so its output "
                           "cannot be verified; convert without --verify, or verify a "
                           "v1alpha3 target (0.8, 1.0)")


def _required(ctx: typer.Context, name: str, value: list[str] | None) -> list[str]:
    """An argument required only without --from-cluster: when missing, typer's own
    "Missing argument" usage error, as if it had been declared required."""
    if not value:
        param = next(p for p in ctx.command.params if p.name == name)
        param.required = True
        param.process_value(ctx, None)  # raises typer's usage error (exit 2)
    return value or []


class _IngressOptions(TypedDict):
    ingress_gateway_selector: tuple[tuple[str, str], ...]
    ingress_gateway_namespace: str


def _ingress_options(selector: str, namespace: str) -> _IngressOptions:
    """``key=value[,key=value]`` and a namespace, as Options fields; bad input exits 2."""
    pairs = gateway_selector(selector)
    if not _NAMESPACE_NAME.fullmatch(namespace):
        raise CommandError(f"--ingress-gateway-namespace {namespace!r} is not a namespace name")
    return {"ingress_gateway_selector": pairs, "ingress_gateway_namespace": namespace}


def _output_outside_inputs(paths: list[str], output_dir: Path) -> tuple[Path, ...]:
    """What the walk must leave out so that ``--output-dir`` never reads or overwrites input.

    The output directory being the inputs' base would rewrite the inputs themselves (that
    is ``--in-place``, which refuses lossy conversions): a usage error. Inside an input
    directory, it is left out of the walk, so that a second run does not convert the
    first run's output again (into OUT/OUT/); a note says so.
    """
    from istiomigrate.write import common_base

    out = output_dir.resolve()
    if common_base(paths) == out:
        raise CommandError(f"--output-dir {output_dir} is the input directory: it would "
                           "overwrite the inputs (use --in-place to rewrite them)")
    inside = [p for p in paths if p != "-" and Path(p).is_dir()
              and out.is_relative_to(Path(p).resolve())]
    if inside:
        print(f"istiomigrate: note: {shown(output_dir)} is inside the input {shown(inside[0])}; "
              "not read as input", file=sys.stderr)
    return (out,)


def _run(paths: list[str], namespace: str, options: Options,
         exclude: tuple[Path, ...] = ()) -> PipelineResult:
    """Read the files (a progress bar on a terminal, for long runs) and convert them."""
    from istiomigrate import pipeline
    from istiomigrate.progress import Progress
    from istiomigrate.read.inventory import read_paths

    with Progress("reading") as bar:
        inventory = read_paths(paths, namespace, on_file=bar.advance, exclude=exclude)
    return pipeline.run(inventory, options)


def _resources_text(result: PipelineResult, output: OutputFormat) -> tuple[str, Report]:
    """The converted resources as one YAML or JSON stream for stdout, and the report."""
    from istiomigrate import emit, pipeline

    resources = result.conversion.resources
    text = (emit.json_stream(resources) if output is OutputFormat.json
            else emit.yaml_stream(resources))
    return text, pipeline.build_report(result)


def _write_files(result: PipelineResult, paths: list[str], output_dir: Path | None,
                 in_place: bool, allow_lossy: bool, diff: bool) -> Report:
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
        write.write_in_place(plans, paths)
    if diff:
        terminal = sys.stdout.isatty()
        colour = terminal and not os.environ.get("NO_COLOR")
        for item in plans:
            if item.changed:
                text = write.unified_diff(item)
                if terminal:  # a pipe gets the exact patch; a terminal no escape sequence
                    text = "".join(shown(line.rstrip("\n")) + "\n"
                                   for line in text.splitlines(keepends=True))
                sys.stdout.write(_colour_diff(text) if colour else text)
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


def write_report(report: Report, report_format: str, report_file: Path | None) -> None:
    """The report in ``report_format`` to standard error, or atomically to ``report_file``."""
    text = REPORTERS[report_format](report, None if report_file is not None else sys.stderr)
    if report_file is None:
        sys.stderr.write(text)
        return
    from istiomigrate.files import atomic_write

    atomic_write(report_file, text)

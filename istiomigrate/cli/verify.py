"""``istiomigrate verify``: does the converted config route like the legacy one?

Exit codes: 0 no request is routed differently; 1 some are (each printed on
stdout); 2 bad invocation or unreadable input. Differences that a finding
of the converter accounts for are printed too, marked "explained by": the
verdict is about behaviour, the explanation about intent.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from istiomigrate.cli.exits import EXIT_FINDINGS, EXIT_OK, CommandError
from istiomigrate.cli.options import (
    CLUSTER_DOMAIN,
    DEFAULT_NAMESPACE,
    DEFAULT_TARGET,
    INGRESS_GATEWAY_SELECTOR,
    AllowEmpty,
    ClusterDomain,
    EgressTLS,
    EgressTLSUsedOption,
    IngressGatewaySelector,
    Namespace,
    TargetOption,
    gateway_selector,
    require_manifests,
)
from istiomigrate.errors import InputError
from istiomigrate.escape import shown
from istiomigrate.kinds import NETWORKING_KINDS as CONVERTED_KINDS

if TYPE_CHECKING:
    from istiomigrate.findings import Finding
    from istiomigrate.model import Json
    from istiomigrate.options import Options
    from istiomigrate.read.inventory import Inventory
    from istiomigrate.targets import Simulator
    from istiomigrate.verify import Comparison

EXIT_DIFFERENT = EXIT_FINDINGS


class VerifyFormat(str, Enum):
    text = "text"
    json = "json"


def verify(
    paths: Annotated[list[str], typer.Argument(
        help="Legacy manifests (files, directories, or - for standard input).",
        show_default=False)],
    against: Annotated[list[str], typer.Option(
        "--against", help="Converted v1alpha3 manifests (files or directories); repeatable.",
        show_default=False)],
    output_format: Annotated[VerifyFormat, typer.Option(
        "--format", help="text, or json for machines.")] = VerifyFormat.text,
    namespace: Namespace = DEFAULT_NAMESPACE,
    cluster_domain: ClusterDomain = CLUSTER_DOMAIN,
    max_requests: Annotated[int, typer.Option(
        help="At most this many requests per host (a deterministic sample beyond).",
        min=1)] = 2000,
    egress_tls: EgressTLSUsedOption = EgressTLS.originate,
    target: TargetOption = DEFAULT_TARGET,
    ingress_gateway_selector: IngressGatewaySelector = INGRESS_GATEWAY_SELECTOR,
    allow_empty: AllowEmpty = False,
) -> int:
    """Prove the converted config routes every request as the legacy config did.

    Both configs are simulated on requests derived from them; every request
    routed differently is printed (the request, both outcomes, the resources
    involved). Exit 1 if any, else 0.
    """
    from istiomigrate import verify as verifying
    from istiomigrate.options import Options
    from istiomigrate.read.inventory import read_paths

    gateway = gateway_selector(ingress_gateway_selector)
    try:
        inventory = read_paths(paths, default_namespace=namespace)
        require_manifests(paths, len(inventory.files), allow_empty)
        docs = read_converted(against, target.value)
    except ValueError as exc:  # not an InputError (those reach the error boundary as they are)
        raise CommandError(str(exc)) from None
    options = Options(target=target.value, cluster_domain=cluster_domain,
                      egress_tls=egress_tls.value,
                      default_namespace=namespace, ingress_gateway_selector=gateway)
    findings = _findings(inventory, options)
    try:
        result = verifying.compare(inventory, docs, findings, cluster_domain=cluster_domain,
                                   default_namespace=namespace, max_per_host=max_requests,
                                   ingress_gateway=gateway,
                                   simulator=_simulator(target.value))
    except (TypeError, ValueError) as exc:  # a value of the wrong type in a hand-written file
        raise CommandError(f"converted config not understood: {exc}") from None
    _print(result, output_format)
    return EXIT_DIFFERENT if result.differences else EXIT_OK


def _simulator(version: str) -> Simulator:
    """The simulator of the target the conversion was made for; a target without one
    cannot be verified (a usage error)."""
    from istiomigrate import targets

    simulator = targets.for_version(version).simulator(version)
    if simulator is None:
        raise CommandError(f"--target {version}: this target has no simulator to verify with")
    return simulator


def _print(result: Comparison, output_format: VerifyFormat) -> None:
    """The differences on stdout (text or JSON); in text, a count on stderr."""
    explained = sum(1 for d in result.differences if d.explained_by)
    if output_format is VerifyFormat.json:
        json.dump({"requests": result.requests,
                   "differences": [d.as_dict() for d in result.differences],
                   "explained": explained}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for diff in result.differences:
            # Hosts, paths and headers in a difference come from input: one shown line each.
            sys.stdout.write("\n".join(map(shown, diff.describe().split("\n"))) + "\n\n")
        print(f"{result.requests} requests compared, {len(result.differences)} routed "
              f"differently ({explained} explained by findings)", file=sys.stderr)
    sys.stdout.flush()


def _findings(inventory: Inventory, options: Options) -> list[Finding]:
    """The converter's findings for this input, to say which differences were intended."""
    from istiomigrate.pipeline import convert

    try:
        conversion = convert(inventory, options)
    except InputError:
        return list(inventory.findings)
    return [*inventory.findings, *conversion.findings]


def read_converted(paths: list[str], target: str | None = None) -> list[Json]:
    """v1alpha3 documents from YAML or JSON files (``kind: List`` unwrapped); others skipped.

    The files are hand-written as often as not: whatever they hold is one
    ``InputError`` naming the file and document (and the field, where one is wrong),
    never a traceback from the simulators. With ``target``, values of the wrong type
    for its schema are such errors too.
    """
    from istiomigrate.read.inputs import iter_inputs

    docs: list[Json] = []
    for source in iter_inputs(paths):
        docs.extend(_converted_file(source.text, source.display, target))
    return docs


def _converted_file(text: str, file: str, target: str | None) -> list[Json]:
    """One file's documents, read as Pilot read them (snake_case names, nulls absent)."""
    from istiomigrate.read import yamlload
    from istiomigrate.read.protojson import as_pilot_read

    docs: list[Json] = []
    index = 0
    try:
        for index, data in enumerate(yamlload.load_all(text)):  # bounded: no alias bomb
            docs.extend(_networking(as_pilot_read(data), file, index, target))
    except yaml.YAMLError as exc:
        line = yamlload.error_line(exc)
        raise InputError(f"YAML does not parse: {yamlload.error_text(exc)}", file=file,
                         line=None if line is None else line + 1) from None
    except RecursionError:
        raise InputError("nested too deeply (or a recursive alias)", file=file,
                         document=index) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a YAML tag's constructor refused
        raise InputError(f"YAML value not understood: {_one_line(exc)}", file=file) from None
    return docs


def _one_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _networking(data: Any, file: str, index: int, target: str | None) -> list[Json]:
    if data is None:
        return []
    if not isinstance(data, dict):
        raise InputError("a document must be a mapping", file=file, document=index)
    if data.get("kind") == "List":
        items = data.get("items")
        if items is not None and not isinstance(items, list):
            raise InputError("must be a list", file=file, document=index, field="items")
        return [d for item in items or [] for d in _networking(item, file, index, target)]
    if data.get("kind") not in CONVERTED_KINDS:
        return []
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InputError("must be a mapping", file=file, document=index, field="metadata")
    name = (metadata or {}).get("name", "?")
    problem = shape_problem(data.get("spec"))
    if not problem and target is not None:
        from istiomigrate.schemas import type_problems

        problem = next((f"{path}: {message}" for path, message in type_problems(data, target)),
                       None)
    if problem:
        raise InputError(f"{data['kind']} {name}: {problem}", file=file, document=index)
    return [data]


# Where the simulator walks a v1alpha3 spec: lists of mappings, and mappings.
_LISTS = {"match", "route", "subsets", "ports", "portLevelSettings"}
_TOP_LISTS = {"http", "tcp"}  # lists at the top of a spec; ``http`` is a mapping elsewhere
_MAPS = {"destination", "mirror", "redirect", "rewrite", "retries", "fault", "delay", "abort",
         "corsPolicy", "trafficPolicy", "connectionPool", "outlierDetection", "loadBalancer",
         "tls", "headers", "sourceLabels", "labels", "appendHeaders", "percentage"}
_MATCH_MAPS = {"uri", "method", "authority", "scheme"}  # StringMatch in a match, text elsewhere


def shape_problem(spec: Any, path: str = "spec") -> str | None:
    """The first place where a spec is not the shape the simulator reads, if any.

    Values are not checked (a wrong value is a difference, not bad input);
    the nesting is, so that a hand-written file fails with a message, not a
    traceback.
    """
    if not isinstance(spec, dict):
        return f"{path} must be a mapping"
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key in _LISTS or (key in _TOP_LISTS and path == "spec"):
            if not isinstance(value, list):
                return f"{where} must be a list"
            problem = next(filter(None, (shape_problem(item, f"{where}[{i}]")
                                         for i, item in enumerate(value))), None)
        elif key in _MAPS or isinstance(value, dict) or (
                key in _MATCH_MAPS and path.rsplit(".", 1)[-1].startswith("match[")):
            problem = shape_problem(value, where)
            if key == "headers" and problem is None:
                problem = next(filter(None, (shape_problem(v, f"{where}.{k}")
                                             for k, v in value.items())), None)
        else:
            continue
        if problem:
            return problem
    return None

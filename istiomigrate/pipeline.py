"""The pipeline, end to end: read -> plan -> render -> validate -> (emit/place, write/report).

Each step lives in its own module (``reader``, ``plan``, ``targets``, ``schemas``,
``emit`` and ``place``, ``write`` and ``report``); this one only wires them
together so that the CLI, the cluster mode and the tests all run the same
sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from istiomigrate import plan, targets
from istiomigrate.findings import Finding, SourceRef
from istiomigrate.model import Resource
from istiomigrate.options import Options
from istiomigrate.read.inventory import Inventory
from istiomigrate.report import FileSummary, Report

if TYPE_CHECKING:
    from istiomigrate.place import FilePlan
    from istiomigrate.verify import Difference


@dataclass
class Conversion:
    resources: list[Resource] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def convert(inventory: Inventory, options: Options) -> Conversion:
    """Plan, then render for ``options.target``: findings say what is not exact. Pure."""
    planned = plan.build(inventory, options)
    target = targets.for_version(options.target)
    rendered = target.render(planned, inventory.existing, options)
    return Conversion(rendered.resources, [*planned.findings, *rendered.findings])


@dataclass
class Result:
    inventory: Inventory
    conversion: Conversion

    @property
    def findings(self) -> list[Finding]:
        return [*self.inventory.findings, *self.conversion.findings]


def run(inventory: Inventory, options: Options) -> Result:
    """Convert an inventory and check every output against the target's schema.

    With ``options.verify``, the converter also checks itself: both configurations
    are simulated and every difference that no finding explains becomes an error.
    """
    conversion = convert(inventory, options)
    conversion.findings.extend(validate(conversion, options.target, options.cluster_domain))
    if options.verify:
        conversion.findings.extend(self_check(inventory, conversion, options))
    return Result(inventory, conversion)


def self_check(inventory: Inventory, conversion: Conversion, options: Options) -> list[Finding]:
    """One IM310 per legacy resource involved in differences no finding explains."""
    from istiomigrate.verify import explain, verify

    simulator = targets.for_version(options.target).simulator(options.target)
    if simulator is None:
        raise ValueError(f"target {options.target} has no simulator: it cannot be verified")
    findings = [*inventory.findings, *conversion.findings]
    docs = [r.document() for r in conversion.resources]
    differences = verify(inventory, docs, findings, cluster_domain=options.cluster_domain,
                         default_namespace=options.default_namespace,
                         ingress_gateway=options.ingress_gateway_selector, simulator=simulator)
    _, unexplained = explain(differences, findings)
    refs = {(r.kind, r.namespace, r.name): r.ref for r in inventory.legacy}
    grouped: dict[tuple[str, str, str], list[Difference]] = {}
    for diff in unexplained:
        ref = diff.legacy[0].ref if diff.legacy else None
        key = (ref.kind, ref.namespace, ref.name) if ref else ("", "", "")
        grouped.setdefault(key, []).append(diff)
    out = []
    for key, diffs in grouped.items():
        example = diffs[0]
        aspects = sorted({a.describe() for d in diffs for a in d.aspects})
        out.append(Finding(
            "IM310", f"{len(diffs)} simulated request(s) differ in {', '.join(aspects)}; e.g. "
            f"{example.request.describe()}: legacy {example.old.describe()}, converted "
            f"{example.new.describe()}. Please report this.", refs.get(key)))
    return out


def validate(conversion: Conversion, target: str,
             cluster_domain: str = "cluster.local") -> list[Finding]:
    """A converted document its Istio would refuse is a bug in istiomigrate: say so loudly.

    Two checks, both IM307: the target's JSON Schema (skipped for a target without one,
    ``Target.schema_dir`` None) and, if the target has ``check_output``, the rules of
    its Istio's own validation that a schema cannot express.
    """
    problems: list[tuple[int, str]] = []
    if targets.for_version(target).schema_dir(target) is not None:
        from istiomigrate.schemas import validate_output

        problems = [(i, f"fails the Istio {target} schema: {error}")
                    for i, res in enumerate(conversion.resources)
                    for error in validate_output(res.document(), target)]
    check = getattr(targets.for_version(target), "check_output", None)
    if check is not None:  # on what the schema accepts: its rules assume well-typed fields
        docs = [res.document() for res in conversion.resources]
        failed = {i for i, _ in problems}
        problems += [(i, f"fails Istio {target}'s own validation: {error}")
                     for i, error in check(docs, target, cluster_domain) if i not in failed]
    findings = []
    for index, problem in problems:
        res = conversion.resources[index]
        source = res.legacy[0].ref if res.legacy else SourceRef(res.kind, res.namespace, res.name)
        findings.append(Finding(
            "IM307", f"{res.kind} {res.namespace}/{res.name} {problem}. Please report this bug.",
            source))
    return findings


def build_report(result: Result, plans: list[FilePlan] | None = None) -> Report:
    """Per input file: legacy found, resources written there (or from it, on stdout), findings."""
    per_file: dict[str, FileSummary] = {
        f.display: FileSummary(f.display) for f in result.inventory.files
    }
    for res in result.inventory.legacy:
        if res.ref.file in per_file:
            per_file[res.ref.file].legacy += 1
    if plans is not None:
        for item in plans:
            per_file[item.source.display].written = len(item.written)
    else:
        for out in result.conversion.resources:
            first = out.legacy[0].ref.file if out.legacy else None
            if first in per_file:
                per_file[first].written += 1
    for finding in result.findings:
        if finding.source and finding.source.file in per_file:
            per_file[finding.source.file].findings[finding.severity.value] += 1
    files = [s for s in per_file.values() if s.legacy or s.written or sum(s.findings.values())]
    outputs = [
        {"kind": r.kind, "namespace": r.namespace, "name": r.name,
         "from": [f"{x.kind} {x.namespace}/{x.name}" for x in r.legacy],
         "merged_into": r.merged_into.ref.location() if r.merged_into else None}
        for r in result.conversion.resources
    ]
    return Report([f.display for f in result.inventory.files], outputs, result.findings,
                  files)


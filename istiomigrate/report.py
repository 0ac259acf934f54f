"""Report step: findings and a per-file summary, as text (stderr), JSON or Markdown.

The formats are a registry, :data:`REPORTERS`: a format is one function registered
under its name with :func:`reporter`, and the CLI's ``--report-format`` choices are
the registry's keys, so that adding a format is one function here.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from istiomigrate.escape import shown
from istiomigrate.findings import Finding, Severity

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class FileSummary:
    file: str
    legacy: int = 0
    written: int = 0
    findings: Counter[str] = field(default_factory=Counter)  # by severity value


@dataclass
class Report:
    inputs: list[str]
    outputs: list[dict[str, Any]]
    findings: list[Finding]
    files: list[FileSummary] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def has_errors(self) -> bool:
        return self.count(Severity.ERROR) > 0


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(
        findings,
        key=lambda f: (
            (f.source.file or "") if f.source else "",
            (f.source.line or 0) if f.source else 0,
            order[f.severity],
            f.code,
        ),
    )


def finding_line(finding: Finding) -> str:
    where = finding.source.location() if finding.source else ""
    what = finding.source.label() if finding.source and finding.source.kind != "File" else ""
    prefix = f"{where}: " if where else ""
    subject = f"{what}: " if what else ""
    # One line whatever the input held: names, files and messages carry input text.
    return shown(f"{prefix}{finding.severity.value} {finding.code}: {subject}{finding.message}")


Reporter = Callable[[Report, TextIO | None], str]
"""A report format: the report as text. The second argument is the stream the text will be
written to when it is a terminal-like stream (standard error), so that a format can style
it for that stream; None when the text goes to a file."""

REPORTERS: dict[str, Reporter] = {}


def reporter(name: str) -> Callable[[Reporter], Reporter]:
    """Register a format under ``name``; a name registered twice is a programming error."""

    def register(render: Reporter) -> Reporter:
        if name in REPORTERS:
            raise ValueError(f"report format {name!r} is already registered")
        REPORTERS[name] = render
        return render

    return register


@reporter("text")
def as_text(report: Report, stream: TextIO | None = None) -> str:
    """For standard error: findings, the per-file table and a summary line, through rich,
    which colours them only on a terminal and never under NO_COLOR. For a file: the
    finding lines alone, plain, one per line."""
    if stream is None:
        return "\n".join(finding_line(f) for f in sorted_findings(report.findings)) + "\n"
    console = _console(stream)
    with console.capture() as captured:
        render_text(report, console)
    return captured.get()


def _console(stream: TextIO) -> Console:
    from rich.console import Console

    if os.environ.get("NO_COLOR"):  # https://no-color.org: no ANSI styling at all
        return Console(file=stream, color_system=None, highlight=False)
    return Console(file=stream, highlight=False)


@reporter("json")
def as_json(report: Report, stream: TextIO | None = None) -> str:
    """The report for machines (never styled): a stable object, findings sorted."""
    doc = {
        "inputs": report.inputs,
        "outputs": report.outputs,
        "files": [
            {"file": f.file, "legacy": f.legacy, "written": f.written,
             "findings": {s.value: f.findings.get(s.value, 0) for s in Severity}}
            for f in report.files
        ],
        "summary": {s.value: report.count(s) for s in Severity},
        "findings": [f.as_dict() for f in sorted_findings(report.findings)],
    }
    return json.dumps(doc, indent=2) + "\n"


@reporter("markdown")
def as_markdown(report: Report, stream: TextIO | None = None) -> str:
    """The report as a pull-request comment: the per-file table, a summary, the findings."""
    lines = ["## istiomigrate conversion report", ""]
    if report.files:
        lines += ["| file | legacy | written | errors | warnings | info |",
                  "|---|---:|---:|---:|---:|---:|"]
        for f in report.files:
            lines.append(f"| {_md_escape(shown(f.file))} | {f.legacy} | {f.written} | "
                         f"{f.findings.get('error', 0)} | {f.findings.get('warning', 0)} | "
                         f"{f.findings.get('info', 0)} |")
        lines.append("")
    lines += [_summary_line(report), ""]
    for finding in sorted_findings(report.findings):
        lines.append(f"- **{finding.code}** ({finding.severity.value}) "
                     f"{_md_escape(finding_line(finding))}")
    return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    """Every ASCII punctuation character backslash-escaped (CommonMark allows it for all), so
    a name from input cannot open a link, an image, HTML, a code span or a table cell."""
    return _MD_PUNCTUATION.sub(r"\\\g<0>", text)


_MD_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")


def _summary_line(report: Report) -> str:
    return (f"{len(report.outputs)} resources converted; {report.count(Severity.ERROR)} errors, "
            f"{report.count(Severity.WARNING)} warnings, {report.count(Severity.INFO)} info")


def render_text(report: Report, console: Console) -> None:
    """Findings, then the per-file table and a summary line, on a rich console (stderr)."""
    from rich.table import Table
    from rich.text import Text

    style = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
    for finding in sorted_findings(report.findings):
        console.print(finding_line(finding), style=style[finding.severity], markup=False,
                      highlight=False, soft_wrap=True)
    if report.files:
        table = Table(title="istiomigrate", title_justify="left")
        for column in ("file", "legacy", "written", "errors", "warnings", "info"):
            table.add_column(column, justify="left" if column == "file" else "right",
                             overflow="fold")
        for f in report.files:
            table.add_row(Text(shown(f.file)), str(f.legacy), str(f.written),
                          *(str(f.findings.get(s, 0)) for s in ("error", "warning", "info")))
        console.print(table)
    console.print(_summary_line(report), markup=False, highlight=False)

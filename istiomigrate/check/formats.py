"""Output formats of ``istiomigrate check``: text, json, github and junit.

Renderers are pure: a CheckResult in, a string out, so that the command can
write to stdout or atomically to a file, and tests can read them back. They
form a registry, :data:`FORMATS`: a format is one function registered under
its name with :func:`output_format`, and ``check --format`` offers the
registry's keys. The JSON object is a documented interface (docs/check.md):
fields are only ever added, and ``version`` changes if one changes meaning.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from istiomigrate.check.find import CheckResult, CheckWarning, LegacyEntry, Location
from istiomigrate.escape import shown

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

JSON_VERSION = 1
JUNIT_SUITE = "istiomigrate-check"

_BOLD, _RED, _YELLOW, _DIM, _RESET = "\033[1m", "\033[31m", "\033[33m", "\033[2m", "\033[0m"


class Renderer(Protocol):
    """A format of ``check``'s listing. Every format takes both settings, and uses those
    that mean something to it: ``strict`` (warnings fail the check), ``colour`` (ANSI
    styling, for a terminal)."""

    def __call__(self, result: CheckResult, *, strict: bool, colour: bool) -> str: ...


FORMATS: dict[str, Renderer] = {}


def output_format(name: str) -> Callable[[Renderer], Renderer]:
    """Register a format under ``name``; a name registered twice is a programming error."""

    def register(render: Renderer) -> Renderer:
        if name in FORMATS:
            raise ValueError(f"check format {name!r} is already registered")
        FORMATS[name] = render
        return render

    return register


def render(result: CheckResult, fmt: str, *, strict: bool = False, colour: bool = False) -> str:
    """The data output (what goes to stdout or --output) in format ``fmt``."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown check format {fmt!r}; known: {', '.join(FORMATS)}") from None
    return renderer(result, strict=strict, colour=colour)


def render_diagnostics(result: CheckResult, fmt: str, colour: bool = False) -> str:
    """What goes to standard error beside the data: the text format lists the warnings
    there, as diagnostics; the other formats carry them in their data."""
    return render_warnings_text(result, colour) if fmt == "text" else ""


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set or TERM is dumb."""
    environ = os.environ if environ is None else environ
    if "NO_COLOR" in environ or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{_RESET}" if colour else text


def where(location: Location, source: str) -> str:
    """``FILE:LINE:COL`` as compilers print it, or the source name for cluster entries."""
    if location.file is None:
        return shown(source)
    parts = [location.file]
    parts += [str(n) for n in (location.line, location.column) if n is not None]
    return shown(":".join(parts))


# --------------------------------------------------------------------------- text


def describe(entry: LegacyEntry, colour: bool = False) -> str:
    """``Kind ns/name (api): convert with: COMMAND``: a legacy entry without its location."""
    api = entry.api_version or "no apiVersion"
    if entry.unparsed:
        api += ", unparsed: the name may be a template; render it before converting"
    tail = f": convert with: {entry.convert}" if entry.convert else ""
    kind = _paint(shown(entry.kind), _RED, colour)
    return f"{kind} {shown(entry.namespace)}/{shown(entry.name)} ({shown(api)}){shown(tail)}"


def legacy_line(entry: LegacyEntry, colour: bool = False) -> str:
    """One line per resource: ``FILE:LINE:COL: Kind ns/name (api): convert with: COMMAND``."""
    location = _paint(where(entry.location, entry.source), _BOLD, colour)
    return f"{location}: {describe(entry, colour)}"


def warning_line(warning: CheckWarning, colour: bool = False) -> str:
    label = _paint("warning", _YELLOW, colour)
    return f"{where(warning.location, warning.source)}: {label}: {shown(warning.message)}"


@output_format("text")
def render_text(result: CheckResult, colour: bool = False, *, strict: bool = False) -> str:
    """The listing of legacy resources; warnings are diagnostics and go to stderr apart."""
    return "".join(legacy_line(e, colour) + "\n" for e in result.legacy)


def render_warnings_text(result: CheckResult, colour: bool = False) -> str:
    return "".join(warning_line(w, colour) + "\n" for w in result.warnings)


def summary_line(result: CheckResult, strict: bool = False) -> str:
    """One line for stderr: what was found and whether the check fails."""
    files = len(result.sources)
    scanned = f"{files} file{'s' if files != 1 else ''}"
    warnings = len(result.warnings)
    warned = f"; {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    if strict and warnings:
        warned += " (--strict: warnings fail the check)"
    if not result.legacy:
        return f"istiomigrate check: no legacy resources in {scanned}{warned}"
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(Counter(e.kind for e in result.legacy).items()))
    files_with = len({e.source for e in result.legacy})
    count = len(result.legacy)
    return (
        f"istiomigrate check: {count} legacy resource{'s' if count != 1 else ''} ({kinds}) "
        f"in {files_with} of {scanned}{warned}; convert with istiomigrate convert"
    )


# --------------------------------------------------------------------------- json


def as_dict(result: CheckResult, strict: bool = False) -> dict[str, Any]:
    """The stable JSON object, documented field by field in docs/check.md."""
    return {
        "version": JSON_VERSION,
        "legacy": [_legacy_dict(e) for e in result.legacy],
        "warnings": [_warning_dict(w) for w in result.warnings],
        "summary": {
            "files": len(result.sources),
            "legacy": len(result.legacy),
            "unparsed": sum(1 for e in result.legacy if e.unparsed),
            "warnings": len(result.warnings),
            "byKind": dict(sorted(Counter(e.kind for e in result.legacy).items())),
            "strict": strict,
            "failed": result.failed(strict),
        },
    }


@output_format("json")
def render_json(result: CheckResult, strict: bool = False, *, colour: bool = False) -> str:
    return json.dumps(as_dict(result, strict), indent=2) + "\n"


def _legacy_dict(entry: LegacyEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "apiVersion": entry.api_version,
        "namespace": entry.namespace,
        "name": entry.name,
        "file": entry.location.file,
        "line": entry.location.line,
        "column": entry.location.column,
        "unparsed": entry.unparsed,
        "convert": entry.convert,
    }


def _warning_dict(warning: CheckWarning) -> dict[str, Any]:
    return {
        "code": warning.code,
        "severity": "warning",
        "message": warning.message,
        "kind": warning.kind,
        "namespace": warning.namespace,
        "name": warning.name,
        "file": warning.location.file,
        "line": warning.location.line,
        "column": warning.location.column,
    }


# --------------------------------------------------------------------------- github


def escape_data(text: str) -> str:
    """Escape a workflow command's message (GitHub's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (GitHub's escapeProperty)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, location: Location, title: str, message: str) -> str:
    props = [("file", location.file), ("line", location.line), ("col", location.column)]
    fields = [f"{k}={escape_property(shown(v))}" for k, v in props if v is not None]
    fields.append(f"title={escape_property(shown(title))}")
    return f"::{command} {','.join(fields)}::{escape_data(shown(message))}"


@output_format("github")
def render_github(result: CheckResult, *, strict: bool = False, colour: bool = False) -> str:
    """One ``::error`` per legacy resource and one ``::warning`` per warning: annotations."""
    lines = [
        workflow_command("error", e.location, f"Legacy Istio {e.kind}",
                         describe(e) if e.location.file else legacy_line(e))
        for e in result.legacy
    ]
    lines += [
        workflow_command("warning", w.location, f"istiomigrate check: {w.code}", w.message)
        for w in result.warnings
    ]
    return "".join(line + "\n" for line in lines)


# --------------------------------------------------------------------------- junit


# Characters XML 1.0 cannot carry even escaped; a name read from a broken file may hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


@output_format("junit")
def render_junit(result: CheckResult, strict: bool = False, *, colour: bool = False) -> str:
    """JUnit XML: one testcase per scanned source, a failure per legacy resource.

    Warnings are failures too under --strict (they fail the run), otherwise
    they are listed in the testcase's system-out.
    """
    import xml.etree.ElementTree as ET

    by_source = _group(result)
    failures = len(result.legacy) + (len(result.warnings) if strict else 0)
    suites = ET.Element("testsuites", name="istiomigrate", tests=str(len(by_source)),
                        failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name=JUNIT_SUITE, tests=str(len(by_source)),
                          failures=str(failures), errors="0", skipped="0")
    for source, (legacy, warnings) in by_source.items():
        case = ET.SubElement(suite, "testcase", classname=JUNIT_SUITE, name=_xml(source))
        located: tuple[LegacyEntry | CheckWarning, ...] = (*legacy, *warnings)
        if all(e.location.file == source for e in located):
            case.set("file", _xml(source))  # cluster sources have no file to link to
        for entry in legacy:
            message = f"legacy {entry.kind} {entry.namespace}/{entry.name}"
            failure = ET.SubElement(case, "failure", type=entry.kind, message=_xml(message))
            failure.text = _xml(legacy_line(entry))
        _junit_warnings(case, warnings, strict)
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _group(result: CheckResult) -> dict[str, tuple[list[LegacyEntry], list[CheckWarning]]]:
    """Entries by source, every scanned source present (a clean file is a passing testcase)."""
    groups: dict[str, tuple[list[LegacyEntry], list[CheckWarning]]] = {
        s: ([], []) for s in result.sources
    }
    for entry in result.legacy:
        groups.setdefault(entry.source, ([], []))[0].append(entry)
    for warning in result.warnings:
        groups.setdefault(warning.source, ([], []))[1].append(warning)
    return groups


def _junit_warnings(case: Element, warnings: list[CheckWarning], strict: bool) -> None:
    import xml.etree.ElementTree as ET

    if strict:
        for w in warnings:
            failure = ET.SubElement(case, "failure", type=f"warning:{w.code}",
                                    message=_xml(w.message))
            failure.text = _xml(warning_line(w))
    elif warnings:
        lines = "".join(warning_line(w) + "\n" for w in warnings)
        ET.SubElement(case, "system-out").text = _xml(lines)

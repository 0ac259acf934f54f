"""Find the legacy Istio routing resources left in manifests (``istiomigrate check``).

``check`` is a CI gate run on every push over whole repositories, so it must
cost a fraction of loading them. Files, directories and stdin are found and
read by ``inputs``, as for ``convert``, and split into documents by text
(``scan``); a document is parsed only when its text can name a legacy
resource (or, with ``injection``, a manually injected sidecar). Parsing
stops at PyYAML's C composer: the node tree gives the few fields we need and
the line and column of each ``kind:`` key without building Python objects.

Documents that are not YAML (Helm templates with ``{{ }}``) are read by their
``kind:`` and ``apiVersion:`` lines, so a legacy resource cannot hide in a
template; such entries are flagged ``unparsed``.

Entries carry their own location and ``convert`` command, and a ``file`` of
``None`` is allowed, so resources read from a cluster fit the same model and
output formats.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import yaml

from istiomigrate.kinds import (
    INGRESS_API_VERSIONS,
    INGRESS_CLASS_ANNOTATION,
    INGRESS_KIND,
    ISTIO_INGRESS_CLASS,
    LEGACY_KINDS,
    LIST_KIND,
    is_legacy_api,
)
from istiomigrate.read import documents, yamlload
from istiomigrate.read.inputs import STDIN, STDIN_DISPLAY, iter_inputs

WORKLOAD_KINDS = frozenset(
    {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Pod", "Job", "CronJob",
     "DeploymentConfig"}
)
SIDECAR_CONTAINER = "istio-proxy"
SIDECAR_STATUS = "sidecar.istio.io/status"

UNPARSED_FILE = "unparsed-file"
MANUAL_INJECTION = "manual-injection"

# Substrings without which a text cannot hold what we look for; ``in`` on a
# whole file is much cheaper than splitting it.
_LEGACY_NEEDLES = (*LEGACY_KINDS, INGRESS_CLASS_ANNOTATION)
_FOUND_KINDS = frozenset((*LEGACY_KINDS, INGRESS_KIND))
_INJECTION_NEEDLES = (SIDECAR_CONTAINER, SIDECAR_STATUS)
_TEMPLATE = "{{"

_C_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_BINARY_TAG = "tag:yaml.org,2002:binary"


@dataclass(frozen=True)
class Location:
    """Where an entry was found; all ``None`` for resources not read from a file."""

    file: str | None = None
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class LegacyEntry:
    """A legacy resource still present: it makes the check fail.

    ``source`` groups entries (one JUnit testcase per source): the file, or a
    name such as ``cluster`` for resources read from elsewhere.
    """

    kind: str
    api_version: str | None
    namespace: str
    name: str
    location: Location
    source: str
    unparsed: bool = False
    convert: str | None = None


@dataclass(frozen=True)
class CheckWarning:
    """Something worth fixing that is not a legacy resource (fails only with ``--strict``)."""

    code: str
    message: str
    location: Location
    source: str
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None


@dataclass
class CheckResult:
    """Everything one run found, in input order."""

    sources: list[str] = field(default_factory=list)
    legacy: list[LegacyEntry] = field(default_factory=list)
    warnings: list[CheckWarning] = field(default_factory=list)

    def merge(self, other: CheckResult) -> None:
        self.sources.extend(other.sources)
        self.legacy.extend(other.legacy)
        self.warnings.extend(other.warnings)

    def failed(self, strict: bool = False) -> bool:
        """Legacy resources fail the check; warnings fail it only when strict."""
        return bool(self.legacy) or (strict and bool(self.warnings))


@dataclass(frozen=True)
class CheckOptions:
    namespace: str = "default"
    injection: bool = False


def convert_command(file: str) -> str:
    """The command that converts the resources of ``file``, ready to paste in a shell."""
    target = STDIN if file == STDIN_DISPLAY else shlex.quote(file)
    return f"istiomigrate convert {target}"


# --------------------------------------------------------------------------- input


def check_paths(paths: Iterable[str], options: CheckOptions | None = None) -> CheckResult:
    """Check files, directories (recursively) and ``-`` (stdin); unreadable input raises
    InputError before anything is reported, so a run never half-succeeds."""
    options = options or CheckOptions()
    result = CheckResult()
    for found in iter_inputs(paths):
        result.merge(check_text(found.display, found.text, options))
    return result


# --------------------------------------------------------------------------- one file


def check_text(display: str, text: str, options: CheckOptions) -> CheckResult:
    """Check the text of one file. Pure: no I/O, the same text gives the same result."""
    result = CheckResult(sources=[display])
    extra = _INJECTION_NEEDLES if options.injection else ()
    if not any(n in text for n in (*_LEGACY_NEEDLES, _TEMPLATE, *extra)) and (
            not documents.may_hide_names(text)):
        return result
    parse_errors: list[tuple[int, int, str]] = []
    for chunk in documents.split_documents(text):
        if _worth_parsing(chunk, options):
            _check_chunk(display, chunk, options, result, parse_errors)
    if parse_errors:
        result.warnings.append(_unparsed_warning(display, parse_errors[0]))
    return result


def _worth_parsing(chunk: documents.Chunk, options: CheckOptions) -> bool:
    """Whether a document's text can hold what we look for (a superset of the truth).

    Without an escape or a tag (``documents.may_hide_names``), every name YAML reads is
    spelt in the text, so a document without a legacy kind's name (or the ingress class
    annotation) cannot hold one, however its ``kind:`` is laid out (anchors, aliases,
    block scalars, flow mappings, comments). Any other document is parsed. Templates are
    always parsed, so that one which is not YAML gets a warning.
    """
    text = chunk.text
    if _TEMPLATE in text:
        return True
    if options.injection and any(n in text for n in _INJECTION_NEEDLES):
        return True
    return documents.may_hide_names(text) or any(n in text for n in _LEGACY_NEEDLES)


def _check_chunk(
    display: str,
    chunk: documents.Chunk,
    options: CheckOptions,
    result: CheckResult,
    parse_errors: list[tuple[int, int, str]],
) -> None:
    """Parse one candidate document; fall back to its text when it is not YAML."""
    try:
        nodes = list(yaml.compose_all(chunk.text, Loader=_C_LOADER))
    except yaml.YAMLError as exc:
        found = list(text_entries(display, chunk, options.namespace))
        result.legacy.extend(found)
        if not found:
            parse_errors.append(_error_position(chunk, exc))
        return
    document = _Document(display, chunk, options, templated=_TEMPLATE in chunk.text)
    for node in nodes:
        for obj in _objects(node):
            document.classify(obj, result)


def _error_position(chunk: documents.Chunk, exc: yaml.YAMLError) -> tuple[int, int, str]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = chunk.line + mark.line if mark is not None else chunk.body_line
    column = mark.column + 1 if mark is not None else 1
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["parse error"])[0]
    return line, column, problem


def _unparsed_warning(display: str, error: tuple[int, int, str]) -> CheckWarning:
    line, column, problem = error
    message = (
        f"not valid YAML ({problem}), and no legacy kind: line found in what does not parse; "
        "to be sure, check the rendered output (helm template ... | istiomigrate check -)"
    )
    return CheckWarning(UNPARSED_FILE, message, Location(display, line, column), display)


# --------------------------------------------------------------------------- parsed documents


def _objects(node: yaml.Node) -> Iterator[yaml.MappingNode]:
    """The objects of a document: itself, or the items of a ``kind: List``."""
    if not isinstance(node, yaml.MappingNode):
        return
    items = _value(node, "items")
    if _scalar(_value(node, "kind")) == LIST_KIND and isinstance(items, yaml.SequenceNode):
        yield from (i for i in items.value if isinstance(i, yaml.MappingNode))
        return
    yield node


def _entry(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key, value) nodes of ``key`` in a mapping node, as YAML reads the mapping: the
    last one wins, as in a dict, and merge keys (``<<: *base``) supply what is not set.

    Each merged mapping is searched once (``seen``), so a merge bomb costs linear time.
    """
    return _lookup(node, key, set())


def _lookup(node: yaml.Node | None, key: str, seen: set[int]) -> tuple[yaml.Node, yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode) or id(node) in seen:
        return None
    seen.add(id(node))
    found: tuple[yaml.Node, yaml.Node] | None = None
    merged: list[yaml.Node] = []
    for k, v in node.value:
        if k.tag == _MERGE_TAG:
            merged.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
        elif isinstance(k, yaml.ScalarNode) and _scalar(k) == key:
            found = (k, v)
    for source in merged if found is None else ():
        found = _lookup(source, key, seen)
        if found is not None:
            break
    return found


def _value(node: yaml.Node | None, *path: str) -> yaml.Node | None:
    for key in path:
        pair = _entry(node, key) if node is not None else None
        node = pair[1] if pair else None
    return node


def _scalar(node: yaml.Node | None) -> str | None:
    """A scalar's text; ``None`` for null, absent or non-scalar nodes."""
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        return None
    text: str = node.value
    return yamlload.binary_text(text) if node.tag == _BINARY_TAG else text


@dataclass
class _Document:
    """Context to classify the objects of one parsed document."""

    display: str
    chunk: documents.Chunk
    options: CheckOptions
    templated: bool

    def classify(self, obj: yaml.MappingNode, result: CheckResult) -> None:
        pair = _entry(obj, "kind")
        kind = _scalar(pair[1]) if pair else None
        if pair is None or kind is None:
            return
        api = _scalar(_value(obj, "apiVersion"))
        if is_legacy(kind, api, _scalar(_value(obj, "metadata", "annotations",
                                                  INGRESS_CLASS_ANNOTATION))):
            result.legacy.append(self._legacy(obj, pair[0], kind, api))
        elif self.options.injection and kind in WORKLOAD_KINDS and manually_injected(obj, kind):
            result.warnings.append(self._injection(obj, pair[0], kind))

    def _location(self, key: yaml.Node) -> Location:
        mark = key.start_mark
        return Location(self.display, self.chunk.line + mark.line, mark.column + 1)

    def _identity(self, obj: yaml.MappingNode) -> tuple[str, str]:
        namespace = self._text(_value(obj, "metadata", "namespace")) or self.options.namespace
        return namespace, self._text(_value(obj, "metadata", "name")) or ""

    def _text(self, node: yaml.Node | None) -> str | None:
        """A scalar's value, or for a template that YAML read as a mapping, its source text."""
        if node is None or isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        return self.chunk.text[node.start_mark.index : node.end_mark.index].strip()

    def _legacy(
        self, obj: yaml.MappingNode, key: yaml.Node, kind: str, api: str | None
    ) -> LegacyEntry:
        namespace, name = self._identity(obj)
        return LegacyEntry(kind, api, namespace, name, self._location(key), self.display,
                           unparsed=self.templated, convert=convert_command(self.display))

    def _injection(self, obj: yaml.MappingNode, key: yaml.Node, kind: str) -> CheckWarning:
        namespace, name = self._identity(obj)
        message = injection_message(kind, namespace, name)
        return CheckWarning(MANUAL_INJECTION, message, self._location(key), self.display,
                            kind, namespace, name)


def is_legacy(kind: str, api: str | None, ingress_class: str | None) -> bool:
    """The legacy rule, shared by parsed documents and, later, cluster objects."""
    if kind in LEGACY_KINDS:
        return is_legacy_api(api)
    return (kind == INGRESS_KIND and api in INGRESS_API_VERSIONS
            and ingress_class == ISTIO_INGRESS_CLASS)


def manually_injected(obj: yaml.MappingNode, kind: str) -> bool:
    """True when the pod template holds what ``istioctl kube-inject`` writes."""
    if kind == "Pod":
        template: yaml.Node | None = obj
    elif kind == "CronJob":
        template = _value(obj, "spec", "jobTemplate", "spec", "template")
    else:
        template = _value(obj, "spec", "template")
    if _entry(_value(template, "metadata", "annotations"), SIDECAR_STATUS):
        return True
    containers = _value(template, "spec", "containers")
    if not isinstance(containers, yaml.SequenceNode):
        return False
    return any(_scalar(_value(c, "name")) == SIDECAR_CONTAINER for c in containers.value)


def injection_message(kind: str, namespace: str, name: str) -> str:
    return (
        f"{kind} {namespace}/{name} carries a manually injected istio-proxy sidecar "
        "(istioctl kube-inject): deploy the plain manifest and enable automatic injection "
        f"instead (kubectl label namespace {namespace} istio-injection=enabled, Istio 0.8+), "
        "so that a mesh upgrade is a rolling restart rather than a redeploy of every workload"
    )


# --------------------------------------------------------------------------- unparsed text

_API = re.compile(r"""["']?apiVersion["']?[ \t]*:[ \t]*(?P<value>[^\r\n]*)""")
_METADATA = re.compile(
    r"""^(?P<indent>[ \t]*(?:-[ \t]+)?)["']?metadata["']?[ \t]*:(?P<rest>[^\r\n]*)""", re.M
)
_ISTIO_CLASS = re.compile(
    rf"""["']?{re.escape(INGRESS_CLASS_ANNOTATION)}["']?[ \t]*:[ \t]*"""
    rf"""["']?{re.escape(ISTIO_INGRESS_CLASS)}["']?[ \t]*(?:[,}}\r\n#]|$)""",
    re.M,
)
_KEY_LINE = re.compile(r"""^[ \t]*["']?(?P<key>[\w.-]+)["']?[ \t]*:[ \t]*(?P<value>.*)$""")


def text_entries(display: str, chunk: documents.Chunk, namespace: str) -> Iterator[LegacyEntry]:
    """Legacy resources of a document that is not YAML, found by its ``kind:`` lines.

    Each ``kind:`` key owns the text up to its neighbours'; its apiVersion and
    metadata are the ones closest to it, which holds for one resource per
    document and for the items of a List.
    """
    text = chunk.text
    positions = [(k, at) for k, at in documents.kind_positions(text) if k in _FOUND_KINDS]
    for i, (kind, at) in enumerate(positions):
        start = positions[i - 1][1] + 1 if i else 0
        end = positions[i + 1][1] if i + 1 < len(positions) else len(text)
        api_match = _closest(_API, text, start, end, at)
        api = _clean(api_match.group("value")) if api_match else None
        if not _legacy_text(kind, api, text[start:end]):
            continue
        meta = _metadata_text(text, start, end, at)
        line, column = documents.line_and_column(text, at, chunk.line)
        yield LegacyEntry(kind, api, meta.get("namespace") or namespace, meta.get("name") or "",
                          Location(display, line, column), display, unparsed=True,
                          convert=convert_command(display))


def _legacy_text(kind: str, api: str | None, region: str) -> bool:
    """The legacy rule for text, where an apiVersion may be a template (then assumed legacy)."""
    templated = api is not None and _TEMPLATE in api
    if kind in LEGACY_KINDS:
        return templated or is_legacy(kind, api, None)
    if api is None or not (api in INGRESS_API_VERSIONS or templated):
        return False
    return _ISTIO_CLASS.search(region) is not None


def _closest(
    pattern: re.Pattern[str], text: str, start: int, end: int, at: int
) -> re.Match[str] | None:
    """The match of ``pattern`` in ``text[start:end]`` nearest to offset ``at``."""
    return min(pattern.finditer(text, start, end), key=lambda m: abs(m.start() - at), default=None)


def _metadata_text(text: str, start: int, end: int, at: int) -> dict[str, str]:
    """``name`` and ``namespace`` of the metadata block closest to ``at``, as written."""
    best = _closest(_METADATA, text, start, end, at)
    if best is None:
        return {}
    if best.group("rest").strip() and not best.group("rest").strip().startswith("#"):
        return _flow_fields(text[best.start("rest") : end])
    return _block_fields(text[best.end() : end].splitlines()[1:], len(best.group("indent")))


def _block_fields(lines: list[str], parent_indent: int) -> dict[str, str]:
    """Fields of an indented block, skipping template control lines (``{{- if }}``)."""
    fields: dict[str, str] = {}
    child: int | None = None
    for raw in lines:
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", _TEMPLATE)):
            continue
        indent = len(raw) - len(raw.lstrip())
        if indent <= parent_indent:
            break
        child = indent if child is None else child
        m = _KEY_LINE.match(raw)
        if m and indent == child and m.group("key") in ("name", "namespace"):
            fields.setdefault(m.group("key"), _clean(m.group("value")) or "")
    return fields


def _flow_fields(text: str) -> dict[str, str]:
    """Fields of a flow mapping or JSON object: the first ``name``/``namespace`` keys in it."""
    fields: dict[str, str] = {}
    for key in ("name", "namespace"):
        m = re.search(r"""(?:^|[\s{,])["']?""" + key + r"""["']?[ \t]*:[ \t]*([^\r\n]*)""", text)
        if m:
            fields[key] = _clean(m.group(1), flow=True) or ""
    return fields


def _clean(value: str | None, flow: bool = False) -> str | None:
    """A scalar as written, without quotes, trailing comment or (in flow style) separators."""
    if value is None:
        return None
    value = value.strip()
    if value[:1] in ("'", '"'):
        close = value.find(value[0], 1)
        return value[1:close] if close > 0 else value[1:]
    if _TEMPLATE not in value:
        value = value.split(" #", 1)[0]
        if flow:
            value = re.split(r"[,}]", value, maxsplit=1)[0]
    return value.strip() or None

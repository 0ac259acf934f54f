"""Read step: load manifest files into an inventory of the resources that matter.

Files, directories and stdin are found and read by ``inputs`` and split into
documents by text (``scan``); only documents whose text names a kind of
interest are parsed, and only legacy documents are validated into models.
Every resource keeps its file and line so that findings and errors can point
at it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from istiomigrate import targets
from istiomigrate.errors import InputError
from istiomigrate.findings import Finding, SourceRef
from istiomigrate.kinds import (
    INGRESS_KIND,
    ISTIO_INGRESS_CLASS,
    LEGACY_API_VERSION,
    LEGACY_KINDS,
    SERVICE_KIND,
    SERVICES,
    is_legacy_api,
)
from istiomigrate.read import yamlload
from istiomigrate.read.documents import Chunk, split_documents
from istiomigrate.read.ingress import IngressSpec, ingress_class, is_ingress_api
from istiomigrate.read.inputs import Input, iter_inputs
from istiomigrate.read.legacy import SPEC_MODELS
from istiomigrate.read.services import ServicePorts, ports_of, service_selector

# A core Service written as one block-style document: its selector is read from text.
_PLAIN_SERVICE = re.compile(r"^apiVersion:[ \t]*v1[ \t]*\r?$(?s:.*)^kind:[ \t]*Service[ \t]*\r?$|"
                            r"^kind:[ \t]*Service[ \t]*\r?$(?s:.*)^apiVersion:[ \t]*v1[ \t]*\r?$",
                            re.M)
# Resources of a kind and apiVersion some target writes are merged into, never duplicated.
# Tuples: a malformed kind (a list) must compare unequal, not fail to hash.
_MERGED_INTO = tuple((k.kind, k.api_version) for k in targets.all_kinds())
_MERGED_INTO_KINDS = frozenset(kind for kind, _ in _MERGED_INTO)


@dataclass
class SourceFile:
    """A manifest file as read: its text, split into chunks that rejoin to the original."""

    display: str
    path: Path | None
    text: str
    chunks: list[Chunk]
    root: Path | None = None  # the input directory it was found under, if any
    unparsed: bool = False


@dataclass(frozen=True)
class DocRef:
    """A document of a source file: where a resource came from or will be written."""

    file: str
    chunk: int


@dataclass
class LegacyResource:
    kind: str
    namespace: str
    name: str
    spec: Any  # one of legacy.SPEC_MODELS
    ref: SourceRef
    doc: DocRef | None
    raw: dict[str, Any]


@dataclass
class ExistingResource:
    """A v1alpha3 resource already present in the input, which conversions merge into."""

    kind: str
    namespace: str
    name: str
    data: dict[str, Any]
    doc: DocRef | None
    ref: SourceRef


@dataclass
class Inventory:
    files: list[SourceFile] = field(default_factory=list)
    legacy: list[LegacyResource] = field(default_factory=list)
    existing: list[ExistingResource] = field(default_factory=list)
    services: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    service_ports: ServicePorts = field(default_factory=ServicePorts)
    findings: list[Finding] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[LegacyResource]:
        return [r for r in self.legacy if r.kind == kind]


def read_paths(
    paths: Iterable[str],
    default_namespace: str = "default",
    on_file: Callable[[str], None] | None = None,
    exclude: Iterable[Path] = (),
) -> Inventory:
    """Read files, directories (recursively) and ``-`` (stdin) into one inventory;
    directories in ``exclude`` are left out of the walk."""
    inventory = Inventory()
    for found in iter_inputs(paths, exclude=tuple(exclude)):
        source = source_file(found)
        inventory.files.append(source)
        read_source(source, inventory, default_namespace)
        if on_file is not None:
            on_file(source.display)
    return inventory


def source_file(found: Input) -> SourceFile:
    """An input as a source file: its text split into chunks."""
    return SourceFile(found.display, found.path, found.text, split_documents(found.text),
                      root=found.root)


def read_source(source: SourceFile, inventory: Inventory, default_namespace: str) -> None:
    """Parse the interesting documents of one file into ``inventory``."""
    explicit = source.root is None
    for chunk in source.chunks:
        kinds = chunk.kinds()
        if not kinds and "{{" not in chunk.text:
            continue
        if kinds == {SERVICE_KIND} and _PLAIN_SERVICE.search(chunk.text) and "{{" not in chunk.text:
            try:
                name, namespace, selector = service_selector(chunk.text)
            except yaml.YAMLError as exc:
                _unparsable(source, chunk, exc, inventory, explicit)
                continue
            _add_service(inventory, default_namespace, name, namespace, selector)
            if name:  # ports are parsed from the text only if an Ingress needs them
                inventory.service_ports.add_text((namespace or default_namespace, name),
                                                 chunk.text, (source.display, chunk.line))
            continue
        try:
            data = yamlload.load_keeping_text(chunk.text)
        except yaml.YAMLError as exc:
            _unparsable(source, chunk, exc, inventory, explicit)
            continue
        if not kinds:
            continue
        where = DocRef(source.display, chunk.index)
        objects = list(_objects(data, chunk))
        # v1alpha3 resources are merged into and written back: they need YAML's own types.
        # Decided on what was read, not on the text (which may only escape or tag names).
        try:
            typed = [obj for obj, _ in _objects(yamlload.load(chunk.text), chunk)] if any(
                isinstance(obj.get("kind"), str) and obj["kind"] in _MERGED_INTO_KINDS
                for obj, _ in objects) else None
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            # A tag YAML's constructor refuses (``!!int x``): the text loader kept it as text.
            raise InputError(f"YAML value not understood: {_first_line(exc)}",
                             file=source.display, line=chunk.body_line,
                             document=chunk.index) from None
        for i, (obj, line) in enumerate(objects):
            _classify(obj, source.display, line, where, inventory, default_namespace, chunk,
                      typed[i] if typed else obj)


def _unparsable(
    source: SourceFile, chunk: Chunk, exc: yaml.YAMLError, inventory: Inventory, explicit: bool
) -> None:
    """A file named on the command line must parse; one found in a tree is skipped, warned."""
    offset = yamlload.error_line(exc)
    line = chunk.line + (offset or 0)
    message = f"YAML does not parse: {yamlload.error_text(exc)}"
    if explicit:
        raise InputError(message, file=source.display, line=line, document=chunk.index)
    source.unparsed = True
    ref = SourceRef("File", "", source.display, source.display, line)
    inventory.findings.append(Finding("IM211", f"{message}; file left untouched", ref))


def _objects(data: Any, chunk: Chunk) -> Iterator[tuple[dict[str, Any], int]]:
    """The objects of a document: itself, or the items of a ``kind: List``."""
    if not isinstance(data, dict):
        return
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        for i, item in enumerate(data["items"]):
            if isinstance(item, dict):
                yield item, chunk.line - 1 + yamlload.line_of(chunk.text, ("items", i))
        return
    yield data, chunk.body_line


def _classify(
    obj: dict[str, Any],
    file: str,
    line: int,
    where: DocRef,
    inventory: Inventory,
    default_namespace: str,
    chunk: Chunk,
    typed: dict[str, Any],
) -> None:
    """File one object; ``typed`` is the same object with YAML's types (numbers, booleans)."""
    kind = obj.get("kind")
    api = str(obj.get("apiVersion") or "")
    metadata = obj.get("metadata")
    meta: dict[str, Any] = metadata if isinstance(metadata, dict) else {}
    namespace = str(meta.get("namespace") or default_namespace)
    name = str(meta.get("name") or "")
    ref = SourceRef(str(kind), namespace, name, file, line)
    if kind in LEGACY_KINDS and is_legacy_api(api):
        inventory.legacy.append(parse_legacy(obj, ref, where, chunk, inventory))
    elif isinstance(kind, str) and (kind, api) in _MERGED_INTO:
        problem = existing_problem(typed)
        if problem is not None:
            field_path, message = problem
            line = chunk.line - 1 + yamlload.line_of(chunk.text, _steps(field_path)) if (
                line == chunk.body_line) else line  # an item of a List: the item's line
            raise InputError(f"{kind} {namespace}/{name}: {message}", file=file, line=line,
                             document=chunk.index, field=field_path)
        inventory.existing.append(ExistingResource(kind, namespace, name, typed, where, ref))
    elif kind == SERVICE_KIND and api == SERVICES.api_version:
        spec = obj.get("spec")
        selector = spec.get("selector") if isinstance(spec, dict) else None
        if isinstance(selector, dict):
            _add_service(inventory, default_namespace, name, namespace,
                         {str(k): str(v) for k, v in selector.items()})
        if name:
            inventory.service_ports.add((namespace, name), ports_of(obj))
    elif kind == INGRESS_KIND:
        resource = legacy_ingress(obj, ref, where, chunk, inventory)
        if resource is not None:
            inventory.legacy.append(resource)


def existing_problem(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) where an existing v1alpha3 resource is not the shape conversions
    merge into and write back (``spec: 1``, ``hosts: 1``, ``subsets: 7``); None if it is.

    Only the shape: unknown fields and odd values are the user's and are kept as written.
    """
    if not isinstance(obj.get("metadata", {}), dict):
        return "metadata", "must be a mapping"
    if not isinstance(obj.get("spec"), dict):
        return "spec", "must be a mapping"
    from istiomigrate.schemas import type_problems

    try:
        return next(iter(type_problems(obj, shape_only=True)), None)
    except RecursionError:
        return "spec", "nested too deeply (or a recursive alias)"


def _steps(field_path: str) -> tuple[str | int, ...]:
    """``spec.http[0].route`` as the steps ``line_of`` walks."""
    return tuple(int(p) if p.isdigit() else p
                 for p in re.split(r"[.\[\]]+", field_path) if p)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def legacy_ingress(obj: dict[str, Any], ref: SourceRef, where: DocRef | None, chunk: Chunk | None,
                   inventory: Inventory) -> LegacyResource | None:
    """An Ingress of class istio as a legacy resource; None for any other Ingress.

    No class: what Istio did depended on the mesh config (IM108 in ``inventory``). Another
    class, or an API Istio 0.8 did not know: nothing, not even a finding. Shared by files
    and clusters, so that both take exactly the same Ingresses.
    """
    if not is_ingress_api(obj):
        return None
    found = ingress_class(obj)
    if found == ISTIO_INGRESS_CLASS:
        return parse_legacy(obj, ref, where, chunk, inventory)
    if found is None:
        inventory.findings.append(Finding(
            "IM108", "no kubernetes.io/ingress.class annotation: Istio's default "
            "ingressControllerMode (STRICT) left it to other controllers; left alone (if your "
            "mesh config set ingressControllerMode: DEFAULT, Istio served it: annotate it "
            "kubernetes.io/ingress.class: istio and convert again)", ref))
    return None


def _add_service(inventory: Inventory, default_namespace: str, name: str | None,
                 namespace: str | None, selector: dict[str, str] | None) -> None:
    if name and selector:
        inventory.services[(namespace or default_namespace, name)] = selector


_MODELS: dict[str, type[BaseModel]] = {**SPEC_MODELS, INGRESS_KIND: IngressSpec}


def parse_legacy(
    obj: dict[str, Any], ref: SourceRef, where: DocRef | None, chunk: Chunk | None,
    inventory: Inventory,
) -> LegacyResource:
    """Validate a legacy document into its model; bad input raises a one-line InputError."""
    api = obj.get("apiVersion")

    def fail(message: str, path: tuple[str | int, ...]) -> InputError:
        line = ref.line
        if chunk is not None and path:
            line = chunk.line - 1 + yamlload.line_of(chunk.text, path)
        return InputError(
            f"{ref.kind} {ref.namespace}/{ref.name or '?'}: {message}",
            file=ref.file,
            line=line,
            document=where.chunk if where else None,
            field=".".join(_dotted(path)) or None,
        )

    if not ref.name:
        raise fail("metadata.name is required", ("metadata",))
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise fail("spec must be a mapping", ("spec",))
    context: dict[str, Any] = {}
    try:
        model = _MODELS[ref.kind].model_validate(spec, context=context)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ("spec", *err["loc"])
        raise fail(_pydantic_message(err), path) from None
    except ValueError as exc:  # raised by a field validator outside pydantic's wrapping
        raise fail(str(exc), ("spec",)) from None
    if api != LEGACY_API_VERSION and ref.kind in SPEC_MODELS:
        shown = api or "no apiVersion"
        inventory.findings.append(
            Finding("IM101", f"{shown}: read as {LEGACY_API_VERSION} by its kind", ref)
        )
    for key, value in context.get("coerced_labels", []):
        inventory.findings.append(
            Finding("IM201", f"label {key}: {value} was not a string; kept as \"{value}\"", ref)
        )
    return LegacyResource(ref.kind, ref.namespace, ref.name, model, ref, where, obj)


def _dotted(path: tuple[str | int, ...]) -> list[str]:
    out: list[str] = []
    for step in path:
        if isinstance(step, int) and out:
            out[-1] += f"[{step}]"
        else:
            out.append(str(step))
    return out


def _pydantic_message(err: ErrorDetails) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return f"unknown field '{err['loc'][-1]}'"
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    value = err.get("input")
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return f"{err['msg'].lower()}, got {shown}"

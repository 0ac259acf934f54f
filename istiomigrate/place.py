"""Placement: where each converted resource goes in a manifest tree, and the new file texts.

Pure: source files and a conversion in, new texts out. Only documents that
held legacy resources (or a v1alpha3 resource a conversion merged into) are
rewritten; every other byte of every file is kept, so a reviewer's diff
shows the migration and nothing else.

Resources are placed by their role (``model.Role``), whatever the target calls them:

- Routes (a VirtualService) go where the host's highest-precedence RouteRule was.
- A host's policy (a DestinationRule) where the host's first DestinationPolicy
  was (in file order), else next to its routes, else next to the external
  entry whose TLS it originates.
- An external entry (a ServiceEntry) replaces its EgressRule.
- From Ingresses of class istio: the listener (a Gateway) goes where the first of them was
  (in file order), each host's routes where the first Ingress for its host was
  (namespace/name).
- A resource merged into an existing v1alpha3 resource replaces that one.
- Every other legacy document becomes a one-line comment saying where it went.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from istiomigrate.emit import comment, data_to_yaml, to_yaml
from istiomigrate.kinds import INGRESS_KIND, LEGACY_KINDS, ROUTE_RULE, is_legacy_api
from istiomigrate.model import Json, Resource, Role
from istiomigrate.plan.resolve import precedence_key
from istiomigrate.read import yamlload
from istiomigrate.read.documents import Chunk, may_hide_names
from istiomigrate.read.ingress import is_istio_ingress
from istiomigrate.read.inventory import DocRef, LegacyResource, SourceFile

# An object's kind, namespace and name as written: any YAML values, compared as they are.
_Identity: TypeAlias = tuple[Any, Any, Any]


@dataclass
class FilePlan:
    source: SourceFile
    text: str
    legacy: int = 0
    written: list[Resource] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.source.text


@dataclass
class _Slot:
    """What a rewritten document becomes: resources written there, and notes."""

    resources: list[Resource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan(files: list[SourceFile], resources: list[Resource],
         legacy: list[LegacyResource]) -> list[FilePlan]:
    order = {f.display: i for i, f in enumerate(files)}
    slots: dict[DocRef, _Slot] = defaultdict(_Slot)
    anchors: dict[int, DocRef] = {}
    beside: dict[str | None, DocRef] = {}  # host -> where its VirtualService went
    homes: dict[DocRef, DocRef] = {}  # a legacy document -> where what replaced it went
    orphans = [r for r in resources if _orphan(r)]
    for res in [r for r in resources if not _orphan(r)] + orphans:
        anchor = _beside(res, homes) if _orphan(res) else _anchor(res, beside, order)
        if anchor is None:  # needed by nothing placed (a target that names no rule): first file
            anchor = next((item.doc for item in legacy if item.doc is not None), None)
        if anchor is None:
            continue
        anchors[id(res)] = anchor
        if res.role is Role.ROUTES:
            beside[res.host] = anchor
        homes.update((item.doc, anchor) for item in res.legacy if item.doc is not None)
        slots[anchor].resources.append(res)
    placed_at = {a for a in slots}
    accounted: set[DocRef] = set(placed_at)
    for res in resources:
        for item in res.legacy if id(res) in anchors else ():
            if item.doc is not None and item.doc not in placed_at:
                slots[item.doc].notes.append(_moved(item, res, anchors[id(res)]))
                accounted.add(item.doc)
    for item in legacy:
        if item.doc is not None and item.doc not in accounted:
            slots[item.doc].notes.append(
                f"{item.kind} {item.namespace}/{item.name}: not converted; see the "
                "istiomigrate report")
    counts: dict[str, int] = defaultdict(int)
    for item in legacy:
        if item.ref.file is not None:
            counts[item.ref.file] += 1
    by_file: dict[str, dict[int, _Slot]] = defaultdict(dict)
    for ref, slot in slots.items():
        by_file[ref.file][ref.chunk] = slot
    return [_plan_file(f, by_file.get(f.display, {}), counts[f.display]) for f in files]


def _orphan(res: Resource) -> bool:
    """A resource that replaces no document: a policy made only for subsets other hosts'
    routes send to (the legacy config had no DestinationPolicy for them)."""
    if res.merged_into is not None and res.merged_into.doc is not None:
        return False
    return not any(item.doc is not None for item in res.legacy)


def _beside(res: Resource, homes: dict[DocRef, DocRef]) -> DocRef | None:
    """Where an orphan goes: next to what the first rule needing it became, else in that
    rule's document; None when no rule of the tree says it needs it."""
    for item in res.beside:
        if item.doc is not None and item.doc in homes:
            return homes[item.doc]
    return next((item.doc for item in res.beside if item.doc is not None), None)


def _anchor(res: Resource, beside: dict[str | None, DocRef], order: dict[str, int]) -> DocRef:
    """Where ``res`` is written (resources come VirtualService first for each host)."""
    if res.merged_into is not None and res.merged_into.doc is not None:
        return res.merged_into.doc
    if res.legacy and res.legacy[0].kind == INGRESS_KIND:  # already in placement order
        # Placed resources come from files, whose legacy resources all have a doc (as below).
        return next(  # type: ignore[return-value]
            (i.doc for i in res.legacy if i.doc is not None), res.legacy[0].doc)
    rules = [r for r in res.legacy if r.kind == ROUTE_RULE and r.doc is not None]
    if res.role is Role.ROUTES and rules:
        return min(rules, key=precedence_key).doc  # type: ignore[return-value]
    if res.role is Role.POLICY:
        docs = [p.doc for p in res.legacy if p.kind == "DestinationPolicy" and p.doc]
        if docs:
            return min(docs, key=lambda doc: (order[doc.file], doc.chunk))
        if res.host in beside:
            return beside[res.host]
    return res.legacy[0].doc  # type: ignore[return-value]


def _moved(item: LegacyResource, res: Resource, anchor: DocRef) -> str:
    return (f"{item.kind} {item.namespace}/{item.name}: converted into {res.kind} "
            f"{res.namespace}/{res.name} ({anchor.file})")


def _plan_file(source: SourceFile, mine: dict[int, _Slot], legacy: int) -> FilePlan:
    if not mine:
        return FilePlan(source, source.text, legacy)
    written = [r for chunk in sorted(mine) for r in mine[chunk].resources]
    if source.display.endswith(".json"):
        text = _json_text(source, written)
        if text is not None:
            return FilePlan(source, text, legacy, written)
    newline = "\r\n" if "\r\n" in source.text else "\n"
    parts = []
    for chunk in source.chunks:
        slot = mine.get(chunk.index)
        parts.append(chunk.text if slot is None else _rewrite(chunk, slot, newline))
    return FilePlan(source, "".join(parts), legacy, written)


def _rewrite(chunk: Chunk, slot: _Slot, newline: str) -> str:
    """The chunk's separator and leading comments, then the notes and the new documents."""
    lines = chunk.text.splitlines(keepends=True)
    keep = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if (i == 0 and stripped.startswith("---")) or not stripped or stripped.startswith("#"):
            keep = i + 1
            continue
        break
    head = "".join(lines[:keep])
    if head and not head.endswith("\n"):
        head += newline
    body = [comment(note) + "\n" for note in slot.notes]
    docs = [to_yaml(r) for r in slot.resources]
    rest = _rest_of_list(chunk.text, slot.resources)
    if rest is not None:
        body.append("# a kind: List that held legacy items: written again with the other items\n")
        docs.insert(0, data_to_yaml(rest))
    text = "".join(body) + "---\n".join(docs)
    if newline != "\n":
        text = text.replace("\n", newline)
    return head + text


def _rest_of_list(text: str, resources: list[Resource]) -> Json | None:
    """A ``kind: List`` document without the items converted here; None for any other document.

    Its other items must not be lost when the document is rewritten (their comments are,
    and the note written above the List says so).
    """
    if "List" not in text and not may_hide_names(text):  # conservative: see may_hide_names
        return None
    data = yamlload.load(text)
    if not isinstance(data, dict) or data.get("kind") != "List":
        return None
    found = data.get("items")
    items = found if isinstance(found, list) else []
    replaced = _replaced(resources)
    kept = [item for item in items if not (isinstance(item, dict) and _converted(item, replaced))]
    return {**data, "items": kept} if kept else None


def _replaced(resources: list[Resource]) -> set[_Identity]:
    """Identities of the existing objects that merged resources replace, as written."""
    return {_identity(r.merged_into.data) for r in resources if r.merged_into is not None}


def _identity(obj: Json) -> _Identity:
    """kind, namespace and name as the object writes them (no default namespace applied)."""
    metadata = obj.get("metadata")
    meta: Json = metadata if isinstance(metadata, dict) else {}
    return (obj.get("kind"), meta.get("namespace"), meta.get("name"))


def _json_text(source: SourceFile, resources: list[Resource]) -> str | None:
    """A JSON manifest has no comments to keep: its other objects, then the new resources.

    None when the file is not one JSON object (a ``.json`` file holding YAML, which the
    reader read as YAML): it is rewritten as YAML, document by document. A byte order
    mark is kept.
    """
    bom = "\ufeff" if source.text.startswith("\ufeff") else ""
    try:
        original = json.loads(source.text[len(bom):])
    except ValueError:
        return None
    if not isinstance(original, dict):
        return None
    items = original.get("items")
    objects = (items if isinstance(items, list) else []) if original.get(
        "kind") == "List" else [original]
    replaced = _replaced(resources)
    kept = [o for o in objects if not (isinstance(o, dict) and _converted(o, replaced))]
    docs = kept + [r.document() for r in resources]
    if len(docs) == 1:
        return bom + json.dumps(docs[0], indent=2) + "\n"
    return bom + json.dumps({"apiVersion": "v1", "kind": "List", "items": docs},
                            indent=2) + "\n"


def _converted(obj: Json, replaced: set[_Identity]) -> bool:
    if _identity(obj) in replaced:
        return True
    if is_istio_ingress(obj):
        return True
    return obj.get("kind") in LEGACY_KINDS and is_legacy_api(obj.get("apiVersion"))

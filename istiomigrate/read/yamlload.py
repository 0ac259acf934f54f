"""YAML loading for the few documents that are converted.

Legacy documents are loaded with PyYAML's C parser, but plain scalars that
YAML 1.1 would turn into numbers, booleans or timestamps are kept as the text
the user wrote (``Plain``). Pilot read label values as strings, so
``version: 1.0`` means the label ``"1.0"``, not ``1`` (and ``1.10`` is not
``1.1``). Fields typed as numbers are coerced by the models as usual.

Every load is bounded (:func:`bounded_root`): aliases are counted as the tree they stand
for before anything is built, so an alias bomb ("billion laughs") is refused as a YAML
error in time and memory linear in the text, instead of being expanded by a later walk
(validation, merging, writing). ``check`` composes with the same bound.

``!!binary`` scalars are read as the text they encode, as kubectl reads them (YAML goes to
JSON as a string there), so ``kind: !!binary Um91dGVSdWxl`` is a RouteRule here too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    # The same loader without libyaml; the stubs type it as a different class.
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


SafeLoader = _BaseLoader
"""The safe loader, in C where PyYAML has libyaml: for callers that load whole streams."""


class Plain(str):
    """A plain scalar that YAML would have typed as something other than a string."""

    is_plain_non_string = True


class _TextKeepingLoader(_BaseLoader):
    pass


def _keep_text(loader: yaml.Loader, node: yaml.ScalarNode) -> Plain:
    return Plain(node.value)


for _tag in ("int", "float", "bool", "timestamp"):
    _TextKeepingLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _keep_text)


class _Loader(_BaseLoader):
    pass


def binary_text(value: str) -> str:
    """The text a ``!!binary`` scalar encodes (undecodable bytes replaced), as kubectl has it."""
    try:
        raw = base64.b64decode("".join(value.split()), validate=False)
    except (binascii.Error, ValueError):
        return value
    return raw.decode("utf-8", errors="replace")


def _binary(loader: yaml.Loader, node: yaml.ScalarNode) -> str:
    return binary_text(node.value)


for _with in (_TextKeepingLoader, _Loader):
    _with.add_constructor("tag:yaml.org,2002:binary", _binary)

# An alias stands for its whole tree. A document may expand to this many nodes more than
# it holds (so ordinary anchors, as in Helm output, load), never more.
EXPANSION_ALLOWANCE = 100_000
EXPANSION_FACTOR = 10


class TooLarge(yaml.YAMLError):
    """A document whose aliases expand beyond the bound: refused before it is built."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


def expanded_size(root: yaml.Node) -> tuple[int, int]:
    """(nodes held, nodes the tree stands for with every alias expanded).

    Each distinct node is visited once (sizes are memoised), so this costs time linear in
    the composed tree however large the expansion; a recursive alias raises TooLarge.
    """
    sizes: dict[int, int] = {}
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_: set[int] = set()
    while pending:
        node, done = pending.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            continue
        if key in open_:
            raise TooLarge("recursive alias (a node contains itself)", node.start_mark)
        open_.add(key)
        pending.append((node, True))
        for child in children:
            if id(child) in open_:
                raise TooLarge("recursive alias (a node contains itself)", child.start_mark)
            if id(child) not in sizes:
                pending.append((child, False))
    return len(sizes), sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def bounded_root(node: yaml.Node | None) -> yaml.Node | None:
    """``node``, or TooLarge when its aliases expand past the allowance."""
    if node is None:
        return None
    held, expanded = expanded_size(node)
    limit = EXPANSION_ALLOWANCE + EXPANSION_FACTOR * held
    if expanded > limit:
        raise TooLarge(f"aliases expand to more than {limit} nodes (an alias bomb?); refused",
                       node.start_mark)
    return node


def _load(text: str, loader_class: type[_BaseLoader]) -> Any:
    """``yaml.load``, with the document's expansion bounded before it is constructed."""
    loader = loader_class(text)
    try:
        node = bounded_root(loader.get_single_node())
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def load_keeping_text(text: str) -> Any:
    """Load one YAML document, keeping the source text of non-string plain scalars."""
    return _load(text, _TextKeepingLoader)


def load(text: str) -> Any:
    """Load one YAML document with the C safe loader."""
    return _load(text, _Loader)


def load_all(text: str) -> Iterator[Any]:
    """Every document of ``text``, each bounded like :func:`load`."""
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = bounded_root(loader.get_node())
            yield loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def compose_all(text: str) -> list[yaml.Node]:
    """The node trees of ``text``'s documents (nothing constructed), each bounded."""
    return [n for n in yaml.compose_all(text, Loader=_BaseLoader) if bounded_root(n) is not None]


def line_of(text: str, path: tuple[str | int, ...]) -> int:
    """1-based line (within ``text``) of the deepest node of ``path`` that exists.

    Only called to place an error, so composing the document again is fine.
    """
    try:
        node = yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return 1
    line = node.start_mark.line + 1 if node is not None else 1
    for step in path:
        node = _child(node, step)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        for key, value in pairs:
            if isinstance(key, yaml.ScalarNode) and key.value == step:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int):
        items: list[yaml.Node] = node.value
        if step < len(items):
            return items[step]
    return None


def error_line(exc: yaml.YAMLError) -> int | None:
    """0-based line of a YAML error's mark, when it has one."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line if mark is not None else None


def error_text(exc: yaml.YAMLError) -> str:
    """One line describing a YAML error, without PyYAML's multi-line snippet."""
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [p for p in (context, problem) if p]
    return "; ".join(parts) if parts else str(exc).splitlines()[0]

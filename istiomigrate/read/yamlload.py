"""YAML loading for the few documents that are converted.

Legacy documents are loaded with PyYAML's C parser, but plain scalars that
YAML 1.1 would turn into numbers, booleans or timestamps are kept as the text
the user wrote (``Plain``). Pilot read label values as strings, so
``version: 1.0`` means the label ``"1.0"``, not ``1`` (and ``1.10`` is not
``1.1``). Fields typed as numbers are coerced by the models as usual.
"""

from __future__ import annotations

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


def load_keeping_text(text: str) -> Any:
    """Load one YAML document, keeping the source text of non-string plain scalars."""
    return yaml.load(text, Loader=_TextKeepingLoader)


def load(text: str) -> Any:
    """Load one YAML document with the C safe loader."""
    return yaml.load(text, Loader=_BaseLoader)


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

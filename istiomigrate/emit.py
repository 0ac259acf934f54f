"""Emit step: resources to readable YAML (block style, two-space indent, route comments) or JSON.

Converted resources are plain data (mappings, lists, strings, numbers,
booleans), so a small dedicated writer is enough. It is several times faster
than a general YAML dumper, which matters on trees of thousands of resources,
and lets each route carry a comment saying which legacy resource it came
from. ``tests/test_emit.py`` checks with hypothesis that ruamel.yaml reads
back exactly what was written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from istiomigrate.escape import shown
from istiomigrate.model import Resource

# Strings that YAML 1.1 or 1.2 would read as something else, or that need care.
_RESERVED = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|"
    r"on|On|ON|off|Off|OFF|[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN|"
    r"[-+]?\.?[0-9][0-9a-fA-FxXoO_:.tT +-]*|[-+]?\.[0-9].*|<<|=)\Z"
)
_SAFE_PLAIN = re.compile(r"^[A-Za-z0-9_/.*$()+-][A-Za-z0-9_/.*$()+ :@=,-]*\Z")
# Characters YAML readers refuse or fold even inside double quotes: write them escaped.
_UNPRINTABLE = re.compile("[\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\u2028\u2029]")


def scalar(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    plain = (
        _SAFE_PLAIN.match(text)
        and not _RESERVED.match(text)
        and not text.endswith((" ", ":"))
        and ": " not in text
        and " #" not in text
        and not text.startswith(("-", "*"))
    )
    if plain or _word_starting_dash(text):
        return text
    return _UNPRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


def comment(text: str, pad: str = "") -> str:
    """A YAML comment line: the one place comments are written, so none can hold a line break.

    Comments name legacy resources and files, both from input; a name with a line feed,
    a carriage return, NEL or U+2028 would otherwise end the comment and start a line of
    YAML (a route to another host). ``shown`` escapes every such character.
    """
    return f"{pad}# {shown(text)}"


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def _word_starting_dash(text: str) -> bool:
    """``-foo`` is a plain string in YAML; ``- foo`` and ``-1`` are not."""
    return bool(re.match(r"^-[A-Za-z_][A-Za-z0-9_.-]*\Z", text))


def _lines(value: object, indent: int, path: str, comments: dict[str, str]) -> Iterable[str]:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if _is_block(item):
                yield f"{pad}{scalar(key)}:"
                # Lists sit at the key's indentation (kubectl style); mappings go one level in.
                yield from _lines(item, indent if isinstance(item, list) else indent + 2,
                                  child, comments)
            else:
                yield f"{pad}{scalar(key)}: {_inline(item)}"
    elif isinstance(value, list):
        for i, item in enumerate(value):
            child = f"{path}[{i}]"
            if child in comments:
                yield comment(comments[child], pad)
            if _is_block(item):
                inner = list(_lines(item, indent + 2, child, comments))
                first = inner[0][indent + 2 :]
                yield f"{pad}- {first}"
                yield from inner[1:]
            else:
                yield f"{pad}- {_inline(item)}"


def _is_block(value: object) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def _inline(value: object) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return scalar(value)


def to_yaml(resource: Resource, note: str | None = None) -> str:
    """One resource as a YAML document body (no ``---``), ending with a newline."""
    head = [comment(note)] if note else []
    return "\n".join([*head, *_lines(resource.document(), 0, "", resource.comments)]) + "\n"


def data_to_yaml(data: dict[str, Any]) -> str:
    """Any mapping of plain data as a YAML document body, ending with a newline."""
    return "\n".join(_lines(data, 0, "", {})) + "\n"


def yaml_stream(resources: list[Resource]) -> str:
    return "---\n".join(to_yaml(r) for r in resources)


def json_stream(resources: list[Resource]) -> str:
    """A ``kind: List`` that ``kubectl apply -f`` accepts."""
    doc = {"apiVersion": "v1", "kind": "List", "items": [r.document() for r in resources]}
    return json.dumps(doc, indent=2) + "\n"

"""Services, read cheaply: ``metadata.name/namespace`` and ``spec.selector`` from text.

Source matches need the selector of the caller's Service, and a manifest
tree can hold thousands of Services. Building each as a Python object costs
as much as everything else the converter does, so the three fields are cut
out of the text and only those few lines are parsed. Anything unusual
(flow-style blocks, anchors, tags, templates) falls back to a full parse,
so the result is always what YAML says.
"""

from __future__ import annotations

import re
from typing import Protocol

import yaml

from istiomigrate.errors import InputError
from istiomigrate.read import yamlload

_UNUSUAL = re.compile(r"[&*!|>]|\{\{|^\s*<<", re.M)


def _block(text: str, key: str) -> str | None:
    """The indented lines under a top-level ``key:``, or None if it is not written that way."""
    match = re.search(rf"^{key}:[ \t]*(?:#.*)?\r?\n((?:(?:[ \t]+.*|[ \t]*)(?:\r?\n|$))*)",
                      text, re.M)
    return match.group(1) if match else None


def _child(block: str, key: str) -> tuple[str, str] | None:
    """(inline value, nested block) of ``key`` at the block's own indentation."""
    lines = [line for line in block.splitlines() if line.strip() and
             not line.lstrip().startswith("#")]
    if not lines:
        return None
    indent = _indent(lines[0])
    for i, line in enumerate(lines):
        if _indent(line) == indent and re.match(rf"\s*{re.escape(key)}\s*:", line):
            value = line.split(":", 1)[1]
            nested = []
            for deeper in lines[i + 1:]:
                if _indent(deeper) <= indent:
                    break
                nested.append(deeper)
            return value, "\n".join(nested)
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


_WORD = r"[-A-Za-z0-9_./]*"
_SIMPLE = re.compile(rf"""^\s*(?:([A-Za-z0-9]{_WORD})|"({_WORD})"|'({_WORD})')\s*\Z""")
_PAIR = re.compile(r"""^\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*:(.*)$""")


def _scalar(value: str) -> str | None:
    """A plain or simply quoted scalar by regex; anything else through the C loader."""
    simple = _SIMPLE.match(value)
    if simple:
        return next(g for g in simple.groups() if g is not None)
    loaded = yamlload.load_keeping_text(f"v: {value}") if value.strip() else None
    return None if not isinstance(loaded, dict) or loaded.get("v") is None else str(loaded["v"])


def _mapping(inline: str, nested: str) -> object:
    """A selector written as ``key: value`` lines; anything else through the C loader.

    What the loader returns may be any YAML value: the caller checks it is a mapping.
    """
    if not inline.strip() and nested:
        out: dict[str, str] = {}
        for line in nested.splitlines():
            pair = _PAIR.match(line)
            value = _SIMPLE.match(pair.group(2)) if pair else None
            if pair is None or value is None:
                break
            out[pair.group(1)] = next(g for g in value.groups() if g is not None)
        else:
            return out
    return yamlload.load_keeping_text(inline if inline.strip() else nested)


def fast_service(text: str) -> tuple[str | None, str | None, dict[str, str] | None] | None:
    """(name, namespace, selector) from the text of one Service, or None to parse it fully."""
    meta, spec = _block(text, "metadata"), _block(text, "spec")
    if meta is None or spec is None or _UNUSUAL.search(meta) or _UNUSUAL.search(spec):
        return None
    name, namespace = _child(meta, "name"), _child(meta, "namespace")
    if name is None:
        return None
    selector = _child(spec, "selector")
    parsed: dict[object, object] | None = None
    if selector is not None:
        loaded = _mapping(*selector)
        if loaded is not None and not isinstance(loaded, dict):
            return None
        parsed = loaded
    return (_scalar(name[0]), _scalar(namespace[0]) if namespace else None,
            {str(k): str(v) for k, v in parsed.items()} if parsed else None)


def full_service(text: str) -> tuple[str | None, str | None, dict[str, str] | None]:
    """The same three fields from a full parse, scalars kept as the text written."""
    data = _mapping_or_empty(yamlload.load_keeping_text(text))
    meta = _mapping_or_empty(data.get("metadata"))
    selector = _mapping_or_empty(data.get("spec")).get("selector")
    return (
        _text(meta.get("name")),
        _text(meta.get("namespace")),
        {str(k): str(v) for k, v in selector.items()} if isinstance(selector, dict) else None,
    )


def _mapping_or_empty(value: object) -> dict[object, object]:
    """A mapping as it is; anything else (a Service of the wrong shape) as no fields."""
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def service_selector(text: str) -> tuple[str | None, str | None, dict[str, str] | None]:
    return fast_service(text) or full_service(text)


# --------------------------------------------------------------------------- ports

Port = tuple[str | None, int]  # (name, port): what an Ingress's servicePort is resolved against


class PortLookup(Protocol):
    """Ports by (namespace, name): a ``ServicePorts``, or a plain mapping of them."""

    def get(self, key: tuple[str, str], /) -> list[Port] | None: ...


def service_ports(text: str) -> list[Port]:
    """The ports of one Service (``spec.ports``), from a full parse: needed only lazily."""
    return ports_of(yamlload.load_keeping_text(text) or {})


def ports_of(data: object) -> list[Port]:
    """(name, number) of each port of a Service object."""
    spec = data.get("spec") if isinstance(data, dict) else None
    ports = spec.get("ports") if isinstance(spec, dict) else None
    out: list[Port] = []
    for item in ports if isinstance(ports, list) else []:
        if not isinstance(item, dict):
            continue
        port, name = item.get("port"), item.get("name")
        if port is not None and not isinstance(port, bool) and str(port).isdigit():
            out.append((None if name is None else str(name), int(str(port))))
    return out


class ServicePorts:
    """Ports of the Services read, by (namespace, name), the later definition winning.

    Only Ingresses with named ports need them, and a tree holds thousands of
    Services: a Service read from text keeps its text (already in memory) and is
    parsed on first use only.
    """

    def __init__(self) -> None:
        self._ports: dict[tuple[str, str], list[Port]] = {}
        self._texts: dict[tuple[str, str], str] = {}
        self._where: dict[tuple[str, str], tuple[str, int]] = {}

    def add_text(self, key: tuple[str, str], text: str,
                 where: tuple[str, int] | None = None) -> None:
        """A Service's text, parsed on first use; ``where`` (file, line) names it if it
        turns out not to parse (the selector was cut out of the text without parsing)."""
        self._texts[key] = text
        self._ports.pop(key, None)
        if where is not None:
            self._where[key] = where

    def add(self, key: tuple[str, str], ports: list[Port]) -> None:
        self._ports[key] = ports
        self._texts.pop(key, None)

    def get(self, key: tuple[str, str]) -> list[Port] | None:
        """The Service's ports; None when it is not in the input or declares none."""
        if key in self._texts:
            try:
                self._ports[key] = service_ports(self._texts.pop(key))
            except yaml.YAMLError as exc:
                file, line = self._where.get(key, (None, None))
                offset = yamlload.error_line(exc)
                raise InputError(f"YAML does not parse: {yamlload.error_text(exc)}", file=file,
                                 line=None if line is None else line + (offset or 0)) from None
        return self._ports.get(key) or None

    def as_dict(self) -> dict[tuple[str, str], list[Port]]:
        for key in list(self._texts):
            self.get(key)
        return {k: v for k, v in self._ports.items() if v}

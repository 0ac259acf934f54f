"""v1alpha3 documents as Pilot read them: proto JSON field names, nulls as unset.

Pilot turned a stored object's ``spec`` into its proto message with ``jsonpb``, which
accepts a field by its JSON name (``appendHeaders``) or its proto name
(``append_headers``), and treats ``null`` as "not set"; Kubernetes stores a YAML key
written with no value (``match:``) as ``null``. So config a user wrote in snake_case, or
with empty keys, routed like its camelCase, key-less twin, and ``verify --against``
must read it the same way instead of refusing it or seeing fields that are not there.

Only field names are renamed: the keys of maps that hold user data (header names,
labels, selectors, endpoint ports) are kept as written, values and all.
"""

from __future__ import annotations

from typing import Any

# Fields whose value is a map keyed by user data (proto ``map<string, …>``), by either name.
_USER_MAPS = frozenset({
    "headers", "appendHeaders", "appendRequestHeaders", "appendResponseHeaders",
    "sourceLabels", "labels", "selector",
})


def as_pilot_read(doc: Any) -> Any:
    """``doc`` with its ``spec`` normalised as jsonpb read it; anything else unchanged.

    A camelCase field wins over its snake_case twin when a document spells both.
    """
    if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        return {**doc, "items": [as_pilot_read(item) for item in doc["items"]]}
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        return doc
    return {**doc, "spec": _message(doc["spec"])}


def json_name(field: str) -> str:
    """The proto JSON name of a proto field name: ``per_try_timeout`` -> ``perTryTimeout``."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _message(data: dict[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    renamed: dict[Any, Any] = {}
    for key, value in data.items():
        if value is None:
            continue  # null: the field is unset
        name = json_name(key) if isinstance(key, str) else key
        target = out if name == key else renamed
        target[name] = value if name in _USER_MAPS or _is_port_map(name, value) \
            else _value(value)
    for name, value in renamed.items():
        out.setdefault(name, value)
    return out


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return _message(value)
    if isinstance(value, list):
        return [_value(item) for item in value]
    return value


def _is_port_map(name: str, value: Any) -> bool:
    """A ServiceEntry endpoint's ``ports`` maps port names to numbers (elsewhere: a list)."""
    return name == "ports" and isinstance(value, dict)

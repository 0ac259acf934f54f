"""JSON Schemas for the legacy and v1alpha3 kinds, and the validators built on them.

The schemas (``schemas/`` in a source checkout, ``istiomigrate/_schemas`` in a
wheel) are hand-written from the istio/api protos and are strict: every object
forbids unknown fields, so a misspelt field is an error rather than a silently
dropped setting. Two uses:

* ``validate_legacy`` checks input documents before conversion and returns
  short ``(field_path, message)`` pairs that the CLI turns into one-line errors.
* ``validate_output`` checks every document the converter emits against the
  v1alpha3 API of the chosen Istio release, so a converter bug surfaces here
  instead of as a rejected ``kubectl apply``.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeGuard

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from istiomigrate import kinds, targets

TARGETS = tuple(v for v in targets.versions() if targets.for_version(v).schema_dir(v))
"""``--target`` values whose output has a schema here (the registry says which folder)."""

LEGACY_KINDS = kinds.LEGACY_KINDS
"""Legacy (config.istio.io) kinds that have a schema."""

OUTPUT_KINDS = kinds.NETWORKING_KINDS
"""networking.istio.io/v1alpha3 kinds that have a schema."""

_LEGACY_GROUP = "legacy"

# Where the wheel build puts the schemas, then where a source checkout has them.
_SCHEMA_DIRS = (
    Path(__file__).parent / "_schemas",
    Path(__file__).parent.parent / "schemas",
)

_JSON_TYPE_NAMES = {  # bool before int: bool is a subclass of int
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def validate_output(doc: dict[str, Any], target: str) -> list[str]:
    """Validate a v1alpha3 document against the schema of Istio ``target``.

    The kind is taken from the document itself. Returns one human-readable
    string per problem, each starting with the JSON path of the offending
    field (``spec.http[0].route[0].destination.subset: ...``); an empty list
    means the document is valid. Called for every emitted document, so the
    compiled validators are cached.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    if not isinstance(doc, dict):
        return [f"<document>: expected an object, got {_json_type(doc)}"]
    kind = doc.get("kind")
    if kind not in OUTPUT_KINDS:
        return [f"kind: unsupported kind {kind!r}; expected one of {', '.join(OUTPUT_KINDS)}"]
    group = targets.for_version(target).schema_dir(target)
    assert group is not None  # TARGETS holds only targets with a schema
    problems = _problems(_validator(group, kind), doc)
    return [f"{path or '<document>'}: {message}" for path, message in problems]


_CONTAINERS = {"object", "array"}


def type_problems(doc: dict[str, Any], target: str | None = None, *,
                  shape_only: bool = False) -> list[tuple[str, str]]:
    """Where a v1alpha3 document holds a value of the wrong JSON type for ``target``.

    Only types: ``verify`` and the merge read hand-written resources, where an
    unknown field or a value out of range is the user's business, but a list where a
    mapping belongs cannot be simulated or merged into. ``(field, message)`` pairs, the
    field dotted like ``spec.http[0].route``. Without ``target``, the newest target's
    schema (types do not differ between them). ``shape_only`` keeps only mappings and lists
    where the other or a scalar belongs, and scalars where a mapping or list belongs
    (``version: 1`` for a string label is the user's to keep).
    """
    version = target or (TARGETS[-1] if TARGETS else None)
    kind = doc.get("kind")
    group = targets.for_version(version).schema_dir(version) if version in TARGETS else None
    if kind not in OUTPUT_KINDS or group is None:
        return []
    errors = [e for e in _validator(group, kind).iter_errors(_as_json(doc))
              if e.validator == "type" and not (shape_only and _scalar_for_scalar(e))]
    return [(_format_path(e.absolute_path) or "<document>",
             _message("type", e.validator_value, e.instance, {}, e.message)) for e in errors]


def _scalar_for_scalar(error: ValidationError) -> bool:
    value: Any = error.validator_value  # a type name or a list of them (set by validation)
    wanted = {value} if isinstance(value, str) else set(value)
    return not (wanted & _CONTAINERS) and not isinstance(error.instance, (dict, list))


def validate_legacy(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Validate a legacy RouteRule, DestinationPolicy or EgressRule document.

    Returns ``(field_path, message)`` pairs, the path dotted like
    ``spec.route[1].weight`` (empty for the document itself) and the message
    short enough for a one-line user error, e.g. ``unknown field 'fooBar'``.
    The most relevant problem comes first; an empty list means valid.

    YAML timestamps (``creationTimestamp: 2018-05-01T10:00:00Z`` loads as a
    datetime) and non-string keys are checked as the strings Kubernetes would
    have stored, so documents dumped from a cluster are not rejected for them.
    """
    if not isinstance(doc, dict):
        return [("", f"expected an object, got {_json_type(doc)}")]
    kind = doc.get("kind")
    if kind not in LEGACY_KINDS:
        return [("kind", f"unsupported kind {kind!r}; expected one of {', '.join(LEGACY_KINDS)}")]
    return _problems(_validator(_LEGACY_GROUP, kind), _as_json(doc))


# --------------------------------------------------------------------------- loading


@functools.lru_cache(maxsize=1)
def _schema_dir() -> Path:
    """The directory holding the schema files (wheel layout first, then source tree)."""
    for candidate in _SCHEMA_DIRS:
        if (candidate / _LEGACY_GROUP).is_dir():
            return candidate
    searched = ", ".join(str(p) for p in _SCHEMA_DIRS)
    raise FileNotFoundError(f"istiomigrate schemas not found (looked in {searched})")


@functools.lru_cache(maxsize=16)  # 11 schema files
def _validator(group: str, kind: str) -> Draft202012Validator:
    """A compiled validator for one schema file; cached because it is reused per document."""
    path = _schema_dir() / group / f"{kind}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator(_inline_refs(schema, schema.get("$defs", {}), ()))


def _inline_refs(node: Any, defs: dict[str, Any], stack: tuple[str, ...]) -> Any:
    """Replace local ``$ref``s by the definitions they name.

    Resolving references dominates validation time, and every output document
    is validated, so references are resolved once here instead. A recursive
    reference is left as it is (``$defs`` stays in the root to serve it).
    """
    if isinstance(node, list):
        return [_inline_refs(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
        name = ref.removeprefix("#/$defs/")
        if name in defs and name not in stack:
            return _inline_refs(defs[name], defs, (*stack, name))
    return {key: value if key == "$defs" else _inline_refs(value, defs, stack)
            for key, value in node.items()}


# --------------------------------------------------------------------------- messages


def _problems(validator: Draft202012Validator, doc: dict[str, Any]) -> list[tuple[str, str]]:
    """All problems as (path, message), most relevant first, without duplicates."""
    errors = list(validator.iter_errors(doc))
    if not errors:
        return []
    first = best_match(errors)
    # best_match may descend into a oneOf/anyOf context; keep the top-level error
    # it came from at the front, then the rest in the order found.
    while first is not None and first.parent is not None:
        first = first.parent
    ordered = [first, *(e for e in errors if e is not first)]
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for error in ordered:
        for item in _describe(error):
            if item not in seen:
                seen.add(item)
                out.append(item)
    return out


def _describe(error: ValidationError) -> Iterator[tuple[str, str]]:
    """Turn one jsonschema error into short (path, message) pairs."""
    parts = list(error.absolute_path)
    here = _format_path(parts)
    keyword = error.validator
    # Set on every error that validation yields (unset only for errors built by hand).
    value: Any = error.validator_value
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    comment = schema.get("$comment")

    if keyword == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        for key in instance:
            if key not in known:
                # YAML allows non-string keys (80:, true:); report them as text.
                name = str(key)
                yield _format_path([*parts, name]), _unknown_field(name, known)
        return
    if keyword == "required" and isinstance(instance, dict):
        suffix = f" ({comment})" if comment else ""
        for name in value:
            if name not in instance:
                yield _format_path([*parts, name]), "missing required field" + suffix
        return
    negated = value.get("anyOf") if keyword == "not" and isinstance(value, dict) else None
    if _is_required_group(negated):
        names = _group_names(negated)
        yield here, _only_one(names, instance, comment)
        return
    if keyword == "oneOf" and _is_required_group(value):
        names = _group_names(value)
        present = [n for n in names if isinstance(instance, dict) and n in instance]
        if present:
            yield here, _only_one(names, instance, comment)
        else:
            listed = ", ".join(f"'{n}'" for n in names)
            yield here, f"must set one of {listed}" + (f" ({comment})" if comment else "")
        return
    if keyword in ("oneOf", "anyOf"):
        if "description" in schema:
            yield here, f"expected {schema['description']}, got {_short(instance)}"
            return
        inner = best_match(error.context) if error.context else None
        if inner is not None:
            yield from _describe(inner)
            return
    yield here, _message(keyword, value, instance, schema, error.message)


def _message(keyword: Any, value: Any, instance: Any, schema: dict[str, Any], fallback: str) -> str:
    """The message for a single-keyword failure."""
    got = _short(instance)
    if keyword == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        return f"expected {_join_or(wanted)}, got {got}"
    if keyword == "enum":
        return f"must be one of {', '.join(str(v) for v in value)}, got {got}"
    if keyword == "const":
        return f"must be {json.dumps(value)}, got {got}"
    if keyword == "pattern":
        if "description" in schema:
            return f"expected {schema['description']}, got {got}"
        return f"must match {value}, got {got}"
    if keyword == "minimum":
        return f"must be at least {value}, got {got}"
    if keyword == "maximum":
        return f"must be at most {value}, got {got}"
    if keyword in ("minItems", "minLength") and value == 1:
        return "must not be empty"
    if keyword == "minItems":
        return f"must have at least {value} items"
    if keyword == "minProperties":
        return "must set at least one field"
    return fallback


def _unknown_field(key: str, known: list[str]) -> str:
    """``unknown field 'x'``, with a suggestion when a known field is close."""
    message = f"unknown field '{key}'"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    return message


def _only_one(names: list[str], instance: Any, comment: str | None) -> str:
    present = [n for n in names if isinstance(instance, dict) and n in instance]
    listed = ", ".join(f"'{n}'" for n in present or names)
    return f"only one of {listed} may be set" + (f" ({comment})" if comment else "")


def _is_required_group(subschemas: Any) -> TypeGuard[list[dict[str, Any]]]:
    """True for a list of ``{"required": [...]}`` schemas: how the schemas spell a oneof."""
    return (
        isinstance(subschemas, list)
        and bool(subschemas)
        and all(isinstance(s, dict) and set(s) == {"required"} for s in subschemas)
    )


def _group_names(subschemas: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for sub in subschemas:
        for name in sub["required"]:
            if name not in names:
                names.append(name)
    return names


def _format_path(parts: Iterable[str | int]) -> str:
    """``spec.route[1].weight``; keys that are not plain words are bracketed and quoted."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and all(c.isalnum() or c in "_-@" for c in part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _as_json(value: Any) -> Any:
    """A copy with YAML-only values (timestamps, non-string keys) turned into strings."""
    if isinstance(value, dict):
        return {_text(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


def _text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (datetime.date, datetime.time)):
        return key.isoformat()
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)


def _json_type(value: Any) -> str:
    # isinstance, not type(): YAML loaders return dict/list/int/float subclasses.
    for python_type, name in _JSON_TYPE_NAMES.items():
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _short(value: Any) -> str:
    """The JSON type of a value, with the value itself when it is a short scalar."""
    kind = _json_type(value)
    if isinstance(value, (dict, list)) or value is None:
        return kind
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, (bool, int, float)):
        text = json.dumps(value)
    else:
        text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"


def _join_or(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]

"""A small, in-process Kubernetes API server that speaks the real REST protocol.

Why this exists: no kube-apiserver can be installed where the tests run, yet the migration tool
talks to clusters through the official ``kubernetes`` Python client and users drive it next to
``kubectl``. Mocking the client would test our assumptions about the client, not the client.
This server instead answers the same HTTP requests a real kube-apiserver answers -- discovery,
CRUD on namespaced objects, lists with pagination, dry runs, Status errors, bearer-token auth --
so that code which works here has a real chance of working against a cluster, and ``kubectl``
itself (a client nobody here wrote) can be pointed at it as a cross-check.

Only the Python standard library is used, so the server cannot drift with a third-party
dependency. (:meth:`FakeKube.load_yaml` imports PyYAML lazily; it is a project dependency.)

How it differs from a real kube-apiserver is listed in the docstring of :class:`FakeKube`.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import copy
import hashlib
import json
import random
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "DEFAULT_NAMESPACES",
    "DEFAULT_RESOURCES",
    "ISTIO_LEGACY_RESOURCES",
    "ApiError",
    "FakeKube",
    "Fault",
    "RecordedRequest",
    "ResourceType",
    "TLSMaterial",
    "generate_tls_material",
    "json_patch",
    "merge_patch",
    "parse_label_selector",
    "shared_tls_material",
    "strategic_merge_patch",
]

JSON = dict[str, Any]

# The verbs kube-apiserver advertises for an ordinary namespaced resource and for namespaces.
NAMESPACED_VERBS: tuple[str, ...] = (
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
)
NAMESPACE_VERBS: tuple[str, ...] = ("create", "delete", "get", "list", "patch", "update", "watch")
WRITE_METHODS: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_NAMESPACES: tuple[str, ...] = ("default", "kube-system", "kube-public", "kube-node-lease")
DEFAULT_USER = "system:serviceaccount:default:istiomigrate"

# Names: kube-apiserver validates object names; sloppy names are a common source of
# "works in the test, rejected by the cluster" bugs, so the same rules apply here.
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_NAME_RULES: dict[str, tuple[re.Pattern[str], int, str]] = {
    "subdomain": (
        _DNS1123_SUBDOMAIN,
        253,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        "regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ),
    "label": (
        _DNS1123_LABEL,
        63,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ),
    "dns1035": (
        _DNS1035_LABEL,
        63,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ),
}
_GENERATE_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # what apiserver's name generator uses
_MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class ResourceType:
    """One REST resource as discovery advertises it (one group/version/plural).

    ``builtin`` marks types compiled into kube-apiserver (services, namespaces, ingresses): their
    list items carry no ``apiVersion``/``kind``, missing ``apiVersion``/``kind`` in a request body
    is defaulted, and unconditional updates (PUT without ``resourceVersion``) are allowed.
    Custom resources get the CRD behaviour instead: both fields are required and a PUT must carry
    ``metadata.resourceVersion`` (the CRD strategy's ``AllowUnconditionalUpdate`` is false).
    """

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = NAMESPACED_VERBS
    builtin: bool = False
    name_rule: str = "subdomain"
    return_deleted_object: bool = False
    has_generation: bool = True
    # The CRD's structural schema (``openAPIV3Schema``: ``properties``, ``items``,
    # ``additionalProperties``, ``x-kubernetes-preserve-unknown-fields``) that decides which
    # fields are unknown: refused under ``fieldValidation=Strict``, else pruned with a warning.
    # None: no schema, every field kept (a CRD whose whole object preserves unknown fields).
    schema: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def api_version(self) -> str:
        """``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def qualified(self) -> str:
        """``plural.group`` as kube-apiserver prints a group-resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """``Kind.group`` as used in ``Invalid`` messages."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def matches(self, name: str) -> bool:
        """Whether ``name`` designates this type the way kubectl resolves resource arguments."""
        lowered = name.lower()
        candidates = {self.plural, self.singular, self.kind.lower(), *self.short_names}
        if lowered in candidates:
            return True
        if "." in lowered:
            head, _, rest = lowered.partition(".")
            if head in candidates and rest in (self.group, f"{self.version}.{self.group}"):
                return True
        return False


_ISTIO_CATEGORIES = ("istio-io", "networking-istio-io")
_ISTIO_CONFIG_CATEGORIES = ("istio-io", "config-istio-io")
_PRESERVE: JSON = {"x-kubernetes-preserve-unknown-fields": True}


def spec_schema(*spec_fields: str) -> JSON:
    """A CRD schema that knows the top-level fields of ``spec`` and keeps whatever is below
    them: the shape of Istio's networking CRDs where a field beside those is unknown (an
    Istio too old for it, or a typo) and the nested messages are left to Istio's validation."""
    return {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {f: _PRESERVE for f in spec_fields}},
            "status": _PRESERVE,
        },
    }


# ObjectMeta's fields: an unknown one is refused under Strict for every kind.
_OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})
_TOP_LEVEL_FIELDS = frozenset({"apiVersion", "kind", "metadata"})


def unknown_fields(schema: Mapping[str, Any] | None, obj: JSON) -> list[str]:
    """The paths (``spec.http[0].foo``, as kube-apiserver spells them) of the fields of
    ``obj`` that ``schema`` does not declare, top level and metadata included."""
    if schema is None:
        return []
    found = [f"metadata.{k}" for k in (obj.get("metadata") or {}) if k not in _OBJECT_META_FIELDS
             ] if isinstance(obj.get("metadata"), dict) else []
    rest = {k: v for k, v in obj.items() if k not in _TOP_LEVEL_FIELDS}
    return [*_unknown(schema, rest, ""), *found]


def _unknown(schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
    props = schema.get("properties")
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    out: list[str] = []
    if isinstance(value, dict) and (props is not None or "additionalProperties" in schema):
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if props is not None and key in props:
                out += _unknown(props[key], item, where)
            elif isinstance(extra, dict):
                out += _unknown(extra, item, where)
            elif not preserve and extra is not True:
                out.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            out += _unknown(schema["items"], item, f"{path}[{index}]")
    return out


def prune(obj: JSON, paths: list[str]) -> None:
    """Drop the fields at ``paths`` (from :func:`unknown_fields`), as structural pruning does."""
    for path in sorted(paths, key=len, reverse=True):
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        node: Any = obj
        for part in parts[:-1]:
            node = node[int(part[1:-1])] if part.startswith("[") else node.get(part)
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(parts[-1], None)

DEFAULT_RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "namespaces",
        "Namespace",
        "namespace",
        namespaced=False,
        short_names=("ns",),
        verbs=NAMESPACE_VERBS,
        builtin=True,
        name_rule="label",
        return_deleted_object=True,
        has_generation=False,
    ),
    ResourceType(
        "",
        "v1",
        "services",
        "Service",
        "service",
        short_names=("svc",),
        categories=("all",),
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        builtin=True,
        name_rule="dns1035",
        return_deleted_object=True,
        has_generation=False,
    ),
    ResourceType(
        "config.istio.io",
        "v1alpha2",
        "routerules",
        "RouteRule",
        "routerule",
        categories=_ISTIO_CONFIG_CATEGORIES,
    ),
    ResourceType(
        "config.istio.io",
        "v1alpha2",
        "destinationpolicies",
        "DestinationPolicy",
        "destinationpolicy",
        categories=_ISTIO_CONFIG_CATEGORIES,
    ),
    ResourceType(
        "config.istio.io",
        "v1alpha2",
        "egressrules",
        "EgressRule",
        "egressrule",
        categories=_ISTIO_CONFIG_CATEGORIES,
    ),
    ResourceType(
        "networking.istio.io",
        "v1alpha3",
        "virtualservices",
        "VirtualService",
        "virtualservice",
        short_names=("vs",),
        categories=_ISTIO_CATEGORIES,
        schema=spec_schema(
            "hosts", "gateways", "http", "tls", "tcp", "exportTo",
        ),
    ),
    ResourceType(
        "networking.istio.io",
        "v1alpha3",
        "destinationrules",
        "DestinationRule",
        "destinationrule",
        short_names=("dr",),
        categories=_ISTIO_CATEGORIES,
        schema=spec_schema(
            "host", "trafficPolicy", "subsets", "exportTo", "workloadSelector",
        ),
    ),
    ResourceType(
        "networking.istio.io",
        "v1alpha3",
        "serviceentries",
        "ServiceEntry",
        "serviceentry",
        short_names=("se",),
        categories=_ISTIO_CATEGORIES,
        schema=spec_schema(
            "hosts", "addresses", "ports", "location", "resolution", "endpoints",
            "workloadSelector", "exportTo", "subjectAltNames",
        ),
    ),
    ResourceType(
        "networking.istio.io",
        "v1alpha3",
        "gateways",
        "Gateway",
        "gateway",
        short_names=("gw",),
        categories=_ISTIO_CATEGORIES,
        schema=spec_schema(
            "servers", "selector",
        ),
    ),
    ResourceType(
        "extensions",
        "v1beta1",
        "ingresses",
        "Ingress",
        "ingress",
        short_names=("ing",),
        builtin=True,
    ),
)

# The legacy Istio CRDs: pass as ``missing=`` to simulate a mesh where they were removed.
ISTIO_LEGACY_RESOURCES: tuple[str, ...] = (
    "routerules.config.istio.io",
    "destinationpolicies.config.istio.io",
    "egressrules.config.istio.io",
)


class ApiError(Exception):
    """A failure answered as a ``Status`` object, exactly as kube-apiserver shapes it."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: JSON | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = dict(headers or {})

    def status(self) -> JSON:
        body: JSON = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details if self.details is not None else {},
            "code": self.code,
        }
        if not self.reason:
            del body["reason"]
        return body


def _details(rt: ResourceType, name: str | None = None) -> JSON:
    details: JSON = {}
    if name:
        details["name"] = name
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural  # apiserver really puts the resource (plural) in "kind"
    return details


def _not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def _generic_not_found() -> ApiError:
    # What kube-apiserver answers for a path no API serves -- e.g. a CRD that is not installed.
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def _already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name)
    )


def _conflict(rt: ResourceType, name: str, why: str | None = None) -> ApiError:
    why = why or (
        "the object has been modified; please apply your changes to the latest version and "
        "try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rt.qualified} "{name}": {why}',
        _details(rt, name),
    )


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _invalid(rt: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 Invalid; causes are (reason, field, message) like field.ErrorList."""
    text = ", ".join(f"{fld}: {msg}" for _, fld, msg in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    details: JSON = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.kind
    details["causes"] = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    return ApiError(422, "Invalid", f'{rt.group_kind} "{name}" is invalid: {text}', details)


def _options_invalid(options_kind: str, fld: str, message: str) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        f'{options_kind}.meta.k8s.io "" is invalid: {fld}: {message}',
        {
            "group": "meta.k8s.io",
            "kind": options_kind,
            "causes": [{"reason": "FieldValueNotSupported", "message": message, "field": fld}],
        },
    )


def _forbidden_message(user: str, verb: str, info: _RequestInfo | None, path: str) -> str:
    if info is None:
        return f'forbidden: User "{user}" cannot {verb} path "{path}"'
    rt = info.rt
    subject = f'{rt.qualified} "{info.name}"' if info.name else rt.qualified
    if rt.namespaced and info.namespace:
        scope = f'in the namespace "{info.namespace}"'
    elif rt.plural == "namespaces" and info.name:
        scope = f'in the namespace "{info.name}"'
    else:
        scope = "at the cluster scope"
    return (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{rt.plural}" '
        f'in API group "{rt.group}" {scope}'
    )


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _human_age(timestamp: str | None) -> str:
    """kubectl's AGE column (``metatable.ConvertToHumanReadableDateType``), roughly."""
    if not timestamp:
        return "<unknown>"
    try:
        then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return "<invalid>"
    seconds = int((datetime.now(timezone.utc) - then).total_seconds())
    if seconds < 0:
        return "<invalid>"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


# ---------------------------------------------------------------------------------------------
# Patches


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (``application/merge-patch+json``)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class _PatchError(Exception):
    pass


# patchMergeKey / patchStrategy=merge from the Go structs of the built-in types served here.
_SMP_MERGE_KEYS: dict[tuple[str, ...], str] = {
    ("spec", "ports"): "port",
    ("metadata", "ownerReferences"): "uid",
}
_SMP_MERGE_PRIMITIVES: frozenset[tuple[str, ...]] = frozenset({("metadata", "finalizers")})


def strategic_merge_patch(target: Any, patch: Any, path: tuple[str, ...] = ()) -> Any:
    """A strategic merge patch for the few built-in types served here.

    Maps merge like a JSON merge patch; lists whose Go field has a ``patchMergeKey`` (service
    ports by ``port``, ownerReferences by ``uid``) merge element-wise, other lists are
    replaced; the ``$patch``, ``$retainKeys``, ``$setElementOrder/`` and
    ``$deleteFromPrimitiveList/`` directives that kubectl emits are honoured, never stored.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list) and isinstance(value, list):
                result[name] = [v for v in result[name] if v not in value]
            continue
        sub = (*path, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and sub in _SMP_MERGE_KEYS:
            result[key] = _smp_merge_list(result.get(key), value, _SMP_MERGE_KEYS[sub], sub)
        elif isinstance(value, list) and sub in _SMP_MERGE_PRIMITIVES:
            current = list(result.get(key) or [])
            result[key] = current + [v for v in value if v not in current]
        elif isinstance(value, list):
            result[key] = [
                {k: v for k, v in item.items() if not k.startswith("$")}
                if isinstance(item, dict)
                else item
                for item in value
            ]
        else:
            merged = strategic_merge_patch(result.get(key), value, sub)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    for key, order in patch.items():
        name = key.split("/", 1)[1] if key.startswith("$setElementOrder/") else None
        if name and isinstance(result.get(name), list) and isinstance(order, list):
            merge_key = _SMP_MERGE_KEYS.get((*path, name))
            result[name] = _smp_order(result[name], order, merge_key)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_merge_list(current: Any, patch: list[Any], merge_key: str, path: tuple[str, ...]) -> Any:
    items = [copy.deepcopy(i) for i in current] if isinstance(current, list) else []
    for element in patch:
        if not isinstance(element, dict) or merge_key not in element:
            raise _PatchError(f"map: {element} does not contain declared merge key: {merge_key}")
        index = next(
            (i for i, old in enumerate(items) if old.get(merge_key) == element[merge_key]), None
        )
        if element.get("$patch") == "delete":
            if index is not None:
                items.pop(index)
        elif index is None:
            items.append(strategic_merge_patch({}, element, path))
        else:
            items[index] = strategic_merge_patch(items[index], element, path)
    return items


def _smp_order(items: list[Any], order: list[Any], merge_key: str | None) -> list[Any]:
    def position(item: Any) -> int:
        probe = item.get(merge_key) if merge_key and isinstance(item, dict) else item
        for i, wanted in enumerate(order):
            wanted_key = wanted.get(merge_key) if merge_key and isinstance(wanted, dict) else wanted
            if wanted_key == probe:
                return i
        return len(order)

    return sorted(items, key=position)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, dict):
            if part not in doc:
                raise _PatchError(f"path component {part!r} not found")
            doc = doc[part]
        elif isinstance(doc, list):
            try:
                doc = doc[int(part)]
            except (ValueError, IndexError) as exc:
                raise _PatchError(f"invalid list index {part!r}") from exc
        else:
            raise _PatchError(f"cannot traverse into {type(doc).__name__}")
    return doc


def _json_patch_add(doc: Any, parts: list[str], value: Any, replace: bool) -> Any:
    if not parts:
        return copy.deepcopy(value)
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise _PatchError(f"replace operation does not apply: doc is missing key: {last}")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(copy.deepcopy(value))
        else:
            try:
                index = int(last)
            except ValueError as exc:
                raise _PatchError(f"invalid list index {last!r}") from exc
            if replace:
                if not 0 <= index < len(parent):
                    raise _PatchError(f"replace index {index} out of bounds")
                parent[index] = copy.deepcopy(value)
            else:
                if not 0 <= index <= len(parent):
                    raise _PatchError(f"add index {index} out of bounds")
                parent.insert(index, copy.deepcopy(value))
    else:
        raise _PatchError("cannot add into a scalar")
    return doc


def _json_patch_remove(doc: Any, parts: list[str]) -> tuple[Any, Any]:
    if not parts:
        raise _PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _PatchError(f"remove operation does not apply: doc is missing path: {last}")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        try:
            return doc, parent.pop(int(last))
        except (ValueError, IndexError) as exc:
            raise _PatchError(f"invalid list index {last!r}") from exc
    raise _PatchError("cannot remove from a scalar")


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902 JSON patch (``application/json-patch+json``)."""
    if not isinstance(operations, list):
        raise _PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise _PatchError(f"malformed operation {op!r}")
        kind, parts = op["op"], _pointer(op["path"])
        if kind in ("add", "replace"):
            if "value" not in op:
                raise _PatchError(f"{kind} operation has no value")
            doc = _json_patch_add(doc, parts, op["value"], replace=kind == "replace")
        elif kind == "remove":
            doc, _ = _json_patch_remove(doc, parts)
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            if kind == "move":
                doc, value = _json_patch_remove(doc, source)
            else:
                value = copy.deepcopy(_walk(doc, source))
            doc = _json_patch_add(doc, parts, value, replace=False)
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise _PatchError(f"testing value {op['path']} failed")
        else:
            raise _PatchError(f"unknown operation {kind!r}")
    return doc


# ---------------------------------------------------------------------------------------------
# Selectors


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_SET_REQ = re.compile(r"^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)$")
_EQ_REQ = re.compile(r"^([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_./-]*)$")
_KEY = re.compile(r"^!?\s*[A-Za-z0-9_./-]+$")

Selector = Callable[[Mapping[str, str]], bool]


def parse_label_selector(text: str) -> list[Selector]:
    """Parse equality- and set-based label selectors (``a=b,c!=d,e in (f,g),!h``)."""
    requirements: list[Selector] = []
    for raw in _split_top_level(text):
        if m := _SET_REQ.match(raw):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in":
                requirements.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
            else:
                requirements.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif m := _EQ_REQ.match(raw):
            key, op, value = m.groups()
            if op == "!=":
                requirements.append(lambda lb, k=key, v=value: lb.get(k) != v)
            else:
                requirements.append(lambda lb, k=key, v=value: k in lb and lb[k] == v)
        elif _KEY.match(raw):
            if raw.startswith("!"):
                key = raw[1:].strip()
                requirements.append(lambda lb, k=key: k not in lb)
            else:
                requirements.append(lambda lb, k=raw: k in lb)
        else:
            raise _bad_request(f"unable to parse requirement: found '{raw}', expected: selector")
    return requirements


_FIELD_REQ = re.compile(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$")


def parse_field_selector(text: str, rt: ResourceType) -> list[Callable[[JSON], bool]]:
    """Field selectors: ``metadata.name`` and ``metadata.namespace``, as for custom resources."""
    requirements: list[Callable[[JSON], bool]] = []
    for raw in _split_top_level(text):
        m = _FIELD_REQ.match(raw)
        if not m:
            raise _bad_request(f"invalid selector: '{text}'; can't understand '{raw}'")
        fld, op, value = m.groups()
        if fld not in ("metadata.name", "metadata.namespace"):
            raise _bad_request(
                f"field label not supported: {fld}"
                if rt.builtin
                else f'"{fld}" is not a known field selector: only "metadata.name", '
                f'"metadata.namespace"'
            )
        attr = fld.split(".", 1)[1]

        def check(obj: JSON, a: str = attr, v: str = value, negate: bool = op == "!=") -> bool:
            actual = obj.get("metadata", {}).get(a, "")
            return (actual != v) if negate else (actual == v)

        requirements.append(check)
    return requirements


# ---------------------------------------------------------------------------------------------
# Request log and faults


_LOGGED_HEADERS = ("Accept", "Content-Type", "User-Agent", "Authorization", "Kubectl-Command")


@dataclass
class RecordedRequest:
    """One request as the server saw it, for assertions about what a client actually sent."""

    method: str
    path: str
    query: dict[str, str]
    query_all: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None
    raw_body: bytes = b""
    status: int | None = None
    time: float = field(default_factory=time.time)

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @property
    def dry_run(self) -> bool:
        """True when the request asked for ``dryRun=All`` (query or DeleteOptions body)."""
        values = list(self.query_all.get("dryRun", []))
        if isinstance(self.body, dict) and isinstance(self.body.get("dryRun"), list):
            values += self.body["dryRun"]
        return "All" in values

    @property
    def field_manager(self) -> str | None:
        return self.query.get("fieldManager")

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, vs in self.query_all.items() for v in vs)
        return f"{self.method} {self.path}{'?' + query if query else ''} -> {self.status}"


@dataclass
class Fault:
    """An injected failure or delay for requests whose method and path match.

    ``nth`` (1-based) restricts the fault to the Nth matching request only; otherwise it fires
    on every match until it has fired ``times`` times (``None``: forever). Matching counts
    every request that matches method and path, whether or not the fault fires.
    """

    method: str
    pattern: re.Pattern[str]
    status: int | None = None
    delay: float = 0.0
    times: int | None = None
    nth: int | None = None
    message: str | None = None
    reason: str | None = None
    body: bytes | None = None  # a canned answer (see FakeKube.respond)
    content_type: str = "application/json"
    trickle: float = 0.0  # seconds between the bytes of the body (see FakeKube.trickle)
    echo: bool = False  # quote the credentials in the Status (see FakeKube.echo_credentials)
    matched: int = 0
    fired: int = 0
    active: bool = True

    def _consider(self, method: str, path: str) -> bool:
        if not self.active:
            return False
        if self.method not in ("*", method) or not self.pattern.search(path):
            return False
        self.matched += 1
        if self.nth is not None:
            fire = self.matched == self.nth
        else:
            fire = self.times is None or self.fired < self.times
        if fire:
            self.fired += 1
        return fire

    def remove(self) -> None:
        self.active = False


# ---------------------------------------------------------------------------------------------
# TLS: kubectl (client-go's clientcmd) only sends a bearer token when the server URL is https,
# so token auth can only be exercised over TLS. The certificate is made here with the standard
# library alone (DER by hand, RSA with pow()), once per process, so that neither openssl nor the
# ``cryptography`` package is needed and no private key is ever checked in.


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _der_seq(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _der_oid(dotted: str) -> bytes:
    nums = [int(x) for x in dotted.split(".")]
    out = bytearray([40 * nums[0] + nums[1]])
    for num in nums[2:]:
        chunk = [num & 0x7F]
        num >>= 7
        while num:
            chunk.append(0x80 | (num & 0x7F))
            num >>= 7
        out.extend(reversed(chunk))
    return _der(0x06, bytes(out))


def _der_time(when: datetime) -> bytes:
    if when.year < 2050:
        return _der(0x17, when.strftime("%y%m%d%H%M%SZ").encode())
    return _der(0x18, when.strftime("%Y%m%d%H%M%SZ").encode())


def _is_probable_prime(n: int, rounds: int = 24) -> bool:
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % q for q in range(3, int(p**0.5) + 1, 2))]


def _random_prime(bits: int, e: int) -> int:
    for _ in range(100_000):  # bounded; a 1024-bit prime turns up after a few hundred tries
        candidate = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if (candidate - 1) % e and _is_probable_prime(candidate):
            return candidate
    raise RuntimeError("no prime found")


@dataclass(frozen=True)
class TLSMaterial:
    """A self-signed certificate for 127.0.0.1/localhost and its key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        workdir = tempfile.mkdtemp(prefix="fakekube-tls-")
        try:  # ssl wants files; they live only for the duration of this call
            cert, key = Path(workdir, "tls.crt"), Path(workdir, "tls.key")
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            key.chmod(0o600)
            context.load_cert_chain(str(cert), str(key))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return context


def _pem(label: str, der: bytes) -> bytes:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    text = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
    return text.encode()


def generate_tls_material(common_name: str = "fakekube") -> TLSMaterial:
    """Make an RSA-2048 key and a self-signed v3 certificate valid for 127.0.0.1 and localhost.

    The certificate is its own CA (basicConstraints CA:TRUE), so clients trust it by using it as
    ``certificate-authority-data``; the subjectAltName carries the IP because Go ignores the CN.
    """
    e = 65537
    p = _random_prime(1024, e)
    q = _random_prime(1024, e)
    while q == p:
        q = _random_prime(1024, e)
    n = p * q
    d = pow(e, -1, (p - 1) * (q - 1))
    key_der = _der_seq(
        _der_int(0),
        _der_int(n),
        _der_int(e),
        _der_int(d),
        _der_int(p),
        _der_int(q),
        _der_int(d % (p - 1)),
        _der_int(d % (q - 1)),
        _der_int(pow(q, -1, p)),
    )
    public_key = _der_seq(_der_int(n), _der_int(e))
    spki = _der_seq(
        _der_seq(_der_oid("1.2.840.113549.1.1.1"), _der(0x05, b"")),
        _der(0x03, b"\x00" + public_key),
    )
    key_id = hashlib.sha1(public_key).digest()
    name = _der_seq(
        _der(0x31, _der_seq(_der_oid("2.5.4.10"), _der(0x0C, b"fakekube"))),
        _der(0x31, _der_seq(_der_oid("2.5.4.3"), _der(0x0C, common_name.encode()))),
    )
    sig_alg = _der_seq(_der_oid("1.2.840.113549.1.1.11"), _der(0x05, b""))

    def extension(oid: str, value: bytes, critical: bool = False) -> bytes:
        flag = _der(0x01, b"\xff") if critical else b""
        return _der_seq(_der_oid(oid), flag, _der(0x04, value))

    extensions = _der_seq(
        extension("2.5.29.19", _der_seq(_der(0x01, b"\xff")), critical=True),  # CA:TRUE
        # keyUsage: digitalSignature, keyEncipherment, keyCertSign
        extension("2.5.29.15", _der(0x03, b"\x02\xa4"), critical=True),
        extension("2.5.29.37", _der_seq(_der_oid("1.3.6.1.5.5.7.3.1"))),  # serverAuth
        extension(
            "2.5.29.17",
            _der_seq(_der(0x87, bytes([127, 0, 0, 1])), _der(0x82, b"localhost")),
        ),
        extension("2.5.29.14", _der(0x04, key_id)),
        extension("2.5.29.35", _der_seq(_der(0x80, key_id))),
    )
    now = datetime.now(timezone.utc).replace(microsecond=0)
    tbs = _der_seq(
        _der(0xA0, _der_int(2)),
        _der_int(secrets.randbits(63) | 1),
        sig_alg,
        name,
        _der_seq(_der_time(now - timedelta(days=1)), _der_time(now + timedelta(days=3650))),
        name,
        spki,
        _der(0xA3, extensions),
    )
    digest_info = (
        bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(tbs).digest()
    )
    k = (n.bit_length() + 7) // 8
    encoded = b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info
    signature = pow(int.from_bytes(encoded, "big"), d, n).to_bytes(k, "big")
    cert_der = _der_seq(tbs, sig_alg, _der(0x03, b"\x00" + signature))
    return TLSMaterial(_pem("CERTIFICATE", cert_der), _pem("RSA PRIVATE KEY", key_der))


_tls_lock = threading.Lock()
_tls_cache: list[TLSMaterial] = []


def shared_tls_material() -> TLSMaterial:
    """The process-wide certificate (generated on first use; RSA keygen costs ~0.1-1 s)."""
    with _tls_lock:
        if not _tls_cache:
            _tls_cache.append(generate_tls_material())
        return _tls_cache[0]


# ---------------------------------------------------------------------------------------------
# Routing


@dataclass
class _RequestInfo:
    rt: ResourceType
    namespace: str | None  # None: all namespaces (or cluster-scoped)
    name: str | None
    subresource: str | None = None


@dataclass
class _Response:
    status: int
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    trickle: float = 0.0


def _strip_type_meta(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}


# What kube-apiserver answers (410, reason Expired) to a continue token older than etcd's
# compaction: storage/errors.go, NewInvalidError for a continue key it can no longer serve.
_CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)


def _echo(authorization: str | None) -> str:
    """A careless server's error message: the credentials it received, as sent and decoded."""
    sent = authorization or "(none)"
    scheme, _, credential = sent.partition(" ")
    decoded = ""
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError):
            decoded = base64.b64decode(credential).decode()
    return f"cannot authenticate with Authorization: {sent} (decoded: {decoded or credential})"


def _encode_continue(rv: int, last_key: str) -> str:
    # Same shape as the real token: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"key\x00"}.
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": last_key + "\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("unexpected version")
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _bad_request(f"continue key is not valid: {exc}") from exc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeKube, ssl_context: ssl.SSLContext | None) -> None:
        self.fake = fake
        self.ssl_context = ssl_context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the per-connection thread, so a slow TLS handshake never blocks accept().
        conn = request
        if self.ssl_context is not None:
            try:
                request.settimeout(10)
                conn = self.ssl_context.wrap_socket(request, server_side=True)
                conn.settimeout(None)
            except (OSError, ssl.SSLError):
                return
        # Track client sockets so stop() can close keep-alive connections instead of leaving
        # handler threads parked on them.
        with self.connections_lock:
            self.connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            with self.connections_lock:
                self.connections.discard(conn)
            if conn is not request:
                with contextlib.suppress(OSError):
                    conn.close()

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like kube-apiserver; every reply has a length
    timeout = 60  # an idle keep-alive connection is dropped after a minute: nothing unbounded
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record; stderr chatter only clutters pytest output."""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is not None:
            n = int(length)
            if n > _MAX_BODY:
                raise ApiError(413, "RequestEntityTooLarge", "the request body is too large")
            return self.rfile.read(n)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > _MAX_BODY:
                    raise ApiError(413, "RequestEntityTooLarge", "the request body is too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _handle(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        query_all = parse_qs(split.query, keep_blank_values=True)
        headers = {h: self.headers[h] for h in _LOGGED_HEADERS if self.headers.get(h) is not None}
        if "Authorization" in headers:
            scheme = headers["Authorization"].split(" ", 1)[0]
            headers["Authorization"] = f"{scheme} <redacted>"
        try:
            raw = self._read_body()
        except (ApiError, ValueError) as exc:
            self._send(_Response(413, ApiError(413, "RequestEntityTooLarge", str(exc)).status()))
            self.close_connection = True
            return
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        record = RecordedRequest(
            method=self.command,
            path=split.path,
            query={k: v[0] for k, v in query_all.items()},
            query_all=query_all,
            headers=headers,
            body=body,
            raw_body=raw,
        )
        fake._record(record)
        try:
            response = fake._serve(record, self.headers.get("Authorization"), raw)
        except ApiError as err:
            response = _Response(err.code, err.status(), headers=err.headers)
        except Exception as exc:  # a bug here must surface as a 500, not a hung client
            err = ApiError(
                500,
                "InternalError",
                f"Internal error occurred: fakekube: {type(exc).__name__}: {exc}",
                {"causes": [{"message": f"{type(exc).__name__}: {exc}"}]},
            )
            response = _Response(500, err.status())
        record.status = response.status
        with fake._lock:
            slow = [
                f for f in fake._faults if f.trickle and f._consider(record.method, record.path)
            ]
        if slow:
            response.trickle = slow[0].trickle
        if fake._stopping.is_set():
            self.close_connection = True
        self._send(response)

    def _send(self, response: _Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Audit-Id", str(uuid.uuid4()))
            for key, value in response.headers.items():
                self.send_header(key, value)
            if response.stream is not None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                for chunk in response.stream:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            if isinstance(response.body, (bytes, str)):
                payload = (
                    response.body.encode() if isinstance(response.body, str) else response.body
                )
            elif response.body is None:
                payload = b""
            else:
                payload = json.dumps(response.body, separators=(",", ":")).encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and response.trickle:
                self._trickle(payload, response.trickle)
            elif self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _trickle(self, payload: bytes, interval: float) -> None:
        """One byte every ``interval`` seconds; ends (closing the connection) on stop. A client
        that gave up has closed the connection: a later write fails, and ``_send`` stops."""
        for index in range(len(payload)):
            self.wfile.write(payload[index : index + 1])
            self.wfile.flush()
            if self.server.fake._stopping.wait(interval):
                self.close_connection = True
                return


# ---------------------------------------------------------------------------------------------
# The server


Key = tuple[str, str, str, str, str]  # (group, version, plural, namespace, name)


class FakeKube:
    """An in-memory Kubernetes API server on 127.0.0.1 for tests.

    Typical use::

        with FakeKube(token="t0k3n") as kube:
            kube.load_yaml(Path("fixtures/routerules.yaml"))
            path = kube.kubeconfig(tmp_path / "kubeconfig")
            ...  # point the kubernetes client or kubectl at ``path``
            assert not kube.write_requests()

    Construction:

    * ``token``: the bearer token every request must carry (``None`` disables auth). A missing
      or wrong token is answered ``401 Unauthorized`` (like ``--anonymous-auth=false``).
    * ``tls``: serve HTTPS with a self-signed certificate (default). kubectl sends bearer
      tokens only to https servers, so ``tls=False`` with a token locks kubectl out.
    * ``openapi``: serve a minimal ``/openapi/v3`` (paths with the ``fieldValidation``
      parameter, schemas that preserve unknown fields). kubectl create/apply/replace look
      there to decide that the server validates fields itself; without it kubectl falls back
      to client-side validation, which needs ``/openapi/v2`` and fails ("failed to download
      openapi") unless run with ``--validate=false``.
    * ``installed``: resource names (``"routerules.config.istio.io"``, ``"services"``) or
      :class:`ResourceType` objects to serve; default: :data:`DEFAULT_RESOURCES`.
    * ``missing``: names to leave out, e.g. :data:`ISTIO_LEGACY_RESOURCES`, so that listing them
      gets the same 404 a cluster without those CRDs gives.
    * ``user``: the identity quoted in ``Forbidden`` messages.
    * ``namespaces``: namespaces that exist from the start (creating into a missing namespace
      is 404, as NamespaceLifecycle admission makes it; :meth:`add` creates them as needed).
    * ``strategic_merge_for_custom``: accept ``application/strategic-merge-patch+json`` on
      custom resources and apply it as a merge patch. A real apiserver answers 415 there; pass
      ``False`` to get that.
    * ``max_watch_seconds``: upper bound on any watch, whatever ``timeoutSeconds`` asks.
    * ``server_version``: what ``/version`` reports (the gcloud kubectl dispatcher picks its
      kubectl from it).

    Differences from kube-apiserver, deliberate, to stay small:

    * JSON only (no protobuf, no CBOR); ``Table`` output has just the Name and Age columns.
    * Legacy discovery only (``Content-Type: application/json``; kubectl accepts it in place of
      the aggregated ``APIGroupDiscoveryList`` it asks for first); ``/openapi/v2`` is 404 and
      ``/openapi/v3`` carries paths and parameters but no real schemas.
    * No authorization (403 only on demand via :meth:`fail`), no anonymous user: a request
      without a token is 401 rather than 403 for ``system:anonymous``.
    * No server-side apply (``application/apply-patch+yaml`` is 415), no ``managedFields``, no
      subresources (``/status``, ``/scale``), no admission webhooks. Custom resources are
      checked against their :attr:`ResourceType.schema` for unknown fields only (no types,
      no enums): refused under ``fieldValidation=Strict`` on create and update, else pruned
      (with a ``Warning`` header under ``Warn``); patches are not checked.
    * Strategic merge patch knows only the merge keys of the built-in fields served here
      (service ports, ownerReferences, finalizers); custom resources accept it (see above).
    * Deleting a namespace removes it and everything in it at once (no Terminating phase);
      a continue token pages through live data rather than a snapshot; watch history keeps
      the last 10 000 events; there is no garbage collector for ``ownerReferences``.
    """

    def __init__(
        self,
        token: str | None = "fake-token",
        *,
        installed: Iterable[str | ResourceType] | None = None,
        missing: Iterable[str] = (),
        user: str = DEFAULT_USER,
        namespaces: Iterable[str] = DEFAULT_NAMESPACES,
        strategic_merge_for_custom: bool = True,
        max_watch_seconds: float = 5.0,
        server_version: tuple[int, int] = (1, 32),
        tls: bool = True,
        openapi: bool = True,
    ) -> None:
        self.tls = tls
        self.openapi = openapi
        self.token = token
        self.user = user
        self.strategic_merge_for_custom = strategic_merge_for_custom
        self.max_watch_seconds = max_watch_seconds
        self.server_version = server_version
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._types: list[ResourceType] = []
        self._store: dict[Key, JSON] = {}
        self._rv = 0
        self._events: collections.deque[tuple[int, ResourceType, str, JSON]] = collections.deque(
            maxlen=10_000
        )
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._next_ip = 10
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        chosen: list[ResourceType] = []
        for item in DEFAULT_RESOURCES if installed is None else installed:
            if isinstance(item, ResourceType):
                chosen.append(item)
            else:
                matches = [rt for rt in DEFAULT_RESOURCES if rt.matches(item)]
                if not matches:
                    raise ValueError(f"unknown resource type {item!r}")
                chosen.extend(matches)
        missing_names = list(missing)
        for name in missing_names:
            if not any(rt.matches(name) for rt in chosen):
                raise ValueError(f"{name!r} is not an installed resource type")
        self._types = [rt for rt in chosen if not any(rt.matches(n) for n in missing_names)]
        if self._find_type("", "v1", "namespaces"):
            for ns in namespaces:
                self._ensure_namespace(ns)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeKube:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        context = shared_tls_material().ssl_context() if self.tls else None
        self._server = _Server(self, context)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakekube-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake delayed requests and watches, close connections, join the thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeKube is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT`` (``http://`` with ``tls=False``): the kubeconfig server."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> bytes | None:
        """The PEM certificate clients must trust (self-signed), or None without TLS."""
        return shared_tls_material().cert_pem if self.tls else None

    def kubeconfig(
        self,
        path: str | Path,
        namespace: str = "default",
        context: str = "fake",
        token: str | None = None,
    ) -> Path:
        """Write a kubeconfig for this server (JSON, which is valid YAML) and return its path.

        ``token`` overrides the bearer token written for the user (e.g. a wrong one, to
        provoke 401); by default the server's own token is used.
        """
        path = Path(path)
        user: JSON = {}
        bearer = token if token is not None else self.token
        if bearer is not None:
            user["token"] = bearer
        cluster: JSON = {"server": self.url}
        if self.ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": f"{context}-cluster", "cluster": cluster}],
            "users": [{"name": f"{context}-user", "user": user}],
            "contexts": [
                {
                    "name": context,
                    "context": {
                        "cluster": f"{context}-cluster",
                        "user": f"{context}-user",
                        "namespace": namespace,
                    },
                }
            ],
            "current-context": context,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=2) + "\n")
        return path

    # -- resource types ------------------------------------------------------------------------

    @property
    def resource_types(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types)

    def install(self, rt: ResourceType) -> None:
        """Serve another resource type (like creating a CRD)."""
        with self._lock:
            if rt not in self._types:
                self._types.append(rt)

    def uninstall(self, name: str) -> None:
        """Stop serving a resource type and drop its objects (like deleting a CRD)."""
        rt = self.resource_type(name)
        with self._lock:
            self._types.remove(rt)
            for key in [k for k in self._store if k[:3] == (rt.group, rt.version, rt.plural)]:
                del self._store[key]

    def resource_type(self, name: str) -> ResourceType:
        """Resolve ``plural``, ``plural.group``, kind, singular or short name."""
        with self._lock:
            for rt in self._types:
                if rt.matches(name):
                    return rt
        raise KeyError(f"resource type {name!r} is not installed")

    def _find_type(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in self._types:
            if (rt.group, rt.version, rt.plural) == (group, version, plural):
                return rt
        return None

    def _type_for_object(self, obj: Mapping[str, Any]) -> ResourceType:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        for rt in self._types:
            if rt.api_version == api_version and rt.kind == kind:
                return rt
        raise KeyError(f"no installed resource type for apiVersion={api_version} kind={kind}")

    # -- direct store access (no HTTP, no request log) ----------------------------------------

    def add(self, obj: Mapping[str, Any]) -> JSON:
        """Store an object as if created through the API, and return the stored copy.

        The resource is chosen from ``apiVersion`` + ``kind``. The namespace defaults to
        ``default`` and is created when missing, so fixtures need not list namespaces.
        """
        with self._lock:
            rt = self._type_for_object(obj)
            body = copy.deepcopy(dict(obj))
            meta = body.setdefault("metadata", {})
            namespace = (meta.get("namespace") or "default") if rt.namespaced else None
            if namespace is not None and self._find_type("", "v1", "namespaces"):
                self._ensure_namespace(namespace)
            return self._create(rt, namespace, body, dry_run=False)

    def load_yaml(self, source: str | Path) -> list[JSON]:
        """Add every object of a (multi-document) YAML file or string; returns stored copies.

        ``List`` documents are expanded. A ``Path``, or a string naming an existing file,
        is read; any other string is parsed as YAML text.
        """
        import yaml  # lazily: the server itself needs only the standard library

        if isinstance(source, Path) or ("\n" not in source and Path(source).is_file()):
            text = Path(source).read_text()
        else:
            text = str(source)
        stored: list[JSON] = []
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            items = doc.get("items", []) if str(doc.get("kind", "")).endswith("List") else [doc]
            for item in items:
                stored.append(self.add(item))
        return stored

    def get(self, resource: str, name: str, namespace: str | None = "default") -> JSON | None:
        """The stored object (a copy), or ``None``."""
        rt = self.resource_type(resource)
        ns = namespace if rt.namespaced else ""
        with self._lock:
            obj = self._store.get((rt.group, rt.version, rt.plural, ns or "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def objects(self, resource: str, namespace: str | None = None) -> list[JSON]:
        """All stored objects of a type (copies), sorted by namespace then name."""
        rt = self.resource_type(resource)
        with self._lock:
            return [copy.deepcopy(o) for o in self._select(rt, namespace)]

    def remove(self, resource: str, name: str, namespace: str | None = "default") -> bool:
        """Delete directly from the store (no finalizers); True if something was removed."""
        rt = self.resource_type(resource)
        ns = (namespace or "") if rt.namespaced else ""
        with self._lock:
            obj = self._store.pop((rt.group, rt.version, rt.plural, ns, name), None)
            if obj is not None:
                self._emit_deleted(rt, obj)
            return obj is not None

    @property
    def resource_version(self) -> int:
        """The current value of the global resourceVersion counter."""
        with self._lock:
            return self._rv

    # -- request log and faults ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    def write_requests(self, *, include_dry_run: bool = True) -> list[RecordedRequest]:
        """Requests with a mutating method (POST, PUT, PATCH, DELETE).

        With ``include_dry_run=False``, requests that carried ``dryRun=All`` are left out, so
        what remains is what could have changed the cluster.
        """
        return [r for r in self.requests if r.is_write and (include_dry_run or not r.dry_run)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int | None = None,
        message: str | None = None,
        *,
        nth: int | None = None,
        reason: str | None = None,
    ) -> Fault:
        """Answer matching requests with an error Status of code ``status``.

        ``method`` is an HTTP method or ``"*"``; ``path_regex`` is searched (``re.search``) in
        the URL path without the query. The Status gets the reason and message kube-apiserver
        would use for that code (``Forbidden`` names the user, verb and resource), unless
        ``message``/``reason`` override them. Authentication is checked first, as on a real
        server, so a fault never hides a wrong token.
        """
        fault = Fault(
            method.upper(),
            re.compile(path_regex),
            status=status,
            times=times,
            nth=nth,
            message=message,
            reason=reason,
        )
        return self._add_fault(fault)

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def delay(
        self,
        method: str,
        path_regex: str,
        seconds: float,
        times: int | None = None,
        *,
        nth: int | None = None,
    ) -> Fault:
        """Hold matching requests for ``seconds`` before answering (to provoke client timeouts).

        The wait ends early when the server stops, so a test never waits on it after teardown.
        """
        fault = Fault(method.upper(), re.compile(path_regex), delay=seconds, times=times, nth=nth)
        return self._add_fault(fault)

    def respond(
        self,
        method: str,
        path_regex: str,
        body: bytes | str,
        status: int = 200,
        *,
        content_type: str = "application/json",
        times: int | None = None,
        nth: int | None = None,
    ) -> Fault:
        """Answer matching requests (after authentication) with ``body`` as it is: truncated
        JSON, wrong types, bytes that are not UTF-8, nothing at all -- what a broken proxy or
        a buggy aggregated API server sends."""
        raw = body.encode() if isinstance(body, str) else body
        fault = Fault(
            method.upper(),
            re.compile(path_regex),
            status=status,
            times=times,
            nth=nth,
            body=raw,
            content_type=content_type,
        )
        return self._add_fault(fault)

    def trickle(
        self,
        method: str,
        path_regex: str,
        interval: float = 1.0,
        times: int | None = None,
        *,
        nth: int | None = None,
    ) -> Fault:
        """Send the body of matching answers one byte every ``interval`` seconds (headers at
        once, with the full Content-Length): a client's per-read timeout never fires."""
        fault = Fault(
            method.upper(), re.compile(path_regex), trickle=interval, times=times, nth=nth
        )
        return self._add_fault(fault)

    def echo_credentials(
        self, method: str, path_regex: str, status: int = 400, times: int | None = None
    ) -> Fault:
        """Answer matching requests, before authentication, with a Status whose message quotes
        the ``Authorization`` header, and for basic auth the decoded ``user:password``: a test
        that a client never prints what a server echoes."""
        fault = Fault(
            method.upper(), re.compile(path_regex), status=status, times=times, echo=True
        )
        return self._add_fault(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- request handling -----------------------------------------------------------------------

    def _serve(self, record: RecordedRequest, authorization: str | None, raw: bytes) -> _Response:
        with self._lock:
            delays = [
                f for f in self._faults if f.delay and f._consider(record.method, record.path)
            ]
        for fault in delays:
            if self._stopping.wait(fault.delay):
                raise ApiError(503, "ServiceUnavailable", "fakekube is shutting down")

        with self._lock:
            echoes = [f for f in self._faults if f.echo and f._consider(record.method, record.path)]
        if echoes:
            raise ApiError(echoes[0].status or 400, "BadRequest", _echo(authorization))

        if self.token is not None and authorization != f"Bearer {self.token}":
            raise ApiError(401, "Unauthorized", "Unauthorized")

        with self._lock:
            canned = [
                f
                for f in self._faults
                if f.body is not None and f._consider(record.method, record.path)
            ]
        if canned:
            assert canned[0].body is not None
            return _Response(canned[0].status or 200, canned[0].body, canned[0].content_type)

        route_error: ApiError | None = None
        info: _RequestInfo | None = None
        verb = "get"
        try:
            info, verb = self._route(record)
        except ApiError as err:  # e.g. a CRD that is not installed; a fault still takes priority
            route_error = err

        with self._lock:
            fired = [
                f
                for f in self._faults
                if f.status is not None
                and f.body is None
                and not f.echo
                and f._consider(record.method, record.path)
            ]
        if fired:
            raise self._injected_error(fired[0], record, info, verb)
        if route_error is not None:
            raise route_error

        if info is None:
            return self._discovery(record)
        return self._resource(record, info, verb, raw)

    def _injected_error(
        self,
        fault: Fault,
        record: RecordedRequest,
        info: _RequestInfo | None,
        verb: str,
    ) -> ApiError:
        status = fault.status or 500
        headers: dict[str, str] = {}
        details: JSON = _details(info.rt, info.name) if info else {}
        if status == 401:
            reason, message, details = "Unauthorized", "Unauthorized", {}
        elif status == 403:
            reason = "Forbidden"
            message = _forbidden_message(self.user, verb, info, record.path)
        elif status == 404:
            reason = "NotFound"
            if info and info.name:
                message = f'{info.rt.qualified} "{info.name}" not found'
            else:
                message, details = "the server could not find the requested resource", {}
        elif status == 409:
            name = (info.name if info else None) or _body_name(record.body) or ""
            if info:
                details = _details(info.rt, name)
            if record.method == "POST":
                reason = "AlreadyExists"
                subject = info.rt.qualified if info else "object"
                message = f'{subject} "{name}" already exists'
            else:
                reason = "Conflict"
                subject = info.rt.qualified if info else "object"
                message = (
                    f'Operation cannot be fulfilled on {subject} "{name}": the object has been '
                    f"modified; please apply your changes to the latest version and try again"
                )
        elif status == 410 and record.query.get("continue"):
            reason, message = "Expired", _CONTINUE_EXPIRED
        elif status == 410:
            reason, message = "Expired", "too old resource version"
        elif status == 429:
            reason, message = "TooManyRequests", "Too many requests, please try again later."
            headers["Retry-After"] = "1"
        elif status == 503:
            reason, message = (
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            )
        elif status == 504:
            reason, message = (
                "Timeout",
                "the server was unable to return a response in the time allotted",
            )
        elif status == 500:
            reason = "InternalError"
            message = "Internal error occurred: fakekube: injected fault"
            details = {"causes": [{"message": "fakekube: injected fault"}]}
        else:
            reason, message = "", f"fakekube: injected status {status}"
        return ApiError(
            status,
            fault.reason or reason,
            fault.message or message,
            details,
            headers,
        )

    def _route(self, record: RecordedRequest) -> tuple[_RequestInfo | None, str]:
        """Map the URL to a resource (or None for discovery paths) and the RBAC verb."""
        parts = [p for p in record.path.split("/") if p]
        if parts[:2] == ["api", "v1"] and len(parts) > 2:
            group, version, rest = "", "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) > 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None, "get"
        with self._lock:
            info = self._resolve(group, version, rest)
        if info is None:
            raise _generic_not_found()
        watching = record.query.get("watch", "") in ("1", "true", "True")
        verb = {
            "GET": "watch" if watching else ("get" if info.name else "list"),
            "HEAD": "get" if info.name else "list",
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if info.name else "deletecollection",
        }.get(record.method, record.method.lower())
        return info, verb

    def _resolve(self, group: str, version: str, rest: list[str]) -> _RequestInfo | None:
        if rest[0] == "namespaces" and len(rest) >= 3:
            rt = self._find_type(group, version, rest[2])
            if rt is not None and rt.namespaced:
                name = rest[3] if len(rest) > 3 else None
                sub = rest[4] if len(rest) > 4 else None
                if len(rest) > 5 or sub is not None:
                    return None  # subresources are not served
                return _RequestInfo(rt, rest[1], name, sub)
        rt = self._find_type(group, version, rest[0])
        if rt is None or len(rest) > 2:
            return None
        if len(rest) == 2:
            if rt.namespaced:
                return None  # /apis/g/v/plural/name does not exist for namespaced types
            return _RequestInfo(rt, None, rest[1])
        return _RequestInfo(rt, None, None)

    # -- discovery -------------------------------------------------------------------------

    def _openapi_v3(self, path: str, types: list[ResourceType]) -> _Response:
        """The OpenAPI v3 index and per-group-version documents, as much as kubectl reads."""
        by_gv: dict[str, list[ResourceType]] = {}
        for rt in types:
            prefix = f"apis/{rt.group}/{rt.version}" if rt.group else "api/v1"
            by_gv.setdefault(prefix, []).append(rt)
        docs = {
            prefix: _openapi_document(rts, self.server_version) for prefix, rts in by_gv.items()
        }
        if path == "/openapi/v3":
            index = {
                prefix: {
                    "serverRelativeURL": f"/openapi/v3/{prefix}?hash="
                    + hashlib.sha512(json.dumps(doc, sort_keys=True).encode())
                    .hexdigest()[:64]
                    .upper()
                }
                for prefix, doc in docs.items()
            }
            return _Response(200, {"paths": index})
        doc = docs.get(path[len("/openapi/v3/") :])
        if doc is None:
            raise _generic_not_found()
        return _Response(200, doc)

    def _discovery(self, record: RecordedRequest) -> _Response:
        if record.method not in ("GET", "HEAD"):
            raise ApiError(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        path = record.path.rstrip("/") or "/"
        with self._lock:
            types = list(self._types)
        groups: dict[str, list[str]] = {}
        for rt in types:
            if rt.group:
                versions = groups.setdefault(rt.group, [])
                if rt.version not in versions:
                    versions.append(rt.version)

        if path in ("/healthz", "/livez", "/readyz"):
            return _Response(200, "ok", content_type="text/plain; charset=utf-8")
        if path.startswith("/openapi/v3") and self.openapi:
            return self._openapi_v3(path, types)
        if path == "/version":
            major, minor = self.server_version
            return _Response(
                200,
                {
                    "major": str(major),
                    "minor": str(minor),
                    "gitVersion": f"v{major}.{minor}.0-fakekube",
                    "gitCommit": "0" * 40,
                    "gitTreeState": "clean",
                    "buildDate": "2025-01-01T00:00:00Z",
                    "goVersion": "go1.23.0",
                    "compiler": "gc",
                    "platform": "linux/amd64",
                },
            )
        if path == "/api":
            return _Response(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}
                    ],
                },
            )
        if path == "/apis":
            return _Response(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [_group_doc(g, vs) for g, vs in groups.items()],
                },
            )
        if path == "/api/v1":
            return _Response(200, _resource_list("v1", [t for t in types if not t.group]))
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 2 and parts[1] in groups:
            return _Response(
                200,
                {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(parts[1], groups[parts[1]])},
            )
        if parts[0] == "apis" and len(parts) == 3 and parts[2] in groups.get(parts[1], []):
            gv = f"{parts[1]}/{parts[2]}"
            served = [t for t in types if t.api_version == gv]
            return _Response(200, {"apiVersion": "v1", **_resource_list(gv, served)})
        raise _generic_not_found()

    # -- resources -------------------------------------------------------------------------

    def _resource(
        self, record: RecordedRequest, info: _RequestInfo, verb: str, raw: bytes
    ) -> _Response:
        rt = info.rt
        if verb not in rt.verbs:
            raise ApiError(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        if (
            info.name is None
            and info.namespace is None
            and rt.namespaced
            and verb not in ("list", "watch")
        ):
            # Only list/watch exist across all namespaces for a namespaced resource.
            raise ApiError(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        namespace = info.namespace if rt.namespaced else None
        if verb in ("get", "list", "watch"):
            if not _accepts_json(record.headers.get("Accept")):
                raise ApiError(
                    406,
                    "NotAcceptable",
                    "only the following media types are accepted: application/json, "
                    "application/yaml, application/vnd.kubernetes.protobuf",
                )
            table = "as=Table" in record.headers.get("Accept", "").replace(" ", "")
            if verb == "get":
                assert info.name is not None
                obj = self._get_or_404(rt, namespace, info.name)
                return _Response(200, self._table(rt, [obj], None) if table else obj)
            if verb == "watch":
                return self._watch(rt, namespace, record)
            return _Response(200, self._list(rt, namespace, record, table))

        dry_run = self._dry_run(record, verb)
        field_manager = record.query.get("fieldManager")
        if field_manager is not None and len(field_manager) > 128:
            raise _options_invalid(
                _options_kind(verb),
                "fieldManager",
                "Too long: may not be more than 128 bytes",
            )
        if verb == "create":
            body = self._json_body(record, raw)
            warnings = self._field_validation(rt, body, record)
            if rt.namespaced and namespace:
                self._require_namespace(namespace)
            return _Response(201, self._create(rt, namespace, body, dry_run), headers=warnings)
        assert info.name is not None or verb == "deletecollection"
        if verb == "update":
            body = self._json_body(record, raw)
            warnings = self._field_validation(rt, body, record)
            assert info.name is not None
            return _Response(
                200, self._update(rt, namespace, info.name, body, dry_run), headers=warnings
            )
        if verb == "patch":
            assert info.name is not None
            content_type = (record.headers.get("Content-Type") or "").split(";")[0].strip()
            return _Response(200, self._patch(rt, namespace, info.name, content_type, raw, dry_run))
        if verb == "delete":
            assert info.name is not None
            options = record.body if isinstance(record.body, dict) else {}
            status, result = self._delete(rt, namespace, info.name, options, dry_run)
            return _Response(status, result)
        if verb == "deletecollection":
            return _Response(200, self._delete_collection(rt, namespace, record, dry_run))
        raise ApiError(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )

    @staticmethod
    def _dry_run(record: RecordedRequest, verb: str) -> bool:
        values = list(record.query_all.get("dryRun", []))
        if verb in ("delete", "deletecollection") and isinstance(record.body, dict):
            body_values = record.body.get("dryRun") or []
            if isinstance(body_values, list):
                values += body_values
        bad = [v for v in values if v != "All"]
        if bad:
            # kube-apiserver: errors.NewInvalid(CreateOptions...) -> 422, not 400.
            quoted = ", ".join(f'"{v}"' for v in values)
            raise _options_invalid(
                _options_kind(verb),
                "dryRun",
                f'Unsupported value: []string{{{quoted}}}: supported values: "All"',
            )
        return bool(values)

    @staticmethod
    def _field_validation(rt: ResourceType, body: JSON, record: RecordedRequest) -> JSON:
        """``fieldValidation`` on a create or update: under ``Strict`` a field the schema does
        not declare is 400 BadRequest (the message kube-apiserver's CRD handler gives); under
        ``Warn`` (the default since 1.23) and ``Ignore`` it is pruned, with a ``Warning``
        header for Warn. Returns the response headers."""
        mode = record.query.get("fieldValidation") or "Warn"
        if mode not in ("Ignore", "Warn", "Strict"):
            raise _bad_request(
                f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{mode}"'
            )
        unknown = unknown_fields(rt.schema, body)
        if not unknown:
            return {}
        said = ", ".join(f'unknown field "{path}"' for path in unknown)
        if mode == "Strict":
            raise _bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                f"strict decoding error: {said}"
            )
        prune(body, unknown)
        if mode == "Ignore":
            return {}
        return {"Warning": ", ".join(f'299 - "unknown field \\"{p}\\""' for p in unknown)}

    @staticmethod
    def _json_body(record: RecordedRequest, raw: bytes) -> JSON:
        if not raw:
            raise _bad_request("the request body is empty")
        if not isinstance(record.body, dict):
            if isinstance(record.body, str):
                raise _bad_request(
                    "couldn't get version/kind; json parse error: invalid character looking "
                    "for beginning of value"
                )
            raise _bad_request("the object provided is unrecognized (must be a JSON object)")
        return copy.deepcopy(record.body)

    def _get_or_404(self, rt: ResourceType, namespace: str | None, name: str) -> JSON:
        with self._lock:
            obj = self._store.get(self._key(rt, namespace, name))
            if obj is None:
                raise _not_found(rt, name)
            return copy.deepcopy(obj)

    @staticmethod
    def _key(rt: ResourceType, namespace: str | None, name: str) -> Key:
        return (rt.group, rt.version, rt.plural, (namespace or "") if rt.namespaced else "", name)

    def _select(
        self,
        rt: ResourceType,
        namespace: str | None,
        labels: list[Selector] | None = None,
        fields: list[Callable[[JSON], bool]] | None = None,
    ) -> list[JSON]:
        prefix = (rt.group, rt.version, rt.plural)
        out = []
        for key in sorted(k for k in self._store if k[:3] == prefix):
            if rt.namespaced and namespace and key[3] != namespace:
                continue
            obj = self._store[key]
            obj_labels = obj.get("metadata", {}).get("labels") or {}
            if labels and not all(req(obj_labels) for req in labels):
                continue
            if fields and not all(req(obj) for req in fields):
                continue
            out.append(obj)
        return out

    def _list(
        self, rt: ResourceType, namespace: str | None, record: RecordedRequest, table: bool
    ) -> JSON:
        query = record.query
        labels = parse_label_selector(query.get("labelSelector", ""))
        fields = parse_field_selector(query.get("fieldSelector", ""), rt)
        try:
            limit = int(query.get("limit") or 0)
        except ValueError as exc:
            raise _bad_request(f"invalid limit: {query.get('limit')!r}") from exc
        rv_param = query.get("resourceVersion", "")
        if rv_param and not rv_param.isdigit():
            raise _bad_request(f'invalid resource version "{rv_param}"')
        token = query.get("continue", "")
        with self._lock:
            list_rv = self._rv
            start = ""
            if token:
                list_rv, start = _decode_continue(token)
            items = self._select(rt, namespace, labels, fields)
            if start:
                after = _split_key(start)
                items = [o for o in items if _sort_tuple(o) > after]
            more = limit > 0 and len(items) > limit
            page = items[:limit] if more else items
            metadata: JSON = {"resourceVersion": str(list_rv)}
            if more:
                metadata["continue"] = _encode_continue(list_rv, _sort_key(page[-1]))
                metadata["remainingItemCount"] = len(items) - len(page)
            page = [copy.deepcopy(o) for o in page]
        if table:
            return self._table(rt, page, metadata)
        return {
            "apiVersion": rt.api_version,
            "kind": f"{rt.kind}List",
            "metadata": metadata,
            "items": [_strip_type_meta(o) if rt.builtin else o for o in page],
        }

    @staticmethod
    def _table(rt: ResourceType, objects: list[JSON], list_meta: JSON | None) -> JSON:
        """A meta.k8s.io/v1 Table, what kubectl asks for to print its default columns."""
        rows = []
        for obj in objects:
            meta = obj.get("metadata", {})
            rows.append(
                {
                    "cells": [meta.get("name", ""), _human_age(meta.get("creationTimestamp"))],
                    "object": {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": copy.deepcopy(meta),
                    },
                }
            )
        return {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": list_meta
            or {"resourceVersion": objects[0]["metadata"].get("resourceVersion", "")},
            "columnDefinitions": [
                {
                    "name": "Name",
                    "type": "string",
                    "format": "name",
                    "priority": 0,
                    "description": "Name must be unique within a namespace.",
                },
                {
                    "name": "Age",
                    "type": "string",
                    "format": "",
                    "priority": 0,
                    "description": "CreationTimestamp is a timestamp representing the server "
                    "time when this object was created.",
                },
            ],
            "rows": rows,
        }

    def _watch(self, rt: ResourceType, namespace: str | None, record: RecordedRequest) -> _Response:
        query = record.query
        labels = parse_label_selector(query.get("labelSelector", ""))
        fields = parse_field_selector(query.get("fieldSelector", ""), rt)
        try:
            timeout = float(query.get("timeoutSeconds") or self.max_watch_seconds)
        except ValueError as exc:
            raise _bad_request("invalid timeoutSeconds") from exc
        timeout = min(timeout, self.max_watch_seconds)
        rv_param = query.get("resourceVersion", "")

        def matches(obj: JSON) -> bool:
            meta = obj.get("metadata", {})
            if rt.namespaced and namespace and meta.get("namespace") != namespace:
                return False
            if labels and not all(req(meta.get("labels") or {}) for req in labels):
                return False
            return not fields or all(req(obj) for req in fields)

        def line(kind: str, obj: JSON) -> bytes:
            return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"

        def stream() -> Iterator[bytes]:
            deadline = time.monotonic() + timeout
            with self._lock:
                if rv_param in ("", "0"):
                    since = self._rv
                    initial = [copy.deepcopy(o) for o in self._select(rt, namespace) if matches(o)]
                else:
                    since = int(rv_param) if rv_param.isdigit() else 0
                    initial = []
                    oldest = self._events[0][0] if self._events else self._rv + 1
                    if len(self._events) == self._events.maxlen and since < oldest - 1:
                        initial = None
            if initial is None:
                yield line("ERROR", ApiError(410, "Expired", "too old resource version").status())
                return
            for obj in initial:
                yield line("ADDED", obj)
            while not self._stopping.is_set():
                with self._changed:
                    pending = [
                        (rv, kind, copy.deepcopy(obj))
                        for rv, ert, kind, obj in self._events
                        if rv > since and ert == rt and matches(obj)
                    ]
                    if not pending:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            return
                        self._changed.wait(min(remaining, 0.5))
                        continue
                    since = max(rv for rv, _, _ in pending)
                for _, kind, obj in pending:
                    yield line(kind, obj)

        return _Response(200, stream=stream())

    # -- writes ----------------------------------------------------------------------------

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _emit(self, rt: ResourceType, kind: str, obj: JSON) -> None:
        self._events.append((self._rv, rt, kind, copy.deepcopy(obj)))
        self._changed.notify_all()

    def _emit_deleted(self, rt: ResourceType, obj: JSON) -> None:
        # A deletion is a write too: it gets its own resourceVersion, which watchers resume from.
        obj.setdefault("metadata", {})["resourceVersion"] = self._next_rv()
        self._emit(rt, "DELETED", obj)

    def _ensure_namespace(self, name: str) -> None:
        rt = self._find_type("", "v1", "namespaces")
        if rt is None or self._key(rt, None, name) in self._store:
            return
        self._create(
            rt,
            None,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            dry_run=False,
        )

    def _require_namespace(self, namespace: str) -> None:
        # NamespaceLifecycle admission: creating into a namespace that does not exist is 404.
        rt = self._find_type("", "v1", "namespaces")
        if rt is None:
            return
        with self._lock:
            ns = self._store.get(self._key(rt, None, namespace))
        if ns is None:
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )
        if ns.get("metadata", {}).get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    def _check_type_meta(self, rt: ResourceType, body: JSON) -> None:
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if rt.builtin:
            body.setdefault("apiVersion", rt.api_version)
            body.setdefault("kind", rt.kind)
            api_version, kind = body["apiVersion"], body["kind"]
        elif not kind:
            raise _bad_request(f"Object 'Kind' is missing in '{json.dumps(body)[:200]}'")
        elif not api_version:
            raise _bad_request(f"Object 'apiVersion' is missing in '{json.dumps(body)[:200]}'")
        if api_version != rt.api_version:
            raise _bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rt.api_version})"
            )
        if kind != rt.kind:
            raise _bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        if not isinstance(body.get("metadata", {}), dict):
            raise _bad_request("metadata must be an object")

    def _validate_name(self, rt: ResourceType, name: str) -> None:
        pattern, max_len, explanation = _NAME_RULES[rt.name_rule]
        causes = []
        if len(name) > max_len:
            causes.append(
                (
                    "FieldValueInvalid",
                    "metadata.name",
                    f'Invalid value: "{name}": must be no more than {max_len} characters',
                )
            )
        if not pattern.match(name):
            causes.append(
                ("FieldValueInvalid", "metadata.name", f'Invalid value: "{name}": {explanation}')
            )
        if causes:
            raise _invalid(rt, name, causes)

    def _create(self, rt: ResourceType, namespace: str | None, body: JSON, dry_run: bool) -> JSON:
        self._check_type_meta(rt, body)
        meta = body.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise _bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise ApiError(
                500,
                "InternalError",
                "Internal error occurred: resourceVersion should not be set on objects to be "
                "created",
                {
                    "causes": [
                        {"message": "resourceVersion should not be set on objects to be created"}
                    ]
                },
            )
        with self._lock:
            name = meta.get("name") or ""
            if not name:
                if meta.get("generateName"):
                    for _ in range(100):  # bounded, like the apiserver's retry
                        name = meta["generateName"] + "".join(
                            random.choice(_GENERATE_NAME_CHARS) for _ in range(5)
                        )
                        if self._key(rt, meta.get("namespace"), name) not in self._store:
                            break
                    meta["name"] = name
                else:
                    raise _invalid(
                        rt,
                        "",
                        [
                            (
                                "FieldValueRequired",
                                "metadata.name",
                                "Required value: name or generateName is required",
                            )
                        ],
                    )
            self._validate_name(rt, name)
            key = self._key(rt, meta.get("namespace"), name)
            if key in self._store:
                raise _already_exists(rt, name)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = _now()
            for server_field in (
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "managedFields",
            ):
                meta.pop(server_field, None)
            if rt.has_generation:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            self._default(rt, body, None)
            if dry_run:
                meta.pop("resourceVersion", None)  # a dry run never reaches storage
                return body
            meta["resourceVersion"] = self._next_rv()
            self._store[key] = body
            self._emit(rt, "ADDED", body)
            return copy.deepcopy(body)

    def _default(self, rt: ResourceType, body: JSON, old: JSON | None) -> None:
        """The defaulting kube-apiserver applies to built-in types we serve."""
        if rt.plural == "namespaces":
            name = body["metadata"]["name"]
            body["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            body.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            body["status"] = (old or {}).get("status") or {"phase": "Active"}
        elif rt.plural == "services":
            spec = body.setdefault("spec", {})
            old_spec = (old or {}).get("spec", {})
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if spec["type"] != "ExternalName":
                ip = spec.get("clusterIP") or old_spec.get("clusterIP")
                if not ip:
                    ip = f"10.96.{self._next_ip // 250}.{self._next_ip % 250 + 1}"
                    self._next_ip += 1
                spec["clusterIP"] = ip
                spec.setdefault("clusterIPs", [ip])
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
                spec.setdefault("internalTrafficPolicy", "Cluster")
            for port in spec.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
                    if "port" in port:
                        port.setdefault("targetPort", port["port"])
            body["status"] = (old or {}).get("status") or {"loadBalancer": {}}

    def _update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        body: JSON,
        dry_run: bool,
        *,
        from_patch: bool = False,
    ) -> JSON:
        self._check_type_meta(rt, body)
        meta = body.setdefault("metadata", {})
        if meta.get("name") != name:
            raise _bad_request(
                f"the name of the object ({meta.get('name', '')}) does not match the name on the "
                f"URL ({name})"
            )
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise _bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace
        with self._lock:
            key = self._key(rt, namespace, name)
            current = self._store.get(key)
            if current is None:
                raise _not_found(rt, name)
            cur_meta = current["metadata"]
            sent_rv = meta.get("resourceVersion")
            if sent_rv:
                if sent_rv != cur_meta.get("resourceVersion"):
                    raise _conflict(rt, name)
            elif not rt.builtin and not from_patch:
                raise _invalid(
                    rt,
                    name,
                    [
                        (
                            "FieldValueInvalid",
                            "metadata.resourceVersion",
                            "Invalid value: 0x0: must be specified for an update",
                        )
                    ],
                )
            if meta.get("uid") and meta["uid"] != cur_meta.get("uid"):
                raise _conflict(
                    rt,
                    name,
                    f"Precondition failed: UID in precondition: {meta['uid']}, UID in object "
                    f"meta: {cur_meta.get('uid')}",
                )
            for immutable in (
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ):
                if immutable in cur_meta:
                    meta[immutable] = cur_meta[immutable]
                else:
                    meta.pop(immutable, None)
            meta.pop("managedFields", None)
            self._default(rt, body, current)
            if rt.has_generation:
                generation = int(cur_meta.get("generation", 1))
                if _without_meta(body) != _without_meta(current):
                    generation += 1
                meta["generation"] = generation
            meta["resourceVersion"] = cur_meta.get("resourceVersion")
            if dry_run:
                return body
            if body == current:
                return copy.deepcopy(current)  # a no-op update does not bump resourceVersion
            meta["resourceVersion"] = self._next_rv()
            if cur_meta.get("deletionTimestamp") and not meta.get("finalizers"):
                # The last finalizer is gone: the pending deletion completes now.
                del self._store[key]
                self._emit(rt, "DELETED", body)
                return copy.deepcopy(body)
            self._store[key] = body
            self._emit(rt, "MODIFIED", body)
            return copy.deepcopy(body)

    def _patch(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        content_type: str,
        raw: bytes,
        dry_run: bool,
    ) -> JSON:
        accepted = (
            "application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml"
        )
        if rt.builtin:
            accepted += ", application/strategic-merge-patch+json"
        merge_types = {"application/merge-patch+json"}
        if rt.builtin or self.strategic_merge_for_custom:
            merge_types.add("application/strategic-merge-patch+json")
        if content_type not in merge_types and content_type != "application/json-patch+json":
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {accepted}",
            )
        try:
            patch = json.loads(raw or b"null")
        except ValueError as exc:
            raise _bad_request(f"error decoding patch: {exc}") from exc
        with self._lock:
            current = self._get_or_404(rt, namespace, name)
            try:
                if content_type == "application/json-patch+json":
                    patched = json_patch(current, patch)
                else:
                    if not isinstance(patch, dict):
                        raise _PatchError("a merge patch must be a JSON object")
                    if content_type == "application/strategic-merge-patch+json":
                        patched = strategic_merge_patch(current, patch)
                    else:
                        patched = merge_patch(current, patch)
            except _PatchError as exc:
                raise ApiError(
                    422,
                    "Invalid",
                    f"the server rejected our request due to an error in our request: {exc}",
                ) from exc
            if not isinstance(patched, dict):
                raise _bad_request("the patch produced something that is not an object")
            patched_rv = patched.get("metadata", {}).get("resourceVersion")
            if patched_rv == current["metadata"].get("resourceVersion"):
                patched["metadata"].pop("resourceVersion", None)  # no precondition requested
            return self._update(rt, namespace, name, patched, dry_run, from_patch=True)

    def _delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        options: JSON,
        dry_run: bool,
    ) -> tuple[int, JSON]:
        with self._lock:
            key = self._key(rt, namespace, name)
            current = self._store.get(key)
            if current is None:
                raise _not_found(rt, name)
            meta = current["metadata"]
            preconditions = options.get("preconditions") or {}
            if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
                raise _conflict(
                    rt,
                    name,
                    f"Precondition failed: UID in precondition: {preconditions['uid']}, UID in "
                    f"object meta: {meta.get('uid')}",
                )
            if preconditions.get("resourceVersion") and (
                preconditions["resourceVersion"] != meta.get("resourceVersion")
            ):
                raise _conflict(
                    rt,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: "
                    f"{preconditions['resourceVersion']}, ResourceVersion in object meta: "
                    f"{meta.get('resourceVersion')}",
                )
            result = copy.deepcopy(current)
            if meta.get("finalizers"):
                # Deletion waits for finalizers: mark the object and keep it.
                if not meta.get("deletionTimestamp"):
                    result["metadata"]["deletionTimestamp"] = _now()
                    result["metadata"]["deletionGracePeriodSeconds"] = 0
                    if not dry_run:
                        result["metadata"]["resourceVersion"] = self._next_rv()
                        self._store[key] = result
                        self._emit(rt, "MODIFIED", result)
                return 200, copy.deepcopy(result)
            if rt.plural == "namespaces":
                result["metadata"]["deletionTimestamp"] = _now()
                result["status"] = {"phase": "Terminating"}
            if not dry_run:
                del self._store[key]
                self._emit_deleted(rt, result)
                if rt.plural == "namespaces":
                    for other in [k for k in self._store if k[3] == name]:
                        other_rt = self._find_type(*other[:3])
                        gone = self._store.pop(other)
                        if other_rt is not None:
                            self._emit_deleted(other_rt, gone)
        if rt.return_deleted_object:
            return 200, result
        return 200, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {**_details(rt, name), "uid": meta.get("uid")},
        }

    def _delete_collection(
        self, rt: ResourceType, namespace: str | None, record: RecordedRequest, dry_run: bool
    ) -> JSON:
        labels = parse_label_selector(record.query.get("labelSelector", ""))
        fields = parse_field_selector(record.query.get("fieldSelector", ""), rt)
        deleted = []
        with self._lock:
            for obj in list(self._select(rt, namespace, labels, fields)):
                meta = obj["metadata"]
                _, result = self._delete(rt, meta.get("namespace"), meta["name"], {}, dry_run)
                deleted.append(obj if result.get("kind") == "Status" else result)
            rv = self._rv
        return {
            "apiVersion": rt.api_version,
            "kind": f"{rt.kind}List",
            "metadata": {"resourceVersion": str(rv)},
            "items": [copy.deepcopy(o) for o in deleted],
        }


# ---------------------------------------------------------------------------------------------
# helpers


def _group_doc(group: str, versions: list[str]) -> JSON:
    docs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": docs, "preferredVersion": docs[0]}


def _resource_list(group_version: str, types: list[ResourceType]) -> JSON:
    resources = []
    for rt in types:
        doc: JSON = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            doc["shortNames"] = list(rt.short_names)
        if rt.categories:
            doc["categories"] = list(rt.categories)
        doc["storageVersionHash"] = base64.b64encode(
            rt.qualified.encode()[:8].ljust(8, b"=")
        ).decode()
        resources.append(doc)
    return {"kind": "APIResourceList", "groupVersion": group_version, "resources": resources}


def _openapi_document(types: list[ResourceType], version: tuple[int, int]) -> JSON:
    """A minimal OpenAPI 3.0 document for one group-version.

    Every PATCH operation lists the ``fieldValidation`` query parameter (kubectl's
    ``QueryParamVerifierV3`` looks for exactly that) and the media types it accepts; leaving
    ``application/strategic-merge-patch+json`` out makes ``kubectl apply`` compute its patch the
    offline way (JSON merge patch for custom resources, struct-based for built-in types).
    """
    write_params = [
        {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for n in ("dryRun", "fieldManager", "fieldValidation")
    ]
    paths: JSON = {}
    schemas: JSON = {}
    for rt in types:
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        reversed_group = ".".join(reversed(rt.group.split("."))) if rt.group else "io.k8s.api.core"
        schema_name = f"{reversed_group}.{rt.version}.{rt.kind}"
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        schemas[schema_name] = {
            "type": "object",
            "x-kubernetes-group-version-kind": [gvk],
            "x-kubernetes-preserve-unknown-fields": True,
        }

        def operation(
            action: str,
            params: list[JSON],
            body: list[str] | None = None,
            gvk: JSON = gvk,
            ref: JSON = ref,
        ) -> JSON:
            op: JSON = {
                "operationId": f"{action}{gvk['kind']}",
                "parameters": params,
                "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            }
            if body:
                op["requestBody"] = {
                    "content": {m: {"schema": ref} for m in body},
                    "required": True,
                }
            return op

        base = f"/apis/{rt.group}/{rt.version}" if rt.group else "/api/v1"
        scope = (
            f"{base}/namespaces/{{namespace}}/{rt.plural}"
            if rt.namespaced
            else f"{base}/{rt.plural}"
        )
        patch_types = [
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
        ]
        paths[scope] = {
            "get": operation("list", []),
            "post": operation("post", write_params, ["application/json"]),
        }
        paths[f"{scope}/{{name}}"] = {
            "get": operation("get", []),
            "put": operation("put", write_params, ["application/json"]),
            "patch": operation("patch", write_params, patch_types),
            "delete": operation("delete", write_params[:1]),
        }
        if rt.namespaced:
            paths[f"{base}/{rt.plural}"] = {"get": operation("list", [])}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": f"v{version[0]}.{version[1]}.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _accepts_json(accept: str | None) -> bool:
    if not accept:
        return True
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        if media in ("*/*", "application/*", "application/json") or media.endswith("+json"):
            return True
    return False


def _options_kind(verb: str) -> str:
    return {
        "create": "CreateOptions",
        "update": "UpdateOptions",
        "patch": "PatchOptions",
        "delete": "DeleteOptions",
        "deletecollection": "DeleteOptions",
    }.get(verb, "CreateOptions")


def _sort_tuple(obj: JSON) -> tuple[str, str]:
    meta = obj.get("metadata", {})
    return (meta.get("namespace") or "", meta.get("name") or "")


def _sort_key(obj: JSON) -> str:
    # The continue token's "start" looks like the real one: "<namespace>/<name>".
    return "/".join(_sort_tuple(obj))


def _split_key(start: str) -> tuple[str, str]:
    namespace, _, name = start.rstrip("\x00").partition("/")
    return namespace, name


def _without_meta(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if k != "metadata"}


def _body_name(body: Any) -> str | None:
    if isinstance(body, dict):
        name = (
            body.get("metadata", {}).get("name") if isinstance(body.get("metadata"), dict) else None
        )
        return name if isinstance(name, str) else None
    return None

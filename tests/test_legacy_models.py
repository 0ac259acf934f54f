"""The pydantic models and schemas/legacy/*.json describe the same fields.

The schema is the published contract (written from the istio/api 0.8.0
protos); the models are what the converter reads with. Validating every
legacy document with jsonschema would cost more than parsing it, so this
test keeps the two in step instead.
"""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from istiomigrate.read.inventory import read_paths
from istiomigrate.read.legacy import SPEC_MODELS
from istiomigrate.schemas import validate_legacy
from tests.helpers import CONFORMANCE, FIXTURES, ROOT

SCHEMAS = ROOT / "schemas" / "legacy"


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _model_of(annotation) -> type[BaseModel] | None:
    """The model class inside ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, (types.UnionType, typing._GenericAlias)) or typing.get_origin(
        annotation
    ):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _compare(schema: dict, node: dict, model: type[BaseModel], path: str) -> list[str]:
    node = _resolve(schema, node)
    if node.get("type") == "array":
        node = _resolve(schema, node["items"])
    if "properties" not in node and isinstance(node.get("additionalProperties"), dict):
        node = _resolve(schema, node["additionalProperties"])  # a map of messages
    problems = []
    expected = set(node.get("properties", {}))
    spelled = set()
    for name, field in model.model_fields.items():
        spelled |= {name, field.alias or name}
    if expected != spelled:
        problems.append(f"{path}: schema-only {sorted(expected - spelled)}, "
                        f"model-only {sorted(spelled - expected)}")
    for name, field in model.model_fields.items():
        child = _model_of(field.annotation)
        if child is not None and name in node.get("properties", {}):
            problems += _compare(schema, node["properties"][name], child, f"{path}.{name}")
    return problems


@pytest.mark.parametrize("kind", sorted(SPEC_MODELS))
def test_models_have_exactly_the_schema_fields(kind: str) -> None:
    schema = json.loads((SCHEMAS / f"{kind}.json").read_text())
    spec = schema["properties"]["spec"]
    assert _compare(schema, spec, SPEC_MODELS[kind], "spec") == []


def _legacy_documents() -> list[Path]:
    paths = sorted((FIXTURES / "cases").glob("*/input.yaml"))
    if CONFORMANCE.is_dir():
        paths += sorted((CONFORMANCE / "v1alpha1").glob("*.yaml"))
    return paths


@pytest.mark.parametrize("path", _legacy_documents(), ids=lambda p: p.name)
def test_every_legacy_document_the_models_accept_the_schema_accepts(path: Path) -> None:
    inventory = read_paths([str(path)])
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") in SPEC_MODELS]
    assert len(docs) == len([r for r in inventory.legacy if r.kind in SPEC_MODELS])
    for doc in docs:
        doc.setdefault("apiVersion", "config.istio.io/v1alpha2")
        assert validate_legacy(doc) == [], doc["metadata"]

"""Fuzzing: no input makes a command crash.

Every input, however hostile, gives exit 0 or 1 with output that parses back, or exit 2
with nothing on standard output and exactly one line on standard error naming the file
(``istiomigrate: error: FILE[:LINE]: ...``). Never a traceback.

Inputs: random legacy configurations (``tests/test_verify.py``'s strategies), hostile
YAML (legacy documents with wrong types, nulls, lists for maps, huge and negative
numbers, unicode, tags, anchors) and byte mutations of the fixtures. Each runs through
``convert`` (standard output and ``--output-dir``), ``check`` and ``verify --against``.

Profiles (registered as ``fuzz-ci`` and ``fuzz-long``, so that other modules keep their own
``ci``): ``ci`` (default, bounded for CI) and ``long`` (1,000 examples a test), chosen with
the environment variable ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.kinds import INGRESS_API_VERSIONS, LEGACY_KINDS
from istiomigrate.read.documents import split_documents
from tests import test_verify
from tests.helpers import FIXTURES

settings.register_profile("fuzz-ci", max_examples=25, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("fuzz-long", max_examples=1000, deadline=None,
                          suppress_health_check=list(HealthCheck))
PROFILE = settings.get_profile(
    "fuzz-long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "fuzz-ci")

SEEDS = sorted([*FIXTURES.glob("cases/*/input.yaml"),
                *(p for p in (FIXTURES / "trees").rglob("*") if p.is_file())])
LEGACY_API = "config.istio.io/v1alpha2"


# --------------------------------------------------------------------------- the harness

def _invoke(args: list[str]) -> Any:
    result = CliRunner().invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}: "
                             f"{result.exception}") from result.exception
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.stderr)
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert result.stdout == "", (args, result.stdout)
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("istiomigrate: error: "), lines[0]
    return result


def _parses(text: str) -> None:
    for doc in yaml.safe_load_all(text):
        assert doc is None or isinstance(doc, dict), doc


def _rewritten_parse(text: str, source: str, name: str) -> None:
    """Every document the converter wrote parses; those kept as they were are the user's."""
    if name.endswith(".json") and text != source:
        try:
            json.loads(text.lstrip("\ufeff"))
            return
        except ValueError:
            pass  # a .json file holding YAML is rewritten as YAML
    kept = {chunk.text.strip() for chunk in split_documents(source)}
    for chunk in split_documents(text):
        if chunk.text.strip() not in kept:  # comments above a rewritten document are kept
            _parses("".join(line for line in chunk.text.splitlines(keepends=True)
                            if not line.lstrip().startswith("#")))


def _legacy_read(data: bytes) -> int | None:
    """How many legacy resources YAML (as kubectl would) reads in ``data``; None when it
    does not parse as YAML at all (then ``check`` searches the text, which is its own test)."""
    try:
        docs = list(yaml.safe_load_all(data.decode("utf-8")))
    except (UnicodeDecodeError, yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None
    objects = [item for doc in docs if isinstance(doc, dict)
               for item in (doc.get("items") if doc.get("kind") == "List"
                            and isinstance(doc.get("items"), list) else [doc])
               if isinstance(item, dict)]
    return sum(1 for obj in objects if _is_legacy(obj))


def _is_legacy(obj: dict[str, Any]) -> bool:
    api, kind = obj.get("apiVersion"), obj.get("kind")
    if kind in LEGACY_KINDS:
        return not api or (isinstance(api, str) and api.startswith("config.istio.io/"))
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return (kind == "Ingress" and api in INGRESS_API_VERSIONS and isinstance(annotations, dict)
            and annotations.get("kubernetes.io/ingress.class") == "istio")


def _every_legacy_document_is_found(path: Path, data: bytes) -> None:
    """``check`` lists every legacy resource YAML reads, whatever its spelling: a CI gate
    that can be talked past is no gate."""
    result = _invoke(["check", "--format", "json", str(path)])
    expected = _legacy_read(data)
    if expected is None or result.exit_code == 2:
        return
    assert len(json.loads(result.stdout)["legacy"]) >= expected, result.stdout


def exercise(name: str, data: bytes) -> None:
    """Run ``data``, written to a file called ``name``, through every command."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        root.mkdir()
        path = root / name
        path.write_bytes(data)
        out = _invoke(["convert", str(path)])
        if out.exit_code == 2:
            assert name in out.stderr, out.stderr
        else:
            _parses(out.stdout)
        tree = _invoke(["convert", str(root), "--output-dir", str(Path(tmp) / "out")])
        written = Path(tmp) / "out" / name
        if tree.exit_code != 2 and written.is_file():
            _rewritten_parse(written.read_bytes().decode("utf-8", "replace"),
                             data.decode("utf-8", "replace"), name)
        _every_legacy_document_is_found(path, data)
        against = Path(tmp) / "against.yaml"
        if out.exit_code != 2:
            against.write_text(out.stdout)
            _invoke(["verify", str(path), "--against", str(against)])
        # The same text as hand-written converted config, for verify's reader.
        result = _invoke(["verify", str(Path(__file__).parent.parent / "fixtures" / "cases" /
                                        "policies" / "input.yaml"), "--against", str(path)])
        if result.exit_code == 2:
            assert name in result.stderr or "policies" in result.stderr, result.stderr


# --------------------------------------------------------------------------- strategies

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["", "-", "*", "1.0", "v1", "reviews", "0x1F", "~", "null", "é",
                     "\u202e", "a" * 300]))


def hostile_values(depth: int = 3) -> st.SearchStrategy[Any]:
    """Any YAML value: what a field of the wrong type may hold."""
    return st.recursive(SCALARS, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "labels", "version", "weight", "spec",
                                         "route", "destination", "match", "hosts", "http",
                                         "subsets", "items", "metadata", "namespace"]),
                        inner, max_size=3)), max_leaves=depth * 3)


FIELDS = {
    "RouteRule": ["destination", "precedence", "match", "route", "redirect", "rewrite",
                  "httpReqTimeout", "httpReqRetries", "httpFault", "l4Fault", "mirror",
                  "corsPolicy", "appendHeaders", "websocketUpgrade"],
    "DestinationPolicy": ["destination", "source", "loadBalancing", "circuitBreaker"],
    "EgressRule": ["destination", "ports", "useEgressProxy"],
}


@st.composite
def hostile_document(draw) -> Any:
    """A legacy or v1alpha3 document with some fields of the wrong shape, or any value."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(hostile_values())
    if choice <= 2:
        kind = draw(st.sampled_from(["VirtualService", "DestinationRule", "ServiceEntry",
                                     "Gateway"]))
        doc = {"apiVersion": "networking.istio.io/v1alpha3", "kind": kind,
               "metadata": {"name": "x", "namespace": "default"},
               "spec": {"hosts": ["reviews"], "host": "reviews", "http": [],
                        "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}}
    elif choice == 3:
        doc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews"},
               "spec": {"selector": {"app": "reviews"}, "ports": [{"port": 80}]}}
    else:
        kind = draw(st.sampled_from(sorted(FIELDS)))
        spec = {"destination": {"name": "reviews"}, "route": [{"labels": {"version": "v1"}}]}
        for key in draw(st.lists(st.sampled_from(FIELDS[kind]), max_size=3)):
            spec[key] = draw(hostile_values())
        doc = {"apiVersion": LEGACY_API, "kind": kind,
               "metadata": {"name": "r", "namespace": "default"}, "spec": spec}
    path = draw(st.sampled_from([(), ("metadata",), ("spec",), ("spec", "hosts"),
                                 ("spec", "subsets"), ("spec", "http"), ("spec", "route")]))
    if path and draw(st.booleans()):
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = draw(hostile_values())
    return doc


TAGGED = ["!!binary aGVsbG8=", "!!int x", "!!float -.inf", ".inf", "-.inf", ".nan",
          "!!str 1", "!!timestamp 2001-12-14", "!!set {a, b}", "&a [*a]", "!!python/none ''",
          "!custom x", "2001-12-14", "0o17", "1e999", "{? [a]: b}", "[[[[[[]]]]]]"]


@st.composite
def hostile_text(draw) -> str:
    """A YAML stream of hostile documents, some of whose values are raw hostile YAML."""
    docs = draw(st.lists(hostile_document(), min_size=1, max_size=4))
    parts = []
    for doc in docs:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        if draw(st.booleans()):
            raw = draw(st.sampled_from(TAGGED))
            key = draw(st.sampled_from(["spec", "metadata", "hosts", "name", "labels",
                                        "subsets", "route", "items"]))
            text = text.replace(f"{key}:", f"{key}: {raw}\n_{key}:", 1)
        parts.append(text)
    return "---\n".join(parts)


@st.composite
def legacy_config(draw) -> str:
    """A valid random legacy configuration, written as YAML."""
    inventory, _ = draw(test_verify.inventories())
    docs = [{"apiVersion": LEGACY_API, "kind": r.kind,
             "metadata": {"name": r.name, "namespace": r.namespace}, "spec": r.raw["spec"]}
            for r in inventory.legacy]
    return yaml.safe_dump_all(docs, sort_keys=False)


@st.composite
def mutated_seed(draw) -> tuple[str, bytes]:
    """A fixture with bytes flipped, inserted and deleted."""
    seed = draw(st.sampled_from(SEEDS))
    data = bytearray(seed.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "splice"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from([b"\x00", b"\xef\xbb\xbf", b"\xff", b":", b"-",
                                                b"{", b"[", b"*a", b"&a ", b"!!", b"\n  ",
                                                b"\t", b"'", b'"', b"#", b"---\n"]))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        else:
            end = draw(st.integers(at, len(data)))
            data[at:at] = data[at:end][:64]
    return seed.name, bytes(data)


# --------------------------------------------------------------------------- the tests

@PROFILE
@given(legacy_config())
def test_random_legacy_configurations_convert(text: str) -> None:
    exercise("rules.yaml", text.encode())


@PROFILE
@given(hostile_text())
def test_hostile_yaml_never_crashes(text: str) -> None:
    exercise("hostile.yaml", text.encode())


@PROFILE
@given(mutated_seed())
def test_mutated_fixtures_never_crash(seed: tuple[str, bytes]) -> None:
    exercise(*seed)


TREES = [p for p in (FIXTURES / "trees").iterdir() if p.is_dir()]


@st.composite
def mutated_tree(draw) -> tuple[Path, str, bytes]:
    """One file of a fixture tree, mutated: placement across the files of a tree."""
    tree = draw(st.sampled_from(TREES))
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file())
    name = draw(st.sampled_from(files))
    data = bytearray((tree / name).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if draw(st.booleans()) and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        else:
            del data[at:at + draw(st.integers(1, 16))]
    return tree, name, bytes(data)


@PROFILE
@given(mutated_tree())
def test_mutated_trees_never_crash(case: tuple[Path, str, bytes]) -> None:
    tree, name, data = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "in"
        shutil.copytree(tree, root, symlinks=True)
        (root / name).write_bytes(data)
        _invoke(["convert", str(root), "--output-dir", str(Path(tmp) / "out")])
        _invoke(["convert", str(root), "--diff"])
        _invoke(["convert", str(root), "--in-place", "--allow-lossy"])
        _invoke(["check", str(root)])


@pytest.mark.parametrize("raw", TAGGED)
def test_every_hostile_scalar_in_every_place(raw: str) -> None:
    for key in ("spec", "metadata", "hosts", "subsets", "http", "items", "route", "labels"):
        text = (f"apiVersion: {LEGACY_API}\nkind: RouteRule\nmetadata: {{name: r}}\n"
                "spec:\n  destination: {name: reviews}\n  route: [{labels: {v: '1'}}]\n"
                "---\napiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\n"
                "metadata: {name: reviews}\nspec:\n  host: reviews\n"
                "  subsets: [{name: a, labels: {v: '1'}}]\n")
        exercise("hostile.yaml", text.replace(f"{key}:", f"{key}: {raw}\n_{key}:", 1).encode())

"""The YAML writer: whatever it writes, YAML readers read back exactly (hypothesis)."""

from __future__ import annotations

import io
import json

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from istiomigrate.emit import json_stream, scalar, to_yaml, yaml_stream
from istiomigrate.model import Resource

keys = st.text(min_size=1, max_size=12)
scalars = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["1.0", "true", "no", "~", "null", "0x1f", "1e3", "-x", "- x", "a: b",
                     "#c", "x #c", "*.foo.com", "'q'", '"dq"', "{a}", "[b]", "@x", "%p",
                     "1-0", "2001-12-14", "12:30:00", ".5", "+1", "=", "<<", "|", ">"]),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.booleans(),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(keys, children, max_size=4)),
    max_leaves=20,
)


def _resource(spec: dict) -> Resource:
    return Resource("VirtualService", "default", "x", spec)


def _read_ruamel(text: str):
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, trees, max_size=5))
@example({"A\n": ["trailing newline"], "k": "A\n"})
def test_yaml_readers_read_back_what_was_written(spec: dict) -> None:
    text = to_yaml(_resource(spec))
    expected = _resource(spec).document()
    assert yaml.safe_load(text) == expected  # YAML 1.1, as PyYAML and Go's yaml read it
    assert _read_ruamel(text) == expected  # YAML 1.2


@given(st.text(max_size=30))
def test_every_string_stays_a_string(text: str) -> None:
    assert yaml.safe_load(f"k: {scalar(text)}") == {"k": text}


def test_block_style_two_space_indent_and_route_comments() -> None:
    res = Resource(
        "VirtualService", "shop", "api",
        {"hosts": ["api"], "http": [{"route": [{"destination": {"host": "api"}}]}]},
        comments={"spec.http[0]": "from RouteRule shop/api (rules.yaml:3)"},
    )
    assert to_yaml(res) == (
        "apiVersion: networking.istio.io/v1alpha3\n"
        "kind: VirtualService\n"
        "metadata:\n"
        "  name: api\n"
        "  namespace: shop\n"
        "spec:\n"
        "  hosts:\n"
        "  - api\n"
        "  http:\n"
        "  # from RouteRule shop/api (rules.yaml:3)\n"
        "  - route:\n"
        "    - destination:\n"
        "        host: api\n"
    )


def test_streams_separate_documents_and_json_is_a_kubectl_list() -> None:
    a, b = _resource({"hosts": ["a"]}), _resource({"hosts": ["b"]})
    assert [d["spec"] for d in yaml.safe_load_all(yaml_stream([a, b]))] == [
        {"hosts": ["a"]}, {"hosts": ["b"]}]
    doc = json.loads(json_stream([a, b]))
    assert doc["kind"] == "List" and [i["spec"]["hosts"] for i in doc["items"]] == [["a"], ["b"]]

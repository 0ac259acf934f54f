"""Service selectors read from text agree with a full YAML parse, or defer to it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from istiomigrate.read.services import fast_service, full_service, service_selector

SERVICES = {
    "plain": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\n"
             "spec:\n  selector:\n    app: web\n    tier: front\n  ports:\n  - port: 80\n",
    "quoted-and-comments": "apiVersion: v1\nkind: Service\nmetadata:  # meta\n"
                           "  labels:\n    name: not-this\n  name: \"web\"\n"
                           "spec:\n  # the pods\n  selector:\n    app: 'web'\n"
                           "    version: \"1.0\"\n",
    "four-spaces": "apiVersion: v1\nkind: Service\nmetadata:\n    name: api\n"
                   "    namespace: core\nspec:\n    ports:\n    -   port: 80\n"
                   "    selector:\n        app: api\n",
    "flow-selector": "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\nspec:\n"
                     "  selector: {app: db, role: primary}\n",
    "no-selector": "apiVersion: v1\nkind: Service\nmetadata:\n  name: external\nspec:\n"
                   "  type: ExternalName\n  externalName: example.com\n",
    "crlf": "apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: web\r\nspec:\r\n"
            "  selector:\r\n    app: web\r\n",
    "annotation-mentions-selector": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n"
                                    "  annotations:\n    selector: fake\nspec:\n  selector:\n"
                                    "    app: real\n",
    "anchors": "apiVersion: v1\nkind: Service\nmetadata:\n  name: &n web\nspec:\n"
               "  selector:\n    app: *n\n",
    "flow-spec": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
                 "spec: {selector: {app: web}}\n",
    "numbers": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n"
               "    version: 1.10\n    canary: true\n",
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_text_reading_agrees_with_yaml_or_defers(name: str) -> None:
    text = SERVICES[name]
    fast = fast_service(text)
    assert fast is None or fast == full_service(text)
    assert service_selector(text) == full_service(text)


def test_the_common_shapes_take_the_fast_path() -> None:
    for name in ("plain", "quoted-and-comments", "four-spaces", "flow-selector", "crlf"):
        assert fast_service(SERVICES[name]) is not None, name


values = st.from_regex(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,10}", fullmatch=True)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), values,
                       min_size=1, max_size=4), values, st.booleans())
def test_generated_selectors(selector: dict, name: str, quoted: bool) -> None:
    q = '"' if quoted else ""
    lines = "".join(f"    {k}: {q}{v}{q}\n" for k, v in selector.items())
    text = (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {q}{name}{q}\nspec:\n"
            f"  selector:\n{lines}")
    assert service_selector(text) == full_service(text)

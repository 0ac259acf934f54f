"""Kubernetes Ingresses of class istio -> Gateway and VirtualServices (docs/semantics.md §7).

The fixture cases (fixtures/cases/ingress-*) are judged here by the whole meaning,
gateways included (tests/test_cases.py checks their mesh hosts and findings), for
both targets; the conformance corpus's two Ingress cases are checked for the
namespaces the old converter got wrong; and a manifest tree with Ingresses is
converted through the CLI to check placement.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from istiomigrate import targets
from istiomigrate.cli import app
from istiomigrate.errors import InputError
from istiomigrate.read.ingress import IngressSpec
from istiomigrate.read.inventory import read_paths
from istiomigrate.read.services import service_ports
from istiomigrate.schemas import TARGETS as ALL_TARGETS
from istiomigrate.schemas import validate_output
from tests.helpers import (
    CONFORMANCE,
    FIXTURES,
    codes,
    convert_paths,
    gateways_on,
    namespace_repaired,
)
from tests.meaning import meaning

# The v1alpha3 targets: these tests build and read v1alpha3 documents (modern Istio's
# v1 output: tests/test_modern.py).
TARGETS = tuple(t for t in ALL_TARGETS
                if str(targets.for_version(t).schema_dir(t)).startswith("v1alpha3"))
CASES = sorted(p for p in (FIXTURES / "cases").glob("ingress-*/expect*.yaml"))
TREE = FIXTURES / "trees" / "ingress"
GATEWAY_FQDN = "k8s-ingress.istio-system.svc.cluster.local"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_every_ingress_case_is_found() -> None:
    assert {p.parent.name for p in CASES} == {
        "ingress-tls", "ingress-named-ports", "ingress-merge", "ingress-classes"}


# --------------------------------------------------------------------------- fixture cases


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("expect", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case_means_what_the_ingresses_meant(expect: Path, target: str) -> None:
    spec = _load(expect)
    options = {**spec.get("options", {}), "target": target}
    if "ingress_gateway_selector" in options:
        options["ingress_gateway_selector"] = tuple(
            tuple(pair) for pair in options["ingress_gateway_selector"])
    docs, result = convert_paths([expect.parent / "input.yaml"], **options)
    got = meaning(docs)
    assert got.get("gateways") == gateways_on(
        target, spec["gateways"], options.get("ingress_gateway_namespace", "istio-system"))
    assert got["hosts"] == spec.get("hosts", {})
    assert codes(result) == sorted(spec["findings"])  # no IM307: every output is valid
    for doc in docs:
        assert validate_output(doc, target) == [], doc["metadata"]


def test_outputs_validate_against_both_targets() -> None:
    for expect in CASES:
        docs, _ = convert_paths([expect.parent / "input.yaml"])
        for doc in docs:
            for target in TARGETS:
                assert validate_output(doc, target) == [], (expect, doc["metadata"], target)


def test_only_ingresses_of_class_istio_are_legacy() -> None:
    inventory = read_paths([str(FIXTURES / "cases" / "ingress-classes" / "input.yaml")])
    assert [(r.kind, r.name) for r in inventory.legacy] == [("Ingress", "edge"),
                                                             ("RouteRule", "web-v2")]
    assert [f.source.name for f in inventory.findings if f.code == "IM108"] == ["docs"]


def test_route_order_is_istio_07s_whatever_the_file_order(tmp_path: Path) -> None:
    text = (FIXTURES / "cases" / "ingress-merge" / "input.yaml").read_text()
    docs = text.split("\n---\n")
    (tmp_path / "reversed.yaml").write_text("\n---\n".join(reversed(docs)))
    forward, _ = convert_paths([FIXTURES / "cases" / "ingress-merge" / "input.yaml"])
    backward, _ = convert_paths([tmp_path / "reversed.yaml"])
    assert meaning(forward) == meaning(backward)


def test_gateway_reference_and_destinations() -> None:
    docs, _ = convert_paths([FIXTURES / "cases" / "ingress-merge" / "input.yaml"])
    gateway, *services = docs
    assert (gateway["kind"], gateway["metadata"]) == (
        "Gateway", {"name": "k8s-ingress", "namespace": "istio-system"})
    for vs in services:
        assert vs["spec"]["gateways"] == [GATEWAY_FQDN]  # works in 0.8 and 1.0
    bookinfo = next(v for v in services if v["spec"]["hosts"] == ["bookinfo.example.com"])
    hosts = [r["route"][0]["destination"]["host"] for r in bookinfo["spec"]["http"]]
    # short where the backend is in the VirtualService's namespace, FQDN otherwise
    assert "reviews.reviews.svc.cluster.local" in hosts and "productpage" in hosts


# --------------------------------------------------------------------------- conformance


NEEDS_CORPUS = pytest.mark.skipif(not CONFORMANCE.is_dir(),
                                  reason="../shared/conformance is not present on this machine")


def _corpus(*names: str) -> list[Path]:
    return [CONFORMANCE / "v1alpha1" / name for name in names]


def _golden(name: str) -> list[dict]:
    text = (CONFORMANCE / "v1alpha3" / name).read_text()
    return [d for d in yaml.safe_load_all(text) if d]


@NEEDS_CORPUS
@pytest.mark.parametrize("target", TARGETS)
def test_case_20_namespaces(target: str) -> None:
    docs, result = convert_paths(_corpus("myservice-ingress.yaml"), target=target)
    assert codes(result) == []
    golden = _golden("myservice-gateway.yaml.golden")
    if target == "0.8":  # beside the Gateway: 0.8's validation takes only a short name
        assert [(d["kind"], d["metadata"]["namespace"]) for d in docs] == [
            ("Gateway", "istio-system"), ("VirtualService", "istio-system")]
        assert docs[1]["spec"]["gateways"] == ["k8s-ingress"]
        return
    assert [(d["kind"], d["metadata"]["namespace"]) for d in docs] == [
        ("Gateway", "istio-system"), ("VirtualService", "default")]
    assert docs[1]["spec"]["gateways"] == [GATEWAY_FQDN]
    # the golden's only defect (on 1.0) is the namespace: repaired, it means what ours means
    assert meaning(golden) != meaning(docs)
    assert meaning(namespace_repaired(golden)) == meaning(docs)


@NEEDS_CORPUS
def test_case_21_merges_in_istio_07s_order() -> None:
    docs, _ = convert_paths(_corpus("myservice-ingress.yaml", "another-ingress.yaml"))
    assert [d["kind"] for d in docs] == ["Gateway", "VirtualService"]  # one per host
    http = docs[1]["spec"]["http"]
    assert [r["match"][0]["uri"] for r in http] == [
        {"exact": "/foo/bar/"}, {"prefix": "/foo/"}, {"prefix": "/"}]
    # with the namespace repaired the golden still differs: file order, two VirtualServices
    golden = namespace_repaired(_golden("merged-gateway.yaml.golden"))
    assert meaning(golden) != meaning(docs)


# --------------------------------------------------------------------------- the model


def _ingress(spec: str) -> str:
    return ("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: x\n"
            "  annotations: {kubernetes.io/ingress.class: istio}\nspec:\n" + spec)


def test_service_port_is_int_or_string(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_ingress(
        "  rules:\n  - http:\n      paths:\n"
        "      - {path: /a, backend: {serviceName: a, servicePort: 80}}\n"
        "      - {path: /b, backend: {serviceName: b, servicePort: \"80\"}}\n"
        "      - {path: /c, backend: {serviceName: c, servicePort: http}}\n"))
    [ingress] = read_paths([str(tmp_path / "a.yaml")]).legacy
    assert isinstance(ingress.spec, IngressSpec)
    ports = [p.backend.service_port for p in ingress.spec.rules[0].http.paths]
    assert ports == [80, "80", "http"]
    assert ingress.spec.destination is None  # indexes of legacy rules by destination skip it


@pytest.mark.parametrize(("spec", "field", "message"), [
    ("  backend: {serviceName: a, servicePort: 70000}\n", "spec.backend.servicePort",
     "not a port number"),
    ("  backend: {serviceName: a, servicePort: 80, weight: 1}\n", "spec.backend.weight",
     "unknown field 'weight'"),
    ("  backend: {service_name: a, servicePort: 80}\n", "spec.backend.serviceName",
     "field required"),  # Kubernetes JSON names only
    ("  rules:\n  - http: {paths: [{path: /}]}\n", "spec.rules[0].http.paths[0].backend",
     "required"),
    ("  backend: {serviceName: a, servicePort: 1.5}\n", "spec.backend.servicePort",
     "port number or a port name"),
])
def test_bad_ingress_is_a_one_line_error(tmp_path: Path, spec: str, field: str,
                                         message: str) -> None:
    (tmp_path / "a.yaml").write_text(_ingress(spec))
    with pytest.raises(InputError) as caught:
        read_paths([str(tmp_path / "a.yaml")])
    assert caught.value.field == field
    assert message in str(caught.value)


def test_ingress_of_another_class_is_not_validated(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_ingress("  whatever: 1\n").replace("istio", "nginx"))
    assert read_paths([str(tmp_path / "a.yaml")]).legacy == []


SERVICES = {
    "block": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n"
             "  - name: http\n    port: 80\n    targetPort: 8080\n  - port: 81\n    name: 'grpc'\n"
             "  selector:\n    app: a\n",
    "indented-items": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n"
                      "    - name: http\n      port: 80\n",
    "four-spaces": "apiVersion: v1\nkind: Service\nmetadata:\n    name: a\nspec:\n"
                   "    ports:\n    -   port: 80\n        name: web\n",
    "flow": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n"
            "  ports: [{name: http, port: 80}]\n",
    "flow-item": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n"
                 "  - {name: http, port: 80}\n",
    "comments": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n"
                "  # the web port\n  - name: http # web\n    port: 80\n",
    "null-name": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n"
                 "  - name: null\n    port: 80\n",
    "none": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  selector: {a: b}\n",
    "crlf": "apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: a\r\nspec:\r\n"
            "  ports:\r\n  - name: http\r\n    port: 80\r\n",
    "anchor": "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n"
              "  - name: &n http\n    port: 80\n",
}


PORTS = {
    "block": [("http", 80), ("grpc", 81)],
    "indented-items": [("http", 80)],
    "four-spaces": [("web", 80)],
    "flow": [("http", 80)],
    "flow-item": [("http", 80)],
    "comments": [("http", 80)],
    "null-name": [(None, 80)],
    "none": [],
    "crlf": [("http", 80)],
    "anchor": [("http", 80)],
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_ports_by_name(name: str) -> None:
    assert service_ports(SERVICES[name]) == PORTS[name]


def test_reader_keeps_ports_from_both_paths() -> None:
    inventory = read_paths([str(FIXTURES / "cases" / "ingress-named-ports" / "input.yaml")])
    assert inventory.service_ports.as_dict() == {
        ("shop", "store"): [("http-web", 8000), ("grpc-api", 9000)],      # read from text
        ("shop", "catalog"): [("http", 8081), ("metrics", 9102), (None, 7000)],  # parsed
    }


# --------------------------------------------------------------------------- the CLI


def run(*args: str):
    return CliRunner().invoke(app, ["convert", *args])


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    shutil.copytree(TREE, root)
    return root


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_output_dir_places_gateway_and_virtual_services(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(str(tree), "--output-dir", str(out), "--report-format", "json")
    assert result.exit_code == 0, result.stderr
    ing = out / "ingress"
    # the Gateway beside the first Ingress in file order, with that Ingress's VirtualService
    assert [(d["kind"], d["metadata"]["name"]) for d in _docs(ing / "a-zoo.yaml")] == [
        ("Gateway", "k8s-ingress"), ("VirtualService", "zoo-example-com-ingress")]
    # bookinfo.example.com: written where its first Ingress by namespace/name (api) was
    api = _docs(ing / "c-api.yaml")
    assert [(d["kind"], d["metadata"]["name"]) for d in api] == [
        ("VirtualService", "bookinfo-example-com-ingress"), ("Ingress", "blog")]
    assert [r["route"][0]["destination"] for r in api[0]["spec"]["http"]] == [
        {"host": "api", "port": {"number": 9080}},
        {"host": "productpage", "port": {"number": 9080}}]  # named port, from apps/
    # the other Ingress for the host: one-line notes saying where it went
    pages = (ing / "b-pages.yaml").read_text()
    assert "kind: Ingress" not in pages
    assert (f"# Ingress bookinfo/pages: converted into VirtualService "
            f"bookinfo/bookinfo-example-com-ingress ({tree / 'ingress/c-api.yaml'})") in pages
    assert [d["kind"] for d in _docs(ing / "b-pages.yaml")] == ["ConfigMap"]
    # nginx's Ingress and the application are kept byte for byte
    assert (out / "apps/bookinfo.yaml").read_bytes() == (tree / "apps/bookinfo.yaml").read_bytes()
    blog = (tree / "ingress/c-api.yaml").read_text().split("---\n", 1)[1]
    assert (ing / "c-api.yaml").read_text().endswith(blog)
    # JSON: the Ingress item is replaced by its VirtualService
    items = json.loads((ing / "d-list.json").read_text())["items"]
    assert [i["kind"] for i in items] == ["ConfigMap", "VirtualService"]
    report = json.loads(result.stderr)
    per_file = {Path(f["file"]).name: (f["legacy"], f["written"]) for f in report["files"]}
    assert per_file == {"a-zoo.yaml": (1, 2), "b-pages.yaml": (1, 0), "c-api.yaml": (1, 1),
                        "d-list.json": (1, 1)}
    for path in out.rglob("*.yaml"):
        for doc in _docs(path):
            if doc["apiVersion"].startswith("networking.istio.io"):
                for target in TARGETS:
                    assert validate_output(doc, target) == []


def test_converted_tree_passes_check_and_converts_to_nothing(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(str(tree), "--output-dir", str(out))
    before = CliRunner().invoke(app, ["check", str(tree)])
    assert before.exit_code == 1 and "4 Ingress" in before.stdout + before.stderr
    after = CliRunner().invoke(app, ["check", str(out)])
    assert after.exit_code == 0, after.stdout + after.stderr
    again = run(str(out), "--in-place", "--diff")
    assert again.exit_code == 0 and again.stdout == ""
    assert "nothing to convert" in again.stderr


def test_gateway_options(tmp_path: Path) -> None:
    source = str(FIXTURES / "cases" / "ingress-merge" / "input.yaml")
    result = run(source, "--ingress-gateway-selector", "app=edge, tier=public",
                 "--ingress-gateway-namespace", "bookinfo")
    assert result.exit_code == 0, result.stderr
    gateway, *services = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert gateway["spec"]["selector"] == {"app": "edge", "tier": "public"}
    assert gateway["metadata"]["namespace"] == "bookinfo"
    assert {tuple(v["spec"]["gateways"]) for v in services} == {("k8s-ingress",)}


@pytest.mark.parametrize("args", [["--ingress-gateway-selector", "istio"],
                                  ["--ingress-gateway-selector", "a=b,=c"],
                                  ["--ingress-gateway-namespace", "Istio_System"]])
def test_bad_gateway_options_exit_2(args: list[str]) -> None:
    result = run(str(FIXTURES / "cases" / "ingress-merge" / "input.yaml"), *args)
    assert result.exit_code == 2
    assert "istiomigrate: error: --ingress-gateway" in result.stderr
    assert result.stdout == ""


def test_a_later_run_merges_into_the_gateway_of_an_earlier_one(tmp_path: Path) -> None:
    first = (TREE / "ingress" / "a-zoo.yaml").read_text()
    (tmp_path / "a.yaml").write_text(first)
    assert run(str(tmp_path), "--in-place").exit_code == 0
    later = (FIXTURES / "cases" / "ingress-merge" / "input.yaml").read_text()
    (tmp_path / "b.yaml").write_text(later)
    result = run(str(tmp_path), "--in-place", "--report-format", "json")
    assert result.exit_code == 0, result.stderr
    assert [f["code"] for f in json.loads(result.stderr)["findings"]].count("IM103") == 1
    gateways = [d for p in sorted(tmp_path.glob("*.yaml")) for d in _docs(p)
                if d["kind"] == "Gateway"]
    assert len(gateways) == 1  # the earlier one, extended: never two of the same name
    assert gateways[0]["spec"]["servers"][0]["hosts"] == [
        "zoo.example.com", "bookinfo.example.com", "ratings.example.com"]


@pytest.mark.parametrize(("paths", "expected"), [
    # the cases of TestRoutesByPath (istio/istio 0.7.1, pilot/pkg/proxy/envoy/v1/config_test.go)
    (["/api.*", "/api/v1"], [{"exact": "/api/v1"}, {"prefix": "/api"}]),
    (["/api.*", "/api/v1.*"], [{"prefix": "/api/v1"}, {"prefix": "/api"}]),
    # and Istio 0.8's path semantics: no path is the prefix /, a path without .* is exact
    ([None, "/b", "/a", "/.*", "/a/.*"],
     [{"exact": "/a"}, {"exact": "/b"}, {"prefix": "/a/"}, {"prefix": "/"}, {"prefix": "/"}]),
])
def test_routes_by_path(tmp_path: Path, paths: list, expected: list) -> None:
    items = "".join(("      - " + (f"path: {p}\n        " if p else "")
                     + "backend: {serviceName: s, servicePort: 80}\n") for p in paths)
    (tmp_path / "a.yaml").write_text(_ingress(f"  rules:\n  - http:\n      paths:\n{items}"))
    docs, result = convert_paths([tmp_path / "a.yaml"])
    assert [r["match"][0]["uri"] for r in docs[1]["spec"]["http"]] == expected
    assert codes(result) == (["IM217"] if None in paths else [])  # two prefixes "/"

"""``convert --from-cluster`` end to end: the CLI against the fake API server, no mocks.

Every run goes through :func:`run`, which also checks that the bearer token never appears in
stdout or stderr, whatever the outcome.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from istiomigrate.cli import app
from tests.fakekube import DEFAULT_RESOURCES, FakeKube, ResourceType
from tests.fakekube.fixture import kubectl_or_skip, run_kubectl
from tests.helpers import FIXTURES, ROOT

TOKEN = "t0ken-never-to-be-printed-7f3a"
MESH = FIXTURES / "cluster" / "mesh.yaml"
INGRESS = FIXTURES / "cluster" / "ingress.yaml"
LEGACY_PLURALS = ("routerules", "destinationpolicies", "egressrules")
NETWORKING = ("networking.istio.io", "v1alpha3")

# What `-n bookinfo` plans for fixtures/cluster/mesh.yaml (see its header comment).
BOOKINFO_PLAN = {
    "ServiceEntry bookinfo/httpbin-ext": "create",
    "VirtualService bookinfo/details": "create",
    "DestinationRule bookinfo/details": "unchanged",
    "VirtualService bookinfo/ratings": "create",
    "DestinationRule bookinfo/ratings": "update",
    "VirtualService bookinfo/reviews": "create",
    "DestinationRule bookinfo/reviews": "create",
}
BOOKINFO_LEGACY = {
    ("routerules", "bookinfo", "details-v1"), ("routerules", "bookinfo", "ratings-default"),
    ("routerules", "bookinfo", "reviews-default"), ("routerules", "bookinfo", "reviews-jason"),
    ("routerules", "shop", "frontend-to-ratings"),
    ("destinationpolicies", "bookinfo", "reviews-lb"),
    ("egressrules", "bookinfo", "httpbin-ext"),
}


def run(kubeconfig: Path | None, *args: str) -> Any:
    """``istiomigrate convert --from-cluster [--kubeconfig K] ARGS`` in process."""
    head = ["convert", "--from-cluster"]
    if kubeconfig is not None:
        head += ["--kubeconfig", str(kubeconfig)]
    result = CliRunner().invoke(app, [*head, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    for stream in (result.stdout, result.stderr):
        assert TOKEN not in stream
        assert "Traceback" not in stream
    return result


def run_10(kubeconfig: Path | None, *args: str) -> Any:
    """``run`` for ``--target 1.0`` (the ingress tests were written for 1.0's placement)."""
    return run(kubeconfig, "--target", "1.0", *args)


def report_json(stderr: str) -> Any:
    """The JSON report on stderr, without the ``istiomigrate: note/warning`` lines beside it."""
    return json.loads("\n".join(line for line in stderr.splitlines()
                                 if not line.startswith("istiomigrate: ")))


def plan_actions(stdout: str) -> dict[str, str]:
    """``{"Kind ns/name": action}`` from the plan's resource lines."""
    actions = {}
    for line in stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("create", "update", "unchanged", "conflict"):
            actions[rest.strip()] = word
    return actions


def legacy_left(kube: FakeKube) -> set[tuple[str, str, str]]:
    return {(plural, o["metadata"]["namespace"], o["metadata"]["name"])
            for plural in LEGACY_PLURALS for o in kube.objects(plural)}


def mesh_documents(skip_kind: str | None = None) -> list[dict]:
    return [d for d in yaml.safe_load_all(MESH.read_text()) if d and d["kind"] != skip_kind]


@pytest.fixture
def mesh(fake_kube_factory: Any, tmp_path: Path) -> tuple[FakeKube, Path]:
    """The fixture mesh in a fake cluster; the kubeconfig's context namespace is bookinfo."""
    kube = fake_kube_factory(token=TOKEN)
    kube.load_yaml(MESH)
    return kube, kube.kubeconfig(tmp_path / "kubeconfig", namespace="bookinfo")


# ---------------------------------------------------------------------------------------------
# dry run


def test_dry_run_prints_the_plan_and_sends_no_write(mesh, tmp_path: Path) -> None:
    kube, kubeconfig = mesh
    out = tmp_path / "out"
    result = run(kubeconfig, "--output-dir", str(out))
    assert result.exit_code == 0, result.stderr
    assert plan_actions(result.stdout) == BOOKINFO_PLAN
    # The update shows its diff against the live object: subset v2 added, label kept.
    diff = result.stdout.split("update     DestinationRule bookinfo/ratings")[1]
    diff = diff.split("create ")[0]
    assert "--- live DestinationRule/bookinfo/ratings" in diff
    assert "+    name: v2" in diff and "-" + "    name: v1" not in diff
    # What replaces each legacy resource; the rule of namespace shop for a bookinfo host too.
    assert re.search(r"^  RouteRule shop/frontend-to-ratings +->  replaced by VirtualService "
                     r"bookinfo/ratings$", result.stdout, re.M)
    assert "catalog" not in result.stdout  # a host of namespace other: not selected
    assert "7 legacy resources replaced" in result.stdout
    assert "cluster:fake: warning IM213" in result.stderr
    # One file per resource; the dry run wrote nothing to the cluster, not even a dry run.
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml"))
    assert written == ["bookinfo/destinationrule-details.yaml",
                       "bookinfo/destinationrule-ratings.yaml",
                       "bookinfo/destinationrule-reviews.yaml",
                       "bookinfo/serviceentry-httpbin-ext.yaml",
                       "bookinfo/virtualservice-details.yaml",
                       "bookinfo/virtualservice-ratings.yaml",
                       "bookinfo/virtualservice-reviews.yaml"]
    assert kube.write_requests() == []
    assert {r.method for r in kube.requests} == {"GET"}


def test_namespace_selects_the_hosts_it_migrates(mesh) -> None:
    kube, kubeconfig = mesh
    shop = run(kubeconfig, "-n", "shop")  # its one rule is for a host of bookinfo
    assert plan_actions(shop.stdout) == {"VirtualService bookinfo/ratings": "create",
                                         "DestinationRule bookinfo/ratings": "update"}
    assert "RouteRule bookinfo/ratings-default" in shop.stdout  # same host: converted along
    every = run(kubeconfig, "-A", "-o", "json")
    names = {(i["kind"], i["metadata"]["namespace"], i["metadata"]["name"])
             for i in json.loads(every.stdout)["items"]}
    assert {("VirtualService", "other", "catalog"), ("DestinationRule", "other", "catalog")
            } <= names and len(names) == 9
    assert kube.write_requests() == []


def test_lists_are_paginated(fake_kube_factory: Any, tmp_path: Path) -> None:
    kube = fake_kube_factory(token=TOKEN)
    for i in range(1200):
        kube.add({"apiVersion": "config.istio.io/v1alpha2", "kind": "RouteRule",
                  "metadata": {"name": f"r{i:04d}", "namespace": "bulk"},
                  "spec": {"destination": {"name": f"svc-{i % 40}"}, "precedence": i // 40,
                           "match": {"request": {"headers": {"x-user": {"exact": f"u{i}"}}}},
                           "route": [{"labels": {"version": f"v{i % 3}"}}]}})
    result = run(kube.kubeconfig(tmp_path / "kc", namespace="bulk"))
    assert result.exit_code == 0, result.stderr
    assert "40 to create" not in result.stdout and "80 to create" in result.stdout
    assert "1200 legacy resources replaced" in result.stdout
    lists = [r for r in kube.requests if r.path.endswith("/routerules")]
    assert [r.query.get("limit") for r in lists] == ["500", "500", "500"]
    assert "continue" not in lists[0].query and all(r.query["continue"] for r in lists[1:])
    assert all(r.query.get("limit") == "500" for r in kube.requests)


def test_legacy_crd_not_installed_is_im106(fake_kube_factory: Any, tmp_path: Path) -> None:
    kube = fake_kube_factory(token=TOKEN, missing=("egressrules.config.istio.io",))
    for doc in mesh_documents(skip_kind="EgressRule"):
        kube.add(doc)
    result = run(kube.kubeconfig(tmp_path / "kc", namespace="bookinfo"),
                 "--report-format", "json")
    assert result.exit_code == 0
    (im106,) = [f for f in json.loads(result.stderr)["findings"] if f["code"] == "IM106"]
    assert im106["severity"] == "info" and "egressrules.config.istio.io" in im106["message"]
    expected = {k: v for k, v in BOOKINFO_PLAN.items() if "ServiceEntry" not in k}
    assert plan_actions(result.stdout) == expected  # the other kinds still convert


# ---------------------------------------------------------------------------------------------
# failures: exit 2, one clear message, no traceback, no token


def test_wrong_token_is_a_clear_401(mesh, tmp_path: Path) -> None:
    kube, _ = mesh
    wrong = "wr0ng-t0ken-not-printed-either"
    result = run(kube.kubeconfig(tmp_path / "wrong", token=wrong))
    assert result.exit_code == 2 and result.stdout == ""
    assert "401 Unauthorized" in result.stderr and kube.url in result.stderr
    assert wrong not in result.stderr


def test_forbidden_list_names_resource_namespace_and_verb(mesh) -> None:
    kube, kubeconfig = mesh
    kube.fail("GET", r"^/apis/config.istio.io/v1alpha2/routerules$", 403)
    fallback = run(kubeconfig)  # cluster-wide refused: namespace bookinfo only, with a note
    assert fallback.exit_code == 0
    assert "note: listing routerules.config.istio.io in all namespaces is forbidden" \
        in fallback.stderr
    assert "frontend-to-ratings" not in fallback.stdout  # the rule of shop cannot be seen
    kube.fail("GET", r"/namespaces/bookinfo/routerules$", 403)
    refused = run(kubeconfig)
    assert refused.exit_code == 2 and refused.stdout == ""
    message = refused.stderr
    assert message.startswith("istiomigrate: error: forbidden (403) to list "
                              "routerules.config.istio.io in namespace \"bookinfo\"")
    assert "needs the RBAC verb 'list' on resource 'routerules' in API group " \
           "'config.istio.io'" in message


def test_timeout_names_the_server(mesh) -> None:
    kube, kubeconfig = mesh
    kube.delay("GET", r"/destinationrules$", 5)
    started = time.monotonic()
    result = run(kubeconfig, "--request-timeout", "0.3")
    assert time.monotonic() - started < 3
    assert result.exit_code == 2
    assert f"no answer from the API server at {kube.url} within 0.3s" in result.stderr
    assert "list destinationrules.networking.istio.io" in result.stderr


def test_refused_connection_names_the_server(fake_kube_factory: Any, tmp_path: Path) -> None:
    kube = fake_kube_factory(token=TOKEN)
    kubeconfig = kube.kubeconfig(tmp_path / "kc")
    url = kube.url
    kube.stop()
    result = run(kubeconfig, "--request-timeout", "2s")
    assert result.exit_code == 2
    assert f"cannot connect to the API server at {url}: connection refused" in result.stderr


def test_usage_errors_reach_no_cluster(tmp_path: Path) -> None:
    nowhere = tmp_path / "absent-kubeconfig"
    cases = {
        ("convert", "--from-cluster", "fixtures/example"): "exclude each other",
        ("convert", "--from-cluster", "--prune-legacy"): "--prune-legacy",
        ("convert", "--apply", "fixtures/example"): "--apply need --from-cluster",
        ("convert", "--from-cluster", "--apply", "-o", "yaml"): "use one or the other",
        ("convert", "--from-cluster", "--kubeconfig", str(nowhere)): "no such file",
        ("convert", "--from-cluster", "--request-timeout", "soon"): "--request-timeout",
    }
    for args, expected in cases.items():
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 2, args
        assert expected in result.stderr, (args, result.stderr)
    missing = CliRunner().invoke(app, ["convert"])  # files mode: still typer's own error
    assert missing.exit_code == 2 and "Missing argument 'paths'" in missing.stderr


def test_token_never_printed_and_kubeconfig_env_is_read(mesh, tmp_path: Path) -> None:
    """A real process, KUBECONFIG from the environment, every output stream searched."""
    kube, kubeconfig = mesh
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
    report = tmp_path / "report.json"
    runs = [["--report-format", "json", "--report-file", str(report)], ["-o", "json"],
            ["--context", "nope"]]
    outputs = []
    for args in runs:
        proc = subprocess.run([sys.executable, "-m", "istiomigrate", "convert",
                               "--from-cluster", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=60)
        outputs += [proc.stdout, proc.stderr]
        assert proc.returncode == (2 if "nope" in args else 0), proc.stderr
    outputs.append(report.read_text())
    assert "--context nope: not in kubeconfig" in outputs[-2]
    assert json.loads(outputs[2])["kind"] == "List"
    assert all(TOKEN not in text for text in outputs)
    assert all(TOKEN not in str(r.body) for r in kube.requests)  # only in headers


def test_file_mode_does_not_import_the_kubernetes_client() -> None:
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom istiomigrate.cli import app\n"
            "r = CliRunner().invoke(app, ['convert', 'fixtures/example'])\n"
            "assert r.exit_code in (0, 1), r.output\n"
            "print('kubernetes' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_o_yaml_applies_cleanly_with_kubectl(mesh, tmp_path: Path) -> None:
    kubectl_or_skip()
    kube, kubeconfig = mesh
    result = run(kubeconfig, "-o", "yaml")
    assert result.exit_code == 0
    applied = run_kubectl(kubeconfig, "apply", "--dry-run=server", "-f", "-",
                          home=tmp_path, stdin=result.stdout)
    assert applied.stdout.count("(server dry run)") == len(BOOKINFO_PLAN)
    assert kube.write_requests(include_dry_run=False) == []


# ---------------------------------------------------------------------------------------------
# apply


def test_apply_and_prune(mesh, fake_kube_factory: Any, tmp_path: Path) -> None:
    kube, kubeconfig = mesh
    before = {(p, o["metadata"]["namespace"], o["metadata"]["name"]): o
              for p in LEGACY_PLURALS for o in kube.objects(p)}
    backup_dir = tmp_path / "backup"
    result = run(kubeconfig, "--apply", "--prune-legacy", "--backup-dir", str(backup_dir))
    assert result.exit_code == 0, result.stderr
    assert "applied: 6 resources written, 7 legacy resources deleted." in result.stdout
    assert legacy_left(kube) == {("routerules", "other", "catalog-default")}
    ratings = kube.get("destinationrules", "ratings", "bookinfo")
    assert [s["name"] for s in ratings["spec"]["subsets"]] == ["v1", "v2"]
    assert ratings["metadata"]["labels"] == {"team": "ratings"}
    assert kube.get("serviceentries", "httpbin-ext", "bookinfo") is not None

    writes = kube.write_requests()
    real = [w for w in writes if not w.dry_run]
    for request in real:  # every real write was first sent as a server dry run
        twins = [w for w in writes[:writes.index(request)] if w.dry_run
                 and (w.method, w.path, w.body) == (request.method, request.path, request.body)]
        assert twins, str(request)
        assert request.field_manager == ("istiomigrate" if request.method != "DELETE" else None)
    methods = [w.method for w in real]
    first_delete = methods.index("DELETE")
    assert set(methods[:first_delete]) == {"POST", "PUT"} and set(methods[first_delete:]) == {
        "DELETE"}
    backup = backup_dir / "legacy-backup.yaml"
    assert backup.stat().st_mtime <= real[first_delete].time

    # The backup restores the legacy resources as they were, on a fresh cluster.
    fresh = fake_kube_factory(token=TOKEN, namespaces=("default", "bookinfo", "shop"))
    _create_all(fresh.kubeconfig(tmp_path / "fresh"), backup)
    restored = {(p, o["metadata"]["namespace"], o["metadata"]["name"]): o
                for p in LEGACY_PLURALS for o in fresh.objects(p)}
    assert set(restored) == BOOKINFO_LEGACY
    for key, obj in restored.items():
        assert obj["spec"] == before[key]["spec"]
        assert obj["metadata"].get("labels") == before[key]["metadata"].get("labels")

    assert_rbac_allows(kube.requests)

    again = run(kubeconfig)  # after the migration: nothing left to do
    assert set(plan_actions(again.stdout).values()) <= {"unchanged"}
    assert kube.write_requests() == writes


def assert_rbac_allows(requests: list) -> None:
    """Every request made is allowed by the ClusterRoles that the README documents."""
    text = (ROOT / "README.md").read_text()
    block = next(b.split("```")[0] for b in text.split("```yaml\n") if "kind: ClusterRole" in b)
    rules = [rule for doc in yaml.safe_load_all(block) for rule in doc["rules"]]
    path = re.compile(r"^/apis?/(?:(?P<group>[^/]+)/)?v[^/]+(?:/namespaces/[^/]+)?"
                      r"/(?P<plural>[^/]+)(?P<name>/[^/]+)?$")
    verbs = {"POST": "create", "PUT": "update", "DELETE": "delete"}
    for request in requests:
        match = path.match(request.path)
        assert match, request.path
        group = match["group"] if request.path.startswith("/apis/") else ""
        verb = verbs.get(request.method) or ("get" if match["name"] else "list")
        assert any(group in r["apiGroups"] and match["plural"] in r["resources"]
                   and verb in r["verbs"] for r in rules), str(request)


def _create_all(kubeconfig: Path, backup: Path) -> None:
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api:
        custom = client.CustomObjectsApi(api)
        for doc in yaml.safe_load_all(backup.read_text()):
            group, version = doc["apiVersion"].split("/")
            plural = {"RouteRule": "routerules", "DestinationPolicy": "destinationpolicies",
                      "EgressRule": "egressrules"}[doc["kind"]]
            custom.create_namespaced_custom_object(group, version,
                                                   doc["metadata"]["namespace"], plural, doc)


def test_apply_twice_without_prune_changes_nothing_the_second_time(mesh) -> None:
    kube, kubeconfig = mesh
    assert run(kubeconfig, "--apply").exit_code == 0
    writes = kube.write_requests()
    second = run(kubeconfig, "--apply")
    assert second.exit_code == 0
    assert set(plan_actions(second.stdout).values()) == {"unchanged"}
    assert "already migrated" in second.stdout
    assert kube.write_requests() == writes
    assert legacy_left(kube) >= BOOKINFO_LEGACY


def test_refusal_halfway_stops_and_says_what_was_done(mesh, tmp_path: Path) -> None:
    kube, kubeconfig = mesh
    # Creates: ServiceEntry, then VirtualService details, ...: 5 dry runs, then the real ones.
    kube.fail("POST", r"^/apis/networking.istio.io/", 403, nth=7)
    backup_dir = tmp_path / "backup"
    result = run(kubeconfig, "--apply", "--prune-legacy", "--backup-dir", str(backup_dir))
    assert result.exit_code == 2
    assert "created ServiceEntry bookinfo/httpbin-ext" in result.stdout
    message = result.stderr
    assert "forbidden (403) to create virtualservices.networking.istio.io 'details'" in message
    assert "stopped at: create VirtualService bookinfo/details. Done before it: created " \
           "ServiceEntry bookinfo/httpbin-ext. No legacy resource was deleted." in message
    assert kube.get("serviceentries", "httpbin-ext", "bookinfo") is not None
    assert kube.get("virtualservices", "details", "bookinfo") is None
    assert legacy_left(kube) >= BOOKINFO_LEGACY
    assert not [w for w in kube.write_requests(include_dry_run=False) if w.method == "DELETE"]
    assert not backup_dir.exists()


def test_conflict_on_update_is_clear(mesh) -> None:
    kube, kubeconfig = mesh
    kube.fail("PUT", r"/destinationrules/ratings$", 409, nth=2)  # the real one, not the dry run
    result = run(kubeconfig, "--apply")
    assert result.exit_code == 2
    assert "conflict (409) on update destinationrules.networking.istio.io 'ratings'" \
        in result.stderr
    assert "run again to plan against the current state" in result.stderr


def test_a_foreign_resource_of_the_same_name_is_a_conflict(mesh) -> None:
    kube, kubeconfig = mesh
    kube.add({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
              "metadata": {"name": "details", "namespace": "bookinfo"},
              "spec": {"hosts": ["details.example.com"], "gateways": ["istio-system/ingress"],
                       "http": [{"route": [{"destination": {"host": "details"}}]}]}})
    result = run(kubeconfig, "--apply")
    assert plan_actions(result.stdout)["VirtualService bookinfo/details"] == "conflict"
    assert "not to the mesh" in result.stdout
    assert result.exit_code == 2 and "the plan has conflicts" in result.stderr
    assert kube.write_requests() == []


def test_error_findings_block_apply_unless_allow_lossy(mesh) -> None:
    kube, kubeconfig = mesh
    kube.add({"apiVersion": "config.istio.io/v1alpha2", "kind": "RouteRule",
              "metadata": {"name": "dns-udp", "namespace": "bookinfo"},
              "spec": {"destination": {"name": "dns"}, "precedence": 1,
                       "match": {"udp": {"sourceSubnet": ["10.3.0.0/16"]}},
                       "route": [{"labels": {"version": "v1"}}]}})
    blocked = run(kubeconfig, "--apply", "--prune-legacy")
    assert blocked.exit_code == 1 and "IM301" in blocked.stderr
    assert "nothing applied (--allow-lossy applies anyway)" in blocked.stderr
    assert kube.write_requests() == []
    lossy = run(kubeconfig, "--apply", "--allow-lossy")
    assert lossy.exit_code == 1  # applied, and still says the result is not exact
    assert kube.get("virtualservices", "reviews", "bookinfo") is not None
    assert legacy_left(kube) >= BOOKINFO_LEGACY


# ---------------------------------------------------------------------------------------------
# Kubernetes Ingresses of class istio

# What `-A` plans for fixtures/cluster/ingress.yaml (see its header comment).
INGRESS_PLAN = {
    "Gateway istio-system/k8s-ingress": "create",
    "VirtualService shop/store-example-com-ingress": "create",
    "VirtualService web/www-example-com-ingress": "create",
}
ISTIO_INGRESSES = {("shop", "store"), ("web", "site")}
OTHER_INGRESSES = {("web", "blog"), ("web", "docs")}  # class nginx, and no class
# Served by Kubernetes 1.14 to 1.21 beside extensions/v1beta1, which 1.22 removed with it.
NETWORKING_INGRESS = ResourceType("networking.k8s.io", "v1beta1", "ingresses", "Ingress",
                                  "ingress", short_names=("ing",), builtin=True)


def ingress_cluster(factory: Any, kubeconfig: Path, api: str = "extensions/v1beta1",
                    **options: Any) -> tuple[FakeKube, Path]:
    """fixtures/cluster/ingress.yaml in a fake cluster, its Ingresses under ``api``."""
    kube = factory(token=TOKEN, **options)
    for doc in yaml.safe_load_all(INGRESS.read_text()):
        kube.add({**doc, "apiVersion": api} if doc["kind"] == "Ingress" else doc)
    return kube, kube.kubeconfig(kubeconfig, namespace="shop")


def ingresses_left(kube: FakeKube, resource: str = "ingresses") -> set[tuple[str, str]]:
    return {(o["metadata"]["namespace"], o["metadata"]["name"])
            for o in kube.objects(resource)}


def test_ingresses_dry_run_plans_gateway_and_virtual_services(fake_kube_factory: Any,
                                                               tmp_path: Path) -> None:
    kube, kubeconfig = ingress_cluster(fake_kube_factory, tmp_path / "kc")
    every = run_10(kubeconfig, "-A", "--report-format", "json")
    assert every.exit_code == 0, every.stderr
    assert plan_actions(every.stdout) == INGRESS_PLAN
    assert re.search(r"^  Ingress shop/store +->  replaced by Gateway istio-system/k8s-ingress, "
                     r"VirtualService shop/store-example-com-ingress$", every.stdout, re.M)
    assert "web/blog" not in every.stdout and "web/docs" not in every.stdout
    assert "2 legacy resources replaced" in every.stdout
    findings = report_json(every.stderr)["findings"]
    assert [(f["code"], f["source"]["name"]) for f in findings] == [("IM108", "docs")]
    assert kube.write_requests() == []
    lists = [r for r in kube.requests if r.path.endswith("/ingresses")]
    assert [r.path for r in lists] == ["/apis/extensions/v1beta1/ingresses"]
    assert lists[0].query.get("limit") == "500"

    # -n: the Ingresses of that namespace; the Gateway in the ingress gateway's namespace.
    shop = run_10(kubeconfig, "-n", "shop")
    assert plan_actions(shop.stdout) == {
        "Gateway istio-system/k8s-ingress": "create",
        "VirtualService shop/store-example-com-ingress": "create"}
    assert "web/site" not in shop.stdout and "IM108" not in shop.stderr
    # An Ingress of another namespace for the same host: named in a note, not converted.
    kube.add({"apiVersion": "extensions/v1beta1", "kind": "Ingress",
              "metadata": {"name": "store-admin", "namespace": "web",
                           "annotations": {"kubernetes.io/ingress.class": "istio"}},
              "spec": {"rules": [{"host": "store.example.com", "http": {"paths": [
                  {"path": "/admin", "backend": {"serviceName": "site",
                                                 "servicePort": 80}}]}}]}})
    shared = run_10(kubeconfig, "-n", "shop")
    assert plan_actions(shared.stdout) == plan_actions(shop.stdout)
    assert "note: Ingress web/store-admin (namespace not selected) also routes host " \
           "store.example.com" in shared.stderr and "-A" in shared.stderr
    # A VirtualService of that name for other hosts is not ours: a conflict, never replaced.
    kube.add({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
              "metadata": {"name": "store-example-com-ingress", "namespace": "shop"},
              "spec": {"hosts": ["shop.example.com"], "gateways": ["k8s-ingress"],
                       "http": [{"route": [{"destination": {"host": "store"}}]}]}})
    foreign = run_10(kubeconfig, "-n", "shop")
    assert plan_actions(foreign.stdout)["VirtualService shop/store-example-com-ingress"] \
        == "conflict"
    assert "already exists for shop.example.com, not for store.example.com on gateways " \
           "k8s-ingress.istio-system.svc.cluster.local (bound to gateways k8s-ingress)" \
           in foreign.stdout
    assert kube.write_requests() == []


def test_ingresses_read_from_a_cluster_convert_as_from_files(fake_kube_factory: Any,
                                                             tmp_path: Path) -> None:
    _, kubeconfig = ingress_cluster(fake_kube_factory, tmp_path / "kc")
    cluster = run_10(kubeconfig, "-A", "-o", "yaml", "--report-format", "json")
    files = CliRunner().invoke(app, ["convert", str(INGRESS), "--report-format", "json"])
    assert cluster.exit_code == files.exit_code == 0, (cluster.stderr, files.stderr)
    docs = list(yaml.safe_load_all(cluster.stdout))
    assert docs == list(yaml.safe_load_all(files.stdout))
    assert [d["kind"] for d in docs] == ["Gateway", "VirtualService", "VirtualService"]
    # servicePort http-web resolved through the Service read from the cluster
    store = docs[1]["spec"]["http"]
    assert [r["route"][0]["destination"]["port"]["number"] for r in store] == [8000, 9000, 8000]

    def codes(result: Any) -> list[tuple[str, str]]:
        return [(f["code"], f["message"]) for f in report_json(result.stderr)["findings"]]

    assert codes(cluster) == codes(files)


def test_ingresses_apply_prune_and_run_again(fake_kube_factory: Any, tmp_path: Path) -> None:
    kube, kubeconfig = ingress_cluster(fake_kube_factory, tmp_path / "kc")
    before = {(o["metadata"]["namespace"], o["metadata"]["name"]): o
              for o in kube.objects("ingresses")}
    applied = run_10(kubeconfig, "-A", "--apply")
    assert applied.exit_code == 0, applied.stderr
    assert "applied: 3 resources written." in applied.stdout
    assert kube.get("gateways", "k8s-ingress", "istio-system")["spec"]["servers"][0][
        "hosts"] == ["store.example.com", "www.example.com"]
    writes = kube.write_requests()

    # Run again: our gateway-bound VirtualServices are recognised, not conflicts.
    again = run_10(kubeconfig, "-A")
    assert plan_actions(again.stdout) == dict.fromkeys(INGRESS_PLAN, "unchanged")
    assert kube.write_requests() == writes

    backup_dir = tmp_path / "backup"
    pruned = run_10(kubeconfig, "-A", "--apply", "--prune-legacy", "--backup-dir", str(backup_dir))
    assert pruned.exit_code == 0, pruned.stderr
    assert plan_actions(pruned.stdout) == dict.fromkeys(INGRESS_PLAN, "unchanged")
    assert "applied: 0 resources written, 2 legacy resources deleted." in pruned.stdout
    assert ingresses_left(kube) == OTHER_INGRESSES  # nginx and class-less ones untouched
    deletes = [w for w in kube.write_requests()[len(writes):] if not w.dry_run]
    assert sorted(w.path for w in deletes) == [
        "/apis/extensions/v1beta1/namespaces/shop/ingresses/store",
        "/apis/extensions/v1beta1/namespaces/web/ingresses/site"]
    assert {w.method for w in deletes} == {"DELETE"}
    backup = backup_dir / "legacy-backup.yaml"
    assert backup.stat().st_mtime <= deletes[0].time
    assert_rbac_allows(kube.requests)

    after = run_10(kubeconfig, "-A")  # nothing left to convert; what was written stays
    assert plan_actions(after.stdout) == {} and "none found" in after.stdout
    assert kube.get("virtualservices", "www-example-com-ingress", "web") is not None

    # kubectl apply -f restores the Ingresses as they were.
    fresh = fake_kube_factory(token=TOKEN, namespaces=("default", "shop", "web"))
    run_kubectl(fresh.kubeconfig(tmp_path / "fresh"), "apply", "-f", str(backup),
                home=tmp_path)
    restored = {(o["metadata"]["namespace"], o["metadata"]["name"]): o
                for o in fresh.objects("ingresses")}
    assert set(restored) == ISTIO_INGRESSES
    for key, obj in restored.items():
        assert obj["spec"] == before[key]["spec"]
        assert obj["metadata"]["annotations"]["kubernetes.io/ingress.class"] == "istio"


def test_ingresses_of_networking_k8s_io_when_extensions_is_not_served(
        fake_kube_factory: Any, tmp_path: Path) -> None:
    kube, kubeconfig = ingress_cluster(
        fake_kube_factory, tmp_path / "kc", api="networking.k8s.io/v1beta1",
        installed=[*DEFAULT_RESOURCES, NETWORKING_INGRESS], missing=("ingresses.extensions",))
    backup_dir = tmp_path / "backup"
    result = run_10(kubeconfig, "-A", "--apply", "--prune-legacy", "--backup-dir", str(backup_dir))
    assert result.exit_code == 0, result.stderr
    assert plan_actions(result.stdout) == INGRESS_PLAN
    assert "IM106" not in result.stderr
    assert ingresses_left(kube, "ingresses.networking.k8s.io") == OTHER_INGRESSES
    deletes = [w.path for w in kube.write_requests(include_dry_run=False)
               if w.method == "DELETE"]
    assert sorted(deletes) == [
        "/apis/networking.k8s.io/v1beta1/namespaces/shop/ingresses/store",
        "/apis/networking.k8s.io/v1beta1/namespaces/web/ingresses/site"]
    backup = list(yaml.safe_load_all((backup_dir / "legacy-backup.yaml").read_text()))
    assert {d["apiVersion"] for d in backup} == {"networking.k8s.io/v1beta1"}
    assert_rbac_allows(kube.requests)

    # Neither served (Kubernetes 1.22 and later): IM106, and the rest still converts.
    none = fake_kube_factory(token=TOKEN, missing=("ingresses",))
    none.load_yaml(MESH)
    report = run(none.kubeconfig(tmp_path / "none", namespace="bookinfo"),
                 "--report-format", "json")
    assert report.exit_code == 0, report.stderr
    (im106,) = [f for f in report_json(report.stderr)["findings"] if f["code"] == "IM106"]
    assert im106["severity"] == "info"
    assert "extensions/v1beta1" in im106["message"] and \
        "networking.k8s.io/v1beta1" in im106["message"]
    assert plan_actions(report.stdout) == BOOKINFO_PLAN


def test_cluster_mode_targets_what_the_cluster_runs(mesh) -> None:
    """v1alpha1 still served: Pilot 0.8 or older reads the output, so 0.8 is the default."""
    _, kubeconfig = mesh
    default = run(kubeconfig, "-n", "bookinfo", "-o", "yaml")
    assert default.stdout == run(kubeconfig, "-n", "bookinfo", "-o", "yaml", "--target",
                                 "0.8").stdout
    plan = run(kubeconfig, "-n", "bookinfo")
    header = plan.stdout.splitlines()[:2]
    assert header[1].startswith("target: Istio 0.8 (default with --from-cluster"), header
    assert "istiomigrate: warning" not in plan.stderr
    given = run(kubeconfig, "-n", "bookinfo", "--target", "1.0")
    assert given.stdout.splitlines()[1] == "target: Istio 1.0 (--target)"
    assert "istiomigrate: warning: --target 1.0 with --from-cluster: a cluster serving " \
           "v1alpha1 routing runs Pilot 0.8 or older" in given.stderr
    same = run(kubeconfig, "-n", "bookinfo", "--target", "0.8")
    assert same.stdout.splitlines()[1] == "target: Istio 0.8 (--target)"
    assert "istiomigrate: warning" not in same.stderr


def test_file_mode_keeps_the_1_0_default(tmp_path: Path) -> None:
    source = tmp_path / "in.yaml"
    source.write_text("apiVersion: config.istio.io/v1alpha2\nkind: DestinationPolicy\n"
                      "metadata: {name: r, namespace: default}\n"
                      "spec:\n  destination: {name: r}\n  circuitBreaker:\n"
                      "    simpleCb: {httpConsecutiveErrors: 3, sleepWindow: 1s,\n"
                      "               httpDetectionInterval: 1s}\n")
    result = CliRunner().invoke(app, ["convert", str(source)])
    assert result.exit_code == 0, result.stderr
    assert "consecutiveErrors: 3" in result.stdout and "http:" not in result.stdout

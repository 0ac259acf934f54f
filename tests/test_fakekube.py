"""Tests of the fake Kubernetes API server itself, through clients we did not write.

Every check goes through the official ``kubernetes`` Python client or through ``kubectl``: the
point is that the server answers the way those clients expect a kube-apiserver to answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client, config, dynamic, watch
from kubernetes.client.exceptions import ApiException

from tests.fakekube import ISTIO_LEGACY_RESOURCES, FakeKube
from tests.fakekube.fixture import run_kubectl

ISTIO_NET = ("networking.istio.io", "v1alpha3")
ISTIO_CFG = ("config.istio.io", "v1alpha2")


def _api_client(kubeconfig: Path, **settings: Any) -> client.ApiClient:
    """An ApiClient configured from a kubeconfig, without touching the global default config.

    ``settings`` are set on the Configuration before the ApiClient (and its connection pool,
    which reads e.g. ``retries``) is made.
    """
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    for name, value in settings.items():
        setattr(cfg, name, value)
    return client.ApiClient(cfg)


@pytest.fixture
def api(fake_kubeconfig: Path) -> Iterator[client.ApiClient]:
    api_client = _api_client(fake_kubeconfig)
    try:
        yield api_client
    finally:
        api_client.close()


def _vs(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"hosts": [name], **spec},
    }


def _route_rule(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "config.istio.io/v1alpha2",
        "kind": "RouteRule",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"destination": {"name": "reviews"}, "precedence": 1},
    }


def _service(name: str, namespace: str = "default", port: int = 9080) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {"ports": [{"name": "http", "port": port}], "selector": {"app": name}},
    }


def _status(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


# ------------------------------------------------------------------------------------------
# discovery


def test_discovery_is_usable_by_the_dynamic_client(
    fake_kube: FakeKube, api: client.ApiClient, tmp_path: Path
) -> None:
    fake_kube.add(_route_rule("r1"))
    dyn = dynamic.DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))

    routerules = dyn.resources.get(api_version="config.istio.io/v1alpha2", kind="RouteRule")
    assert routerules.name == "routerules"
    assert routerules.namespaced is True
    assert [i.metadata.name for i in routerules.get(namespace="default").items] == ["r1"]

    services = dyn.resources.get(api_version="v1", kind="Service")
    namespaces = dyn.resources.get(api_version="v1", kind="Namespace")
    assert services.namespaced and not namespaces.namespaced
    for kind in ("VirtualService", "DestinationRule", "ServiceEntry", "Gateway"):
        assert dyn.resources.get(api_version="networking.istio.io/v1alpha3", kind=kind)
    assert dyn.resources.get(api_version="extensions/v1beta1", kind="Ingress").name == "ingresses"

    assert client.VersionApi(api).get_code().git_version.startswith("v1.32")
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"config.istio.io", "networking.istio.io", "extensions"} <= groups
    core = client.CoreV1Api(api).get_api_resources()
    by_name = {r.name: r for r in core.resources}
    assert by_name["services"].kind == "Service" and by_name["services"].namespaced
    assert by_name["namespaces"].singular_name == "namespace"
    assert "list" in by_name["services"].verbs


def test_missing_crd_is_absent_from_discovery_and_lists_404(
    fake_kube_factory: Any, tmp_path: Path
) -> None:
    kube = fake_kube_factory(missing=ISTIO_LEGACY_RESOURCES)
    with _api_client(kube.kubeconfig(tmp_path / "kc")) as api:
        groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
        assert "config.istio.io" not in groups
        assert "networking.istio.io" in groups
        custom = client.CustomObjectsApi(api)
        with pytest.raises(ApiException) as info:
            custom.list_cluster_custom_object(*ISTIO_CFG, "routerules")
        assert info.value.status == 404
        status = _status(info.value)
        assert status["kind"] == "Status" and status["reason"] == "NotFound"
        assert status["message"] == "the server could not find the requested resource"
        with pytest.raises(ApiException) as info:
            custom.list_namespaced_custom_object(*ISTIO_CFG, "default", "destinationpolicies")
        assert info.value.status == 404
        # The v1alpha3 types are still served.
        assert custom.list_cluster_custom_object(*ISTIO_NET, "virtualservices")["items"] == []


# ------------------------------------------------------------------------------------------
# lists and pagination


def test_pagination_returns_every_item_once_in_order(
    fake_kube: FakeKube, api: client.ApiClient
) -> None:
    names = [("default", f"vs-{i}") for i in range(5)] + [("bookinfo", f"vs-{i}") for i in range(3)]
    for namespace, name in names:
        fake_kube.add(_vs(name, namespace))
    custom = client.CustomObjectsApi(api)

    seen: list[tuple[str, str]] = []
    token: str | None = None
    pages = 0
    for _ in range(20):  # bounded: a broken continue token must not loop forever
        kwargs = {"limit": 3, "_continue": token} if token else {"limit": 3}
        page = custom.list_cluster_custom_object(*ISTIO_NET, "virtualservices", **kwargs)
        pages += 1
        assert page["kind"] == "VirtualServiceList"
        assert page["apiVersion"] == "networking.istio.io/v1alpha3"
        seen += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in page["items"]]
        token = page["metadata"].get("continue")
        if pages == 1:
            assert page["metadata"]["remainingItemCount"] == len(names) - 3
        if not token:
            assert "remainingItemCount" not in page["metadata"]
            break
    assert pages == 3
    assert seen == sorted(names)

    lists = [r for r in fake_kube.requests if r.path.endswith("/virtualservices")]
    assert [r.query.get("limit") for r in lists] == ["3", "3", "3"]
    assert "continue" not in lists[0].query
    assert all(r.query.get("continue") for r in lists[1:])


def test_namespaced_lists_and_services(fake_kube: FakeKube, api: client.ApiClient) -> None:
    for name in ("b", "a", "c"):
        fake_kube.add(_route_rule(name, "bookinfo"))
    fake_kube.add(_route_rule("z", "default"))
    for name in ("reviews", "ratings"):
        fake_kube.add(_service(name, "bookinfo"))
    fake_kube.add(_service("kubernetes", "default", port=443))

    custom = client.CustomObjectsApi(api)
    rules = custom.list_namespaced_custom_object(*ISTIO_CFG, "bookinfo", "routerules")
    assert [i["metadata"]["name"] for i in rules["items"]] == ["a", "b", "c"]
    assert rules["kind"] == "RouteRuleList"

    core = client.CoreV1Api(api)
    everywhere = core.list_service_for_all_namespaces()
    assert [(s.metadata.namespace, s.metadata.name) for s in everywhere.items] == [
        ("bookinfo", "ratings"),
        ("bookinfo", "reviews"),
        ("default", "kubernetes"),
    ]
    first = core.list_namespaced_service("bookinfo", limit=1)
    assert [s.metadata.name for s in first.items] == ["ratings"]
    rest = core.list_namespaced_service("bookinfo", limit=1, _continue=first.metadata._continue)
    assert [s.metadata.name for s in rest.items] == ["reviews"]
    assert rest.metadata._continue is None
    svc = rest.items[0]
    assert svc.spec.cluster_ip.startswith("10.96.")
    assert svc.spec.ports[0].protocol == "TCP" and svc.spec.ports[0].target_port == 9080

    selected = core.list_namespaced_service("bookinfo", label_selector="app=reviews")
    assert [s.metadata.name for s in selected.items] == ["reviews"]
    not_selected = core.list_namespaced_service("bookinfo", label_selector="app notin (reviews)")
    assert [s.metadata.name for s in not_selected.items] == ["ratings"]
    by_name = custom.list_cluster_custom_object(
        *ISTIO_CFG, "routerules", field_selector="metadata.name=z"
    )
    assert [i["metadata"]["namespace"] for i in by_name["items"]] == ["default"]


# ------------------------------------------------------------------------------------------
# writes


def test_dry_run_create_stores_nothing(fake_kube: FakeKube, api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    rv_before = fake_kube.resource_version

    result = custom.create_namespaced_custom_object(
        *ISTIO_NET, "default", "virtualservices", _vs("reviews"), dry_run="All"
    )
    assert result["metadata"]["name"] == "reviews"
    assert result["metadata"]["uid"]  # the would-be object is complete ...
    assert "resourceVersion" not in result["metadata"]  # ... but never reached storage
    assert fake_kube.objects("virtualservices") == []
    assert fake_kube.resource_version == rv_before
    with pytest.raises(ApiException) as info:
        custom.get_namespaced_custom_object(*ISTIO_NET, "default", "virtualservices", "reviews")
    assert info.value.status == 404

    (post,) = fake_kube.write_requests()
    assert post.method == "POST" and post.query["dryRun"] == "All" and post.dry_run
    assert fake_kube.write_requests(include_dry_run=False) == []

    # An unknown dryRun value is rejected. kube-apiserver answers 422 Invalid here (it
    # validates CreateOptions with errors.NewInvalid), not 400, and so does the fake.
    with pytest.raises(ApiException) as info:
        custom.create_namespaced_custom_object(
            *ISTIO_NET, "default", "virtualservices", _vs("reviews"), dry_run="Everything"
        )
    assert info.value.status == 422
    assert "dryRun: Unsupported value" in _status(info.value)["message"]
    assert fake_kube.objects("virtualservices") == []


def test_create_replace_patch_delete(fake_kube: FakeKube, api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    args = (*ISTIO_NET, "default", "virtualservices")

    created = custom.create_namespaced_custom_object(*args, _vs("reviews"), field_manager="t")
    meta = created["metadata"]
    assert meta["generation"] == 1 and meta["uid"] and meta["creationTimestamp"]
    rv1 = meta["resourceVersion"]
    assert fake_kube.requests[-1].field_manager == "t"

    with pytest.raises(ApiException) as info:
        custom.create_namespaced_custom_object(*args, _vs("reviews"))
    assert info.value.status == 409
    status = _status(info.value)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'virtualservices.networking.istio.io "reviews" already exists'
    assert status["details"] == {
        "name": "reviews",
        "group": "networking.istio.io",
        "kind": "virtualservices",
    }

    updated = dict(created, spec={"hosts": ["reviews", "reviews.bookinfo"]})
    replaced = custom.replace_namespaced_custom_object(*args, "reviews", updated)
    assert int(replaced["metadata"]["resourceVersion"]) > int(rv1)
    assert replaced["metadata"]["generation"] == 2
    assert replaced["metadata"]["uid"] == meta["uid"]

    # The body still carries rv1, which is now stale.
    with pytest.raises(ApiException) as info:
        custom.replace_namespaced_custom_object(*args, "reviews", updated)
    assert info.value.status == 409
    assert _status(info.value)["reason"] == "Conflict"
    assert "the object has been modified" in _status(info.value)["message"]

    # Custom resources refuse unconditional updates, as the CRD strategy does.
    unconditional = _vs("reviews")
    with pytest.raises(ApiException) as info:
        custom.replace_namespaced_custom_object(*args, "reviews", unconditional)
    assert info.value.status == 422

    with pytest.raises(ApiException) as info:
        custom.replace_namespaced_custom_object(*args, "absent", _vs("absent"))
    assert info.value.status == 404

    patched = custom.patch_namespaced_custom_object(
        *args, "reviews", {"metadata": {"labels": {"migrated": "true"}}, "spec": {"gateways": None}}
    )
    assert patched["metadata"]["labels"] == {"migrated": "true"}
    assert patched["spec"]["hosts"] == ["reviews", "reviews.bookinfo"]
    patch_request = fake_kube.requests[-1]
    assert patch_request.headers["Content-Type"] == "application/merge-patch+json"
    stored = fake_kube.get("virtualservices", "reviews")
    assert stored is not None and stored["metadata"]["labels"] == {"migrated": "true"}

    # A list body is a JSON patch only with the right content type (the client's default for
    # custom objects is a merge patch, which a list cannot be).
    json_patched = custom.patch_namespaced_custom_object(
        *args,
        "reviews",
        [{"op": "add", "path": "/spec/hosts/-", "value": "extra"}],
        _content_type="application/json-patch+json",
    )
    assert json_patched["spec"]["hosts"][-1] == "extra"

    deleted = custom.delete_namespaced_custom_object(*args, "reviews")
    assert deleted["status"] == "Success" and deleted["details"]["name"] == "reviews"
    assert fake_kube.get("virtualservices", "reviews") is None
    with pytest.raises(ApiException) as info:
        custom.delete_namespaced_custom_object(*args, "reviews")
    assert info.value.status == 404
    assert _status(info.value)["message"] == (
        'virtualservices.networking.istio.io "reviews" not found'
    )

    methods = [r.method for r in fake_kube.write_requests()]
    assert methods == [
        "POST",
        "POST",
        "PUT",
        "PUT",
        "PUT",
        "PUT",
        "PATCH",
        "PATCH",
        "DELETE",
        "DELETE",
    ]


def test_create_into_missing_namespace_is_404(fake_kube: FakeKube, api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as info:
        custom.create_namespaced_custom_object(*ISTIO_NET, "nowhere", "virtualservices", _vs("x"))
    assert info.value.status == 404
    assert _status(info.value)["message"] == 'namespaces "nowhere" not found'


def test_finalizers_hold_deletion(fake_kube: FakeKube, api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    args = (*ISTIO_NET, "default", "virtualservices")
    body = _vs("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    custom.create_namespaced_custom_object(*args, body)
    pending = custom.delete_namespaced_custom_object(*args, "held")
    assert pending["metadata"]["deletionTimestamp"]
    assert fake_kube.get("virtualservices", "held") is not None
    custom.patch_namespaced_custom_object(*args, "held", {"metadata": {"finalizers": None}})
    assert fake_kube.get("virtualservices", "held") is None


# ------------------------------------------------------------------------------------------
# auth and injected faults


def test_wrong_token_is_401(fake_kube: FakeKube, tmp_path: Path) -> None:
    kubeconfig = fake_kube.kubeconfig(tmp_path / "kc", token="not-the-token")
    with _api_client(kubeconfig) as api, pytest.raises(ApiException) as info:
        client.CustomObjectsApi(api).list_cluster_custom_object(*ISTIO_NET, "virtualservices")
    assert info.value.status == 401
    assert _status(info.value)["reason"] == "Unauthorized"
    assert fake_kube.requests[-1].headers["Authorization"] == "Bearer <redacted>"


def test_forbidden_on_demand(fake_kube: FakeKube, api: client.ApiClient) -> None:
    fake_kube.user = "system:serviceaccount:x:y"
    fault = fake_kube.fail("GET", r"/routerules$", 403, times=1)
    custom = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as info:
        custom.list_namespaced_custom_object(*ISTIO_CFG, "default", "routerules")
    assert info.value.status == 403
    status = _status(info.value)
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        'routerules.config.istio.io is forbidden: User "system:serviceaccount:x:y" cannot list '
        'resource "routerules" in API group "config.istio.io" in the namespace "default"'
    )
    assert status["details"] == {"group": "config.istio.io", "kind": "routerules"}
    # times=1: the next request goes through.
    assert custom.list_namespaced_custom_object(*ISTIO_CFG, "default", "routerules")["items"] == []
    assert (fault.matched, fault.fired) == (2, 1)

    fake_kube.fail("GET", r"/services$", 403)
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(api).list_service_for_all_namespaces()
    assert _status(info.value)["message"].endswith('in API group "" at the cluster scope')


def test_conflict_and_server_error_on_demand(fake_kube: FakeKube, api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    args = (*ISTIO_NET, "default", "virtualservices")
    fake_kube.fail("POST", r"/virtualservices$", 409, nth=2)
    custom.create_namespaced_custom_object(*args, _vs("one"))
    with pytest.raises(ApiException) as info:
        custom.create_namespaced_custom_object(*args, _vs("two"))
    assert info.value.status == 409 and _status(info.value)["reason"] == "AlreadyExists"
    custom.create_namespaced_custom_object(*args, _vs("three"))  # only the 2nd one fails
    assert [o["metadata"]["name"] for o in fake_kube.objects("virtualservices")] == [
        "one",
        "three",
    ]

    fake_kube.fail("PUT", r"/virtualservices/one$", 409, message="custom conflict")
    current = custom.get_namespaced_custom_object(*args, "one")
    with pytest.raises(ApiException) as info:
        custom.replace_namespaced_custom_object(*args, "one", current)
    assert _status(info.value)["reason"] == "Conflict"
    assert _status(info.value)["message"] == "custom conflict"

    fake_kube.fail("*", r"/destinationrules", 500)
    with pytest.raises(ApiException) as info:
        custom.list_cluster_custom_object(*ISTIO_NET, "destinationrules")
    assert info.value.status == 500 and _status(info.value)["reason"] == "InternalError"


def test_delay_beyond_request_timeout_times_out(fake_kube: FakeKube, fake_kubeconfig: Path) -> None:
    fake_kube.delay("GET", r"/gateways$", 5)
    # retries=False surfaces the first timeout; by default urllib3 retries a GET 3 times.
    with _api_client(fake_kubeconfig, retries=False) as api:
        custom = client.CustomObjectsApi(api)
        started = time.monotonic()
        with pytest.raises(urllib3.exceptions.ReadTimeoutError):
            custom.list_cluster_custom_object(*ISTIO_NET, "gateways", _request_timeout=0.3)
        assert time.monotonic() - started < 3
        # Other requests are not delayed.
        assert custom.list_cluster_custom_object(*ISTIO_NET, "serviceentries", _request_timeout=5)
    assert [r.path.rsplit("/", 1)[-1] for r in fake_kube.requests] == ["gateways", "serviceentries"]

    # With the client's default retries the timeout comes back wrapped, after 4 attempts.
    fake_kube.clear_requests()
    with (
        _api_client(fake_kubeconfig) as api,
        pytest.raises(urllib3.exceptions.MaxRetryError) as info,
    ):
        client.CustomObjectsApi(api).list_cluster_custom_object(
            *ISTIO_NET, "gateways", _request_timeout=0.2
        )
    assert isinstance(info.value.reason, urllib3.exceptions.ReadTimeoutError)
    assert len(fake_kube.requests) == 4


def test_request_log_records_what_was_sent(fake_kube: FakeKube, api: client.ApiClient) -> None:
    client.CoreV1Api(api).create_namespaced_service(
        "default", _service("reviews"), field_manager="istiomigrate", dry_run="All"
    )
    request = fake_kube.requests[-1]
    assert request.method == "POST"
    assert request.path == "/api/v1/namespaces/default/services"
    assert request.query == {"dryRun": "All", "fieldManager": "istiomigrate"}
    assert request.body["metadata"]["name"] == "reviews"
    assert request.headers["Accept"].startswith("application/json")
    # This client sends no Content-Type on create; kube-apiserver then assumes JSON, as here.
    assert request.headers.get("Content-Type", "application/json") == "application/json"
    assert request.status == 201
    assert fake_kube.objects("services") == []


def test_watch_streams_events(fake_kube: FakeKube, api: client.ApiClient) -> None:
    fake_kube.add(_vs("first"))
    custom = client.CustomObjectsApi(api)

    def create_later() -> None:
        time.sleep(0.2)
        fake_kube.add(_vs("second"))

    writer = threading.Thread(target=create_later, daemon=True)
    writer.start()
    w = watch.Watch()
    events = []
    for event in w.stream(
        custom.list_namespaced_custom_object,
        *ISTIO_NET,
        "default",
        "virtualservices",
        timeout_seconds=3,
    ):
        events.append((event["type"], event["object"]["metadata"]["name"]))
        if len(events) == 2:
            w.stop()
    writer.join(timeout=5)
    assert events == [("ADDED", "first"), ("ADDED", "second")]


# ------------------------------------------------------------------------------------------
# kubectl


def test_kubectl_get_routerules_and_services(
    fake_kube: FakeKube, fake_kubeconfig: Path, tmp_path: Path
) -> None:
    stored = fake_kube.load_yaml(
        """
apiVersion: config.istio.io/v1alpha2
kind: RouteRule
metadata: {name: r1, namespace: bookinfo}
spec: {destination: {name: reviews}, precedence: 1}
---
apiVersion: config.istio.io/v1alpha2
kind: RouteRule
metadata: {name: r0}
spec: {destination: {name: reviews}, precedence: 1}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {ports: [{name: http, port: 9080}]}
"""
    )
    assert [o["kind"] for o in stored] == ["RouteRule", "RouteRule", "Service"]

    out = run_kubectl(
        fake_kubeconfig, "get", "routerules.config.istio.io", "-A", "-o", "json", home=tmp_path
    )
    items = json.loads(out.stdout)["items"]
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items] == [
        ("bookinfo", "r1"),
        ("default", "r0"),
    ]
    assert items[0]["spec"] == {"destination": {"name": "reviews"}, "precedence": 1}

    out = run_kubectl(
        fake_kubeconfig, "get", "services", "-n", "bookinfo", "-o", "json", home=tmp_path
    )
    (svc,) = json.loads(out.stdout)["items"]
    assert svc["kind"] == "Service" and svc["metadata"]["name"] == "reviews"

    # Human-readable output goes through the Table protocol.
    table = run_kubectl(fake_kubeconfig, "get", "routerules", "-A", home=tmp_path)
    assert table.stdout.split()[:3] == ["NAMESPACE", "NAME", "AGE"]
    assert "bookinfo" in table.stdout and "r1" in table.stdout

    discovery = [r for r in fake_kube.requests if r.path in ("/api", "/apis")]
    assert discovery and "as=APIGroupDiscoveryList" in discovery[0].headers["Accept"]


def test_kubectl_paginates_with_chunk_size(
    fake_kube: FakeKube, fake_kubeconfig: Path, tmp_path: Path
) -> None:
    names = [f"vs-{i}" for i in range(5)]
    for name in names:
        fake_kube.add(_vs(name, "bookinfo"))
    out = run_kubectl(
        fake_kubeconfig,
        "get",
        "virtualservices.networking.istio.io",
        "-A",
        "--chunk-size=2",
        "-o",
        "json",
        home=tmp_path,
    )
    assert [i["metadata"]["name"] for i in json.loads(out.stdout)["items"]] == names
    lists = [r for r in fake_kube.requests if r.path.endswith("/virtualservices")]
    assert len(lists) == 3
    assert all(r.query.get("limit") == "2" for r in lists)
    assert "continue" not in lists[0].query
    assert all(r.query.get("continue") for r in lists[1:])


def test_kubectl_server_dry_run_and_delete(
    fake_kube: FakeKube, fake_kubeconfig: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "vs.yaml"
    manifest.write_text(
        "apiVersion: networking.istio.io/v1alpha3\n"
        "kind: VirtualService\n"
        "metadata:\n  name: reviews\n  namespace: default\n"
        "spec:\n  hosts: [reviews]\n"
    )
    out = run_kubectl(
        fake_kubeconfig, "apply", "--dry-run=server", "-f", str(manifest), home=tmp_path
    )
    assert "created (server dry run)" in out.stdout
    assert fake_kube.objects("virtualservices") == []
    writes = fake_kube.write_requests()
    assert [w.method for w in writes] == ["POST"]
    assert writes[0].query["dryRun"] == "All"
    assert writes[0].field_manager == "kubectl-client-side-apply"
    assert fake_kube.write_requests(include_dry_run=False) == []

    run_kubectl(fake_kubeconfig, "apply", "-f", str(manifest), home=tmp_path)
    stored = fake_kube.get("virtualservices", "reviews")
    assert stored is not None and stored["spec"] == {"hosts": ["reviews"]}

    out = run_kubectl(
        fake_kubeconfig, "delete", "virtualservices.networking.istio.io", "reviews", home=tmp_path
    )
    assert 'virtualservice.networking.istio.io "reviews" deleted' in out.stdout
    assert fake_kube.get("virtualservices", "reviews") is None
    assert fake_kube.write_requests()[-1].method == "DELETE"


def test_kubectl_reports_missing_crd(fake_kube_factory: Any, tmp_path: Path) -> None:
    kube = fake_kube_factory(missing=ISTIO_LEGACY_RESOURCES)
    kubeconfig = kube.kubeconfig(tmp_path / "kc")
    out = run_kubectl(
        kubeconfig, "get", "routerules.config.istio.io", "-A", home=tmp_path, check=False
    )
    assert out.returncode != 0
    assert "the server doesn't have a resource type" in out.stderr


def test_kubectl_wait_for_delete_follows_a_watch(
    fake_kube: FakeKube, fake_kubeconfig: Path, tmp_path: Path
) -> None:
    held = _vs("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    fake_kube.add(held)

    def release() -> None:
        # Let go only once kubectl is watching, so that the DELETED event is what it sees.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(r.query.get("watch") == "true" for r in fake_kube.requests):
                break
            time.sleep(0.05)
        fake_kube.remove("virtualservices", "held")

    releaser = threading.Thread(target=release, daemon=True)
    releaser.start()
    out = run_kubectl(
        fake_kubeconfig,
        "wait",
        "--for=delete",
        "virtualservices.networking.istio.io/held",
        "--timeout=10s",
        home=tmp_path,
        timeout=30,
    )
    releaser.join(timeout=5)
    assert "condition met" in out.stdout
    watches = [r for r in fake_kube.requests if r.query.get("watch") == "true"]
    assert watches and watches[0].query["fieldSelector"] == "metadata.name=held"

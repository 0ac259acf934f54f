"""``convert --from-cluster`` against a hostile or broken API server, and hostile kubeconfigs.

Each case runs the CLI against the fake API server (``tests/fakekube``), made to misbehave
the way real servers, proxies and credential plugins do: malformed bodies, bodies trickled
byte by byte, expired continue tokens, exec plugins that hang, servers that echo credentials,
and fields the cluster's CRDs do not know. Every failure must be one ``istiomigrate: error:``
line, exit 2, no traceback, and no credential in any form on any stream.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from istiomigrate.cli import app
from istiomigrate.cluster import client as cluster_client
from tests.fakekube import DEFAULT_RESOURCES, FakeKube
from tests.fakekube.fixture import run_kubectl
from tests.fakekube.server import spec_schema, unknown_fields
from tests.helpers import FIXTURES, ROOT

TOKEN = "t0ken-never-to-be-printed-7f3a"
MESH = FIXTURES / "cluster" / "mesh.yaml"
ROUTERULES = r"^/apis/config.istio.io/v1alpha2/routerules$"


def forms(secret: str) -> list[str]:
    """The spellings in which a server may echo a credential."""
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("="), urllib.parse.quote(secret, safe=""),
            json.dumps(secret)[1:-1]]


def run(kubeconfig: Path, *args: str, secrets: tuple[str, ...] = (TOKEN,)) -> Any:
    """The CLI in process; no secret in any form, and no traceback, on stdout or stderr."""
    result = CliRunner().invoke(app, ["convert", "--from-cluster", "--kubeconfig",
                                      str(kubeconfig), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
        for secret in secrets:
            for form in forms(secret):
                assert form not in stream, (form, stream)
    return result


def one_error(result: Any) -> str:
    """The single error line of a run that failed with exit 2 and printed nothing else."""
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("istiomigrate: error: "), result.stderr
    return lines[0]


@pytest.fixture
def mesh(fake_kube_factory: Any, tmp_path: Path) -> tuple[FakeKube, Path]:
    kube = fake_kube_factory(token=TOKEN)
    kube.load_yaml(MESH)
    return kube, kube.kubeconfig(tmp_path / "kubeconfig", namespace="bookinfo")


def with_user(kubeconfig: Path, user: dict[str, Any]) -> Path:
    """The kubeconfig with its one user's credentials replaced by ``user``."""
    cfg = json.loads(kubeconfig.read_text())
    cfg["users"][0]["user"] = user
    kubeconfig.write_text(json.dumps(cfg))
    return kubeconfig


def python_plugin(code: str) -> dict[str, Any]:
    """A kubeconfig ``exec`` entry running ``code`` with this interpreter."""
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                     "command": sys.executable, "args": ["-c", code],
                     "interactiveMode": "Never"}}


def credential(token: str) -> str:
    return json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1",
                       "kind": "ExecCredential", "status": {"token": token}})


# ---------------------------------------------------------------------------------------------
# 1. malformed answers: one line naming server, resource and namespace; never "nothing found"

MALFORMED = {
    "truncated": (b'{"kind":"RouteRuleList","metadata":{},"items":[{"metadata":{"na',
                  "the body is not JSON (truncated or corrupt"),
    "items-number": (b'{"kind":"RouteRuleList","metadata":{},"items":7}',
                     "items is a JSON number, not an array"),
    "metadata-number": (b'{"kind":"RouteRuleList","metadata":5,"items":[]}',
                        "metadata is a JSON number, not an object"),
    "item-string": (b'{"kind":"RouteRuleList","metadata":{},"items":["reviews"]}',
                    "items[0] is a JSON string, not an object"),
    "item-metadata-number": (b'{"metadata":{},"items":[{"metadata":5,"spec":{}}]}',
                             "items[0] has metadata that is a JSON number, not an object"),
    "item-spec-array": (b'{"metadata":{},"items":[{"metadata":{"name":"a","namespace":"b"},'
                        b'"spec":[]}]}', "items[0] has a spec that is a JSON array"),
    "continue-number": (b'{"metadata":{"continue":3},"items":[]}',
                        "metadata.continue is a JSON number, not a string"),
    "not-utf8": (b'{"metadata":{},"items":[{"metadata":{"name":"\xff\xfe"}}]}',
                 "the body is not UTF-8 text"),
    "empty": (b"", "the body is empty"),
    "no-items": (b'{"kind":"RouteRuleList","apiVersion":"config.istio.io/v1alpha2",'
                 b'"metadata":{}}', "the list has no items field"),
    "array": (b"[]", "the body is a JSON array, not an object"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_list_is_one_clear_error(mesh, case: str) -> None:
    kube, kubeconfig = mesh
    body, problem = MALFORMED[case]
    kube.respond("GET", ROUTERULES, body)
    line = one_error(run(kubeconfig))
    assert line == (f"istiomigrate: error: the API server at {kube.url} sent an invalid answer "
                    "to list routerules.config.istio.io in all namespaces (cluster scope): "
                    + line.split("(cluster scope): ", 1)[1])
    assert problem in line


def test_a_malformed_namespaced_list_names_the_namespace(mesh) -> None:
    kube, kubeconfig = mesh
    kube.fail("GET", ROUTERULES, 403)  # falls back to the namespace, which answers nonsense
    kube.respond("GET", r"/namespaces/bookinfo/routerules$", b'{"items":7,"metadata":{}}')
    result = run(kubeconfig)
    assert 'to list routerules.config.istio.io in namespace "bookinfo": items is a JSON ' \
        "number" in one_error(result).replace("\n", "")


def test_an_empty_write_answer_is_an_error_and_nothing_is_written(mesh) -> None:
    kube, kubeconfig = mesh
    kube.respond("POST", r"/serviceentries$", b"", status=201)
    result = run(kubeconfig, "--apply")
    assert result.exit_code == 2
    assert f"the API server at {kube.url} sent an invalid answer to create " \
        "serviceentries.networking.istio.io 'httpbin-ext' in namespace \"bookinfo\": the body " \
        "is empty [server dry run: nothing was changed]" in result.stderr
    assert kube.write_requests(include_dry_run=False) == []


# ---------------------------------------------------------------------------------------------
# 2. a body trickled slower than the request timeout


def test_a_trickled_body_is_bounded_by_the_request_timeout(mesh) -> None:
    kube, kubeconfig = mesh
    kube.trickle("GET", r"/destinationrules$", interval=0.5)  # every read succeeds
    started = time.monotonic()
    line = one_error(run(kubeconfig, "--request-timeout", "2"))
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 6, elapsed  # the body would take minutes
    assert line == (f"istiomigrate: error: no complete answer from the API server at {kube.url} "
                    "within 2s (--request-timeout) to list destinationrules.networking.istio.io "
                    "in all namespaces (cluster scope): the response was still arriving")


def test_a_trickled_body_within_the_timeout_is_read(mesh) -> None:
    kube, kubeconfig = mesh
    kube.trickle("GET", r"/gateways$", interval=0.001)
    assert run(kubeconfig, "--request-timeout", "20").exit_code == 0


# ---------------------------------------------------------------------------------------------
# 3. 410 Gone on a continue token: one restart, complete and without duplicates


def bulk(kube: FakeKube, count: int = 1200) -> None:
    for i in range(count):
        kube.add({"apiVersion": "config.istio.io/v1alpha2", "kind": "RouteRule",
                  "metadata": {"name": f"r{i:04d}", "namespace": "bulk"},
                  "spec": {"destination": {"name": f"svc-{i % 40}"}, "precedence": i // 40,
                           "route": [{"labels": {"version": f"v{i % 3}"}}]}})


def routerule_lists(kube: FakeKube) -> list[tuple[bool, int | None]]:
    return [("continue" in r.query, r.status) for r in kube.requests
            if r.path.endswith("/routerules")]


def test_an_expired_continue_token_restarts_the_list_once(fake_kube_factory: Any,
                                                           tmp_path: Path) -> None:
    kube = fake_kube_factory(token=TOKEN)
    bulk(kube)
    kube.fail("GET", ROUTERULES, 410, nth=2)  # the first continue request
    result = run(kube.kubeconfig(tmp_path / "kc", namespace="bulk"), "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert routerule_lists(kube) == [(False, 200), (True, 410), (False, 200), (True, 200),
                                     (True, 200)]
    # Complete and not duplicated: every rule once, so 40 hosts of 30 routes each.
    resources = json.loads(result.stdout)["items"]
    services = [r for r in resources if r["kind"] == "VirtualService"]
    assert len(services) == 40
    routes = [route for vs in services for route in vs["spec"]["http"]]
    assert len(routes) == 1200


def test_a_second_expiry_fails_clearly(fake_kube_factory: Any, tmp_path: Path) -> None:
    kube = fake_kube_factory(token=TOKEN)
    bulk(kube)
    kube.fail("GET", ROUTERULES, 410, nth=2)
    kube.fail("GET", ROUTERULES, 410, nth=4)
    line = one_error(run(kube.kubeconfig(tmp_path / "kc", namespace="bulk")))
    assert routerule_lists(kube) == [(False, 200), (True, 410), (False, 200), (True, 410)]
    assert "The provided continue parameter is too old" in line
    assert "The list of routerules.config.istio.io in all namespaces (cluster scope) expired " \
        "twice while paging" in line


def test_kubectl_reads_the_fake_410_as_an_expired_list(fake_kube_factory: Any,
                                                       tmp_path: Path) -> None:
    kube = fake_kube_factory(token=TOKEN)
    bulk(kube, 30)
    kube.fail("GET", ROUTERULES, 410, nth=2)
    result = run_kubectl(kube.kubeconfig(tmp_path / "kc"), "get", "routerules", "-A",
                         "--chunk-size=20", home=tmp_path, check=False)
    assert result.returncode != 0
    assert "Error from server (Expired): The provided continue parameter is too old" \
        in result.stderr


# ---------------------------------------------------------------------------------------------
# 4. exec credential plugins


def test_a_hanging_exec_plugin_is_bounded_and_its_stderr_never_shown(mesh) -> None:
    kube, kubeconfig = mesh
    code = ("import sys, time\nsys.stderr.write('plugin-stderr-s3cret\\n')\n"
            "sys.stderr.flush()\ntime.sleep(60)\n")
    with_user(kubeconfig, python_plugin(code))
    started = time.monotonic()
    result = run(kubeconfig, "--request-timeout", "1", secrets=("plugin-stderr-s3cret",))
    assert time.monotonic() - started < 5
    line = one_error(result)
    assert line.endswith(f"the exec credential plugin {Path(sys.executable).name!r} did not "
                         "finish within 1s (--request-timeout)")
    assert kube.requests == []


def test_a_failing_exec_plugin_is_an_error_without_its_stderr(mesh) -> None:
    """A real process, so that anything the client logs or passes to fd 2 is seen too."""
    kube, kubeconfig = mesh
    with_user(kubeconfig, python_plugin(
        "import sys\nsys.stderr.write('refresh token plugin-stderr-s3cret expired')\n"
        "sys.exit(3)\n"))
    proc = subprocess.run([sys.executable, "-m", "istiomigrate", "convert", "--from-cluster",
                           "--kubeconfig", str(kubeconfig)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "plugin-stderr-s3cret" not in proc.stderr
    assert proc.stderr.strip().endswith("exited with status 3 (its error output is not shown: "
                                        "it may hold credentials)")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert kube.requests == []  # not sent on without credentials


def test_an_exec_plugin_token_authenticates_and_is_never_printed(mesh) -> None:
    kube, kubeconfig = mesh
    with_user(kubeconfig, python_plugin(  # told, as kubectl tells it, that no one can answer
        "import json, os, sys\ninfo = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "assert info['spec'] == {'interactive': False}, info\n"
        f"assert sys.stdin.read() == ''\nprint({credential(TOKEN)!r})\n"))
    assert run(kubeconfig).exit_code == 0
    kube.echo_credentials("GET", r"^/api/v1/services$")
    line = one_error(run(kubeconfig))
    assert "<redacted>" in line


# ---------------------------------------------------------------------------------------------
# 5. credentials a server echoes are never printed

OIDC_ID_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJpc3Rpb21pZ3JhdGUifQ.b2lkYy1zaWctczNjcmV0"
KEY_PEM = ("-----BEGIN PRIVATE KEY-----\n"
           "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7s3cr3tKeyL1ne\n"
           "AnotherLineOfTheK3yThatMustNeverBePrintedAnywhereAtAll0123456789\n"
           "-----END PRIVATE KEY-----\n")


def user_variants(tmp_path: Path) -> dict[str, tuple[dict[str, Any], tuple[str, ...]]]:
    """Per credential kind: the kubeconfig user entry, and the secrets it holds."""
    token_file = tmp_path / "token"
    token_file.write_text("file-t0ken-s3cret-9b2e\n")
    return {
        "token": ({"token": TOKEN}, (TOKEN,)),
        "tokenFile": ({"tokenFile": str(token_file)}, ("file-t0ken-s3cret-9b2e",)),
        "basic": ({"username": "admin", "password": "pa55-w0rd-s3cret"},
                  ("pa55-w0rd-s3cret", "admin:pa55-w0rd-s3cret")),
        "exec": (python_plugin(f"print({credential('exec-t0ken-s3cret-41c0')!r})"),
                 ("exec-t0ken-s3cret-41c0",)),
        "auth-provider": ({"auth-provider": {"name": "oidc", "config": {
            "id-token": OIDC_ID_TOKEN, "refresh-token": "refresh-s3cret-77aa",
            "client-id": "istiomigrate", "client-secret": "client-s3cret-88bb",
            "idp-issuer-url": "https://issuer.invalid"}}},
            (OIDC_ID_TOKEN, "refresh-s3cret-77aa", "client-s3cret-88bb")),
    }


@pytest.mark.parametrize("kind", ["token", "tokenFile", "basic", "exec", "auth-provider"])
def test_credentials_echoed_by_the_server_are_redacted(mesh, tmp_path: Path, kind: str) -> None:
    kube, kubeconfig = mesh
    user, secrets = user_variants(tmp_path)[kind]
    with_user(kubeconfig, user)
    kube.echo_credentials("GET", r"^/api/v1/services$")
    line = one_error(run(kubeconfig, secrets=secrets))
    assert "cannot authenticate with Authorization: " in line and "<redacted>" in line
    (sent,) = {r.headers.get("Authorization", "").split(" ")[0] for r in kube.requests}
    assert sent == ("Basic" if kind == "basic" else "Bearer")  # the credential was sent


@pytest.mark.parametrize("kind", ["token", "tokenFile", "basic", "exec", "auth-provider",
                                  "client-key"])
def test_redact_covers_every_credential_kind_in_every_form(fake_kube: FakeKube, tmp_path: Path,
                                                           kind: str) -> None:
    variants = user_variants(tmp_path)
    variants["client-key"] = (
        {"client-certificate-data": base64.b64encode(b"not a secret").decode(),
         "client-key-data": base64.b64encode(KEY_PEM.encode()).decode()},
        (KEY_PEM.strip(), base64.b64encode(KEY_PEM.encode()).decode(),
         "AnotherLineOfTheK3yThatMustNeverBePrintedAnywhereAtAll0123456789"))
    user, secrets = variants[kind]
    kubeconfig = with_user(fake_kube.kubeconfig(tmp_path / "kc"), user)
    conn = cluster_client.connect(kubeconfig, None, 5)
    try:
        for secret in secrets:
            for form in forms(secret):
                said = conn.redact(f"the server said: <{form}>; go away")
                assert form not in said and "<redacted>" in said, (kind, form)
                assert said.startswith("the server said: <") and said.endswith(">; go away")
    finally:
        conn.close()


def test_server_text_cannot_drive_the_terminal(mesh) -> None:
    kube, kubeconfig = mesh
    kube.fail("GET", r"^/api/v1/services$", 500, message="bad\x1b[2J\rthing\nsecond line")
    line = one_error(run(kubeconfig))
    assert "\x1b" not in line and "\r" not in line
    assert "bad\\x1b[2J\\x0dthing\\x0asecond line" in line  # escape.shown: one rule


# ---------------------------------------------------------------------------------------------
# 6. strict field validation on every write


def test_every_write_asks_for_strict_field_validation(mesh, tmp_path: Path) -> None:
    kube, kubeconfig = mesh
    result = run(kubeconfig, "--apply", "--prune-legacy", "--backup-dir", str(tmp_path / "b"))
    assert result.exit_code == 0, result.stderr
    writes = [w for w in kube.write_requests() if w.method in ("POST", "PUT")]
    assert writes and any(w.dry_run for w in writes) and any(not w.dry_run for w in writes)
    assert {w.query.get("fieldValidation") for w in writes} == {"Strict"}


def test_a_field_the_cluster_does_not_know_is_refused_on_dry_run(fake_kube_factory: Any,
                                                                 tmp_path: Path) -> None:
    """A cluster whose DestinationRule CRD predates ``trafficPolicy``: pruned, the converted
    load-balancing policy would be silently lost; strict, the dry run refuses it."""
    old = [dataclasses.replace(rt, schema=spec_schema("host", "subsets"))
           if rt.plural == "destinationrules" else rt for rt in DEFAULT_RESOURCES]
    kube = fake_kube_factory(token=TOKEN, installed=old)
    kube.load_yaml(MESH)
    kubeconfig = kube.kubeconfig(tmp_path / "kc", namespace="bookinfo")
    result = run(kubeconfig, "--apply", "--prune-legacy", "--backup-dir", str(tmp_path / "b"))
    assert result.exit_code == 2
    assert ("DestinationRule in version \"v1alpha3\" cannot be handled as a DestinationRule: "
            "strict decoding error: unknown field \"spec.trafficPolicy\"") in result.stderr
    assert "[server dry run: nothing was changed]" in result.stderr
    assert kube.write_requests(include_dry_run=False) == []
    assert not (tmp_path / "b").exists()


def test_fake_field_validation_matches_the_real_protocol(fake_kube: FakeKube,
                                                         fake_kubeconfig: Path,
                                                         tmp_path: Path) -> None:
    """kubectl (which sends Strict by default, Warn and Ignore on request) reads the fake's
    refusal, warning and pruning as it reads a real API server's."""
    manifest = yaml.safe_dump({
        "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "default"},
        "spec": {"hosts": ["reviews"], "bogus": 1,
                 "http": [{"route": [{"destination": {"host": "reviews"}}]}]}})
    strict = run_kubectl(fake_kubeconfig, "apply", "--dry-run=server", "-f", "-",
                         home=tmp_path, stdin=manifest, check=False)
    assert strict.returncode != 0
    assert 'strict decoding error: unknown field "spec.bogus"' in strict.stderr
    assert fake_kube.get("virtualservices", "reviews") is None
    warn = run_kubectl(fake_kubeconfig, "create", "--validate=warn", "-f", "-",
                       home=tmp_path, stdin=manifest)
    assert 'Warning: unknown field "spec.bogus"' in warn.stderr
    stored = fake_kube.get("virtualservices", "reviews")
    assert stored is not None and "bogus" not in stored["spec"]
    assert stored["spec"]["hosts"] == ["reviews"]


def test_unknown_fields_follow_the_schema_into_arrays_and_maps() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "http": {"type": "array", "items": {"type": "object", "properties": {
            "route": {"type": "array", "items": {"type": "object", "properties": {}}}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "free": {"x-kubernetes-preserve-unknown-fields": True}}}}}
    obj = {"apiVersion": "v", "kind": "K", "metadata": {"name": "a", "bogus": 1},
           "spec": {"http": [{"route": [{}, {"weight": 5}]}, {"x": 1}],
                    "labels": {"any": "thing"}, "free": {"deep": {"er": 1}}, "typo": 2},
           "extra": 3}
    assert sorted(unknown_fields(schema, obj)) == sorted([
        "metadata.bogus", "spec.http[0].route[1].weight", "spec.http[1].x", "spec.typo",
        "extra"])
    assert unknown_fields(None, obj) == []


def test_a_live_resource_of_the_wrong_shape_is_one_clear_error(mesh) -> None:
    """A VirtualService whose hosts are not a list cannot be merged into: said, not crashed."""
    kube, kubeconfig = mesh
    kube.add({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
              "metadata": {"name": "odd", "namespace": "bookinfo"},
              "spec": {"hosts": 1, "http": [{"route": [{"destination": {"host": "x"}}]}]}})
    line = one_error(run(kubeconfig))
    assert "virtualservices.networking.istio.io bookinfo/odd: field spec.hosts" in line
    assert "cannot be merged into" in line

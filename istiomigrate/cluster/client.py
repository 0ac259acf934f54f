"""Talking to the API server: kubeconfig, the official client, pagination, error mapping.

Every request goes through :class:`Connection`, so every failure is turned into one
:class:`ClusterError` line that names the server, the resource, the namespace and (for 403)
the RBAC verb that is missing. Nothing here prints: messages are built from the Status the
server sent and passed through :meth:`Connection.redact`, so a token or password from the
kubeconfig can never reach the terminal, even if a server echoed it.

The server is hostile input too: a body that is not JSON, not the shape of a list, or that
trickles in slower than ``--request-timeout`` is one ``ClusterError``, never a traceback
and never "nothing found"; the request timeout bounds the whole response, not each read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.exec_provider import ExecProvider

from istiomigrate import targets
from istiomigrate.cluster import ClusterError
from istiomigrate.escape import shown
from istiomigrate.kinds import INGRESSES, LEGACY, SERVICES, Kind

PAGE_SIZE = 500
FIELD_MANAGER = "istiomigrate"
# Every write asks the server to refuse a field it does not know rather than prune it: a
# pruned field is a route, retry or TLS setting silently lost.
FIELD_VALIDATION = "Strict"
_READ_CHUNK = 64 * 1024
IN_CLUSTER = "in-cluster"
_SA_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


# Every REST resource read or written, by apiVersion and kind: the networking kinds are
# those the registered targets write.
_BY_API = {(k.api_version, k.kind): k
           for k in (*LEGACY, *targets.all_kinds(), SERVICES, *INGRESSES)}


def kind_of(obj: dict[str, Any]) -> Kind:
    """The REST resource of an object, by its apiVersion and kind: an Ingress is deleted
    through the API group and version it was listed with, a resource written through its
    target's."""
    return _BY_API[(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))]


def scope(namespace: str | None) -> str:
    return f'in namespace "{namespace}"' if namespace else "in all namespaces (cluster scope)"


@dataclass
class Connection:
    """An API client for one kubeconfig context, with the request timeout applied to all."""

    api: client.ApiClient
    context: str
    server: str
    namespace: str
    timeout: float | None
    secrets: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.api.close()

    def redact(self, text: str) -> str:
        """``text`` without any credential of the connection, in any form a server may echo
        (plain, base64, URL- or JSON-escaped), and with control characters escaped: a
        server's words are hostile and must not drive the terminal."""
        current = _secrets(self.api.configuration)  # a refreshed exec token is new
        for secret in sorted({*self.secrets, *current}, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
        return shown(text)

    # -- reads ---------------------------------------------------------------------------

    def pages(self, kind: Kind, namespace: str | None) -> list[list[dict[str, Any]]]:
        """Every object of ``kind`` (in ``namespace``, or all), ``PAGE_SIZE`` per request.

        Items get ``apiVersion`` and ``kind`` set: built-in lists leave them out. A continue
        token that expired (410 Gone) restarts the list once from the beginning; the pages
        are returned together so that a restart can neither duplicate nor lose an object.
        """
        try:
            return list(self._pages_once(kind, namespace))
        except _Expired:
            pass
        try:
            return list(self._pages_once(kind, namespace))
        except _Expired as again:
            raise ClusterError(
                f"{again}. The list of {kind.qualified} {scope(namespace)} expired twice "
                "while paging (410 Gone: the continue token was too old), once more after "
                "starting over: the cluster changes faster than it can be listed; run again",
                410) from None

    def _pages_once(self, kind: Kind, namespace: str | None
                    ) -> Iterator[list[dict[str, Any]]]:
        token: str | None = None
        while True:
            try:
                page = self._call("list", kind, namespace, None, self._list_call(
                    kind, namespace, limit=PAGE_SIZE, _continue=token))
            except ClusterError as exc:
                if exc.status == 410 and token:
                    raise _Expired(str(exc)) from None
                raise
            items: list[dict[str, Any]] = page["items"]
            for item in items:
                item["apiVersion"], item["kind"] = kind.api_version, kind.kind
            yield items
            token = page.get("metadata", {}).get("continue")
            if not token:
                return

    def _list_call(self, kind: Kind, namespace: str | None, **query: Any) -> Callable[[], object]:
        # The API objects are made here, before _call starts the request's clock: the first
        # CoreV1Api imports a large module, which is no part of the server's time.
        core = client.CoreV1Api(self.api) if kind is SERVICES else None
        custom = client.CustomObjectsApi(self.api)

        def call() -> object:
            if core is not None:
                if namespace:
                    return core.list_namespaced_service(namespace, **query, **self._raw())
                return core.list_service_for_all_namespaces(**query, **self._raw())
            if namespace:
                return custom.list_namespaced_custom_object(
                    kind.group, kind.version, namespace, kind.plural, **query, **self._raw())
            return custom.list_cluster_custom_object(
                kind.group, kind.version, kind.plural, **query, **self._raw())
        return call

    def _raw(self) -> dict[str, Any]:
        return {"_preload_content": False, "_request_timeout": self.timeout}

    # -- writes (custom resources; deletes also built-in Ingresses: the same URL layout) -----

    def create(self, kind: Kind, body: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        meta = body["metadata"]
        custom = client.CustomObjectsApi(self.api)
        return self._call("create", kind, meta["namespace"], meta["name"], lambda: (
            custom.create_namespaced_custom_object(
                kind.group, kind.version, meta["namespace"], kind.plural, body,
                **self._write_options(dry_run))))

    def replace(self, kind: Kind, body: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        meta = body["metadata"]
        custom = client.CustomObjectsApi(self.api)
        return self._call("update", kind, meta["namespace"], meta["name"], lambda: (
            custom.replace_namespaced_custom_object(
                kind.group, kind.version, meta["namespace"], kind.plural, meta["name"], body,
                **self._write_options(dry_run))))

    def delete(self, kind: Kind, obj: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        """Delete exactly the object read: preconditions on its uid and resourceVersion."""
        meta = obj["metadata"]
        preconditions = {k: meta[f] for k, f in (("uid", "uid"),
                                                 ("resource_version", "resourceVersion"))
                         if meta.get(f)}
        custom = client.CustomObjectsApi(self.api)
        return self._call("delete", kind, meta["namespace"], meta["name"], lambda: (
            custom.delete_namespaced_custom_object(
                kind.group, kind.version, meta["namespace"], kind.plural, meta["name"],
                body=client.V1DeleteOptions(preconditions=client.V1Preconditions(
                    **preconditions)),
                dry_run="All" if dry_run else None, _preload_content=False,
                _request_timeout=self.timeout)))

    def _write_options(self, dry_run: bool) -> dict[str, Any]:
        return {"dry_run": "All" if dry_run else None, "field_manager": FIELD_MANAGER,
                "field_validation": FIELD_VALIDATION, **self._raw()}

    # -- errors ------------------------------------------------------------------------------

    def _call(self, verb: str, kind: Kind, namespace: str | None, name: str | None,
              call: Callable[[], object]) -> dict[str, Any]:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            response = call()
            # Every call passes _preload_content=False: the client returns urllib3's
            # response, body unread, which it types as object (kubernetes 37) or not at all.
            body = self._body(cast("urllib3.HTTPResponse", response), deadline)
        except ApiException as exc:
            raise self._refused(exc, verb, kind, namespace, name) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._unreachable(exc, verb, kind, namespace) from None
        except ValueError as exc:  # http.client: a header it cannot send; never quote it
            raise ClusterError(f"cannot send the request to {verb} {kind.qualified} "
                               f"{scope(namespace)} to {self.server}: the credentials of "
                               f"context {self.context!r} are not a valid HTTP header value "
                               f"({type(exc).__name__})") from None
        except _Deadline:
            raise ClusterError(
                f"no complete answer from the API server at {self.server} within "
                f"{self.timeout:g}s (--request-timeout) to {verb} {kind.qualified} "
                f"{scope(namespace)}: the response was still arriving") from None
        problem, found = _decode(body)
        if problem is None and verb == "list":
            problem = _list_problem(found)
        if problem is not None:
            what = f"{kind.qualified} {name!r}" if name else kind.qualified
            raise ClusterError(f"the API server at {self.server} sent an invalid answer to "
                               f"{verb} {what} {scope(namespace)}: {problem}")
        return found

    @staticmethod
    def _body(response: urllib3.HTTPResponse, deadline: float | None) -> bytes:
        """The whole body, or _Deadline once the request timeout has passed: a socket
        timeout alone bounds each read, and a server that sends a byte a second never
        trips it."""
        chunks: list[bytes] = []
        try:
            while True:
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise _Deadline
                    _shorten_read_timeout(response, remaining)
                try:
                    chunk = response.read1(_READ_CHUNK)
                except (urllib3.exceptions.TimeoutError, TimeoutError):
                    raise _Deadline from None  # headers came, the rest did not in time
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        finally:
            response.release_conn()

    def _refused(self, exc: ApiException, verb: str, kind: Kind, namespace: str | None,
                 name: str | None) -> ClusterError:
        what = f"{kind.qualified} {name!r}" if name else kind.qualified
        request = f"{verb} {what} {scope(namespace)}"
        status = exc.status or 0
        said = self.redact(_status_message(exc))
        if status == 0:  # the client wraps TLS failures this way
            reason = self.redact(": ".join(str(exc.reason).splitlines()))
            return ClusterError(f"cannot talk to the API server at {self.server} ({reason})")
        if status == 401:
            message = (f"the API server at {self.server} did not accept the credentials of "
                       f"context {self.context!r} (401 Unauthorized) to {request}: the token "
                       "or certificate is wrong or has expired")
        elif status == 403:
            message = (f"forbidden (403) to {request}: the user of context {self.context!r} "
                       f"needs the RBAC verb {verb!r} on resource {kind.plural!r} in API group "
                       f"{kind.group!r} {scope(namespace)}. The server said: {said}")
        elif status == 409:
            message = (f"conflict (409) on {request}: {said}. It changed in the cluster since "
                       "it was read: run again to plan against the current state")
        else:
            message = f"the API server at {self.server} refused to {request}: {status} {said}"
        return ClusterError(message, status)

    def _unreachable(self, exc: Exception, verb: str, kind: Kind, namespace: str | None
                     ) -> ClusterError:
        cause = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
        request = f"{verb} {kind.qualified} {scope(namespace)}"
        if isinstance(cause, urllib3.exceptions.NewConnectionError):
            why = _connection_reason(cause)
            return ClusterError(f"cannot connect to the API server at {self.server}: {why} "
                                f"(while trying to {request})")
        if isinstance(cause, (urllib3.exceptions.TimeoutError, TimeoutError)):
            within = f" within {self.timeout:g}s (--request-timeout)" if self.timeout else ""
            return ClusterError(f"no answer from the API server at {self.server}{within} "
                                f"to {request}")
        return ClusterError(f"lost the connection to the API server at {self.server} "
                            f"({type(cause).__name__}) while trying to {request}")


class _Expired(Exception):
    """A continue token the server no longer honours (410 Gone): restart the list."""


class _Deadline(Exception):
    """The request timeout passed while the body was still arriving."""


def _shorten_read_timeout(response: urllib3.HTTPResponse, remaining: float) -> None:
    """Let no single read outlast the request's deadline (best effort: the socket is
    private to urllib3, and an absent one only means reads keep the connection's timeout)."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(remaining, 0.001))


def _decode(body: bytes) -> tuple[str | None, dict[str, Any]]:
    """(problem, object): the body as a JSON object, or what is wrong with it. An empty body
    is a problem: a real server always answers with an object, so "nothing" is never read as
    "no resources"."""
    if not body:
        return "the body is empty", {}
    try:
        found = json.loads(body)
    except UnicodeDecodeError:
        return "the body is not UTF-8 text", {}
    except json.JSONDecodeError as exc:
        return f"the body is not JSON (truncated or corrupt: {exc.msg}, at byte {exc.pos})", {}
    except ValueError:
        return "the body is not JSON", {}
    except RecursionError:
        return "the body is JSON nested too deeply to read", {}
    if not isinstance(found, dict):
        return f"the body is a JSON {json_type(found)}, not an object", {}
    return None, found


def _list_problem(page: dict[str, Any]) -> str | None:
    """What makes ``page`` not a Kubernetes list whose items the reader can use, or None."""
    if "items" not in page:
        return "the list has no items field"
    items, meta = page["items"], page.get("metadata", {})
    if items is None:  # Go's encoder writes an empty slice as null; kubectl accepts it
        page["items"] = items = []
    if not isinstance(items, list):
        return f"items is a JSON {json_type(items)}, not an array"
    if not isinstance(meta, dict):
        return f"metadata is a JSON {json_type(meta)}, not an object"
    token = meta.get("continue")
    if token is not None and not isinstance(token, str):
        return f"metadata.continue is a JSON {json_type(token)}, not a string"
    for index, item in enumerate(items):
        problem = _item_problem(item)
        if problem is not None:
            return f"items[{index}] {problem}"
    return None


def _item_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"is a JSON {json_type(item)}, not an object"
    meta = item.get("metadata")
    if not isinstance(meta, dict):
        return f"has metadata that is a JSON {json_type(meta)}, not an object"
    for key in ("name", "namespace"):
        value = meta.get(key)
        if (key == "name" or value is not None) and not (isinstance(value, str) and value):
            return f"has metadata.{key} that is a JSON {json_type(value)}, not a name"
    spec = item.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return f"has a spec that is a JSON {json_type(spec)}, not an object"
    return None


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages (never the value: it is the
    server's)."""
    if value is None:
        return "null"
    for kind, name in ((bool, "boolean"), (str, "string"), (list, "array"), (dict, "object"),
                       (int, "number"), (float, "number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _status_message(exc: ApiException) -> str:
    """The ``message`` of the Status the server sent, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(exc.reason or "no message")


def _connection_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text or (
            isinstance(exc, urllib3.exceptions.NameResolutionError)):
        return "host name not found"
    return "no connection"


# ---------------------------------------------------------------------------------------------
# kubeconfig


def connect(kubeconfig: Path | None, context: str | None, timeout: float | None) -> Connection:
    """Load credentials as kubectl does: --kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster."""
    files = kubeconfig_files(kubeconfig)
    cfg = client.Configuration()
    user: dict[str, Any] = {}
    if files is None:
        if context:
            raise ClusterError(f"--context {context}: no kubeconfig found (--kubeconfig, "
                               "KUBECONFIG, ~/.kube/config)")
        name, namespace = _load_in_cluster(cfg)
    else:
        name, namespace, user = _load_kubeconfig(files, context, cfg, timeout)
    cfg.retries = False  # a timeout is reported at once, not after three silent retries
    secrets = sorted(set(_secrets(cfg)) | set(_user_secrets(user)), key=len, reverse=True)
    return Connection(client.ApiClient(cfg), name, cfg.host, namespace or "default", timeout,
                      secrets)


def kubeconfig_files(given: Path | None) -> str | None:
    """The kubeconfig path(s) to read, or None for in-cluster config."""
    if given is not None:
        if not Path(given).is_file():
            raise ClusterError(f"--kubeconfig {given}: no such file")
        return str(given)
    env = os.environ.get("KUBECONFIG", "")
    if env.strip(os.pathsep):
        return env
    default = Path("~/.kube/config").expanduser()
    return str(default) if default.is_file() else None


def _load_kubeconfig(files: str, context: str | None, cfg: client.Configuration,
                     timeout: float | None) -> tuple[str, str | None, dict[str, Any]]:
    """(context name, its namespace, its user entry); credentials set in ``cfg``."""
    plugin = _ExecOutcome(timeout)
    try:
        contexts, current = config.list_kube_config_contexts(config_file=files)
        chosen = _choose_context(contexts, current, context, files)
        with plugin.bounded():
            config.load_kube_config(config_file=files, context=chosen["name"],
                                    client_configuration=cfg, persist_config=False)
        user = _user_entry(files, chosen)
    except ClusterError:
        raise
    except ConfigException as exc:
        raise ClusterError(f"kubeconfig {files}: {_config_message(exc)}") from None
    except Exception as exc:  # YAML, I/O, exec plugins: name the type only, never values
        raise ClusterError(f"kubeconfig {files}: cannot be loaded ({type(exc).__name__})"
                           ) from None
    plugin.raise_failure(files)
    _trim_tokens(cfg)
    _bound_refresh(cfg, plugin, files)
    return chosen["name"], (chosen.get("context") or {}).get("namespace"), user


def _user_entry(files: str, chosen: dict[str, Any]) -> dict[str, Any]:
    """The ``users[].user`` of the chosen context (merged as the loader merges the files), or
    {}: read only to know which credentials to redact."""
    user_name = (chosen.get("context") or {}).get("user")
    merged = _plain(kube_config.KubeConfigMerger(files).config)
    users = _plain(merged.get("users")) if isinstance(merged, dict) else None
    for entry in users if isinstance(users, list) else []:
        entry = _plain(entry)
        if isinstance(entry, dict) and entry.get("name") == user_name:
            found = _plain(entry.get("user"))
            return found if isinstance(found, dict) else {}
    return {}


def _plain(node: Any) -> Any:
    """The loader's ConfigNode wrappers (``.value``) unwrapped."""
    return node.value if isinstance(node, kube_config.ConfigNode) else node


def _trim_tokens(cfg: client.Configuration) -> None:
    """A token file ends with a newline more often than not: kubectl trims it (client-go's
    TrimSpace), the Python client would send it and fail on the header."""
    for key, value in list((cfg.api_key or {}).items()):
        if isinstance(value, str):
            cfg.api_key[key] = value.strip()


class _ExecOutcome:
    """Runs a kubeconfig's exec credential plugin within the request timeout, stdin closed
    and stderr never shown (a plugin may print secrets there), and remembers a failure.

    The client's own runner waits forever, passes the plugin's stderr into its error message
    (or straight to the terminal when stdout is one), and on failure only logs and carries on
    without credentials. So while the client loads credentials, its runner is replaced by
    :meth:`run`, and a failure is raised as a ClusterError afterwards.
    """

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.failure: str | None = None

    @contextlib.contextmanager
    def bounded(self) -> Iterator[None]:
        outcome = self

        class Bounded(ExecProvider):
            def run(self, previous_response: Any = None) -> Any:
                info: dict[str, Any] = {"interactive": False}  # stdin is closed
                if self.cluster is not None:  # provideClusterInfo
                    info["cluster"] = self.cluster.value
                env = {**self.env, "KUBERNETES_EXEC_INFO": json.dumps({
                    "apiVersion": self.api_version, "kind": "ExecCredential", "spec": info})}
                return outcome.run(self.args, env, self.cwd, self.api_version)

        names = vars(kube_config)  # the loader looks its runner up there, by this name
        original = names["ExecProvider"]
        names["ExecProvider"] = Bounded
        logging.disable(logging.CRITICAL)  # its logging.error(...) of the failure
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)
            names["ExecProvider"] = original

    def run(self, args: list[str], env: dict[str, str], cwd: str | None,
            api_version: str) -> dict[str, Any]:
        command = Path(str(args[0])).name
        try:
            done = subprocess.run(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            return self._failed(f"the exec credential plugin {command!r} did not finish "
                                f"within {self.timeout:g}s (--request-timeout)")
        except OSError as exc:
            return self._failed(f"the exec credential plugin {command!r} cannot be run "
                                f"({exc.strerror or type(exc).__name__})")
        if done.returncode != 0:
            return self._failed(f"the exec credential plugin {command!r} exited with status "
                                f"{done.returncode} (its error output is not shown: it may "
                                "hold credentials)")
        try:
            credential = json.loads(done.stdout)
            status = credential["status"]
            if credential.get("apiVersion") != api_version or not isinstance(status, dict):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self._failed(f"the exec credential plugin {command!r} printed no "
                                f"ExecCredential of {api_version}")
        return status

    def _failed(self, message: str) -> dict[str, Any]:
        self.failure = message
        raise ConfigException("exec plugin failed")  # logged (silenced) and ignored

    def raise_failure(self, files: str) -> None:
        if self.failure is not None:
            raise ClusterError(f"kubeconfig {files}: {shown(self.failure)}")


def _bound_refresh(cfg: client.Configuration, plugin: _ExecOutcome, files: str) -> None:
    """The client runs the exec plugin again before a request once its token expired: there
    too, within the timeout, and a failure stops the run."""
    hook = cfg.refresh_api_key_hook
    if hook is None:
        return

    def refresh(configuration: client.Configuration) -> None:
        with plugin.bounded():
            hook(configuration)
        plugin.raise_failure(files)
        _trim_tokens(configuration)

    cfg.refresh_api_key_hook = refresh


def _choose_context(contexts: list[dict[str, Any]], current: dict[str, Any] | None,
                    wanted: str | None, files: str) -> dict[str, Any]:
    if wanted is None:
        if not current:
            raise ClusterError(f"kubeconfig {files}: no current context; pass --context")
        return current
    for candidate in contexts or []:
        if candidate.get("name") == wanted:
            return candidate
    names = ", ".join(sorted(str(c.get("name")) for c in contexts or [])) or "none"
    raise ClusterError(f"--context {wanted}: not in kubeconfig {files} (contexts: {names})")


def _config_message(exc: ConfigException) -> str:
    """The loader's own words, first line only: they name keys, never their values."""
    text = str(exc).strip().splitlines()
    return text[0] if text else "invalid kubeconfig"


def _load_in_cluster(cfg: client.Configuration) -> tuple[str, str | None]:
    try:
        config.load_incluster_config(client_configuration=cfg)
    except ConfigException:
        raise ClusterError("no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config) "
                           "and not running in a pod with a service account") from None
    try:
        namespace = _SA_NAMESPACE.read_text().strip() or None
    except OSError:
        namespace = None
    return IN_CLUSTER, namespace


def _secrets(cfg: client.Configuration) -> list[str]:
    """Every credential the client configuration holds (tokens from a token, tokenFile, exec
    plugin or auth-provider; basic auth; the client key), in every form, for redaction."""
    found: set[str] = set()
    for value in (cfg.api_key or {}).values():
        if value:
            scheme, _, credential = str(value).partition(" ")
            found.update((str(value), credential or scheme))
            if scheme.lower() == "basic" and credential:
                found.update(_basic_parts(credential))
    if cfg.password:
        found.add(str(cfg.password))
        found.add(f"{cfg.username or ''}:{cfg.password}")
    found.update(_key_file_secrets(cfg.key_file))
    return _forms(found)


def _user_secrets(user: dict[str, Any]) -> list[str]:
    """The credentials a kubeconfig user entry spells out, whether or not the client used
    them: a token, a password, client-key data, auth-provider tokens and secrets, exec
    environment values."""
    found: set[str] = set()
    for key in ("token", "password", "client-key-data"):
        if isinstance(user.get(key), str):
            found.add(user[key])
    if isinstance(user.get("username"), str) and isinstance(user.get("password"), str):
        found.add(f"{user['username']}:{user['password']}")
    if isinstance(user.get("client-key-data"), str):
        with contextlib.suppress(ValueError):
            found.update(_pem_secrets(base64.b64decode(user["client-key-data"]).decode()))
    provider = user.get("auth-provider")
    settings = provider.get("config") if isinstance(provider, dict) else None
    if isinstance(settings, dict):
        found.update(str(v) for k, v in settings.items()
                     if isinstance(v, str) and k not in _PROVIDER_PUBLIC)
    plugin = user.get("exec")
    for item in (plugin.get("env") or []) if isinstance(plugin, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            found.add(item["value"])
    return _forms(found)


# auth-provider settings that are not secret (and too common to redact everywhere).
_PROVIDER_PUBLIC = frozenset({"idp-issuer-url", "client-id", "expiry", "cmd-path", "cmd-args",
                              "token-key", "expiry-key", "scopes", "apiserver-id",
                              "tenant-id", "environment", "config-mode"})


def _basic_parts(encoded: str) -> set[str]:
    """``user:password`` and the password, from the base64 of a basic-auth header."""
    try:
        pair = base64.b64decode(encoded).decode()
    except ValueError:
        return set()
    return {pair, pair.partition(":")[2]}


def _key_file_secrets(path: str | None) -> set[str]:
    if not path:
        return set()
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return _pem_secrets(handle.read(1 << 20))
    except OSError:
        return set()


def _pem_secrets(pem: str) -> set[str]:
    """A private key, whole and line by line (a server or proxy may quote part of it)."""
    lines = [line.strip() for line in pem.splitlines()
             if line.strip() and not line.startswith("-----")]
    return {pem.strip(), "".join(lines), *(line for line in lines if len(line) >= 16)}


def _forms(secrets: set[str]) -> list[str]:
    """Each secret as written, base64 (standard and URL-safe, padded or not), URL-encoded and
    JSON-escaped: the forms a server echoing a header or a body may use. Longest first, so
    that a secret containing another is redacted whole; short ones (< 4) are left: they would
    redact ordinary words."""
    out: set[str] = set()
    for secret in secrets:
        if len(secret) < 4:
            continue
        raw = secret.encode()
        out.update({secret, urllib.parse.quote(secret, safe=""),
                    urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1]})
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            out.update({encoded.decode(), encoded.decode().rstrip("=")})
    return sorted((s for s in out if len(s) >= 4), key=len, reverse=True)

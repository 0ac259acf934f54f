"""Talking to the API server: kubeconfig, the official client, pagination, error mapping.

Every request goes through :class:`Connection`, so every failure is turned into one
:class:`ClusterError` line that names the server, the resource, the namespace and (for 403)
the RBAC verb that is missing. Nothing here prints: messages are built from the Status the
server sent and passed through :meth:`Connection.redact`, so a token or password from the
kubeconfig can never reach the terminal, even if a server echoed it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from istiomigrate import targets
from istiomigrate.cluster import ClusterError
from istiomigrate.kinds import INGRESSES, LEGACY, SERVICES, Kind

PAGE_SIZE = 500
FIELD_MANAGER = "istiomigrate"
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
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text

    # -- reads ---------------------------------------------------------------------------

    def pages(self, kind: Kind, namespace: str | None) -> Iterator[list[dict[str, Any]]]:
        """Every object of ``kind`` (in ``namespace``, or all), ``PAGE_SIZE`` per request.

        Items get ``apiVersion`` and ``kind`` set: built-in lists leave them out.
        """
        token: str | None = None
        while True:
            page = self._call("list", kind, namespace, None, self._list_call(
                kind, namespace, limit=PAGE_SIZE, _continue=token))
            items = page.get("items") or []
            for item in items:
                item["apiVersion"], item["kind"] = kind.api_version, kind.kind
            yield items
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def _list_call(self, kind: Kind, namespace: str | None, **query: Any) -> Callable[[], object]:
        def call() -> object:
            if kind is SERVICES:
                core = client.CoreV1Api(self.api)
                if namespace:
                    return core.list_namespaced_service(namespace, **query, **self._raw())
                return core.list_service_for_all_namespaces(**query, **self._raw())
            custom = client.CustomObjectsApi(self.api)
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
                **self._raw()}

    # -- errors ------------------------------------------------------------------------------

    def _call(self, verb: str, kind: Kind, namespace: str | None, name: str | None,
              call: Callable[[], object]) -> dict[str, Any]:
        try:
            response = call()
        except ApiException as exc:
            raise self._refused(exc, verb, kind, namespace, name) from None
        except urllib3.exceptions.HTTPError as exc:
            raise self._unreachable(exc, verb, kind, namespace) from None
        # Every call passes _preload_content=False: the client returns urllib3's response,
        # body unread, which it types as object (kubernetes 37) or not at all (before).
        body = cast("urllib3.HTTPResponse", response).data
        found: dict[str, Any] = json.loads(body or b"{}")
        return found

    def _refused(self, exc: ApiException, verb: str, kind: Kind, namespace: str | None,
                 name: str | None) -> ClusterError:
        what = f"{kind.qualified} {name!r}" if name else kind.qualified
        request = f"{verb} {what} {scope(namespace)}"
        status = exc.status or 0
        said = self.redact(_status_message(exc))
        if status == 0:  # the client wraps TLS failures this way
            reason = ": ".join(self.redact(str(exc.reason)).splitlines())
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
        if isinstance(cause, urllib3.exceptions.TimeoutError):
            within = f" within {self.timeout:g}s (--request-timeout)" if self.timeout else ""
            return ClusterError(f"no answer from the API server at {self.server}{within} "
                                f"to {request}")
        return ClusterError(f"lost the connection to the API server at {self.server} "
                            f"({type(cause).__name__}) while trying to {request}")


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
    if files is None:
        if context:
            raise ClusterError(f"--context {context}: no kubeconfig found (--kubeconfig, "
                               "KUBECONFIG, ~/.kube/config)")
        name, namespace = _load_in_cluster(cfg)
    else:
        name, namespace = _load_kubeconfig(files, context, cfg)
    cfg.retries = False  # a timeout is reported at once, not after three silent retries
    secrets = _secrets(cfg)
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


def _load_kubeconfig(files: str, context: str | None, cfg: client.Configuration
                     ) -> tuple[str, str | None]:
    try:
        contexts, current = config.list_kube_config_contexts(config_file=files)
        chosen = _choose_context(contexts, current, context, files)
        config.load_kube_config(config_file=files, context=chosen["name"],
                                client_configuration=cfg, persist_config=False)
    except ClusterError:
        raise
    except ConfigException as exc:
        raise ClusterError(f"kubeconfig {files}: {_config_message(exc)}") from None
    except Exception as exc:  # YAML, I/O, exec plugins: name the type only, never values
        raise ClusterError(f"kubeconfig {files}: cannot be loaded ({type(exc).__name__})"
                           ) from None
    return chosen["name"], (chosen.get("context") or {}).get("namespace")


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
    """Every credential the configuration holds, longest first, for redaction."""
    found: set[str] = set()
    for value in (cfg.api_key or {}).values():
        if value:
            found.add(str(value))
            found.add(str(value).split(" ", 1)[-1])
    if cfg.password:
        found.add(str(cfg.password))
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)

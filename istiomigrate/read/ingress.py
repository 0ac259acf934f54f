"""The Kubernetes Ingress as Istio 0.7/0.8 read it: which ones it took, and a typed spec.

Pilot 0.7/0.8 watched ``extensions/v1beta1`` Ingresses and took those whose
annotation ``kubernetes.io/ingress.class`` was the mesh's ``ingressClass``
(``istio``). A missing annotation counted only in ``ingressControllerMode:
DEFAULT``; the default mode, in code (``pilot/pkg/model/context.go``) and in
every install, was ``STRICT``, so an Ingress without the annotation was left
to other controllers (``shouldProcessIngress`` in
``pilot/pkg/config/kube/ingress/conversion.go``, tags 0.7.1 and 0.8.0).
``networking.k8s.io/v1beta1`` has the same shape and is accepted too, as
``istiomigrate check`` does.

Field names are the Kubernetes JSON names (camelCase only); unknown fields
are rejected, as the other legacy models do. ``servicePort`` is an
IntOrString: an unquoted number is a port number, anything else a port name.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from istiomigrate.kinds import (
    INGRESS_API_VERSIONS,
    INGRESS_CLASS_ANNOTATION,
    INGRESS_KIND,
    ISTIO_INGRESS_CLASS,
)

CLASS_ANNOTATION = INGRESS_CLASS_ANNOTATION  # exported, for convert/ (plan.ingress)

_NUMBER = re.compile(r"[0-9]+")


class _K8s(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)


class IngressBackend(_K8s):
    service_name: str = Field(min_length=1)
    service_port: int | str

    @field_validator("service_port", mode="before")
    @classmethod
    def _int_or_string(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"servicePort must be a port number or a port name, got {value}")
        if getattr(value, "is_plain_non_string", False):  # unquoted in YAML: a number
            if not _NUMBER.fullmatch(value):
                raise ValueError(f"servicePort must be a port number or a port name, got {value}")
            return int(value)
        return value

    @field_validator("service_port")
    @classmethod
    def _valid_port(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError(f"servicePort {value} is not a port number (1-65535)")
        if isinstance(value, str) and not value:
            raise ValueError("servicePort must not be empty")
        return value


class HTTPIngressPath(_K8s):
    path: str | None = None
    path_type: str | None = None  # Kubernetes 1.18; Istio 0.8 never read it
    backend: IngressBackend


class HTTPIngressRuleValue(_K8s):
    paths: list[HTTPIngressPath]


class IngressRule(_K8s):
    host: str | None = None
    http: HTTPIngressRuleValue | None = None


class IngressTLS(_K8s):
    hosts: list[str] | None = None
    secret_name: str | None = None


class IngressSpec(_K8s):
    backend: IngressBackend | None = None
    rules: list[IngressRule] | None = None
    tls: list[IngressTLS] | None = None
    ingress_class_name: str | None = None  # Kubernetes 1.18; Istio 0.8 never read it

    @property
    def destination(self) -> None:
        """No mesh destination: code that indexes legacy rules by destination skips Ingresses."""
        return None


def annotations_of(obj: dict[str, Any]) -> dict[Any, Any]:
    meta = obj.get("metadata")
    found = meta.get("annotations") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def ingress_class(obj: dict[str, Any]) -> str | None:
    """The ``kubernetes.io/ingress.class`` annotation, or None when absent."""
    value = annotations_of(obj).get(CLASS_ANNOTATION)
    return None if value is None else str(value)


def is_ingress_api(obj: dict[str, Any]) -> bool:
    return (obj.get("kind") == INGRESS_KIND
            and str(obj.get("apiVersion") or "") in INGRESS_API_VERSIONS)


def is_istio_ingress(obj: dict[str, Any]) -> bool:
    """An Ingress that Istio 0.7/0.8 (ingressControllerMode STRICT) turned into routes."""
    return is_ingress_api(obj) and ingress_class(obj) == ISTIO_INGRESS_CLASS

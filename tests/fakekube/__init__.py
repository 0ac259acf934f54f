"""A loopback Kubernetes API server for tests (see :mod:`tests.fakekube.server`)."""

from tests.fakekube.server import (
    DEFAULT_NAMESPACES,
    DEFAULT_RESOURCES,
    ISTIO_LEGACY_RESOURCES,
    ApiError,
    FakeKube,
    Fault,
    RecordedRequest,
    ResourceType,
)

__all__ = [
    "DEFAULT_NAMESPACES",
    "DEFAULT_RESOURCES",
    "ISTIO_LEGACY_RESOURCES",
    "ApiError",
    "FakeKube",
    "Fault",
    "RecordedRequest",
    "ResourceType",
]

"""Typed models of the legacy v1alpha1 routing resources (config.istio.io).

Field names follow the protobuf JSON mapping that Pilot used: both the proto's
snake_case and lowerCamelCase are accepted (``populate_by_name`` plus a camel
alias). Unknown fields are rejected, as Pilot's strict unmarshalling did.
``tests/test_legacy_models.py`` keeps these models in step with
``schemas/legacy/*.json``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from istiomigrate import kinds
from istiomigrate.durations import parse_duration


class _Proto(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


def _labels(value: Any, info: ValidationInfo) -> Any:
    """Label values are strings; an unquoted ``1.0`` means the string the user wrote.

    The reader keeps the source text of plain scalars (``istiomigrate.read.yamlload``),
    so ``str(value)`` is exactly what the user typed. Each coerced value is
    recorded in the validation context so that the caller can warn about it.
    """
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, val in value.items():
        if val is None or isinstance(val, (dict, list)):
            out[key] = val  # let pydantic report the type error
            continue
        text = str(val) if not isinstance(val, bool) else str(val).lower()
        coerced = not isinstance(val, str) or getattr(val, "is_plain_non_string", False)
        if coerced and info.context is not None:
            info.context.setdefault("coerced_labels", []).append((str(key), text))
        out[str(key)] = text
    return out


def _one_of(model: BaseModel, *fields: str, required: bool = False) -> None:
    """Protobuf oneofs: at most one member set (exactly one when ``required``)."""
    given = [f for f in fields if getattr(model, f) is not None]
    if len(given) > 1:
        raise ValueError(f"only one of {', '.join(fields)} may be set, got {', '.join(given)}")
    if required and not given:
        raise ValueError(f"one of {', '.join(fields)} is required")


def _duration(value: Any) -> Any:
    if value is None:
        return value
    parse_duration(value)  # raises ValueError with a readable message
    return str(value)


class IstioService(_Proto):
    name: str | None = None
    namespace: str | None = None
    domain: str | None = None
    service: str | None = None
    labels: dict[str, str] | None = None

    _check_labels = field_validator("labels", mode="before")(_labels)


class StringMatch(_Proto):
    exact: str | None = None
    prefix: str | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _oneof(self) -> StringMatch:
        _one_of(self, "exact", "prefix", "regex", required=True)
        return self


class MatchRequest(_Proto):
    headers: dict[str, StringMatch] | None = None


class L4MatchAttributes(_Proto):
    source_subnet: list[str] | None = None
    destination_subnet: list[str] | None = None


class MatchCondition(_Proto):
    source: IstioService | None = None
    tcp: L4MatchAttributes | None = None
    udp: L4MatchAttributes | None = None
    request: MatchRequest | None = None

    @field_validator("source")
    @classmethod
    def _named_source(cls, source: IstioService | None) -> IstioService | None:
        """Pilot's ValidateIstioService: a source is a service; labels alone were rejected."""
        if source is not None and not (source.name or source.service):
            raise ValueError("match.source needs a name or a service (Pilot 0.8 rejected a "
                             "source given by labels alone)")
        return source


class DestinationWeight(_Proto):
    destination: IstioService | None = None
    labels: dict[str, str] | None = None
    weight: int | None = Field(default=None, ge=0, le=100)

    _check_labels = field_validator("labels", mode="before")(_labels)


class HTTPRedirect(_Proto):
    uri: str | None = None
    authority: str | None = None


class HTTPRewrite(_Proto):
    uri: str | None = None
    authority: str | None = None


class SimpleTimeoutPolicy(_Proto):
    timeout: str | None = None
    override_header_name: str | None = None

    _check = field_validator("timeout", mode="before")(_duration)


class HTTPTimeout(_Proto):
    simple_timeout: SimpleTimeoutPolicy | None = None
    custom: Any = None

    @model_validator(mode="after")
    def _oneof(self) -> HTTPTimeout:
        _one_of(self, "simple_timeout", "custom")
        return self


class SimpleRetryPolicy(_Proto):
    attempts: int | None = None
    per_try_timeout: str | None = None
    override_header_name: str | None = None

    _check = field_validator("per_try_timeout", mode="before")(_duration)


class HTTPRetry(_Proto):
    simple_retry: SimpleRetryPolicy | None = None
    custom: Any = None

    @model_validator(mode="after")
    def _oneof(self) -> HTTPRetry:
        _one_of(self, "simple_retry", "custom")
        return self


class Delay(_Proto):
    percent: float | None = Field(default=None, ge=0, le=100)
    fixed_delay: str | None = None
    exponential_delay: str | None = None
    override_header_name: str | None = None

    _check = field_validator("fixed_delay", "exponential_delay", mode="before")(_duration)


class Abort(_Proto):
    percent: float | None = Field(default=None, ge=0, le=100)
    grpc_status: str | None = None
    http2_error: str | None = None
    http_status: int | None = None
    override_header_name: str | None = None

    @model_validator(mode="after")
    def _oneof(self) -> Abort:
        _one_of(self, "grpc_status", "http2_error", "http_status")
        return self


class HTTPFaultInjection(_Proto):
    delay: Delay | None = None
    abort: Abort | None = None


class Throttle(_Proto):
    percent: float | None = Field(default=None, ge=0, le=100)
    downstream_limit_bps: int | None = None
    upstream_limit_bps: int | None = None
    throttle_after_period: str | None = None
    throttle_after_bytes: float | None = None
    throttle_for_period: str | None = None

    _check = field_validator("throttle_after_period", "throttle_for_period", mode="before")(
        _duration
    )


class Terminate(_Proto):
    percent: float | None = Field(default=None, ge=0, le=100)
    terminate_after_period: str | None = None

    _check = field_validator("terminate_after_period", mode="before")(_duration)


class L4FaultInjection(_Proto):
    throttle: Throttle | None = None
    terminate: Terminate | None = None


class CorsPolicy(_Proto):
    allow_origin: list[str] | None = None
    allow_methods: list[str] | None = None
    allow_headers: list[str] | None = None
    expose_headers: list[str] | None = None
    max_age: str | None = None
    allow_credentials: bool | None = None

    _check = field_validator("max_age", mode="before")(_duration)


class RouteRuleSpec(_Proto):
    destination: IstioService | None = None
    precedence: int = 0
    match: MatchCondition | None = None
    route: list[DestinationWeight] | None = None
    redirect: HTTPRedirect | None = None
    rewrite: HTTPRewrite | None = None
    websocket_upgrade: bool | None = None
    http_req_timeout: HTTPTimeout | None = None
    http_req_retries: HTTPRetry | None = None
    http_fault: HTTPFaultInjection | None = None
    l4_fault: L4FaultInjection | None = None
    mirror: IstioService | None = None
    cors_policy: CorsPolicy | None = None
    append_headers: dict[str, str] | None = None

    @model_validator(mode="after")
    def _exclusive(self) -> RouteRuleSpec:
        if self.redirect is not None and (self.route or self.rewrite is not None):
            raise ValueError("redirect cannot be combined with route or rewrite")
        return self


class LoadBalancing(_Proto):
    name: Literal["ROUND_ROBIN", "LEAST_CONN", "RANDOM"] | None = None
    custom: Any = None


class SimpleCircuitBreakerPolicy(_Proto):
    max_connections: int | None = None
    http_max_pending_requests: int | None = None
    http_max_requests: int | None = None
    sleep_window: str | None = None
    http_consecutive_errors: int | None = None
    http_detection_interval: str | None = None
    http_max_requests_per_connection: int | None = None
    http_max_ejection_percent: int | None = None
    http_max_retries: int | None = None

    _check = field_validator("sleep_window", "http_detection_interval", mode="before")(_duration)

    @model_validator(mode="after")
    def _required_durations(self) -> SimpleCircuitBreakerPolicy:
        """Pilot dereferenced both unconditionally (a panic without them) and its validation
        refused them missing (``ValidateCircuitBreaker``): invalid legacy config (§4.7)."""
        missing = [name for name, value in (("sleepWindow", self.sleep_window),
                                            ("httpDetectionInterval",
                                             self.http_detection_interval)) if value is None]
        if missing:
            raise ValueError(f"simpleCb needs {' and '.join(missing)} (Pilot 0.8 rejected a "
                             "circuit breaker without them and could not apply one)")
        return self


class CircuitBreaker(_Proto):
    simple_cb: SimpleCircuitBreakerPolicy | None = None
    custom: Any = None


class DestinationPolicySpec(_Proto):
    destination: IstioService | None = None
    source: IstioService | None = None
    load_balancing: LoadBalancing | None = None
    circuit_breaker: CircuitBreaker | None = None
    custom: Any = None


class EgressPort(_Proto):
    port: int = Field(ge=1, le=65535)
    protocol: str


class EgressRuleSpec(_Proto):
    destination: IstioService | None = None
    ports: list[EgressPort] = Field(default_factory=list)
    use_egress_proxy: bool | None = None


SPEC_MODELS: dict[str, type[_Proto]] = {
    kinds.ROUTE_RULE: RouteRuleSpec,
    kinds.DESTINATION_POLICY: DestinationPolicySpec,
    kinds.EGRESS_RULE: EgressRuleSpec,
}

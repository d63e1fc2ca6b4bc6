"""FastAPI's OpenTelemetry instrumentation is on only where OpenTelemetry is configured:
with no provider it records nothing, and looking for one costs every request."""

from entrypoints.http.app import _telemetry


def test_without_opentelemetry_in_the_environment_telemetry_is_off() -> None:
    config = _telemetry({"PATH": "/usr/bin", "DATABASE_URL": "postgresql://db/procurement"})
    assert config == {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def test_an_otel_variable_turns_every_kind_of_telemetry_on() -> None:
    config = _telemetry({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    assert config == {"tracing": True, "metrics": True, "logs": True, "operation_spans": True}

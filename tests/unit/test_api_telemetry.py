"""FastAPI's OpenTelemetry instrumentation is on only where OpenTelemetry is configured:
with no provider it records nothing, and looking for one costs every request. Where it is
on, nothing only a party may read reaches whoever reads the traces."""

from entrypoints.http.app import _telemetry


def test_without_opentelemetry_in_the_environment_telemetry_is_off() -> None:
    config = _telemetry({"PATH": "/usr/bin", "DATABASE_URL": "postgresql://db/procurement"})
    assert not any(config[kind] for kind in ("tracing", "metrics", "logs", "operation_spans"))


def test_an_otel_variable_turns_spans_and_metrics_on() -> None:
    config = _telemetry({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    assert all(config[kind] for kind in ("tracing", "metrics", "operation_spans"))


def test_private_feed_links_and_refused_inputs_never_reach_the_traces() -> None:
    """A feed's secret is its path, and a refused request's log carries its input."""
    config = _telemetry({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    excluded = config["exclude"]
    assert excluded is not None
    assert excluded({"type": "http", "path": "/inbox/feeds/k3Jq9vX2secret"})
    assert excluded({"type": "http", "path": "/procurement/inbox/feeds/k3Jq9vX2secret"})
    assert not excluded({"type": "http", "path": "/tenders"})
    assert not excluded({"type": "http", "path": "/inbox"})
    assert config["logs"] is False

"""The stream worker's own web server is reachable from its machine only."""

from adapters.settings import Settings
from entrypoints.worker import create_app


def test_the_worker_web_server_listens_on_loopback_only() -> None:
    """faust binds its web views to every interface unless told otherwise; ours is told."""
    app = create_app(Settings(), "postgresql://unused", "localhost:9092", web_port=6066)
    assert app.conf.web_bind == "127.0.0.1"

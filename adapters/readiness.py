"""Whether the platform can do its work now: a write commits, the relay and the projections
keep up, and how many dead letters wait for the operator.

``measure`` reads the figures from PostgreSQL; ``failing`` judges them, purely, against
limits the deployment sets; ``warnings`` names what the operator should look at without
taking the platform out of service (a dead letter is set aside on its own: every other
event goes on, so the API stays ready; e-mail a mail server has not taken is in the inboxes
all the same).
"""

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from adapters.kafka.topology import TOPICS

RECENT_EVENTS = 1000  # the projections' lag is read among this many latest events
OUTBOX_COUNTED = 100_000  # the outbox is counted up to this many rows


@dataclass(frozen=True)
class Limits:
    """How far behind the platform may be and still be ready."""

    relay_lag_seconds: float = 30.0  # age of the oldest event not yet on Kafka
    outbox_rows: int = 10_000
    projection_lag_seconds: float = 30.0  # age of the oldest event not yet in a read model

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], duration: Callable[[str, timedelta], timedelta]
    ) -> "Limits":
        """``PROCUREMENT_READY_RELAY_LAG`` and ``PROCUREMENT_READY_PROJECTION_LAG`` (durations
        such as ``30s`` or ``2m``) and ``PROCUREMENT_READY_OUTBOX_ROWS``."""
        default = cls()

        def seconds(name: str, fallback: float) -> float:
            return duration(name, timedelta(seconds=fallback)).total_seconds()

        name = "PROCUREMENT_READY_OUTBOX_ROWS"
        try:
            rows = int(env[name]) if env.get(name) else default.outbox_rows
        except ValueError as error:
            msg = f"{name}={env[name]!r} is not a whole number of rows"
            raise ValueError(msg) from error
        return cls(
            relay_lag_seconds=seconds("PROCUREMENT_READY_RELAY_LAG", default.relay_lag_seconds),
            outbox_rows=rows,
            projection_lag_seconds=seconds(
                "PROCUREMENT_READY_PROJECTION_LAG", default.projection_lag_seconds
            ),
        )


@dataclass(frozen=True)
class Figures:
    write_error: str | None  # None: a write committed
    outbox_rows: int
    relay_lag_seconds: float
    projections_behind: int  # recent events some read model has not applied yet
    projection_lag_seconds: float
    unresolved_dead_letters: int  # events set aside that the operator has not replayed
    forged_records: int  # Kafka records refused since the start: someone writes to the broker
    mail_retrying: int = 0  # notices' e-mail that failed and waits for its next attempt
    mail_failed: int = 0  # notices' e-mail the mail server refused for good, in 7 days

    def public(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if name != "write_error"}


def failing(figures: Figures, limits: Limits = Limits()) -> dict[str, str]:
    """Each check that fails, by name, with what is wrong; empty when ready."""
    found = {}
    if figures.write_error is not None:
        found["database_write"] = f"a write to the database failed: {figures.write_error}"
    if figures.relay_lag_seconds > limits.relay_lag_seconds:
        found["relay_lag"] = (
            f"the oldest event waiting for Kafka was recorded {figures.relay_lag_seconds:.0f} s"
            f" ago (limit {limits.relay_lag_seconds:g} s)"
        )
    if figures.outbox_rows > limits.outbox_rows:
        found["outbox_size"] = (
            f"{figures.outbox_rows} events wait for Kafka (limit {limits.outbox_rows})"
        )
    if figures.projection_lag_seconds > limits.projection_lag_seconds:
        found["projection_lag"] = (
            f"{figures.projections_behind} recent events are not in the read models yet, the"
            f" oldest recorded {figures.projection_lag_seconds:.0f} s ago"
            f" (limit {limits.projection_lag_seconds:g} s)"
        )
    return found


def warnings(figures: Figures) -> dict[str, str]:
    """What the operator should see to, by name, that leaves the platform ready."""
    found = {}
    if (letters := figures.unresolved_dead_letters) > 0:
        counted = "1 event was" if letters == 1 else f"{letters} events were"
        found["dead_letters"] = (
            f"{counted} set aside, every other event went on: read the errors at"
            " GET /operations/dead-letters, fix the cause and replay them"
        )
    if figures.mail_retrying or figures.mail_failed:
        found["mail"] = (
            f"{figures.mail_retrying} notice e-mails wait to be tried again and"
            f" {figures.mail_failed} were refused for good in 7 days: see last_error in mail_outbox"
            " (every notice is in its inbox all the same)"
        )
    return found


_OUTBOX = f"""
SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox LIMIT {OUTBOX_COUNTED}) waiting) AS rows,
       coalesce((SELECT extract(epoch FROM clock_timestamp() - recorded_at) FROM events
                 WHERE position = (SELECT min(position) FROM outbox)), 0)::float8 AS lag"""

_PROJECTIONS = f"""
SELECT count(*) AS behind,
       coalesce(extract(epoch FROM clock_timestamp() - min(e.recorded_at)), 0)::float8 AS lag
FROM (SELECT event_id, type, recorded_at FROM events
      ORDER BY position DESC LIMIT {RECENT_EVENTS}) e
JOIN unnest($1::text[], $2::text[]) AS p(type, projection) ON p.type = e.type
WHERE NOT EXISTS (SELECT 1 FROM applied_events a
                  WHERE a.projection = p.projection AND a.event_id = e.event_id)"""

_REFUSED = """
SELECT (SELECT count(*) FROM dead_letters WHERE resolved_at IS NULL) AS dead_letters,
       (SELECT count(*) FROM forged_records) AS forged,
       (SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL
                                           AND last_error IS NOT NULL) AS mail_retrying,
       (SELECT count(*) FROM mail_outbox
        WHERE failed_at > clock_timestamp() - interval '7 days') AS mail_failed"""

_PROJECTED = [(kind, topic.name) for topic in TOPICS for kind in sorted(topic.event_types)]


async def measure(pool: Any) -> Figures:
    """The figures, read now. Raises what the pool raises when the database is away."""
    async with pool.acquire() as connection:
        write_error = await _write(connection)
        outbox = await connection.fetchrow(_OUTBOX)
        projections = await connection.fetchrow(
            _PROJECTIONS, [kind for kind, _ in _PROJECTED], [name for _, name in _PROJECTED]
        )
        refused = await connection.fetchrow(_REFUSED)
    return Figures(
        write_error=write_error,
        outbox_rows=outbox["rows"],
        relay_lag_seconds=round(outbox["lag"], 3),
        projections_behind=projections["behind"],
        projection_lag_seconds=round(projections["lag"], 3),
        unresolved_dead_letters=refused["dead_letters"],
        forged_records=refused["forged"],
        mail_retrying=refused["mail_retrying"],
        mail_failed=refused["mail_failed"],
    )


async def _write(connection: Any) -> str | None:
    """Update the one heartbeat row and commit; what went wrong, or None. A database that
    is read-only, out of disk or refusing writes fails here while reads still work."""
    try:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO readiness_heartbeat (beaten_at) VALUES (clock_timestamp())"
                " ON CONFLICT (only_row) DO UPDATE SET beaten_at = excluded.beaten_at"
            )
    except asyncpg.PostgresError as error:
        if isinstance(error, asyncpg.PostgresConnectionError):
            raise  # the database is away: not a refused write
        return f"{type(error).__name__}: {error}"
    return None

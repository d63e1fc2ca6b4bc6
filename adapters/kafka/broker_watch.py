"""Keeps the broker as the topology declares it, and tells whether it still holds what the
relay sent.

The topics are created with their declared partition counts before any client can make
them: a broker with automatic topic creation (the embedded one) would otherwise create
them with its own default count as soon as a consumer subscribed. A topic found with too
few partitions gets more; where the broker cannot add partitions (the embedded one), the
topic is made again, and the relay republishes the event store into it.
"""

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from adapters.kafka.security import KafkaSecurity
from adapters.kafka.topology import MAX_MESSAGE_BYTES, TOPICS, Topic

log = logging.getLogger(__name__)


class BrokerWatch:
    """Creates and repairs the platform's topics; tells whether the broker lost records."""

    def __init__(
        self,
        bootstrap_servers: str,
        replication_factor: int,
        security: KafkaSecurity | None = None,
    ) -> None:
        options = (security or KafkaSecurity()).client_options()
        self.admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000, **options
        )
        self.offsets = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            request_timeout_ms=10_000,
            **options,
        )
        self.replication_factor = replication_factor
        self._too_many_told: set[str] = set()

    async def start(self) -> None:
        await self.admin.start()
        await self.offsets.start()

    async def stop(self) -> None:
        await self.offsets.stop()
        await self.admin.close()

    async def ensure_topics(self) -> set[str]:
        """Create missing topics and repair those with too few partitions; return the names
        of the topics that are new, so that whatever they held is gone."""
        counts = await self.partition_counts([topic.name for topic in TOPICS])
        new = set()
        for topic in TOPICS:
            have = counts.get(topic.name)
            if have is None:
                if await self._create(topic):
                    new.add(topic.name)
            elif have < topic.partitions and not await self._add_partitions(topic, have):
                await self._recreate(topic, have)
                new.add(topic.name)
            elif have > topic.partitions and topic.name not in self._too_many_told:
                self._too_many_told.add(topic.name)
                log.warning(
                    "topic %s has %d partitions where the platform declares %d; it works, but"
                    " events spread differently than in adapters/kafka/topology.py",
                    topic.name,
                    have,
                    topic.partitions,
                )
        return new

    async def partition_counts(self, names: Iterable[str]) -> dict[str, int]:
        """How many partitions each existing topic of ``names`` has, as the broker says now."""
        wanted = set(names)
        # Asking for every topic: naming one would let the broker create it with its default.
        described = await self.admin.describe_topics(None)
        return {
            entry["topic"]: len(entry["partitions"])
            for entry in described
            if entry["topic"] in wanted and entry["error_code"] == 0 and entry["partitions"]
        }

    async def lost_records(self, expected: dict[tuple[str, int], int]) -> str | None:
        """Why the broker no longer holds what it acknowledged, or None if it does."""
        new = await self.ensure_topics()
        gone = sorted({topic for topic, _ in expected if topic in new})
        if gone:
            return f"topics {', '.join(gone)} were gone"
        if not expected:
            return None
        counts = await self.partition_counts({topic for topic, _ in expected})
        missing = [f"{t}[{p}]" for t, p in sorted(expected) if p >= counts.get(t, 0)]
        if missing:  # asking for their offsets would wait for partitions that never come
            return f"partitions {', '.join(missing)} no longer exist"
        ends = await self.offsets.end_offsets(_partitions(expected))
        short = [
            f"{t}[{p}] ends at {ends[TopicPartition(t, p)]}, not {end}"
            for (t, p), end in expected.items()
            if ends[TopicPartition(t, p)] < end
        ]
        return "; ".join(short) or None

    async def _create(self, topic: Topic) -> bool:
        try:
            await self.admin.create_topics(
                [
                    NewTopic(
                        topic.name,
                        topic.partitions,
                        self.replication_factor,
                        topic_configs={"max.message.bytes": str(MAX_MESSAGE_BYTES)},
                    )
                ]
            )
        except TopicAlreadyExistsError:
            return False
        return True

    async def _add_partitions(self, topic: Topic, have: int) -> bool:
        try:
            await self.admin.create_partitions({topic.name: NewPartitions(topic.partitions)})
        except KafkaError as error:
            log.warning(
                "topic %s has %d partitions, not %d, and the broker cannot add more (%s)",
                topic.name,
                have,
                topic.partitions,
                error,
            )
            return False
        log.warning(
            "topic %s had %d partitions; added up to %d", topic.name, have, topic.partitions
        )
        return True

    async def _recreate(self, topic: Topic, have: int) -> None:
        """Make the topic again with its declared count: every record on it came from the
        event store, which the relay republishes."""
        log.warning(
            "recreating topic %s with %d partitions instead of %d",
            topic.name,
            topic.partitions,
            have,
        )
        await self.admin.delete_topics([topic.name])
        if not await self._create(topic):
            log.warning("topic %s came back before it could be recreated; next check", topic.name)


async def create_topics(
    bootstrap_servers: str,
    replication_factor: int,
    within: float,
    security: KafkaSecurity | None = None,
) -> None:
    """Create or repair the platform's topics before this process consumes or produces; if
    the broker does not answer ``within`` seconds, leave it to the relay's next check."""
    watch = BrokerWatch(bootstrap_servers, replication_factor, security)
    try:
        await asyncio.wait_for(_create_with(watch), within)
    except (KafkaError, OSError, TimeoutError) as error:
        log.warning(
            "could not check the Kafka topics at start (%s: %s); the relay will",
            type(error).__name__,
            error,
        )


async def _create_with(watch: BrokerWatch) -> None:
    await watch.start()
    try:
        await watch.ensure_topics()
    finally:
        await watch.stop()


def _partitions(places: Iterable[tuple[str, int]]) -> list[TopicPartition]:
    return [TopicPartition(topic, partition) for topic, partition in places]

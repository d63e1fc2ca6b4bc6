"""faust's aiokafka transport, with the fetch wait as a setting, and a way to read topics
again from their start.

faust asks the broker to hold a fetch for up to 1.5 s, and the embedded broker answers a
waiting fetch only when that wait runs out, which puts most of a second between an event
and its consumer. The wait is ``app.kafka_fetch_wait_ms`` here; a real Kafka cluster
answers as soon as data arrives, whatever the wait.
"""

from collections.abc import Collection
from typing import Any

from faust.auth import SASLCredentials, SSLCredentials
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types.auth import CredentialsT

from adapters.kafka.security import KafkaSecurity

SCHEME = "kafka-tuned"
DEFAULT_FETCH_WAIT_MS = 1500


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when the consumer starts, which happens after creation.
        consumer._fetch_max_wait_ms = getattr(
            self.app, "kafka_fetch_wait_ms", DEFAULT_FETCH_WAIT_MS
        )
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


async def read_again_from_the_start(consumer: Any, topics: Collection[str]) -> list[Any]:
    """Seek the consumer's partitions of ``topics`` to offset 0 and make it forget how far it
    had read and acknowledged them, as a rebalance does; return those partitions.

    faust drops every record below the offset it last read from a partition, so a topic
    that the broker lost and numbers from 0 again would otherwise stay unread.
    """
    partitions = [tp for tp in consumer.assignment() if tp.topic in topics]
    for tp in partitions:
        for bookkeeping in (
            consumer._gap,
            consumer._acked,
            consumer._acked_index,
            consumer._committed_offset,
        ):
            bookkeeping.pop(tp, None)
        await consumer.seek(tp, 0)  # which also forgets the last offset read
    return partitions


def credentials(security: KafkaSecurity) -> CredentialsT | None:
    """The same TLS and SASL settings as the platform's own aiokafka clients, for faust."""
    if security.uses_sasl:
        return SASLCredentials(
            username=security.username,
            password=security.password,
            ssl_context=security.ssl_context(),
            mechanism=security.sasl_mechanism,
        )
    context = security.ssl_context()
    return SSLCredentials(context) if context is not None else None


class Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"

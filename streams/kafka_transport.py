"""faust's aiokafka transport, with the fetch wait as a setting.

faust asks the broker to hold a fetch for up to 1.5 s, and the embedded broker answers a
waiting fetch only when that wait runs out, which puts most of a second between an event
and its consumer. The wait is ``app.kafka_fetch_wait_ms`` here; a real Kafka cluster
answers as soon as data arrives, whatever the wait.
"""

from typing import Any

from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

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


class Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"

"""The edge where the domain meets Kafka and PostgreSQL."""

-- The durable record. Every statement is idempotent: services apply it at start.

-- The event store: append-only, one gapless sequence per aggregate.
CREATE TABLE IF NOT EXISTS events (
    position       bigserial   PRIMARY KEY,
    event_id       uuid        NOT NULL UNIQUE,
    aggregate_id   text        NOT NULL,
    sequence       integer     NOT NULL CHECK (sequence > 0),
    type           text        NOT NULL,
    schema_version integer     NOT NULL,
    occurred_at    timestamptz NOT NULL,
    envelope       json        NOT NULL,  -- kept exactly as written
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (aggregate_id, sequence)
);

CREATE OR REPLACE FUNCTION refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only: % refused', TG_OP;
END $$;

CREATE OR REPLACE TRIGGER events_are_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();

-- The transactional outbox: events committed but not yet on Kafka.
CREATE TABLE IF NOT EXISTS outbox (
    position bigint PRIMARY KEY REFERENCES events (position)
);

CREATE OR REPLACE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');  -- one notification per transaction reaches the relay
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER outbox_notifies_the_relay
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

-- Commands already handled, so that a retried command returns the first answer.
CREATE TABLE IF NOT EXISTS handled_commands (
    command_id   uuid        PRIMARY KEY,
    fingerprint  bytea       NOT NULL,  -- SHA-256 of who asked what, to refuse a reused key
    aggregate_id text        NOT NULL,
    response     jsonb       NOT NULL,
    handled_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- What the relay has put on each partition, to notice a broker that lost its log.
CREATE TABLE IF NOT EXISTS relay_watermarks (
    topic      text    NOT NULL,
    partition  integer NOT NULL,
    end_offset bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);

CREATE SEQUENCE IF NOT EXISTS tender_numbers;

-- Bearer tokens, stored as SHA-256 digests only.
CREATE TABLE IF NOT EXISTS credentials (
    token_sha256 bytea       PRIMARY KEY,
    party_id     text        NOT NULL,
    role         text        NOT NULL,
    agency_id    text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Read models, fed by the stream projections; each event id is applied once.
CREATE TABLE IF NOT EXISTS applied_events (
    projection text NOT NULL,
    event_id   uuid NOT NULL,
    PRIMARY KEY (projection, event_id)
);

CREATE TABLE IF NOT EXISTS agencies (
    agency_id     text        PRIMARY KEY,
    name          text        NOT NULL,
    identifier    text        NOT NULL,
    registered_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS tenders (
    ocid                text        PRIMARY KEY,
    buyer_id            text        NOT NULL,
    status              text        NOT NULL,
    cpv                 text[]      NOT NULL,
    submission_deadline timestamptz NOT NULL,
    published_at        timestamptz NOT NULL,
    version             integer     NOT NULL,
    document            jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS tenders_by_status ON tenders (status, published_at DESC);
CREATE INDEX IF NOT EXISTS tenders_by_buyer ON tenders (buyer_id, published_at DESC);
CREATE INDEX IF NOT EXISTS tenders_by_cpv ON tenders USING gin (cpv);
CREATE INDEX IF NOT EXISTS tenders_by_date ON tenders (published_at DESC, ocid);
CREATE INDEX IF NOT EXISTS tenders_due ON tenders (submission_deadline) WHERE status = 'active';

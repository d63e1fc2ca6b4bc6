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

-- The transactional outbox: events committed but not yet on Kafka. ``written_by`` is the
-- transaction that queued the event, which the relay uses to send an event only once every
-- position before it is settled (adapters.kafka.outbox_publishing).
CREATE TABLE IF NOT EXISTS outbox (
    position   bigint PRIMARY KEY REFERENCES events (position),
    written_by xid8   NOT NULL DEFAULT pg_current_xact_id()
);
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS written_by xid8 NOT NULL DEFAULT pg_current_xact_id();

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
-- A token expires (NULL: issued before expiry existed, so it lives from created_at) and
-- can be revoked; the row is kept, as the record of the party's role.
ALTER TABLE credentials ADD COLUMN IF NOT EXISTS expires_at timestamptz;
ALTER TABLE credentials ADD COLUMN IF NOT EXISTS revoked_at timestamptz;
CREATE INDEX IF NOT EXISTS credentials_by_party ON credentials (party_id);

-- Each API process caches the actors of tokens it has seen: a revocation is announced so
-- that every process drops it at once.
CREATE OR REPLACE FUNCTION notify_credential_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('credentials_revoked', encode(OLD.token_sha256, 'hex'));
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER credential_revoked
    AFTER UPDATE OF revoked_at OR DELETE ON credentials
    FOR EACH ROW EXECUTE FUNCTION notify_credential_revoked();

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
-- No query reads (published_at DESC, ocid ASC): the index only cost every write of a tender.
DROP INDEX IF EXISTS tenders_by_date;
-- The public list's order, newest first (both keys descending, as its keyset pages read).
CREATE INDEX IF NOT EXISTS tenders_newest ON tenders (published_at DESC, ocid DESC);
CREATE INDEX IF NOT EXISTS tenders_due ON tenders (submission_deadline) WHERE status = 'active';

-- The API keeps pages of the tender list in memory (entrypoints.http.page_cache): any committed
-- change to the tenders or their buyers' names is announced, and every page is dropped.
CREATE OR REPLACE FUNCTION notify_tenders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tenders_changed', '');  -- one per transaction
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER tenders_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenders
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tenders_changed();
CREATE OR REPLACE TRIGGER agencies_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tenders_changed();

-- Public keys of suppliers and committee members. Private keys never reach the platform.
CREATE TABLE IF NOT EXISTS party_keys (
    party_id       text  PRIMARY KEY,
    role           text  NOT NULL,
    agency_id      text,
    signing_key    bytea NOT NULL,  -- Ed25519, raw
    encryption_key bytea            -- X25519, raw; committee members only
);

-- Registered agency and supplier identifiers by what they look like to a reader
-- (procurement.parties.skeleton): a look-alike of a registered one is refused.
CREATE TABLE IF NOT EXISTS party_identifiers (
    kind       text NOT NULL,  -- agency or supplier
    skeleton   text NOT NULL,
    identifier text NOT NULL,
    PRIMARY KEY (kind, skeleton)
);

-- Sealed bids: a snapshot of the "<ocid>:bids" events (bidding.ledger decides them),
-- kept by the event store in the transaction that records them. Each tender's bid log (its
-- row is the lock that orders bids, deadline changes and the closing) and its entries. Only
-- ciphertexts, digests and the committee's public keys: no key that opens a bid exists.
CREATE TABLE IF NOT EXISTS bid_logs (
    ocid       text        PRIMARY KEY,
    buyer_id   text        NOT NULL,
    deadline   timestamptz NOT NULL,
    status     text        NOT NULL,  -- open, sealed, opened, cancelled
    lots       text[]      NOT NULL,
    committee  jsonb       NOT NULL,  -- {"material": ..., "confirmations": [...]}, as recorded
    size       integer     NOT NULL DEFAULT 0,  -- entries in the log
    version    integer     NOT NULL,  -- last sequence of the "<ocid>:bids" aggregate
    root       bytea                   -- the Merkle root, once sealed
);
-- A database from before committees (version 1 sealing: an opening key) has the columns
-- public_key, threshold and members instead of committee: the column is added, the old ones
-- kept but made nullable, and each old log's committee recorded as it was (members and
-- threshold, "sealing_version": 1) so that it loads; bidding.ledger refuses to open it.
ALTER TABLE bid_logs ADD COLUMN IF NOT EXISTS committee jsonb;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
               AND table_name = 'bid_logs' AND column_name = 'public_key') THEN
        ALTER TABLE bid_logs ALTER COLUMN public_key DROP NOT NULL,
                             ALTER COLUMN threshold DROP NOT NULL,
                             ALTER COLUMN members DROP NOT NULL;
        EXECUTE $sql$
            UPDATE bid_logs SET committee = jsonb_build_object(
                'sealing_version', 1, 'threshold', threshold, 'confirmations', '[]'::jsonb,
                'members', (SELECT coalesce(jsonb_agg(officer ORDER BY officer), '[]'::jsonb)
                            FROM jsonb_object_keys(members) AS officer))
            WHERE committee IS NULL
        $sql$;
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS bid_entries (
    ocid              text    NOT NULL,
    log_index         integer NOT NULL,
    bidder_id         text    NOT NULL,
    version           integer NOT NULL,
    kind              text    NOT NULL,  -- bid or withdrawal
    bid_id            text    NOT NULL UNIQUE,
    event_id          uuid    NOT NULL,
    ciphertext_sha256 bytea,
    leaf_hash         bytea   NOT NULL,
    receipt           jsonb   NOT NULL,
    PRIMARY KEY (ocid, log_index),
    UNIQUE (ocid, bidder_id, version),
    UNIQUE (ocid, ciphertext_sha256)
);
-- A bid sent before a significant amendment waits for its bidder's reconfirmation: the
-- digest of the amended requirements (bidding.reconfirmation), NULL once it stands.
ALTER TABLE bid_entries ADD COLUMN IF NOT EXISTS awaits_requirements text;

-- What the opening produced (a snapshot of the BidOpened and BidRejected events); read by
-- the committee and by each bidder for its own bid.
CREATE TABLE IF NOT EXISTS opened_bids (
    bid_id      text PRIMARY KEY,
    ocid        text NOT NULL,
    bidder_id   text NOT NULL,
    version     integer NOT NULL,
    outcome     text NOT NULL,  -- opened or rejected
    content     jsonb,
    reason_code text,
    reason      text
);
CREATE INDEX IF NOT EXISTS opened_bids_by_tender ON opened_bids (ocid, bidder_id);

-- The public view of each bid log, fed by the stream: counts and commitments only.
CREATE TABLE IF NOT EXISTS public_bid_logs (
    ocid         text PRIMARY KEY,
    entries      integer NOT NULL DEFAULT 0,
    tree_size    integer,
    root         text,
    sealed_at    timestamptz,
    opened_at    timestamptz,
    participants text[],
    opened       integer,
    rejected     integer
);
CREATE TABLE IF NOT EXISTS public_bidders (
    ocid        text    NOT NULL,
    bidder_id   text    NOT NULL,
    has_bid     boolean NOT NULL,  -- false once withdrawn
    PRIMARY KEY (ocid, bidder_id)
);

-- Awards as the public sees them, fed by the stream from the evaluations.
CREATE TABLE IF NOT EXISTS awards (
    ocid            text        NOT NULL,
    lot_id          text        NOT NULL,
    bid_id          text        NOT NULL,
    bidder_id       text        NOT NULL,
    amount          numeric     NOT NULL,
    currency        text        NOT NULL,
    decided_at      timestamptz NOT NULL,
    standstill_ends timestamptz NOT NULL,
    status          text        NOT NULL,  -- awarded, suspended (a complaint), cancelled
    PRIMARY KEY (ocid, lot_id)
);

-- Contracts as the public sees them, fed by the stream.
CREATE TABLE IF NOT EXISTS contracts (
    contract_id text        PRIMARY KEY,
    ocid        text        NOT NULL,
    lot_id      text        NOT NULL,
    buyer_id    text        NOT NULL,
    supplier_id text        NOT NULL,
    amount      numeric     NOT NULL,
    currency    text        NOT NULL,
    status      text        NOT NULL,  -- pending, active, terminated, cancelled (OCDS)
    paid        numeric     NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS contracts_by_tender ON contracts (ocid);

-- Electronic reverse auctions: the public facts of each, when the timer must next act,
-- and every bidder's live view (rank, own price, score), of which each bidder is shown
-- only its own.
CREATE TABLE IF NOT EXISTS auctions (
    auction_id  text        PRIMARY KEY,
    ocid        text        NOT NULL,
    lot_id      text        NOT NULL,
    buyer_id    text        NOT NULL,
    status      text        NOT NULL,  -- scheduled, open, closed, cancelled
    next_due    timestamptz,           -- open at the start, then close by the rule
    version     integer     NOT NULL,
    document    jsonb       NOT NULL,
    views       jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS auctions_due ON auctions (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS auctions_by_tender ON auctions (ocid);

-- Savings: one row per lot whose award stands, with what the totals group it by
-- (publication.savings.AwardedLot); GET /savings sums them.
CREATE TABLE IF NOT EXISTS lot_savings (
    ocid     text  NOT NULL,
    lot_id   text  NOT NULL,
    buyer_id text  NOT NULL,
    currency text  NOT NULL,
    lot      jsonb NOT NULL,
    PRIMARY KEY (ocid, lot_id)
);

-- OCDS releases as published, fed by the streams (readmodels.releases): one row per release,
-- its id stable, its position the order in which the public sees them (cursors, the live
-- feed). The release is jsonb, its amounts exact (numeric); the other columns are filters.
CREATE TABLE IF NOT EXISTS releases (
    position     bigserial   NOT NULL UNIQUE,
    release_id   text        PRIMARY KEY,
    ocid         text        NOT NULL,
    date         timestamptz NOT NULL,
    tags         text[]      NOT NULL,
    buyer_id     text        NOT NULL,
    supplier_ids text[]      NOT NULL,
    cpv          text[]      NOT NULL,  -- the tender's and its items' CPV codes
    cpv_prefixes text[]      NOT NULL,  -- those codes and their prefixes, for prefix filters
    status       text        NOT NULL,  -- the tender's status (OCDS tenderStatus)
    release      jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS releases_by_ocid ON releases (ocid, position);
CREATE INDEX IF NOT EXISTS releases_by_buyer ON releases (buyer_id, position);
CREATE INDEX IF NOT EXISTS releases_by_date ON releases (date, position);
CREATE INDEX IF NOT EXISTS releases_by_supplier ON releases USING gin (supplier_ids);
CREATE INDEX IF NOT EXISTS releases_by_cpv ON releases USING gin (cpv_prefixes);
-- Releases and records are written once per change and read far more: kept uncompressed
-- in the row up to a page, PostgreSQL spends no CPU compressing them on every write
-- (pglz took about a third of the server's CPU per stored release or record).
ALTER TABLE releases SET (toast_tuple_target = 8160);

-- Each procedure's OCDS record (its releases and compiledRelease), written by
-- readmodels.releases in the transaction of its newest release, whose position it keeps.
-- JSON text as compiled, so that it is served without being parsed or reformatted.
CREATE TABLE IF NOT EXISTS records (
    ocid     text   PRIMARY KEY,
    position bigint NOT NULL,
    record   json   NOT NULL
);
ALTER TABLE records SET (toast_tuple_target = 8160);  -- as releases

-- Events a consumer could not handle (a projection, named by its topic, or the relay for a
-- record the broker refuses), set aside so that the stream behind them goes on, until the
-- operator replays them (adapters.postgres.dead_letters).
CREATE TABLE IF NOT EXISTS dead_letters (
    id          bigserial   PRIMARY KEY,
    consumer    text        NOT NULL,
    position    bigint      NOT NULL REFERENCES events (position),
    event_id    uuid        NOT NULL,
    error       text        NOT NULL,
    attempts    integer     NOT NULL DEFAULT 1,
    failed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    resolved_at timestamptz
);
-- At most one open letter per consumer and event; the open ones are counted from this
-- small index alone, however many were resolved.
CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_open
    ON dead_letters (consumer, position) WHERE resolved_at IS NULL;

-- The stream's own safeguards: the key that signs Kafka records, the records refused as
-- forged, and the broker epochs that tell workers to read again.

-- The secret behind every record's signature. Kept in PostgreSQL because every worker
-- shares it, on whichever machine it runs, and any of them may lead the relay.
CREATE TABLE IF NOT EXISTS stream_keys (
    name       text        PRIMARY KEY,
    secret     bytea       NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Kafka records that a consumer refused: no valid signature, or not the event the store
-- holds. What the operator counts; nothing of them was applied.
CREATE TABLE IF NOT EXISTS forged_records (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    "offset"     bigint      NOT NULL,
    event_id     uuid,
    reason       text        NOT NULL,
    refused_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One row per broker that lost what it had acknowledged; a new row makes the workers read
-- the republished topics from the beginning.
CREATE TABLE IF NOT EXISTS broker_epochs (
    epoch      bigserial   PRIMARY KEY,
    reason     text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One row that readiness updates: a database that takes no writes fails there.
CREATE TABLE IF NOT EXISTS readiness_heartbeat (
    only_row  boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    beaten_at timestamptz NOT NULL
);

-- The electronic catalogue (app.catalogue, readmodels.catalogue).
-- Write side, in the events' transactions: which offers sell a CPV code, so a purchase is
-- compared with every offer of its code, and each direct purchase's value, so the buyer's
-- total of the year per CPV code is known when the next one is decided.
CREATE TABLE IF NOT EXISTS catalogue_offer_index (
    offer_id text PRIMARY KEY,
    cpv      text NOT NULL
);
CREATE INDEX IF NOT EXISTS catalogue_offer_index_by_cpv ON catalogue_offer_index (cpv);
CREATE TABLE IF NOT EXISTS direct_purchase_spend (
    ocid     text    PRIMARY KEY,
    buyer_id text    NOT NULL,
    cpv      text    NOT NULL,
    year     integer NOT NULL,
    currency text    NOT NULL,
    amount   numeric NOT NULL,
    declined boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS direct_purchase_spend_by_buyer
    ON direct_purchase_spend (buyer_id, cpv, year);

-- Read models: the public catalogue, searched by words, CPV prefix, supplier and price;
-- and each direct purchase and price quotation as the public sees it.
CREATE TABLE IF NOT EXISTS catalogue_offers (
    offer_id     text        PRIMARY KEY,
    supplier_id  text        NOT NULL,
    status       text        NOT NULL,
    cpv          text        NOT NULL,
    cpv_prefixes text[]      NOT NULL,
    unit_price   numeric     NOT NULL,
    currency     text        NOT NULL,
    valid_until  date        NOT NULL,
    words        tsvector    NOT NULL,
    version      integer     NOT NULL,
    updated_at   timestamptz NOT NULL,
    document     jsonb       NOT NULL
);
CREATE INDEX IF NOT EXISTS catalogue_offers_by_words ON catalogue_offers USING gin (words);
CREATE INDEX IF NOT EXISTS catalogue_offers_by_cpv ON catalogue_offers USING gin (cpv_prefixes);
CREATE INDEX IF NOT EXISTS catalogue_offers_by_price ON catalogue_offers (currency, unit_price);
CREATE INDEX IF NOT EXISTS catalogue_offers_by_supplier ON catalogue_offers (supplier_id);
CREATE TABLE IF NOT EXISTS catalogue_procedures (
    ocid           text        PRIMARY KEY,
    procedure_type text        NOT NULL,
    buyer_id       text        NOT NULL,
    status         text        NOT NULL,
    version        integer     NOT NULL,
    updated_at     timestamptz NOT NULL,
    document       jsonb       NOT NULL
);

-- The transparency log (publication.transparency, adapters.postgres.transparency_log).
-- Every event recorded is queued for it in its own transaction, so the log's appender, which
-- takes the queue in one transaction under an advisory lock, misses none however late it
-- commits, and logs none twice. The appender drops what is never logged.
DO $$
BEGIN
    IF to_regclass('transparency_queue') IS NULL THEN
        CREATE TABLE transparency_queue (
            position bigint PRIMARY KEY REFERENCES events (position)
        );
        -- Events recorded before the log existed join it at its start.
        INSERT INTO transparency_queue (position) SELECT position FROM events;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION queue_for_transparency() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO transparency_queue (position) SELECT position FROM recorded;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER events_queued_for_transparency
    AFTER INSERT ON events REFERENCING NEW TABLE AS recorded
    FOR EACH STATEMENT EXECUTE FUNCTION queue_for_transparency();

-- The log's leaves, in order: each commits to one event's document (its SHA-256).
CREATE TABLE IF NOT EXISTS transparency_entries (
    leaf_index   bigint PRIMARY KEY CHECK (leaf_index >= 0),
    event_id     uuid   NOT NULL UNIQUE,
    aggregate_id text   NOT NULL,
    sequence     integer NOT NULL,
    type         text   NOT NULL,
    recorded_at  text   NOT NULL,  -- RFC 3339, as hashed
    event_sha256 bytea  NOT NULL,
    leaf_hash    bytea  NOT NULL
);
-- By aggregate, and by the ocid every aggregate of one procedure begins with.
CREATE INDEX IF NOT EXISTS transparency_entries_by_aggregate
    ON transparency_entries (aggregate_id text_pattern_ops, sequence);

-- Every signed tree head, one per size the log reached: the public archive.
CREATE TABLE IF NOT EXISTS transparency_heads (
    tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
    root      bytea  NOT NULL,
    timestamp text   NOT NULL,  -- RFC 3339, as signed
    key_id    text   NOT NULL,
    signature bytea  NOT NULL
);

-- Each sealed bid log's head as signed and time-stamped once: the time-stamping authority's
-- token cannot be made again with the same time, so it is kept, never rebuilt.
CREATE TABLE IF NOT EXISTS bid_log_heads (
    ocid      text        PRIMARY KEY,
    head      jsonb       NOT NULL,  -- the SignedTreeHead as served
    stored_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Notices to parties (readmodels.notices): what each event tells each party, written once
-- per event and recipient by the projections of its topic. A recipient is a supplier, an
-- officer or an agency, whose officers all read it. ``position`` is the event's, for order.
CREATE TABLE IF NOT EXISTS notices (
    event_id     uuid        NOT NULL,
    recipient_id text        NOT NULL,
    position     bigint      NOT NULL,
    ocid         text        NOT NULL,
    kind         text        NOT NULL,
    text         text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    PRIMARY KEY (event_id, recipient_id)
);
CREATE INDEX IF NOT EXISTS notices_by_recipient ON notices (recipient_id, position DESC);

-- Where a party is written to: its e-mail from its registration (fed by the parties topic).
CREATE TABLE IF NOT EXISTS party_contacts (
    party_id  text PRIMARY KEY,
    role      text NOT NULL,
    agency_id text,
    email     text NOT NULL
);
CREATE INDEX IF NOT EXISTS party_contacts_by_agency ON party_contacts (agency_id);

-- The notices' e-mail, one row per notice and address, until the mail server took it
-- (adapters.mail): retried with backoff, or failed for good with the server's answer.
CREATE TABLE IF NOT EXISTS mail_outbox (
    event_id        uuid        NOT NULL,
    recipient_id    text        NOT NULL,
    address         text        NOT NULL,
    queued_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_error      text,
    sent_at         timestamptz,
    failed_at       timestamptz,  -- refused for good: never tried again
    PRIMARY KEY (event_id, recipient_id, address),
    FOREIGN KEY (event_id, recipient_id) REFERENCES notices (event_id, recipient_id)
);
CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- Each party's private Atom feed link, as a SHA-256 digest of its secret; one per party,
-- so making a new one ends the old.
CREATE TABLE IF NOT EXISTS feed_links (
    party_id      text        PRIMARY KEY,
    role          text        NOT NULL,
    agency_id     text,
    secret_sha256 bytea       NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- How far each party has read its inbox: every notice at or before this position is read.
CREATE TABLE IF NOT EXISTS inbox_reads (
    party_id      text   PRIMARY KEY,
    read_through  bigint NOT NULL
);

-- The bytes of the tenders' procurement documents, by their SHA-256, when the document store
-- is PostgreSQL (PROCUREMENT_DOCUMENT_STORE unset). Written before the document's event; a
-- refused upload leaves bytes that no event names, which nothing serves.
CREATE TABLE IF NOT EXISTS document_contents (
    sha256  text  PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content bytea NOT NULL
);

-- The committee's shares handed in for an opening under way, each sealed (AES-256-GCM)
-- under a key derived from the platform's signing key file, which the database never holds
-- (adapters/postgres/sealed_shares.py): written with the member's hand-in, deleted with the
-- opening, so any API process may complete it. Never as many shares of a bid as open it.
CREATE TABLE IF NOT EXISTS sealed_shares (
    ocid       text  NOT NULL,
    officer_id text  NOT NULL,
    bid_id     text  NOT NULL,
    sealed     bytea NOT NULL,  -- nonce, then ciphertext and tag
    PRIMARY KEY (ocid, officer_id, bid_id)
);

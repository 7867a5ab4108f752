-- The outbox and inbox tables every Comanda service database carries.
-- One source: libs/outbox/migrations, embedded by comanda_outbox::MIGRATIONS.

-- Events waiting to be published. `id` gives the publish order: the relay claims
-- unpublished rows by ascending id, so events of one aggregate (written under the
-- aggregate's row lock) reach Kafka in the order they were committed.
-- `payload` is the envelope as the writer serialised it. JSON, not JSONB: the relay
-- sends it byte for byte and pays no JSONB-to-text conversion per row (measured on
-- the relay bench: 34k rows/s drained with JSONB, 50k with JSON); it can still be
-- queried with -> and ->>.
CREATE TABLE outbox (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       UUID        NOT NULL UNIQUE,
    topic          TEXT        NOT NULL,
    kafka_key      TEXT        NOT NULL,
    event_type     TEXT        NOT NULL,
    correlation_id UUID        NOT NULL,
    traceparent    TEXT,
    payload        JSON        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    published_at   TIMESTAMPTZ
);

-- The relay only ever scans the unpublished tail; keep that scan independent of
-- how many published rows wait for retention. No index on published_at: marking
-- rows published is the relay's hottest write, and every index makes it dearer;
-- retention walks the primary key instead (see the relay's source.rs).
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Wake the relay as soon as a transaction that wrote events commits
-- (NOTIFY is delivered at commit, and never for a rolled-back transaction).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Messages a consumer has already applied. The consumer inserts here in the same
-- transaction as its effect, so a redelivered message finds its row and is skipped.
CREATE TABLE processed_messages (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    topic        TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX processed_messages_processed_at_idx ON processed_messages (processed_at);

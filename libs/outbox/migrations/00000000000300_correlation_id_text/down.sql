-- Fails while an outbox row holds a correlation id that is not a UUID.
ALTER TABLE outbox ALTER COLUMN correlation_id TYPE UUID USING correlation_id::uuid;

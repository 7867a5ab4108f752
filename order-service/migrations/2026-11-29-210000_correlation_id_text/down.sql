-- Fails while a timeline entry holds a correlation id that is not a UUID.
ALTER TABLE order_events ALTER COLUMN correlation_id TYPE UUID USING correlation_id::uuid;

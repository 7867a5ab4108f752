-- A correlation id is the client's own when it sent one (`req-001`: 1-128 visible
-- ASCII characters, see comanda_kit::correlation), so no longer always a UUID.
ALTER TABLE order_events ALTER COLUMN correlation_id TYPE TEXT;

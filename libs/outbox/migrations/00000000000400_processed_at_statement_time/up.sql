-- When a message was applied, not when its transaction began: the inbox applies the
-- messages already waiting in one transaction (comanda_outbox::inbox, "batch"), and
-- now() would give every message of a batch the batch's start. clock_timestamp() is
-- the moment its dedupe row was written, right before its effect.
ALTER TABLE processed_messages ALTER COLUMN processed_at SET DEFAULT clock_timestamp();

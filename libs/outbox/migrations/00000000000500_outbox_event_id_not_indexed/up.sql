-- No unique index on outbox.event_id. Nothing looks a row up by its event id (the
-- relay walks `id`), and uniqueness is not the outbox's to keep: event ids are
-- UUIDv7 made once per envelope, and every consumer dedupes on (consumer, event id)
-- anyway. The index cost an entry per event written and, worse, per row marked
-- published (a mark writes a new row version, and every index gets an entry for it):
-- the relay's hottest write (README, "Benchmarks").
ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_key;

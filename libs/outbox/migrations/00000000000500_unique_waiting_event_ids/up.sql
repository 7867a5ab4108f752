-- Event ids are unique among the rows waiting to be published, not over the whole
-- table. Marking a row published is the relay's hottest write, and Postgres cannot
-- make it a HOT update (`published_at` is in outbox_unpublished_idx's predicate), so
-- every mark inserted a new entry into each full index of the table — this unique
-- index included, with its uniqueness check. A partial index on the waiting rows gets
-- no entry for a published row: the mark now costs the primary key's entry only
-- (cargo xtask bench relay, issue #12).
--
-- What it still refuses: a second append of an id that is waiting, the case a writer
-- can get wrong (appending one envelope twice in one flow). An id appended again after
-- it was published goes out again, and every consumer's processed_messages row for
-- that id makes the repeat a no-op, as for a redelivery (within the consumers'
-- retention, as for a redelivery too).
ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_key;
CREATE UNIQUE INDEX outbox_waiting_event_id_idx ON outbox (event_id) WHERE published_at IS NULL;

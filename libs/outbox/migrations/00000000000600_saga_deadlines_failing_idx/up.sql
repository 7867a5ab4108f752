-- The deadline worker looks once a second for rows whose handler is failing
-- (`failures > 0`, normally none). Without an index that look read every open row —
-- at 100 orders/s one open payment deadline per unpaid order, tens of thousands, 19 ms
-- a look (issue #15). A partial index holds only the failing rows, so the look costs
-- nothing while nothing fails, and no write of a healthy row touches it.
CREATE INDEX saga_deadlines_failing_idx ON saga_deadlines (failures) WHERE failures > 0;

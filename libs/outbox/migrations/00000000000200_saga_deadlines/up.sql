-- Durable saga deadlines: "if this step has not finished by `due_at`, fire".
-- One source: libs/outbox/migrations, embedded by comanda_outbox::MIGRATIONS, so
-- every service database carries the table (see comanda_outbox::deadline).
--
-- A step schedules its deadline in the transaction that starts it and clears it in
-- the transaction that completes it, so the row exists exactly while the step is
-- open. The deadline worker claims due rows with FOR UPDATE SKIP LOCKED, one row per
-- transaction together with the handler's effects: a deadline fires once whichever
-- instance runs it, and a crash mid-fire leaves the row due for the next one.
CREATE TABLE saga_deadlines (
    -- What kind of step, e.g. `order.stock_request`; picks the handler.
    kind         TEXT        NOT NULL,
    -- The aggregate the step belongs to (order id, account id, ...).
    aggregate_id UUID        NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    -- How many times the handler has fired for this step (e.g. requests re-sent).
    attempts     INTEGER     NOT NULL DEFAULT 0,
    -- What the handler needs and the aggregate does not keep (e.g. the request to
    -- re-send); gone with the row once the step completes.
    data         JSONB,
    -- Handler failures in a row (rolled back, retried with backoff) and the last one.
    failures     INTEGER     NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, aggregate_id)
);

-- The worker's scan: the earliest due rows first.
CREATE INDEX saga_deadlines_due_at_idx ON saga_deadlines (due_at);

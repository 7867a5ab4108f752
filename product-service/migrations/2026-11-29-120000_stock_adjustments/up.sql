-- Stock that cannot be overwritten by a stale client (issue #12 item 3).
--
-- `version` counts every change of a product row, the stock moves of reservations and
-- releases included; it is the product's ETag, so a PUT carrying `If-Match` with the
-- version the client read fails when anything changed since, instead of writing back
-- a stock count that no longer holds.
ALTER TABLE products ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Every stock change an admin makes: a delta (POST .../stock-adjustments) or a PUT
-- with If-Match that set a new count (kind 'replace', delta = new - old). Who and when
-- come from the request's token and the clock. No foreign key to products: a deleted
-- product keeps its history, like reservation_lines.
CREATE TABLE stock_adjustments (
    id          UUID        PRIMARY KEY,
    product_id  UUID        NOT NULL,
    kind        TEXT        NOT NULL CHECK (kind IN ('adjustment', 'replace')),
    delta       INTEGER     NOT NULL CHECK (delta <> 0),
    stock_after INTEGER     NOT NULL CHECK (stock_after >= 0),
    reason      TEXT        NOT NULL,
    adjusted_by UUID        NOT NULL,
    adjusted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX stock_adjustments_product_idx ON stock_adjustments (product_id, adjusted_at, id);

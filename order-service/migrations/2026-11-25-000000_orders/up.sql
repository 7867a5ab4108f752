-- Orders, their lines, their event timeline and the idempotency keys of their creation.

CREATE TABLE orders (
    id          UUID        PRIMARY KEY,
    user_id     UUID        NOT NULL,
    status      TEXT        NOT NULL
        CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED')),
    -- Set when CONFIRMED: the sum of the lines at their reserved prices.
    total_cents BIGINT      CHECK (total_cents >= 0),
    -- Set when REJECTED: the lines product-service could not reserve.
    shortfalls  JSONB,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- "My orders", newest first (ids are UUIDv7, so they sort by creation).
CREATE INDEX orders_user_id_idx ON orders (user_id, id);

CREATE TABLE order_lines (
    order_id         UUID    NOT NULL REFERENCES orders (id),
    product_id       UUID    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    -- The price and name snapshot taken when the stock was reserved.
    unit_price_cents BIGINT,
    name             TEXT,
    PRIMARY KEY (order_id, product_id)
);

-- Every event of an order, published or consumed, written in the transaction that
-- published or consumed it. `id` is the order of those transactions' writes under the
-- order's row lock, so it is the order's history in order.
CREATE TABLE order_events (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id       UUID        NOT NULL REFERENCES orders (id),
    event_id       UUID        NOT NULL UNIQUE,
    event_type     TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    correlation_id UUID        NOT NULL,
    causation_id   UUID,
    occurred_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX order_events_order_id_idx ON order_events (order_id, id);

-- `Idempotency-Key`s of order creations, per user: the request's hash and the response
-- given, written in the transaction that created the order.
CREATE TABLE idempotency_keys (
    user_id         UUID        NOT NULL,
    key             TEXT        NOT NULL,
    request_hash    TEXT        NOT NULL,
    response_status SMALLINT    NOT NULL,
    response_body   JSONB       NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

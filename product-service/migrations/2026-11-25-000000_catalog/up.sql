-- The catalogue and the stock reservations of orders.

CREATE TABLE products (
    id          UUID        PRIMARY KEY,
    sku         TEXT        NOT NULL UNIQUE,
    name        TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    category    TEXT        NOT NULL,
    price_cents BIGINT      NOT NULL CHECK (price_cents >= 0),
    -- The last line of defence: whatever the code does, stock never goes negative.
    stock       INTEGER     NOT NULL CHECK (stock >= 0),
    active      BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX products_category_idx ON products (category);

-- One row per order product-service has heard of. The primary key serialises the
-- pending and cancelled events of one order: whichever inserts first decides.
--   RESERVED  stock is held (lines below)
--   FAILED    the order asked for more than there was; nothing held
--   RELEASED  was RESERVED, then the order was cancelled; stock given back
--   CANCELLED tombstone: the cancel arrived first, so the order must never be reserved
CREATE TABLE reservations (
    order_id   UUID        PRIMARY KEY,
    status     TEXT        NOT NULL
        CHECK (status IN ('RESERVED', 'FAILED', 'RELEASED', 'CANCELLED')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What a reservation holds, with the price and name at reservation time (the snapshot
-- the order is priced with). No foreign key to products: a deleted product keeps its
-- history here.
CREATE TABLE reservation_lines (
    order_id         UUID    NOT NULL REFERENCES reservations (order_id),
    product_id       UUID    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT  NOT NULL,
    name             TEXT    NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

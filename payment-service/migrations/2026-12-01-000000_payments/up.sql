-- Payments of orders (one per order) and the provider's webhook events.
-- The outbox, processed_messages and saga_deadlines tables come from
-- comanda_outbox::MIGRATIONS, which run before this source.

CREATE TABLE payments (
    id             UUID        PRIMARY KEY,
    -- One payment per order: a second `payment.requested` for it finds this row.
    order_id       UUID        NOT NULL UNIQUE,
    -- The customer (NULL only on a tombstone: its request never came).
    user_id        UUID,
    status         TEXT        NOT NULL CHECK (status IN ('CREATING', 'PENDING', 'SUCCEEDED',
                       'FAILED', 'VOIDED', 'CANCELLED', 'REFUNDING', 'REFUNDED')),
    -- What the order asked to be charged, from `payment.requested`.
    amount_cents   BIGINT      CHECK (amount_cents > 0),
    currency       TEXT        CHECK (currency ~ '^[A-Z]{3}$'),
    -- The order's payment deadline: the session stops taking payments then. Kept so a
    -- retried create sends the very same body under the same idempotency key.
    pay_by         TIMESTAMPTZ,
    -- The provider's checkout session, once created.
    session_id     TEXT        UNIQUE,
    checkout_url   TEXT,
    expires_at     TIMESTAMPTZ,
    -- What the provider captured (a signed checkout.session.completed).
    captured_cents BIGINT,
    -- Why the charge failed (checkout.session.payment_failed, or `provider_refused`).
    failure_reason TEXT,
    -- The provider's refund, once made.
    refund_id      TEXT,
    -- The flow of the order (the correlation id of `payment.requested`, or of the
    -- `order.cancelled` that left a tombstone): every event of the payment carries it.
    correlation_id TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The request's fields come together, from `payment.requested`; only a tombstone
    -- lacks them (and, were a charge ever captured for one, its refund).
    CONSTRAINT payments_request_is_whole CHECK (
        (user_id IS NULL) = (amount_cents IS NULL)
        AND (user_id IS NULL) = (currency IS NULL)
        AND (user_id IS NULL) = (pay_by IS NULL)),
    CONSTRAINT payments_only_tombstones_lack_the_request CHECK (
        user_id IS NOT NULL OR status IN ('CANCELLED', 'REFUNDING', 'REFUNDED')),
    CONSTRAINT payments_refunded_have_a_refund CHECK ((status = 'REFUNDED') = (refund_id IS NOT NULL))
);

-- Every webhook delivery applied (or recorded as having nothing to apply), under
-- the provider's event id: a redelivery of the same event finds its row and changes
-- nothing. Written in the transaction of the payment's change and its outbox row.
CREATE TABLE webhook_events (
    provider_event_id TEXT        PRIMARY KEY,
    event_type        TEXT        NOT NULL,
    -- The payment it was about, when there is one.
    payment_id        UUID        REFERENCES payments (id),
    -- `applied` (the payment changed), `ignored` (nothing to change: late, repeated
    -- or a type not acted on) or `unknown_payment` (no payment has its reference).
    outcome           TEXT        NOT NULL CHECK (outcome IN ('applied', 'ignored', 'unknown_payment')),
    payload           JSONB       NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX webhook_events_payment_id_idx ON webhook_events (payment_id);

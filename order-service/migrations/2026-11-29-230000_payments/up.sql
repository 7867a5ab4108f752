-- Payment (issue #13): a CONFIRMED order awaits payment and becomes PAID, CANCELLED
-- (payment failed, amount mismatch, or by its customer) or EXPIRED (not paid in time).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'CONFIRMED', 'PAID', 'REJECTED', 'CANCELLED', 'EXPIRED'));

ALTER TABLE orders
    -- Set when CONFIRMED, with the total: the currency the order is charged in.
    ADD COLUMN currency            TEXT CHECK (currency ~ '^[A-Z]{3}$'),
    -- Why a CANCELLED or EXPIRED order ended there.
    ADD COLUMN cancellation_reason TEXT
        CHECK (cancellation_reason IN ('customer', 'payment_failed', 'amount_mismatch', 'expired')),
    -- payment-service's payment of the order, as its events told (never regressing:
    -- pending < failed < succeeded).
    ADD COLUMN payment_id          UUID,
    ADD COLUMN payment_status      TEXT CHECK (payment_status IN ('pending', 'succeeded', 'failed')),
    ADD COLUMN checkout_url        TEXT,
    ADD COLUMN payment_expires_at  TIMESTAMPTZ,
    -- The refund of a captured payment of a cancelled or expired order.
    ADD COLUMN refund_status       TEXT CHECK (refund_status IN ('pending', 'succeeded'));

-- Before payments, a customer's or admin's cancel was the only way to CANCELLED, and
-- every priced order was charged in euros.
UPDATE orders SET cancellation_reason = 'customer' WHERE status = 'CANCELLED';
UPDATE orders SET currency = 'EUR' WHERE total_cents IS NOT NULL;

ALTER TABLE orders ADD CONSTRAINT orders_cancelled_have_a_reason
    CHECK ((status IN ('CANCELLED', 'EXPIRED')) = (cancellation_reason IS NOT NULL));
ALTER TABLE orders ADD CONSTRAINT orders_payments_have_an_id
    CHECK ((payment_status IS NULL) = (payment_id IS NULL));

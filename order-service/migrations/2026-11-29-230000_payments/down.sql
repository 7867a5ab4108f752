ALTER TABLE orders DROP CONSTRAINT orders_payments_have_an_id;
ALTER TABLE orders DROP CONSTRAINT orders_cancelled_have_a_reason;
ALTER TABLE orders
    DROP COLUMN refund_status,
    DROP COLUMN payment_expires_at,
    DROP COLUMN checkout_url,
    DROP COLUMN payment_status,
    DROP COLUMN payment_id,
    DROP COLUMN cancellation_reason,
    DROP COLUMN currency;
-- Before payments, an order holding its stock was CONFIRMED and one that gave it back
-- CANCELLED.
UPDATE orders SET status = 'CONFIRMED' WHERE status = 'PAID';
UPDATE orders SET status = 'CANCELLED' WHERE status = 'EXPIRED';
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'));

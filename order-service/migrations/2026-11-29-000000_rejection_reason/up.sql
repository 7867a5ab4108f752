-- Why a REJECTED order was rejected: product-service could not reserve its stock
-- (`insufficient_stock`, with the shortfalls), or no stock reply came after every
-- attempt (`timeout`, see the saga deadline in comanda_outbox::deadline).
ALTER TABLE orders ADD COLUMN rejection_reason TEXT
    CHECK (rejection_reason IN ('insufficient_stock', 'timeout'));

UPDATE orders SET rejection_reason = 'insufficient_stock' WHERE status = 'REJECTED';

ALTER TABLE orders ADD CONSTRAINT orders_rejected_have_a_reason
    CHECK ((status = 'REJECTED') = (rejection_reason IS NOT NULL));

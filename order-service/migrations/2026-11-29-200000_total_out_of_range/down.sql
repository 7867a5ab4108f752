ALTER TABLE orders DROP CONSTRAINT orders_rejection_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_rejection_reason_check
    CHECK (rejection_reason IN ('insufficient_stock', 'timeout'));

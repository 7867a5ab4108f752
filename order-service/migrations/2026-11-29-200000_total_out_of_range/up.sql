-- A third rejection reason: the reserved prices make a total beyond a BIGINT of cents
-- (`total_out_of_range`); the order is REJECTED and its stock given back.
ALTER TABLE orders DROP CONSTRAINT orders_rejection_reason_check;
ALTER TABLE orders ADD CONSTRAINT orders_rejection_reason_check
    CHECK (rejection_reason IN ('insufficient_stock', 'timeout', 'total_out_of_range'));

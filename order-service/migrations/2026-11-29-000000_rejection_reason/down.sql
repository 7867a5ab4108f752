ALTER TABLE orders DROP CONSTRAINT orders_rejected_have_a_reason;
ALTER TABLE orders DROP COLUMN rejection_reason;

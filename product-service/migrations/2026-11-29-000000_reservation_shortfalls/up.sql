-- The shortfalls a FAILED reservation was answered with, kept so that a repeated
-- stock request (order-service re-sends one that went unanswered) gets the same
-- answer again. NULL for reservations decided before this column existed.
ALTER TABLE reservations ADD COLUMN shortfalls JSONB;

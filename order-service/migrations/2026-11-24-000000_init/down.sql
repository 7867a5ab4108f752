-- Nothing to undo: the initial migration of order-service creates nothing.
SELECT 1;

-- Nothing to undo: the initial migration of product-service creates nothing.
SELECT 1;

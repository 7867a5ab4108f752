-- Nothing to undo: the initial migration of auth-service creates nothing.
SELECT 1;

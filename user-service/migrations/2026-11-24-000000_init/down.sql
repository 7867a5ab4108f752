-- Nothing to undo: the initial migration of user-service creates nothing.
SELECT 1;

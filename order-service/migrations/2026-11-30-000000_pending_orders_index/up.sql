-- The saga backlog (orders still waiting for their stock decision), counted when an
-- order is placed (orders.max_pending): a count over this small index, not the table.
CREATE INDEX orders_pending_idx ON orders (id) WHERE status = 'PENDING';

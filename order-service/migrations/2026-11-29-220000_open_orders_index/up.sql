-- The cap on open orders per user counts these rows at every creation; a partial
-- index keeps that count to the user's open orders, however many closed ones they have.
CREATE INDEX orders_open_by_user_idx ON orders (user_id) WHERE status IN ('PENDING', 'CONFIRMED');

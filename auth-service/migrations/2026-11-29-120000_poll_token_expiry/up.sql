-- A registration's poll token is spent by the first read that shows the settled
-- account (ACTIVE or REJECTED); it also expires a while after registration
-- (`auth.poll_token_ttl_secs`, counted from created_at).
ALTER TABLE accounts ADD COLUMN poll_token_spent_at timestamptz;

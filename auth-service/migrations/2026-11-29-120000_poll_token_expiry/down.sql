ALTER TABLE accounts DROP COLUMN poll_token_spent_at;

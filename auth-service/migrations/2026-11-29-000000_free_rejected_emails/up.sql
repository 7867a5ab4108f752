-- A REJECTED registration frees its email: one account per email among the accounts
-- that are PENDING or ACTIVE; any number of REJECTED ones may share it (their history
-- stays). The partial index also serves the sign-in lookup, which never wants a
-- REJECTED account.
DROP INDEX accounts_email_key;
CREATE UNIQUE INDEX accounts_email_key ON accounts (email) WHERE status <> 'REJECTED';

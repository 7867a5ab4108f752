-- Fails if an email has a REJECTED account besides another one.
DROP INDEX accounts_email_key;
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);

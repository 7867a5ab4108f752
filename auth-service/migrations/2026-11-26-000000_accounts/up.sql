-- Credentials of Comanda accounts. Profile data (name, phone) belongs to user-service;
-- auth-service keeps only what sign-in needs.
CREATE TABLE accounts (
    id               uuid        PRIMARY KEY,
    -- Normalised (trimmed, lower case) by the Email newtype before it gets here.
    email            text        NOT NULL,
    -- PHC string of an argon2id hash: algorithm, parameters and salt travel with it.
    password_hash    text        NOT NULL,
    role             text        NOT NULL CHECK (role IN ('USER', 'ADMIN')),
    -- PENDING until user-service answers creating.user; only PENDING ever changes.
    status           text        NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'REJECTED')),
    rejection_reason text,
    -- sha256 of the token that lets the registrant poll a PENDING account.
    poll_token_hash  bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One account per email, whatever its status: a duplicate registration is a 409.
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);

-- Opaque refresh tokens, stored as sha256 only. A login starts a family; every
-- refresh marks its token used and adds the next one to the same family, so the
-- reuse of a used token (a stolen copy) can revoke everything issued after it.
CREATE TABLE refresh_tokens (
    id          uuid        PRIMARY KEY,
    account_id  uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    family_id   uuid        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

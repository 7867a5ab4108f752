-- User profiles. A profile's id IS the auth-service account id: the registration
-- flow creates it from `creating.user`, so the two services agree on identity
-- without sharing a database.
CREATE TABLE profiles (
    id         uuid        PRIMARY KEY,
    -- Normalised by auth-service; unique so a second account cannot claim a known email.
    email      text        NOT NULL,
    full_name  text        NOT NULL,
    phone      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX profiles_email_key ON profiles (email);

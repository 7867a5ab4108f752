//! Diesel schema of auth-service's own tables (`diesel print-schema` output).
//!
//! The outbox tables' schema lives in `comanda_outbox::schema`.

#![allow(missing_docs)]

diesel::table! {
    accounts (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        poll_token_hash -> Nullable<Bytea>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        poll_token_spent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        account_id -> Uuid,
        family_id -> Uuid,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(refresh_tokens -> accounts (account_id));

diesel::allow_tables_to_appear_in_same_query!(accounts, refresh_tokens,);

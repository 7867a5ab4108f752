//! Diesel schema of user-service's own tables (`diesel print-schema` output).
//!
//! The outbox tables' schema lives in `comanda_outbox::schema`.
#![allow(missing_docs)]

diesel::table! {
    profiles (id) {
        id -> Uuid,
        email -> Text,
        full_name -> Text,
        phone -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

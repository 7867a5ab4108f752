//! Diesel schema of payment-service's own tables (`diesel print-schema` output).
//!
//! The outbox tables' schema lives in `comanda_outbox::schema`.
#![allow(missing_docs)]

diesel::table! {
    payments (id) {
        id -> Uuid,
        order_id -> Uuid,
        user_id -> Nullable<Uuid>,
        status -> Text,
        amount_cents -> Nullable<Int8>,
        currency -> Nullable<Text>,
        pay_by -> Nullable<Timestamptz>,
        session_id -> Nullable<Text>,
        checkout_url -> Nullable<Text>,
        expires_at -> Nullable<Timestamptz>,
        captured_cents -> Nullable<Int8>,
        failure_reason -> Nullable<Text>,
        refund_id -> Nullable<Text>,
        correlation_id -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_events (provider_event_id) {
        provider_event_id -> Text,
        event_type -> Text,
        payment_id -> Nullable<Uuid>,
        outcome -> Text,
        payload -> Jsonb,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(webhook_events -> payments (payment_id));

diesel::allow_tables_to_appear_in_same_query!(payments, webhook_events);

//! Diesel schema of order-service's own tables (`diesel print-schema` output).
//!
//! The outbox tables' schema lives in `comanda_outbox::schema`.
#![allow(missing_docs)]

diesel::table! {
    idempotency_keys (user_id, key) {
        user_id -> Uuid,
        key -> Text,
        request_hash -> Text,
        response_status -> Int2,
        response_body -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    order_events (id) {
        id -> Int8,
        order_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        source -> Text,
        correlation_id -> Text,
        causation_id -> Nullable<Uuid>,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    order_lines (order_id, product_id) {
        order_id -> Uuid,
        product_id -> Uuid,
        quantity -> Int4,
        unit_price_cents -> Nullable<Int8>,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        user_id -> Uuid,
        status -> Text,
        total_cents -> Nullable<Int8>,
        shortfalls -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        rejection_reason -> Nullable<Text>,
        currency -> Nullable<Text>,
        cancellation_reason -> Nullable<Text>,
        payment_id -> Nullable<Uuid>,
        payment_status -> Nullable<Text>,
        checkout_url -> Nullable<Text>,
        payment_expires_at -> Nullable<Timestamptz>,
        refund_status -> Nullable<Text>,
    }
}

diesel::joinable!(order_events -> orders (order_id));
diesel::joinable!(order_lines -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(idempotency_keys, order_events, order_lines, orders);

//! Diesel schema of the outbox and inbox tables (see `migrations/`).
#![allow(missing_docs)]

diesel::table! {
    outbox (id) {
        id -> Int8,
        event_id -> Uuid,
        topic -> Text,
        kafka_key -> Text,
        event_type -> Text,
        correlation_id -> Uuid,
        traceparent -> Nullable<Text>,
        payload -> Json,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    processed_messages (consumer, event_id) {
        consumer -> Text,
        event_id -> Uuid,
        topic -> Text,
        processed_at -> Timestamptz,
    }
}

//! Diesel schema of the outbox, inbox and saga deadline tables (see `migrations/`).
#![allow(missing_docs)]

diesel::table! {
    outbox (id) {
        id -> Int8,
        event_id -> Uuid,
        topic -> Text,
        kafka_key -> Text,
        event_type -> Text,
        correlation_id -> Text,
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

diesel::table! {
    saga_deadlines (kind, aggregate_id) {
        kind -> Text,
        aggregate_id -> Uuid,
        due_at -> Timestamptz,
        attempts -> Int4,
        data -> Nullable<Jsonb>,
        failures -> Int4,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

//! Diesel schema of product-service's own tables (`diesel print-schema` output).
//!
//! The outbox tables' schema lives in `comanda_outbox::schema`.
#![allow(missing_docs)]

diesel::table! {
    products (id) {
        id -> Uuid,
        sku -> Text,
        name -> Text,
        description -> Text,
        category -> Text,
        price_cents -> Int8,
        stock -> Int4,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        version -> Int8,
    }
}

diesel::table! {
    reservation_lines (order_id, product_id) {
        order_id -> Uuid,
        product_id -> Uuid,
        quantity -> Int4,
        unit_price_cents -> Int8,
        name -> Text,
    }
}

diesel::table! {
    reservations (order_id) {
        order_id -> Uuid,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        shortfalls -> Nullable<Jsonb>,
    }
}

diesel::table! {
    stock_adjustments (id) {
        id -> Uuid,
        product_id -> Uuid,
        kind -> Text,
        delta -> Int4,
        stock_after -> Int4,
        reason -> Text,
        adjusted_by -> Uuid,
        adjusted_at -> Timestamptz,
    }
}

diesel::joinable!(reservation_lines -> reservations (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    products,
    reservation_lines,
    reservations,
    stock_adjustments,
);

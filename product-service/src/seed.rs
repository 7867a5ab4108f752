//! Demo products for local runs (`env = "dev"` only).
//!
//! Seeding inserts by SKU and skips SKUs that exist, so restarts add nothing and an
//! admin's edits to a seeded product survive them. Each inserted product is announced
//! with `product.upserted` in the same transaction, like any other insert.

use comanda_kit::correlation::CorrelationId;
use comanda_kit::db::Pool;
use comanda_kit::text::{MultilineText, Text};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use crate::db::products;
use crate::domain::product::{ProductBody, ProductDraft};
use crate::routes::products::{publish_upserted, CatalogTopics};

/// (sku, name, category, price in cents, stock).
const DEMO: &[(&str, &str, &str, i64, i32)] = &[
    ("PIZZA-MARGHERITA", "Pizza Margherita", "mains", 1150, 100),
    ("PASTA-CARBONARA", "Pasta Carbonara", "mains", 1290, 80),
    ("SALAD-CAESAR", "Caesar Salad", "starters", 890, 60),
    ("TIRAMISU", "Tiramisu", "desserts", 650, 40),
    ("LEMONADE", "Homemade Lemonade", "drinks", 350, 200),
];

/// Inserts the demo products that are missing; returns how many were inserted.
pub async fn demo_products(pool: &Pool, topics: &CatalogTopics) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    let correlation = CorrelationId::from(Uuid::now_v7());
    let inserted = conn
        .transaction::<_, anyhow::Error, _>(async |conn| {
            let mut inserted = 0;
            for &(sku, name, category, price_cents, stock) in DEMO {
                let draft = ProductDraft::parse(ProductBody {
                    sku: sku.into(),
                    name: Text::parse(name)?,
                    description: MultilineText::default(),
                    category: Text::parse(category)?,
                    price_cents,
                    stock: Some(stock),
                    active: true,
                })?;
                if let Some(product) = products::insert_if_new_sku(conn, &draft, stock).await? {
                    publish_upserted(conn, &topics.upserted, &product, correlation).await?;
                    inserted += 1;
                }
            }
            Ok(inserted)
        })
        .await?;
    Ok(inserted)
}

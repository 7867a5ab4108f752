//! Demo products in dev.

use product_service::settings::Settings;

use crate::helpers::{spawn_app, spawn_with, start};

#[tokio::test]
async fn dev_seeding_adds_the_demo_products_once_however_often_it_starts() {
    let env = comanda_testkit::TestEnv::new().await;
    let mut service = env.service_settings("product").await;
    service.env = comanda_kit::settings::Env::Dev;
    let settings = Settings::with_dev_auth(service);
    let app = spawn_with(env, settings.clone()).await;
    let seeded = app.count("SELECT count(*) FROM products", &[]).await;
    assert!(seeded >= 3, "seeded {seeded}");

    // A restart over the same database seeds nothing new.
    start(settings).await;
    assert_eq!(
        app.count("SELECT count(*) FROM products", &[]).await,
        seeded
    );
    let announced = app
        .count(
            "SELECT count(*) FROM outbox WHERE event_type = 'product.upserted'",
            &[],
        )
        .await;
    assert_eq!(announced, seeded);
}

#[tokio::test]
async fn outside_dev_nothing_is_seeded() {
    let app = spawn_app().await;
    assert_eq!(app.count("SELECT count(*) FROM products", &[]).await, 0);
}

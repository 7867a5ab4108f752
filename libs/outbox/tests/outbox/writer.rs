use comanda_outbox::append;
use diesel::result::Error;
use diesel_async::AsyncConnection;
use serde_json::json;

use crate::helpers::{envelope, TestDb};

#[tokio::test]
async fn an_event_appended_in_a_committed_transaction_is_in_the_outbox() {
    let db = TestDb::new().await;
    let event = envelope("order-1", json!({"total": 1200}));
    let mut conn = db.connect().await;
    conn.transaction::<_, Error, _>(async |conn| append(conn, "orders", &event).await)
        .await
        .expect("commits");

    let sql = format!(
        "SELECT count(*) AS n FROM outbox WHERE event_id = '{}' AND topic = 'orders' \
         AND kafka_key = 'order-1' AND event_type = 'test.happened' AND published_at IS NULL \
         AND payload->'data'->>'total' = '1200' AND correlation_id = '{}'",
        event.id, event.correlation_id
    );
    assert_eq!(db.count(&sql).await, 1);
}

#[tokio::test]
async fn an_event_appended_in_a_rolled_back_transaction_leaves_no_row() {
    let db = TestDb::new().await;
    let event = envelope("order-2", json!({}));
    let mut conn = db.connect().await;
    let result = conn
        .transaction::<(), Error, _>(async |conn| {
            append(conn, "orders", &event).await?;
            // The domain change fails after the event was written: both must go.
            Err(Error::RollbackTransaction)
        })
        .await;
    assert!(result.is_err());

    assert_eq!(db.count("SELECT count(*) AS n FROM outbox").await, 0);
}

/// While the first copy waits to be published (the unique index covers waiting rows;
/// a repeat after publication is a redelivery the consumers' dedupe absorbs).
#[tokio::test]
async fn the_same_event_cannot_be_appended_twice_while_it_waits() {
    let db = TestDb::new().await;
    let event = envelope("order-3", json!({}));
    let mut conn = db.connect().await;
    append(&mut conn, "orders", &event)
        .await
        .expect("first append");
    let second = append(&mut conn, "orders", &event).await;

    assert!(second.is_err(), "a duplicate event id must be refused");
    assert_eq!(db.count("SELECT count(*) AS n FROM outbox").await, 1);
}

#[tokio::test]
async fn inserting_into_the_outbox_notifies_listeners_only_on_commit() {
    let db = TestDb::new().await;
    let (client, mut connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .expect("connects");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        use futures::StreamExt;
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = message {
                let _ = tx.send(n.channel().to_owned());
            }
        }
    });
    client
        .batch_execute("LISTEN outbox")
        .await
        .expect("listens");

    let mut conn = db.connect().await;
    let rolled_back = envelope("a", json!({}));
    let _ = conn
        .transaction::<(), Error, _>(async |conn| {
            append(conn, "t", &rolled_back).await?;
            Err(Error::RollbackTransaction)
        })
        .await;
    let committed = envelope("b", json!({}));
    append(&mut conn, "t", &committed).await.expect("appends");

    let first = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("a notification arrives");
    assert_eq!(first.as_deref(), Some("outbox"));
    let extra = tokio::time::timeout(std::time::Duration::from_millis(300), rx.recv()).await;
    assert!(extra.is_err(), "the rolled-back insert must not notify");
}

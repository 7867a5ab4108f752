//! `GET /api/v1/payments/{id}` and `GET /api/v1/payments?order_id=`: the owner and
//! admins see a payment; anyone else gets a 404, never a 403, so ids cannot be probed.

use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{customer, payment_id, Payments};

#[tokio::test]
async fn the_owner_and_an_admin_read_a_payment_and_anyone_else_gets_404() {
    let payments = Payments::start().await;
    let (order_id, user_id, session_id) = payments.open_payment(1_990).await;
    let id = payment_id(&payments, order_id).await;
    let owner = customer(user_id);
    let stranger = customer(Uuid::now_v7());

    for path in [
        format!("/api/v1/payments/{id}"),
        format!("/api/v1/payments?order_id={order_id}"),
    ] {
        for token in [&owner, &payments.admin] {
            let res = payments.get(&path, token).await;
            assert_eq!(res.status().as_u16(), 200, "{path}");
            let payment: Value = res.json().await.expect("a payment");
            assert_eq!(payment["id"], id.to_string());
            assert_eq!(payment["order_id"], order_id.to_string());
            assert_eq!(payment["status"], "PENDING");
            assert_eq!(payment["amount_cents"], 1_990);
            assert_eq!(payment["currency"], "EUR");
            assert_eq!(payment["session_id"], session_id);
            assert!(payment["checkout_url"].is_string());
            assert!(payment.get("correlation_id").is_none());
        }
        let res = payments.get(&path, &stranger).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
        let problem: Value = res.json().await.expect("a problem");
        assert_eq!(problem["code"], "not_found");
        let anonymous = payments
            .app
            .client
            .get(format!("{}{path}", payments.app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(anonymous.status().as_u16(), 401, "{path}");
    }
}

#[tokio::test]
async fn reading_an_unknown_payment_or_without_an_order_id_is_a_problem() {
    let payments = Payments::start().await;
    let admin = payments.admin.clone();
    let unknown = Uuid::now_v7();
    for (path, status, code) in [
        (format!("/api/v1/payments/{unknown}"), 404, "not_found"),
        (
            format!("/api/v1/payments?order_id={unknown}"),
            404,
            "not_found",
        ),
        ("/api/v1/payments".to_owned(), 400, "invalid_query"),
        (
            "/api/v1/payments?order_id=nope".to_owned(),
            400,
            "invalid_query",
        ),
        ("/api/v1/payments/nope".to_owned(), 400, "invalid_path"),
    ] {
        let res = payments.get(&path, &admin).await;
        assert_eq!(res.status().as_u16(), status, "{path}");
        let problem: Value = res.json().await.expect("a problem");
        assert_eq!(problem["code"], code, "{path}");
    }
}

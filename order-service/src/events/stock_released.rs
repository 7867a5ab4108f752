//! `inventory.stock.released` → recorded on the order's timeline; the order is
//! already CANCELLED, so nothing else changes.

use async_trait::async_trait;
use comanda_outbox::{inbox::decode, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::StockReleased;

/// Records releases.
pub struct RecordRelease;

#[async_trait]
impl Handler for RecordRelease {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        let released: StockReleased = decode(event)?;
        super::receive(conn, released.order_id, event).await?;
        Ok(())
    }
}

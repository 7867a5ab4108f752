//! `creating.user` → create the profile and answer, in the inbox transaction.
//!
//! auth-service sends a request again (a new event id) when no answer reached it in
//! time: a profile already made for that account is answered `created` again. When
//! it gives a registration up it sends `creating.user.cancelled` on the same topic
//! and key, so it arrives after every request of the account: the profile a late
//! request made is deleted, and the email is free for the next registration.

use async_trait::async_trait;
use comanda_outbox::{append, inbox::decode, topics, Envelope, Handler, HandlerError};
use diesel_async::AsyncPgConnection;

use super::payloads::{CreatingUser, CreatingUserCancelled, CreatingUserResponse, CreationResult};
use super::SOURCE;
use crate::db::profiles::{self, NewProfile};
use crate::db::schema::profiles as profiles_table;
use crate::domain::profile::{Email, FullName, Phone};
use crate::domain::Invalid;

/// Type of the event that withdraws an account's request (on `creating.user`).
pub const CANCELLED: &str = "creating.user.cancelled";

/// Creates profiles for new accounts (and drops those of registrations given up).
pub struct CreateProfile {
    /// Full name of `creating.user.response`.
    pub response_topic: String,
}

/// A `creating.user` request whose fields parsed.
struct Draft {
    email: Email,
    full_name: FullName,
    phone: Option<Phone>,
}

impl Draft {
    fn parse(request: &CreatingUser) -> Result<Self, Invalid> {
        Ok(Self {
            email: Email::parse(&request.email)?,
            full_name: FullName::parse(&request.full_name)?,
            phone: Phone::parse_optional(request.phone.as_deref())?,
        })
    }
}

#[async_trait]
impl Handler for CreateProfile {
    async fn handle(
        &self,
        event: &Envelope,
        conn: &mut AsyncPgConnection,
    ) -> Result<(), HandlerError> {
        if event.event_type == CANCELLED {
            return withdraw(conn, event).await;
        }
        let request: CreatingUser = decode(event)?;
        let (result, reason) = match Draft::parse(&request) {
            // Answer rather than dead-letter: auth-service must not wait forever.
            Err(invalid) => (CreationResult::Error, Some(invalid.to_string())),
            Ok(draft) => create(conn, &request, &draft).await?,
        };
        tracing::info!(account_id = %request.account_id, ?result, "creating.user answered");
        let answer = CreatingUserResponse {
            account_id: request.account_id,
            result,
            reason,
        };
        let data = serde_json::to_value(&answer).map_err(HandlerError::permanent)?;
        let reply = Envelope::new(
            topics::CREATING_USER_RESPONSE,
            1,
            SOURCE,
            request.account_id.to_string(),
            data,
        )
        .caused_by(event);
        append(conn, &self.response_topic, &reply).await?;
        Ok(())
    }
}

/// Inserts the profile; a conflict is `created` again when it is this very account
/// (a re-sent request under a new event id), otherwise the email belongs to someone else.
async fn create(
    conn: &mut AsyncPgConnection,
    request: &CreatingUser,
    draft: &Draft,
) -> Result<(CreationResult, Option<String>), HandlerError> {
    let profile = NewProfile {
        id: request.account_id,
        email: draft.email.as_str(),
        full_name: draft.full_name.as_str(),
        phone: draft.phone.as_ref().map(Phone::as_str),
    };
    if profiles::insert_if_new(conn, &profile).await? {
        return Ok((CreationResult::Created, None));
    }
    let existing = profiles::find(conn, request.account_id).await?;
    if existing.is_some_and(|p| p.email == draft.email.as_str()) {
        return Ok((CreationResult::Created, None));
    }
    Ok((
        CreationResult::Exists,
        Some("a user with this email already exists".to_owned()),
    ))
}

/// Deletes the profile made for a registration auth-service gave up; nobody can have
/// used it (the account never became ACTIVE). No answer: nobody waits for one.
async fn withdraw(conn: &mut AsyncPgConnection, event: &Envelope) -> Result<(), HandlerError> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let cancelled: CreatingUserCancelled = decode(event)?;
    let deleted = diesel::delete(profiles_table::table.find(cancelled.account_id))
        .execute(conn)
        .await?;
    tracing::info!(account_id = %cancelled.account_id, deleted, "registration given up");
    Ok(())
}

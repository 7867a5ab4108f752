//! Webhooks: the events the sandbox sends and their delivery.

pub mod delivery;
pub mod event;

pub use delivery::{Dispatcher, Webhooks};
pub use event::{Event, EventData, EventType};

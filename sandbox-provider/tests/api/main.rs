//! sandbox-provider API tests: one binary; each test runs its own sandbox on port 0
//! and, where webhooks matter, its own receiver.

mod checkout;
mod helpers;
mod receiver;
mod refunds;
mod sessions;
mod void;
mod webhooks;

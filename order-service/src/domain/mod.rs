//! Order rules, free of I/O: what a valid order request is, the status machine, why an
//! order ended where it did, what its payment shows, idempotency keys, and the checked
//! total.

pub mod idempotency;
pub mod new_order;
pub mod payment;
pub mod reasons;
pub mod status;
pub mod total;

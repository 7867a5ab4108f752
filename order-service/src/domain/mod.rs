//! Order rules, free of I/O: what a valid order request is, the status machine, and
//! idempotency keys.

pub mod idempotency;
pub mod new_order;
pub mod status;

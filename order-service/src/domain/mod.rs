//! Order rules, free of I/O: what a valid order request is, the status machine,
//! idempotency keys, and the checked total.

pub mod idempotency;
pub mod new_order;
pub mod status;
pub mod total;

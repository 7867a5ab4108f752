//! Payment rules, free of I/O: the status machine and money.

pub mod money;
pub mod status;

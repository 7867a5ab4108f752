//! The catalogue's rules, free of I/O: what a valid product is, how an admin adjusts
//! its stock, and how an order's lines are matched against stock.

pub mod product;
pub mod reservation;
pub mod stock;

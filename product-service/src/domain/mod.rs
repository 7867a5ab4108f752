//! The catalogue's rules, free of I/O: what a valid product is, and how an order's
//! lines are matched against stock.

pub mod product;
pub mod reservation;

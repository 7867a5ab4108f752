//! Every Comanda process as a real process, driven through the gateway.

mod client;
mod journey;
mod payments;

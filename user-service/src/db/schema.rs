//! Diesel schema of user-service's own tables (`diesel print-schema` output).
//!
//! Empty until the first domain table: the initial migration creates none, and the outbox
//! tables' schema lives in `comanda_outbox::schema`.

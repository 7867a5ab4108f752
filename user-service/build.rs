//! `embed_migrations!` reads `migrations/` at compile time, but cargo only rebuilds a
//! crate when a file it knows about changes: without this, a new migration directory
//! would leave the old set embedded in a stale build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

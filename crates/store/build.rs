//! The migrations are embedded at compile time (`embed_migrations!`), so a new or changed
//! migration must rebuild this crate; cargo does not know that on its own.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}

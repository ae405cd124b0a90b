//! The `kubevault` binary.
fn main() {}

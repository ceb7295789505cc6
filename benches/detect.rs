//! Benchmark placeholder: replaced by the analytics work.
fn main() {}

//! nodeunits against PM2: see BENCHMARKS.md.
fn main() {}

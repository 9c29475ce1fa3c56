//! Integration tests of the settings crate (one binary, modules per topic).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod round_trip;

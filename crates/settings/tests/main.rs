//! Integration tests of the settings crate (one binary, modules per topic).

mod round_trip;

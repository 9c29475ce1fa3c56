#![doc = include_str!("../README.md")]

mod permission;

pub use permission::{default_permissions, Permission};

//! Integration tests of umapi-core through its public API. One test binary (one link) holds
//! every suite; each module is one area.

mod actions;
mod against_sandbox;
mod auth;
mod common;
mod executor;
mod pacing;
mod queries;
mod retries;
mod secrets;

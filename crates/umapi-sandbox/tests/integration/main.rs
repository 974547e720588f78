//! Integration tests of umapi-sandbox through its public API. One test binary (one link) holds
//! every suite; each module is one area.

mod actions;
mod adobe_rules;
mod auth;
mod faults_and_limits;
mod licence_quota;
mod python_compat;
mod queries;
mod support;
mod transport;

//! `umapi-sync`: the sync engine behind the `umapi` binary.
//!
//! Desired state from YAML, the current-state snapshot, the planner that turns
//! the difference into UMAPI actions, plan rendering and the apply engine.

pub mod apply;
pub mod audit;
pub mod config;
pub mod connect;
pub mod difference;
pub mod error;
pub mod expiry;
pub mod export;
pub mod model;
pub mod plan;
pub mod planner;
pub mod provenance;
pub mod render;
pub mod schema;
pub mod snapshot;
pub mod state;
pub mod why;
pub mod written;
mod yaml;

pub use error::{Diagnostic, Error};

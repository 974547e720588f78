//! `umapi-sync`: the sync engine behind the `umapi` binary.
//!
//! The pipeline, one module per stage: the desired state read from YAML
//! ([`desired`]) and the current state read from the org ([`current`]) go to the
//! [`planner`], which makes a [`plan`]; [`render`] shows it and [`apply`] carries it
//! out. Around them: the project file ([`config`]), the connection ([`connect`]),
//! the audit report, `export`, `why`, and the YAML reader the desired state and
//! the config file share (`yaml`).

pub mod apply;
pub mod audit;
pub mod config;
pub mod connect;
pub mod current;
pub mod desired;
pub mod difference;
pub mod error;
pub mod expiry;
pub mod export;
mod halves;
pub mod plan;
pub mod planner;
pub mod provenance;
pub mod render;
pub mod schema;
pub mod why;
pub mod written;
mod yaml;

pub use error::{Diagnostic, Error};

//! `umapi-core`: an async client for Adobe's User Management API (UMAPI).
//!
//! A Rust counterpart of Adobe's Python `umapi-client`: token exchange (OAuth
//! server-to-server and the legacy JWT exchange), paged queries as `Stream`s,
//! [`UserAction`]/[`UserGroupAction`] and a batching executor that respects the
//! API's limits, retries what is safe to retry and paces requests under the
//! published rate limits.
#![warn(missing_docs)]

pub mod error;
pub mod secret;
pub mod wire;

pub use error::Error;
pub use secret::Secret;

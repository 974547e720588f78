//! `umapi-core`: an async client for Adobe's User Management API (UMAPI).
//!
//! A Rust counterpart of Adobe's Python `umapi-client`: token exchange (OAuth
//! server-to-server and the legacy JWT exchange), paged queries as `Stream`s,
//! [`UserAction`]/[`UserGroupAction`] and a batching executor that respects the
//! API's limits, retries what is safe to retry and paces requests under the
//! published rate limits.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use umapi_core::{Connection, CreateOptions, IdentityType, Secret, UserAction, UsersQuery};
//!
//! # async fn demo() -> Result<(), umapi_core::Error> {
//! let conn = Connection::builder("12345@AdobeOrg")
//!     .oauth("client-id", Secret::new("client-secret"))
//!     .build()?;
//! let mut users = conn.users(UsersQuery::all());
//! while let Some(user) = users.try_next().await? {
//!     println!("{:?}", user.email);
//! }
//! let mut ada = UserAction::with_email(IdentityType::FederatedId, "ada@example.com");
//! ada.create(CreateOptions { country: Some("GB".into()), ..Default::default() })?
//!     .add_to_groups(["Engineering"])?;
//! conn.execute_single(ada, true).await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod action;
pub mod auth;
pub mod connection;
pub mod error;
pub mod executor;
pub mod query;
pub mod rate;
pub mod retry;
pub mod secret;
pub mod wire;

pub use action::{
    Action, Command, CreateOptions, ExecutionError, GroupSelection, ProfileSelection,
    UpdateOptions, UserAction, UserGroupAction,
};
pub use auth::{Credentials, JwtCredentials};
pub use connection::{Connection, ConnectionBuilder, ConnectionStats};
pub use error::Error;
pub use executor::ExecutionCounts;
pub use query::{PageStats, Paged, UsersQuery};
pub use rate::RateLimits;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use wire::{IdentityType, IfAlreadyExists};

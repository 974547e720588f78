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
//! use umapi_core::{
//!     Action, Connection, CreateOptions, Error, GroupSelection, IdentityType, IfAlreadyExists,
//!     Secret, UserAction, UserGroupAction, UsersQuery,
//! };
//!
//! # async fn demo() -> Result<(), Error> {
//! let conn = Connection::builder("12345@AdobeOrg")
//!     .oauth("client-id", Secret::new(std::env::var("UMAPI_CLIENT_SECRET").unwrap()))
//!     .build()?;                                   // no network yet: the token is fetched on first use
//!
//! // Queries are streams: pages are fetched as they are read.
//! let mut users = conn.users(UsersQuery::all().in_group("Engineering"));
//! while let Some(user) = users.try_next().await? {
//!     println!("{:?}", user.email);
//! }
//! let groups = conn.groups().collect_all().await?;
//! let jr = conn.user("jruser@example.com", None).await?;     // Ok(None) if there is no such user
//!
//! // Actions: specify the user, the commands, then submit.
//! let mut ada = UserAction::with_email(IdentityType::FederatedId, "ada@example.com");
//! ada.create(CreateOptions {
//!         first_name: Some("Ada".into()),
//!         country: Some("GB".into()),
//!         on_conflict: Some(IfAlreadyExists::Update),
//!         ..Default::default()
//!     })?
//!     .add_to_groups(["Engineering", "All Apps - Engineering"])?
//!     .remove_from_groups(GroupSelection::Some(vec!["Interns".into()]))?;
//! let mut eng = UserGroupAction::new("Engineering")?;
//! eng.create(Some("Everyone who ships code".into()), IfAlreadyExists::Ignore)?;
//!
//! match conn.execute_multiple([Action::from(ada.clone()), Action::from(eng)], true).await {
//!     Ok(counts) => println!("sent {} actions, {} succeeded", counts.sent, counts.succeeded),
//!     Err(Error::Batch { .. }) => {
//!         for failure in ada.execution_errors() {
//!             println!("failed: {failure}");   // target, server code and message, failed command
//!         }
//!     }
//!     Err(other) => return Err(other),
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod action;
pub mod auth;
pub mod connection;
pub mod error;
pub mod executor;
pub mod identity;
pub mod protocol;
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
pub use identity::{UserKey, UserKeyRef};
pub use query::{PageStats, Paged, UsersQuery};
pub use rate::RateLimits;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use wire::{GroupType, IdentityType, IfAlreadyExists};

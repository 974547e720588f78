//! `umapi-sandbox`: a local server that speaks Adobe's User Management API (UMAPI) closely
//! enough that Adobe's own Python client and `umapi-core` work against it unchanged.
//!
//! It serves both IMS token endpoints, every UMAPI query with real paging, and the action
//! endpoint with UMAPI's step semantics, limits, error codes and test mode. Around that it
//! offers what rehearsal and testing need: per-client rate limits with a time scale, fault
//! injection by script or probability, counters and a request log, a JSON state file written
//! atomically, a deterministic org generator and HTTPS with a throw-away certificate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), umapi_sandbox::Error> {
//! use umapi_sandbox::{Sandbox, SandboxConfig, generate};
//! let org = generate::org(&generate::OrgSpec { users: 100, user_groups: 5, profiles: 3, seed: 1 });
//! let sandbox = Sandbox::start(SandboxConfig::default(), org).await?;
//! println!("UMAPI at {}, IMS at {}", sandbox.umapi_endpoint(), sandbox.ims_host());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod action;
mod admin;
mod app;
mod auth;
pub mod config;
mod error;
pub mod faults;
pub mod generate;
pub mod limits;
pub mod lookup;
pub mod observe;
mod server;
pub mod state;
mod tls;
mod umapi;

pub use action::{ActionLimits, ExecOptions, RequestRejected};
pub use app::{DropConnection, SharedState, router};
pub use config::{JwtConfig, RateLimitConfig, SandboxConfig};
pub use error::Error;
pub use faults::{Fault, FaultPlan, RandomFault, ScriptedFault};
pub use generate::OrgSpec;
pub use observe::{Counters, EndpointClass, RequestLogEntry};
pub use server::{Sandbox, SandboxHandle};
pub use state::OrgState;

//! How a sandbox is set up: identity of the org, credentials it accepts, paging, limits,
//! rate limits, entry shuffling and transport.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use umapi_core::Secret;

/// Configuration of one sandbox server.
///
/// `Default` gives the documented test identity: org id
/// `SANDBOX0000000000000000@AdobeOrg`, OAuth client id `sandbox-client-id`, client secret
/// `sandbox-client-secret`, UMAPI page sizes (2,000 users, 400 groups), UMAPI limits
/// (10 entries, 10 steps, 10 names per list), rate limits off, time scale 1, entry shuffling on,
/// plain HTTP on 127.0.0.1 and any free port.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The org id that paths must carry.
    pub org_id: String,
    /// The API key / client id that token requests and `x-api-key` must carry.
    pub client_id: String,
    /// The client secret that token requests must carry.
    pub client_secret: Secret,
    /// Enables the legacy JWT exchange (`/ims/exchange/jwt`).
    pub jwt: Option<JwtConfig>,
    /// How long an issued access token stays valid.
    pub token_lifetime: Duration,
    /// Users per page of the users queries.
    pub user_page_size: usize,
    /// Groups per page of the groups query.
    pub group_page_size: usize,
    /// Entries per action request.
    pub max_entries: usize,
    /// Steps per entry.
    pub max_steps: usize,
    /// Names per `add`/`remove` list.
    pub max_list_length: usize,
    /// Names per entry across its `add`/`remove` steps (`None`: no such limit); the
    /// strict reading of "a maximum of 10 memberships in one command entry".
    pub max_names_per_entry: Option<usize>,
    /// Requests per minute per client and endpoint class; `None` = unlimited.
    pub rate_limits: Option<RateLimitConfig>,
    /// How many times faster than real time the rate-limit window runs (60 = a minute lasts a second).
    pub time_scale: f64,
    /// Execute the entries of one action request in a shuffled order, so that clients
    /// cannot rely on an order that UMAPI does not promise.
    pub shuffle_entries: bool,
    /// Seed of every random choice (shuffling, probabilistic faults).
    pub seed: u64,
    /// Serve HTTPS with a freshly made certificate instead of plain HTTP.
    pub tls: bool,
    /// Where to write the certificate clients must trust (PEM); default: a file in the
    /// system temporary directory named after the port.
    pub ca_cert_path: Option<PathBuf>,
    /// Address to listen on; loopback unless deliberately changed.
    pub bind: IpAddr,
    /// Port to listen on; 0 = any free port.
    pub port: u16,
    /// Most recent requests kept in the request log.
    pub request_log_capacity: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            org_id: "SANDBOX0000000000000000@AdobeOrg".into(),
            client_id: "sandbox-client-id".into(),
            client_secret: Secret::new("sandbox-client-secret"),
            jwt: None,
            token_lifetime: Duration::from_secs(24 * 60 * 60),
            user_page_size: 2000,
            group_page_size: 400,
            max_entries: 10,
            max_steps: 10,
            max_list_length: 10,
            max_names_per_entry: None,
            rate_limits: None,
            time_scale: 1.0,
            shuffle_entries: true,
            seed: 0x5eed,
            tls: false,
            ca_cert_path: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            request_log_capacity: 10_000,
        }
    }
}

/// What the JWT exchange checks.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The technical account id expected in `sub`.
    pub technical_account_id: String,
    /// PEM of the RSA public key that verifies the RS256 signature.
    pub public_key_pem: String,
}

/// Requests per minute per client, by endpoint class (UMAPI's published limits by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Users list and single-user queries together.
    pub users_per_minute: u32,
    /// Groups queries.
    pub groups_per_minute: u32,
    /// Action requests.
    pub action_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            users_per_minute: 25,
            groups_per_minute: 5,
            action_per_minute: 10,
        }
    }
}

//! Counters and the request log, read by tests and benchmarks (in process or over HTTP).

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

/// What kind of endpoint a request reached; rate limits, faults and counters are per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointClass {
    /// `/ims/token/v2` and `/ims/exchange/jwt`.
    Token,
    /// `GET /users/{org}/{page}[/{group}]`.
    Users,
    /// `GET /organizations/{org}/users/{user}`.
    User,
    /// `GET /groups/{org}/{page}`.
    Groups,
    /// `POST /action/{org}`.
    Action,
    /// Anything else (answered 404).
    Other,
}

impl EndpointClass {
    /// Classifies a request path.
    pub fn of_path(path: &str) -> EndpointClass {
        if path.starts_with("/ims/") {
            return EndpointClass::Token;
        }
        let Some(rest) = path.strip_prefix("/v2/usermanagement/") else {
            return EndpointClass::Other;
        };
        if rest.starts_with("users/") {
            EndpointClass::Users
        } else if rest.starts_with("organizations/") {
            EndpointClass::User
        } else if rest.starts_with("groups/") {
            EndpointClass::Groups
        } else if rest.starts_with("action/") {
            EndpointClass::Action
        } else {
            EndpointClass::Other
        }
    }

    /// The name used in counters and fault rules.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointClass::Token => "token",
            EndpointClass::Users => "users",
            EndpointClass::User => "user",
            EndpointClass::Groups => "groups",
            EndpointClass::Action => "action",
            EndpointClass::Other => "other",
        }
    }
}

/// Running totals since start (or the last reset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Every request that reached a UMAPI or token endpoint.
    pub requests: u64,
    /// Requests per endpoint class (`token`, `users`, `user`, `groups`, `action`, `other`).
    pub by_endpoint: BTreeMap<String, u64>,
    /// Responses per HTTP status (dropped connections count as status 0).
    pub by_status: BTreeMap<u16, u64>,
    /// Responses per endpoint class and status.
    pub by_endpoint_status: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Action requests that were executed (not rejected before execution).
    pub action_requests: u64,
    /// Entries in executed action requests.
    pub action_entries: u64,
    /// Steps in executed action requests.
    pub action_steps: u64,
    /// Entries that failed.
    pub action_errors: u64,
    /// Action requests in test mode.
    pub test_mode_requests: u64,
    /// Requests answered 429 by the rate limiter.
    pub rate_limited: u64,
    /// Requests that met an injected fault.
    pub faults_injected: u64,
    /// Access tokens issued.
    pub tokens_issued: u64,
}

/// One request as the log records it (no credentials, no bodies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    /// 1-based sequence number.
    pub seq: u64,
    /// Milliseconds since the sandbox started.
    pub at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Endpoint class.
    pub endpoint: EndpointClass,
    /// Status returned (0 = connection dropped).
    pub status: u16,
    /// The client's `X-Request-Id`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The `x-api-key` the request carried, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The injected fault, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Time spent answering, in milliseconds.
    pub duration_ms: u64,
}

/// Counters plus a bounded log of the most recent requests.
#[derive(Debug, Default)]
pub struct Observer {
    pub(crate) counters: Counters,
    pub(crate) log: VecDeque<RequestLogEntry>,
    pub(crate) next_seq: u64,
}

impl Observer {
    pub(crate) fn record(&mut self, mut entry: RequestLogEntry, capacity: usize) {
        let c = &mut self.counters;
        c.requests += 1;
        let class = entry.endpoint.as_str().to_string();
        *c.by_endpoint.entry(class.clone()).or_default() += 1;
        *c.by_status.entry(entry.status).or_default() += 1;
        *c.by_endpoint_status
            .entry(class)
            .or_default()
            .entry(entry.status)
            .or_default() += 1;
        if entry.fault.is_some() {
            c.faults_injected += 1;
        }
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if capacity > 0 {
            if self.log.len() >= capacity {
                self.log.pop_front();
            }
            self.log.push_back(entry);
        }
    }
}

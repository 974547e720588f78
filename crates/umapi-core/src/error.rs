//! The one error type of `umapi-core`.

use std::time::Duration;

/// Everything that can go wrong talking to UMAPI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A caller-side mistake caught before anything is sent (bad email, group name, …).
    #[error("invalid argument: {0}")]
    Argument(String),

    /// The configuration of the connection is incomplete or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Token exchange failed (bad credentials, unreachable identity service, …).
    #[error("authentication failed: {message}")]
    Auth {
        /// What the identity service (or the transport) said.
        message: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
    },

    /// UMAPI refused the request (a 4xx other than 429): not retried.
    #[error("request rejected by UMAPI (HTTP {status}): {message}")]
    Request {
        /// HTTP status code.
        status: u16,
        /// The server's message or body excerpt.
        message: String,
        /// The `X-Request-Id` sent with the request.
        request_id: String,
    },

    /// UMAPI failed with a status that is not retried (500) or sent a response that could not be read.
    #[error("UMAPI server error (HTTP {status}): {message}")]
    Server {
        /// HTTP status code (0 when the body, not the status, was the problem).
        status: u16,
        /// The server's message or a description of the bad response.
        message: String,
        /// The `X-Request-Id` sent with the request.
        request_id: String,
    },

    /// Retries were exhausted on throttling, 5xx, timeouts or connection errors.
    #[error("UMAPI unavailable after {attempts} attempts over {elapsed:?}: {last}")]
    Unavailable {
        /// Attempts made (the first try included).
        attempts: u32,
        /// Time spent from the first attempt to giving up.
        elapsed: Duration,
        /// The last failure seen.
        last: String,
        /// The `X-Request-Id` sent with the request.
        request_id: String,
    },

    /// A batch of actions was sent but some of its commands failed on the server.
    /// The details are on the actions, through `execution_errors()`.
    #[error("{failed} of {sent} actions had errors")]
    Batch {
        /// Actions sent.
        sent: usize,
        /// Actions with at least one failed command.
        failed: usize,
    },

    /// Transport failure outside the retry loop (TLS setup, invalid URL, …).
    #[error("HTTP client error: {0}")]
    Http(String),
}

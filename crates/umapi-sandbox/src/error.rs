//! The sandbox's error type.

use std::path::PathBuf;

/// Everything that can go wrong when starting the sandbox or reading and writing its state.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A state file could not be read or written.
    #[error("cannot {action} state file {path}: {source}")]
    StateFile {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A state file is not valid sandbox state JSON.
    #[error(
        "state file {path} is not valid sandbox state (line {line}, column {column}): {message}; \
         write it with `GET /_sandbox/state` or `OrgState::save_atomic`"
    )]
    StateFormat {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What serde found wrong.
        message: String,
    },
    /// Another sandbox (in this process or another) holds the state file's lock.
    #[error(
        "state file {path} is in use by another sandbox (its lock file {lock} is held); \
         stop that sandbox, or give this one another state file"
    )]
    StateFileLocked {
        /// The state file.
        path: PathBuf,
        /// The lock file next to it.
        lock: PathBuf,
    },
    /// The configuration is inconsistent.
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The self-signed TLS certificate could not be made or written.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

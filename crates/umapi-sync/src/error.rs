//! The one error type of `umapi-sync`.

use crate::desired::Location;

/// One problem found in the desired state, pointing at where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where, when known.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        // Values quoted from the files are shown with their hidden characters
        // escaped, so a message cannot reorder or erase what the terminal shows.
        for (index, line) in self.message.split('\n').enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&crate::desired::escape_hidden(line))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", crate::desired::escape_hidden(hint))?;
        }
        Ok(())
    }
}

/// Everything that can go wrong loading, planning or applying.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The desired state (or config) has problems; every one found is listed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// Talking to UMAPI failed.
    #[error(transparent)]
    Api(#[from] umapi_core::Error),

    /// The client could not be set up from the connection's settings.
    #[error("{what}")]
    Connect {
        /// What was being set up.
        what: &'static str,
        /// Why it failed.
        source: umapi_core::Error,
    },

    /// The embedded sandbox could not start, or read or write its org.
    #[error("{what}")]
    Sandbox {
        /// What failed, with the file involved.
        what: String,
        /// Why.
        source: umapi_sandbox::Error,
    },

    /// A secret the connection needs is not in the environment.
    #[error(
        "the environment variable {variable} is not set; it must hold {what} \
         (secrets are never read from umapi.yaml)"
    )]
    MissingSecret {
        /// The variable to set.
        variable: &'static str,
        /// What it must hold.
        what: &'static str,
    },

    /// A JSON document (snapshot or plan) could not be read or written.
    #[error("{what}: invalid JSON: {source}")]
    Json {
        /// Which document (`snapshot`, `plan`).
        what: &'static str,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },

    /// A JSON document has a `format_version` this build does not read.
    #[error(
        "{what}: format_version {} is not supported (this build reads version {supported}); write it again with this version of umapi",
        found.map_or_else(|| "(missing)".to_string(), |v| v.to_string())
    )]
    UnsupportedFormat {
        /// Which document.
        what: &'static str,
        /// The version found, if any.
        found: Option<u64>,
        /// The version this build reads.
        supported: u32,
    },
}

//! Logs on stderr through `tracing`: `-v` sets the level, `RUST_LOG` overrides it.

use std::io::Write;

use tracing_subscriber::EnvFilter;

/// Writes log lines to stderr, lifting the progress bar out of the way while
/// one is drawn so that lines and bar do not garble each other.
struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::progress::suspended(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Installs the global subscriber. `verbose` counts `-v` flags.
pub fn init(verbose: u8, color: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives(verbose)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_ansi(color)
        .with_target(verbose >= 2)
        .try_init();
}

/// Filter directives for `-v` counts: our crates get the chosen level; the
/// HTTP and TLS libraries below stay at `warn` until `-vvvv`, as their traces
/// are noise for users.
fn directives(verbose: u8) -> String {
    let ours = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let others = if verbose >= 4 { "debug" } else { "warn" };
    format!("{others},umapi={ours},umapi_core={ours},umapi_sync={ours},umapi_sandbox={ours}")
}

//! Logs on stderr through `tracing`: `-v` sets the level, `RUST_LOG` overrides it.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `verbose` counts `-v` flags.
pub fn init(verbose: u8, color: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives(verbose)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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

//! One module per command; [`run`] dispatches.

use crate::cli::{Cli, Command};
use crate::outcome::Outcome;
use crate::printer::Printer;

/// Runs the command named on the command line.
pub async fn run(cli: Cli, printer: &Printer) -> anyhow::Result<Outcome> {
    let _ = printer;
    match cli.command {
        Command::Plan(_)
        | Command::Apply(_)
        | Command::Export(_)
        | Command::Validate
        | Command::Sandbox(_) => anyhow::bail!("not available yet in this build"),
    }
}

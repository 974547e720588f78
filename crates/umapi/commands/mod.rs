//! One module per command; [`run`] dispatches.

mod apply;
mod completions;
mod export;
mod plan;
mod report;
mod sandbox;
mod schema;
mod show;
mod validate;

use crate::cli::{Cli, Command};
use crate::outcome::Outcome;
use crate::printer::Printer;

/// Runs the command named on the command line.
pub async fn run(cli: Cli, printer: &Printer) -> anyhow::Result<Outcome> {
    let config = cli.config;
    match cli.command {
        Command::Plan(args) => plan::run(&config, args, printer).await,
        Command::Apply(args) => apply::run(&config, args, printer).await,
        Command::Export(args) => export::run(&config, args, printer).await,
        Command::Validate(_) => validate::run(&config, printer),
        Command::Sandbox(args) => sandbox::run(args, printer).await,
        Command::Show(args) => show::run(args, printer),
        Command::Report(args) => report::run(&config, args, printer).await,
        Command::Schema(args) => schema::run(args, printer),
        Command::Completions(args) => completions::completions(args, printer),
        Command::Man(args) => completions::man(args, printer),
    }
}

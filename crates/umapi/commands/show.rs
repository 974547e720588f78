//! `umapi show`: a saved plan file, rendered offline.
//!
//! Reads nothing but the plan file: no `umapi.yaml`, no credentials, no network,
//! so a CI job can post or review a plan that another job made.

use crate::cli::ShowArgs;
use crate::commands::apply::read_plan;
use crate::commands::plan::render;
use crate::outcome::Outcome;
use crate::printer::Printer;

/// Runs `show`.
pub fn run(args: ShowArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let plan = read_plan(&args.plan_file)?.plan;
    printer.result(&render(&plan, args.format, printer));
    Ok(Outcome::Success)
}

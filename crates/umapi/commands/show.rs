//! `umapi show`: a saved plan file, rendered offline.
//!
//! Reads nothing but the plan file: no `umapi.yaml`, no credentials, no network,
//! so a CI job can post or review a plan that another job made.

use std::path::Path;

use crate::cli::ShowArgs;
use crate::commands::apply::read_plan;
use crate::commands::plan::render_for;
use crate::outcome::Outcome;
use crate::printer::Printer;

/// Runs `show`. `config` (the `-c` value, never read) names the configuration in
/// the Markdown header, as `plan` does.
pub fn run(args: ShowArgs, config: &Path, printer: &Printer) -> anyhow::Result<Outcome> {
    let plan = read_plan(&args.plan_file)?.plan;
    printer.result(&render_for(&plan, args.format, config, printer));
    Ok(Outcome::Success)
}

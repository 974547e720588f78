//! The end of an apply: prints the summary and writes the `--report` file, both
//! rendered by [`umapi_sync::render`].

use std::path::Path;

use umapi_sync::apply::ApplyReport;
use umapi_sync::plan::Plan;

use crate::output_file::{self, Inputs, Output};
use crate::printer::Printer;

/// Prints the end-of-run summary on stdout.
pub fn print(plan: &Plan, report: &ApplyReport, printer: &Printer) {
    printer.result(&umapi_sync::render::apply_summary(plan, report));
}

/// Writes the `--report` JSON file (never onto one of `inputs`).
pub fn write_report(
    plan: &Plan,
    report: &ApplyReport,
    path: &Path,
    inputs: &Inputs,
) -> anyhow::Result<()> {
    let json = umapi_sync::render::apply_report_json(plan, report);
    output_file::write(path, inputs, Output::Report, |writer| {
        Ok(writer.write_all(json.as_bytes())?)
    })
}

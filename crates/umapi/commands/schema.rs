//! `umapi schema`: the JSON Schema of the state files or of `umapi.yaml`.

use crate::cli::{SchemaArgs, SchemaKind};
use crate::outcome::Outcome;
use crate::printer::Printer;

/// Runs `schema`.
pub fn run(args: SchemaArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    printer.result(&match args.kind {
        SchemaKind::State => umapi_sync::schema::state_schema_json(),
        SchemaKind::Config => umapi_sync::schema::config_schema_json(),
    });
    Ok(Outcome::Success)
}

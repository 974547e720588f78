//! The record of write-only values umapi last wrote (`write_only_cache:` in
//! umapi.yaml, `.umapi-written.json` by default): read before every plan, written
//! after every apply that sent something.

use std::io::ErrorKind;
use std::path::Path;

use umapi_sync::written::Written;

use crate::output_file::{self, Inputs, Output};
use crate::printer::Printer;

/// Reads the record. A missing file is an empty record; an unreadable or corrupt
/// one is a warning and an empty record too: without it, every declared value is
/// sent again, which costs requests but is never wrong.
pub fn read(path: &Path, printer: &Printer) -> Written {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == ErrorKind::NotFound => return Written::default(),
        Err(err) => {
            warn(printer, path, &err.to_string());
            return Written::default();
        }
    };
    match Written::from_reader(bytes.as_slice()) {
        Ok(written) => written,
        Err(err) => {
            warn(printer, path, &err.to_string());
            Written::default()
        }
    }
}

fn warn(printer: &Printer, path: &Path, problem: &str) {
    printer.info(format_args!(
        "warning: ignoring the record of write-only values `{}` ({problem}); every declared \
         group description and profile link is sent again, and the record is rewritten after apply",
        path.display()
    ));
}

/// Writes the record atomically.
pub fn write(path: &Path, written: &Written, inputs: &Inputs) -> anyhow::Result<()> {
    output_file::write(path, inputs, Output::WrittenRecord, |writer| {
        writer.write_all(written.to_json().as_bytes())?;
        Ok(())
    })
}

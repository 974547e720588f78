//! Errors as GitHub Actions workflow commands (`::error file=…,line=…,col=…::…`), so a
//! pull request shows each problem on the line of the state file that has it.
//!
//! The runner reads these commands from stdout. Every located problem becomes one
//! annotation; an error without a location becomes one annotation without a file.

use std::path::Path;

/// The annotations of `error`, one per line.
pub fn github(error: &anyhow::Error) -> String {
    let diagnostics = error.chain().find_map(|cause| match cause.downcast_ref() {
        Some(umapi_sync::Error::Invalid(diagnostics)) => Some(diagnostics),
        _ => None,
    });
    let mut out = String::new();
    match diagnostics {
        Some(diagnostics) => {
            for diagnostic in diagnostics {
                let mut message = diagnostic.message.clone();
                if let Some(hint) = &diagnostic.hint {
                    message.push_str("\nhint: ");
                    message.push_str(hint);
                }
                let properties = diagnostic.location.as_ref().map(|location| {
                    format!(
                        "file={},line={},col={}",
                        property(&relative(&location.file)),
                        location.line,
                        location.column
                    )
                });
                out.push_str(&command(properties, &message));
            }
        }
        None => out.push_str(&command(None, &format!("{error:#}"))),
    }
    out
}

fn command(properties: Option<String>, message: &str) -> String {
    match properties {
        Some(properties) => format!("::error {properties},title=umapi::{}\n", data(message)),
        None => format!("::error title=umapi::{}\n", data(message)),
    }
}

/// A path as GitHub resolves it: relative to the working directory (the checkout)
/// when it lies inside it.
fn relative(file: &Path) -> String {
    let inside = std::env::current_dir()
        .ok()
        .and_then(|cwd| file.strip_prefix(cwd).ok().map(Path::to_path_buf));
    let shown = inside.as_deref().unwrap_or(file);
    shown
        .to_string_lossy()
        .trim_start_matches("./")
        .replace('\\', "/")
}

/// Escapes a command's message: the runner would end it at a newline.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value, which also ends at `,` and `:`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use umapi_sync::Diagnostic;
    use umapi_sync::desired::Location;

    #[test]
    fn located_problems_become_annotations_with_escaped_text() {
        let error = anyhow::Error::new(umapi_sync::Error::Invalid(vec![
            Diagnostic {
                location: Some(Location {
                    file: "org/state/a,b:c.yaml".into(),
                    line: 3,
                    column: 7,
                }),
                message: "unknown key `grups`\n100% sure".into(),
                hint: Some("did you mean `groups`?".into()),
            },
            Diagnostic {
                location: None,
                message: "no users".into(),
                hint: None,
            },
        ]))
        .context("the state files are not valid");
        assert_eq!(
            github(&error),
            "::error file=org/state/a%2Cb%3Ac.yaml,line=3,col=7,title=umapi::unknown key `grups`%0A100%25 sure%0Ahint: did you mean `groups`?\n\
             ::error title=umapi::no users\n"
        );
    }

    #[test]
    fn other_errors_become_one_annotation() {
        let error = anyhow::anyhow!("could not reach the org").context("plan failed");
        assert_eq!(
            github(&error),
            "::error title=umapi::plan failed: could not reach the org\n"
        );
    }
}

//! Loading the desired state: state files and folders are read, checked, merged and
//! validated into one [`DesiredState`].
//!
//! Every problem found is reported, each as `file:line:column: what is wrong` with a
//! hint, so one `umapi validate` run shows all of them. A file with broken YAML or
//! misplaced keys is not checked further, and the checks across files (references,
//! duplicates) then wait until every file reads cleanly, so no message is a
//! consequence of another.

mod merge;
mod rules;
mod shape;
mod suggest;
mod tree;

use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error};
use crate::model::{DesiredState, Location, Settings, StateFile};

pub(crate) use rules::check_settings;
pub(crate) use shape::check as check_shape;
pub(crate) use tree::{Node, Step, Value, parse as parse_tree};

/// Settings written outside the state files (in `umapi.yaml`), and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalSettings {
    /// The settings, already checked.
    pub settings: Settings,
    /// Where the `settings:` key was written.
    pub location: Location,
}

/// Loads, merges and validates the state files at `paths`: each a file or a folder,
/// whose `*.yaml` and `*.yml` files (recursively, in name order) are read.
pub fn load(paths: &[PathBuf]) -> Result<DesiredState, Error> {
    load_with_settings(paths, None)
}

/// Like [`load`], with settings from `umapi.yaml`: writing settings in a state file
/// as well is then an error.
pub fn load_with_settings(
    paths: &[PathBuf],
    external: Option<&ExternalSettings>,
) -> Result<DesiredState, Error> {
    let files = state_files(paths)?;
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let bytes = std::fs::read(&file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        match String::from_utf8(bytes) {
            Ok(text) => sources.push((file, text)),
            Err(_) => {
                return Err(Error::Invalid(vec![Diagnostic {
                    location: Some(Location {
                        file,
                        line: 1,
                        column: 1,
                    }),
                    message: "the file is not UTF-8 text".to_owned(),
                    hint: Some("save it as UTF-8".to_owned()),
                }]));
            }
        }
    }
    load_sources(&sources, external)
}

/// Loads one state file given as text; `name` stands for the file in messages.
pub fn load_str(name: &str, text: &str) -> Result<DesiredState, Error> {
    load_sources(&[(PathBuf::from(name), text.to_owned())], None)
}

/// Loads state files given as `(name, text)` pairs, in that order.
pub fn load_sources(
    sources: &[(PathBuf, String)],
    external: Option<&ExternalSettings>,
) -> Result<DesiredState, Error> {
    let schema = crate::schema::state_schema();
    let mut problems = Vec::new();
    let mut parsed = Vec::with_capacity(sources.len());
    let mut unreadable = false;
    for (file, text) in sources {
        match read_one(&schema, file, text) {
            Ok(source) => {
                problems.extend(rules::check_file(&source));
                parsed.push(source);
            }
            Err(found) => {
                unreadable = true;
                problems.extend(found);
            }
        }
    }
    let state = if unreadable {
        None
    } else {
        let (state, found) = merge::merge(parsed, external);
        problems.extend(found);
        Some(state)
    };
    match state {
        Some(state) if problems.is_empty() => Ok(state),
        _ => {
            sort(&mut problems);
            Err(Error::Invalid(problems))
        }
    }
}

/// One state file, parsed, with the tree that knows where each value was written.
pub(crate) struct Source {
    pub file: PathBuf,
    pub root: Option<Node>,
    pub content: StateFile,
}

impl Source {
    /// Where the top-level key `key` was written.
    pub fn key_location(&self, key: &str) -> Location {
        match self.root.as_ref().and_then(|root| root.key_mark(key)) {
            Some(mark) => mark.in_file(&self.file),
            None => self.location(&[]),
        }
    }

    /// Where the value at `path` was written (or the nearest thing that was).
    pub fn location(&self, path: &[Step<'_>]) -> Location {
        match &self.root {
            Some(root) => root.mark_at(path).in_file(&self.file),
            None => Location {
                file: self.file.clone(),
                line: 1,
                column: 1,
            },
        }
    }
}

fn read_one(
    schema: &serde_json::Value,
    file: &Path,
    text: &str,
) -> Result<Source, Vec<Diagnostic>> {
    let root = tree::parse(file, text).map_err(|problem| vec![problem])?;
    let Some(root) = root else {
        return Ok(Source {
            file: file.to_path_buf(),
            root: None,
            content: StateFile::default(),
        });
    };
    if root.is_null() {
        return Ok(Source {
            file: file.to_path_buf(),
            root: Some(root),
            content: StateFile::default(),
        });
    }
    let found = shape::check(schema, &root, file, "a state file", None);
    if !found.is_empty() {
        return Err(found);
    }
    let content = typed_parse(file, text)?;
    Ok(Source {
        file: file.to_path_buf(),
        root: Some(root),
        content,
    })
}

/// The typed parse with serde_yaml. The shape check has passed, so this failing
/// means the two disagree; the error is still reported where serde_yaml saw it.
pub(crate) fn typed_parse<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, Vec<Diagnostic>> {
    serde_yaml::from_str(text).map_err(|error| {
        let location = error.location().map(|at| Location {
            file: file.to_path_buf(),
            line: at.line(),
            column: at.column(),
        });
        let mut message = error.to_string();
        // serde_yaml appends " at line L column C"; the location says it already.
        if let Some(cut) = message.find(" at line ") {
            message.truncate(cut);
        }
        vec![Diagnostic {
            location,
            message,
            hint: None,
        }]
    })
}

/// The files named by `paths`: files as given, folders expanded to their YAML files.
pub fn state_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    let mut visited = Vec::new();
    let mut missing = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_yaml(path, &mut files, &mut visited)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            missing.push(Diagnostic {
                location: None,
                message: format!("state path `{}` does not exist", path.display()),
                hint: Some(
                    "create it, or correct `state:` in umapi.yaml (paths there are relative \
                     to umapi.yaml)"
                        .to_owned(),
                ),
            });
        }
    }
    if missing.is_empty() {
        Ok(files)
    } else {
        Err(Error::Invalid(missing))
    }
}

/// Adds the YAML files under `folder`, in name order. Hidden entries (`.git`, editor
/// back-ups) are skipped, and a folder reached twice through symbolic links is read
/// once, so a link loop cannot recurse forever.
fn collect_yaml(
    folder: &Path,
    files: &mut Vec<PathBuf>,
    visited: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: folder.to_path_buf(),
        source,
    };
    let real = std::fs::canonicalize(folder).map_err(io)?;
    if visited.contains(&real) {
        return Ok(());
    }
    visited.push(real);
    let mut entries = std::fs::read_dir(folder)
        .map_err(io)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            collect_yaml(&entry, files, visited)?;
        } else if entry
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| matches!(extension, "yaml" | "yml"))
        {
            files.push(entry);
        }
    }
    Ok(())
}

/// Orders problems by where they are, so the output reads top to bottom.
pub(crate) fn sort(problems: &mut [Diagnostic]) {
    problems.sort_by(|a, b| match (&a.location, &b.location) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => std::cmp::Ordering::Greater,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

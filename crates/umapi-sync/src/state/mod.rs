//! Loading the desired state: state files and folders are read, checked, merged and
//! validated into one [`DesiredState`].
//!
//! Every problem found is reported, each as `file:line:column: what is wrong` with a
//! hint, so one `umapi validate` run shows all of them. A file with broken YAML or
//! misplaced keys is not checked further, and the checks across files (references,
//! duplicates) then wait until every file reads cleanly, so no message is a
//! consequence of another.

mod de;
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
    for (read, found) in read_all(&schema, sources) {
        problems.extend(found);
        match read {
            Some(source) => parsed.push(source),
            None => unreadable = true,
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

/// Reads and checks every file on its own (syntax, shape, per-file rules): in order,
/// and spread over the available cores when there are several files, since the files
/// do not depend on each other until they are merged.
fn read_all<'t>(
    schema: &serde_json::Value,
    sources: &'t [(PathBuf, String)],
) -> Vec<(Option<Source<'t>>, Vec<Diagnostic>)> {
    let check = |(file, text): &'t (PathBuf, String)| match read_one(schema, file, text) {
        Ok(source) => {
            let found = rules::check_file(&source);
            (Some(source), found)
        }
        Err(found) => (None, found),
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if sources.len() < 2 || threads < 2 {
        return sources.iter().map(check).collect();
    }
    // Contiguous shares of about equal size in bytes keep the result in file order.
    let total: usize = sources.iter().map(|(_, text)| text.len()).sum();
    let share = total.div_ceil(threads).max(1);
    let mut chunks: Vec<&'t [(PathBuf, String)]> = Vec::with_capacity(threads);
    let (mut start, mut size) = (0, 0);
    for (index, (_, text)) in sources.iter().enumerate() {
        size += text.len();
        if size >= share && chunks.len() + 1 < threads {
            chunks.push(&sources[start..=index]);
            (start, size) = (index + 1, 0);
        }
    }
    if start < sources.len() {
        chunks.push(&sources[start..]);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.iter().map(check).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// One state file, parsed.
///
/// The tree with every value's position is large (several times the typed values),
/// so it is not kept: the positions of the top-level keys and list items, which every
/// run needs (origins, duplicates), are saved, and the tree is parsed again from the
/// text only when a problem needs a deeper position.
pub(crate) struct Source<'t> {
    pub file: PathBuf,
    text: &'t str,
    /// `(top-level key, mark of its value, marks of its list items)`.
    top: Vec<(String, tree::Mark, Vec<tree::Mark>)>,
    key_marks: Vec<(String, tree::Mark)>,
    root_mark: Option<tree::Mark>,
    tree: std::cell::OnceCell<Option<Node>>,
    pub content: StateFile,
}

impl<'t> Source<'t> {
    fn new(file: &Path, text: &'t str, root: Option<&Node>, content: StateFile) -> Self {
        let mut top = Vec::new();
        let mut key_marks = Vec::new();
        if let Some(Node {
            value: Value::Mapping(entries),
            ..
        }) = root
        {
            for (key, value) in entries {
                let Some(name) = key.scalar() else { continue };
                key_marks.push((name.to_owned(), key.mark));
                let items = match &value.value {
                    Value::Sequence(items) => (0..items.len())
                        .map(|index| {
                            root.map_or(key.mark, |root| {
                                root.mark_at(&[Step::Key(name), Step::Index(index)])
                            })
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let mark = root.map_or(key.mark, |root| root.mark_at(&[Step::Key(name)]));
                top.push((name.to_owned(), mark, items));
            }
        }
        Source {
            file: file.to_path_buf(),
            text,
            top,
            key_marks,
            root_mark: root.map(|root| root.mark),
            tree: std::cell::OnceCell::new(),
            content,
        }
    }

    /// Where the top-level key `key` was written.
    pub fn key_location(&self, key: &str) -> Location {
        match self.key_marks.iter().find(|(name, _)| name == key) {
            Some((_, mark)) => mark.in_file(&self.file),
            None => self.location(&[]),
        }
    }

    /// Where the value at `path` was written (or the nearest thing that was).
    pub fn location(&self, path: &[Step<'_>]) -> Location {
        let saved = match path {
            [] => self.root_mark,
            [Step::Key(key)] => self
                .top
                .iter()
                .find(|(name, _, _)| name == key)
                .map(|(_, mark, _)| *mark),
            [Step::Key(key), Step::Index(index)] => self
                .top
                .iter()
                .find(|(name, _, _)| name == key)
                .and_then(|(_, _, items)| items.get(*index).copied()),
            _ => None,
        };
        if let Some(mark) = saved {
            return mark.in_file(&self.file);
        }
        let tree = self
            .tree
            .get_or_init(|| tree::parse(&self.file, self.text).ok().flatten());
        match tree {
            Some(root) => root.mark_at(path).in_file(&self.file),
            None => Location {
                file: self.file.clone(),
                line: 1,
                column: 1,
            },
        }
    }
}

/// Next line, line separator and paragraph separator: line breaks in YAML 1.1 only.
const YAML_1_1_BREAKS: [char; 3] = ['\u{85}', '\u{2028}', '\u{2029}'];

fn read_one<'t>(
    schema: &serde_json::Value,
    file: &Path,
    text: &'t str,
) -> Result<Source<'t>, Vec<Diagnostic>> {
    let root = tree::parse(file, text).map_err(|problem| vec![problem])?;
    let Some(root) = root else {
        return Ok(Source::new(file, text, None, StateFile::default()));
    };
    if root.is_null() {
        return Ok(Source::new(file, text, Some(&root), StateFile::default()));
    }
    let found = shape::check(schema, &root, file, "a state file", None);
    if !found.is_empty() {
        return Err(found);
    }
    // The positions worth keeping are saved, then the tree is consumed by the typed
    // conversion: its text moves into the model, so the file is parsed only once.
    let source = Source::new(file, text, Some(&root), StateFile::default());
    if text.contains(YAML_1_1_BREAKS) {
        // libyaml (YAML 1.1) reads these characters as line breaks inside text and
        // yaml-rust2 (YAML 1.2) does not; serde_yaml writes them the 1.1 way, so such
        // rare files keep being read by serde_yaml, as `umapi export` wrote them.
        drop(root);
        let content = typed_parse(file, text)?;
        return Ok(Source { content, ..source });
    }
    let content = de::from_node(root).map_err(|error| {
        // The shape check passed, so this means the two disagree; still say where.
        vec![Diagnostic {
            location: Some(error.mark.map_or_else(
                || Location {
                    file: file.to_path_buf(),
                    line: 1,
                    column: 1,
                },
                |mark| mark.in_file(file),
            )),
            message: error.message,
            hint: None,
        }]
    })?;
    Ok(Source { content, ..source })
}

/// The typed parse with serde_yaml, for documents that are not state files (the
/// config); the error is reported where serde_yaml saw it.
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

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = include_str!("../../tests/fixtures/state/valid/org.yaml");

    #[test]
    fn a_valid_file_is_checked_without_parsing_its_tree_again() {
        let schema = crate::schema::state_schema();
        let source = read_one(&schema, Path::new("org.yaml"), VALID).unwrap();
        assert!(rules::check_file(&source).is_empty());
        let (_, found) = merge::check_all(std::slice::from_ref(&source), None);
        assert!(found.is_empty(), "{found:?}");
        assert!(source.tree.get().is_none(), "no deep position was needed");
        let (state, found) = merge::merge(vec![source], None);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(state.users.len(), 4);
        assert_eq!(
            state.origin_of("engineering").unwrap().to_string(),
            "org.yaml:20:5"
        );
    }

    #[test]
    fn deep_positions_come_from_parsing_again() {
        let schema = crate::schema::state_schema();
        let source = read_one(&schema, Path::new("org.yaml"), VALID).unwrap();
        assert!(source.tree.get().is_none());
        let shallow = source.location(&[Step::Key("users"), Step::Index(1)]);
        assert_eq!((shallow.line, shallow.column), (10, 5));
        assert!(source.tree.get().is_none(), "shallow positions are saved");
        let deep = source.location(&[
            Step::Key("users"),
            Step::Index(0),
            Step::Key("groups"),
            Step::Index(1),
        ]);
        assert_eq!((deep.line, deep.column), (8, 27));
        assert!(source.tree.get().is_some());
    }
}

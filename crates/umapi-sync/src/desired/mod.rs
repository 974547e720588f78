//! The desired state: what the state files declare ([`DesiredState`] and its parts,
//! in `model`), and how the files and folders are read, checked, merged and
//! validated into it.
//!
//! Every problem found is reported, each as `file:line:column: what is wrong` with a
//! hint, so one `umapi validate` run shows all of them. A file with broken YAML or
//! misplaced keys is not checked further, and the checks across files (references,
//! duplicates) then wait until every file reads cleanly, so no message is a
//! consequence of another.

mod lines;
mod merge;
mod model;
mod plain;
mod policy;
mod rules;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Diagnostic, Error};
pub use model::{
    DesiredState, EmailDomains, Exclusions, GroupSpec, IdentityIndex, Limit, LimitName,
    LimitOverride, Limits, Line, Lines, Location, Membership, Off, Origin, Policy, ProfileSpec,
    Settings, StateFile, Target, UnlistedGroups, UnlistedUsers, UserSpec, parse_percent,
};

use crate::yaml::{self, Mark};
pub(crate) use crate::yaml::{
    Node, Step, Value, check as check_shape, parse as parse_tree, typed_parse,
};
pub(crate) use rules::{check_settings, escape_hidden};

/// Settings written outside the state files (in `umapi.yaml`), and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalSettings {
    /// The settings, already checked.
    pub settings: Settings,
    /// Where the `settings:` key was written.
    pub location: Location,
}

/// The most bytes of state files read in one load, all files together: 1 GiB, about
/// seven million users (a million users take about 150 MB). Each file is read whole
/// into memory, so a path naming the wrong file or folder must not exhaust it.
pub const MAX_STATE_BYTES: u64 = 1 << 30;

/// The most state files read in one load.
pub const MAX_STATE_FILES: usize = 100_000;

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
    let started = std::time::Instant::now();
    let files = gather(paths, true)?;
    // What each file may read, from the sizes the files say they have, in order:
    // the bound is checked in that order again once the files are read (below), so
    // the first file that passes it is the one named, as if read one by one.
    let mut said_before: u64 = 0;
    let budgets: Vec<(Arc<Path>, u64, u64)> = files
        .into_iter()
        .map(|file| {
            let left = MAX_STATE_BYTES.saturating_sub(said_before);
            let said = std::fs::metadata(&file).map_or(0, |metadata| metadata.len());
            said_before = said_before.saturating_add(said);
            (Arc::from(file), said, left)
        })
        .collect();
    let schema = crate::schema::state_schema();
    // Each file is read, parsed and checked on a worker, and its text dropped right
    // after: the texts of a large org are never all in memory at once.
    let results = yaml::map_in_shares(
        &budgets,
        |(_, said, _)| usize::try_from(*said).unwrap_or(usize::MAX),
        |(file, _, left)| read_file(&schema, file, *left),
    );
    let mut total: u64 = 0;
    let mut problems = Vec::new();
    let mut read = Vec::with_capacity(results.len());
    for ((file, _, _), result) in budgets.iter().zip(results) {
        let mut result = result?;
        if result.outcome.is_none() {
            // Passing the bound by the sizes said, the file was not read; the files
            // before it changed size since, so the bound is what they left.
            result = read_file(&schema, file, MAX_STATE_BYTES.saturating_sub(total))?;
        }
        let ReadFile {
            said,
            length,
            outcome,
        } = result;
        total += said.max(length);
        if total > MAX_STATE_BYTES {
            return Err(too_much(file));
        }
        match outcome {
            Some(Ok(parsed)) => read.push(parsed),
            Some(Err(problem)) => problems.push(problem),
            None => return Err(too_much(file)),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let parsed = started.elapsed();
    let state = finish(read, external);
    tracing::debug!(
        files = budgets.len(),
        parsed_s = parsed.as_secs_f64(),
        merged_s = (started.elapsed() - parsed).as_secs_f64(),
        "loaded the desired state"
    );
    state
}

/// A state file as read from disk by [`read_file`].
struct ReadFile {
    /// The size the file said it had.
    said: u64,
    /// The bytes read.
    length: u64,
    /// The file read and checked on its own, or why it is not UTF-8 text; `None`
    /// when it was not read, passing the bound.
    outcome: Option<Result<Checked<'static>, Diagnostic>>,
}

/// Reads `file`, at most `left` bytes (and one more, to see that there are more), then
/// parses and checks it on its own. A file whose size says it passes `left` is not
/// read at all; so a file that grows while it is read (or a device) cannot pass the
/// bound either.
fn read_file(schema: &serde_json::Value, file: &Arc<Path>, left: u64) -> Result<ReadFile, Error> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: file.to_path_buf(),
        source,
    };
    let mut opened = std::fs::File::open(file).map_err(io)?;
    // The size the file says it has is checked before anything is read.
    let said = opened.metadata().map_or(0, |metadata| metadata.len());
    let mut bytes = Vec::new();
    if said <= left {
        // Read at the size the file says it has: growing the buffer as it fills
        // would leave up to twice the file's size allocated.
        bytes.reserve_exact(usize::try_from(said).unwrap_or(0));
        (&mut opened)
            .take(left + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    let length = bytes.len() as u64;
    if said.max(length) > left {
        return Ok(ReadFile {
            said,
            length,
            outcome: None,
        });
    }
    let outcome = Some(match String::from_utf8(bytes) {
        Ok(text) => {
            let (source, found) = read_checked(schema, file, strip_bom(&text));
            Ok((source.map(Source::detached), found))
        }
        Err(error) => Err(not_utf8(
            file.to_path_buf(),
            error.as_bytes(),
            error.utf8_error(),
        )),
    });
    Ok(ReadFile {
        said,
        length,
        outcome,
    })
}

/// The text without the byte order mark editors on Windows start UTF-8 files with,
/// which YAML allows and yaml-rust2 would read as part of the first key.
fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The problem with the file that takes the state files past [`MAX_STATE_BYTES`].
fn too_much(file: &Path) -> Error {
    Error::Invalid(vec![Diagnostic {
        location: Some(Location {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
        }),
        message: format!(
            "the state files pass {} MiB with this file; umapi reads at most {} MiB of \
                 state files",
            MAX_STATE_BYTES >> 20,
            MAX_STATE_BYTES >> 20
        ),
        hint: Some(
            "a million users take about 150 MB: check that `state:` in umapi.yaml names \
                 state files and nothing else"
                .to_owned(),
        ),
    }])
}

/// The problem with a file that is not UTF-8, at the first byte that is not.
fn not_utf8(file: PathBuf, bytes: &[u8], error: std::str::Utf8Error) -> Diagnostic {
    let valid = &bytes[..error.valid_up_to()];
    let line_start = valid
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |at| at + 1);
    let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
    // Columns count characters, as in every other message.
    let column =
        std::str::from_utf8(&valid[line_start..]).map_or(1, |text| text.chars().count() + 1);
    let bad = bytes
        .get(error.valid_up_to())
        .map_or_else(String::new, |byte| format!(" (byte 0x{byte:02X})"));
    Diagnostic {
        location: Some(Location { file, line, column }),
        message: format!("the file is not UTF-8 text: the character here{bad} is not UTF-8"),
        hint: Some(
            "save it as UTF-8 (files from spreadsheets or older editors may be Latin-1 or \
             UTF-16)"
                .to_owned(),
        ),
    }
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
    let files: Vec<(Arc<Path>, &str)> = sources
        .iter()
        .map(|(file, text)| (Arc::from(file.as_path()), text.as_str()))
        .collect();
    // The files do not depend on each other until they are merged: they are read
    // spread over the available cores.
    let read = yaml::map_in_shares(
        &files,
        |(_, text)| text.len(),
        |(file, text)| read_checked(&schema, file, text),
    );
    finish(read, external)
}

/// A file read and checked on its own (syntax, shape, per-file rules): its source
/// when it could be read, and the problems found.
type Checked<'t> = (Option<Source<'t>>, Vec<Diagnostic>);

fn read_checked<'t>(schema: &serde_json::Value, file: &Arc<Path>, text: &'t str) -> Checked<'t> {
    match read_one(schema, file, text) {
        Ok(source) => {
            let found = rules::check_file(&source);
            (Some(source), found)
        }
        Err(found) => (None, found),
    }
}

/// Merges the files read and checked on their own, and checks them together.
fn finish(
    read: Vec<Checked<'_>>,
    external: Option<&ExternalSettings>,
) -> Result<DesiredState, Error> {
    let mut problems = Vec::new();
    let mut parsed = Vec::with_capacity(read.len());
    let mut unreadable = false;
    for (read, found) in read {
        problems.extend(found);
        match read {
            Some(source) => parsed.push(source),
            None => unreadable = true,
        }
    }
    // The files that parsed are checked together even when others did not: every
    // problem is reported in one run, those that need the broken files excepted.
    let (state, found) = merge::merge(parsed, external, !unreadable);
    problems.extend(found);
    let state = (!unreadable).then_some(state);
    // The policy speaks about a state that keeps every other rule.
    if let Some(state) = &state
        && problems.is_empty()
    {
        problems.extend(policy::check(state));
    }
    match state {
        Some(state) if problems.is_empty() => Ok(state),
        _ => {
            sort(&mut problems);
            Err(Error::Invalid(problems))
        }
    }
}

/// One state file, parsed.
///
/// The tree with every value's position is large (several times the typed values),
/// so it is not kept: the positions of the top-level keys and list items, which every
/// run needs (origins, duplicates), are saved, and the tree is parsed again from the
/// text only when a problem needs a deeper position: from the text kept, or, for
/// a file read from disk (whose text is not kept), from the file read again.
pub(crate) struct Source<'t> {
    pub file: Arc<Path>,
    /// The text, when it is kept; else the file is read again.
    text: Option<&'t str>,
    /// The text's length, which the file read again must have.
    length: usize,
    /// `(top-level key, mark of its value, marks of its list items)`.
    top: Vec<(String, Mark, Vec<Mark>)>,
    key_marks: Vec<(String, Mark)>,
    root_mark: Option<Mark>,
    tree: std::cell::OnceCell<Option<Node>>,
    pub content: StateFile,
}

impl<'t> Source<'t> {
    /// `streamed` holds the positions of the items of the lists that were handed out
    /// while parsing (and so are missing from `root`).
    fn new(
        file: &Arc<Path>,
        text: &'t str,
        root: Option<&Node>,
        content: StateFile,
        mut streamed: Vec<(&str, Vec<Mark>)>,
    ) -> Self {
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
                let handed_out = streamed.iter().position(|(list, _)| *list == name);
                let items = match (&value.value, handed_out) {
                    (_, Some(at)) => streamed.swap_remove(at).1,
                    (Value::Sequence(items), None) => (0..items.len())
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
            file: Arc::clone(file),
            text: Some(text),
            length: text.len(),
            top,
            key_marks,
            root_mark: root.map(|root| root.mark),
            tree: std::cell::OnceCell::new(),
            content,
        }
    }

    /// The source without its text: deep positions then come from the file, read
    /// again. A tree parsed already is dropped with the text.
    fn detached(self) -> Source<'static> {
        Source {
            file: self.file,
            text: None,
            length: self.length,
            top: self.top,
            key_marks: self.key_marks,
            root_mark: self.root_mark,
            tree: std::cell::OnceCell::new(),
            content: self.content,
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
        if let Some(mark) = self.saved_mark(path) {
            return mark.in_file(&self.file);
        }
        let tree = self.tree.get_or_init(|| match self.text {
            Some(text) => yaml::parse(&self.file, text).ok().flatten(),
            None => {
                let text = read_again(&self.file, self.length)?;
                yaml::parse(&self.file, strip_bom(&text)).ok().flatten()
            }
        });
        match tree {
            Some(root) => root.mark_at(path).in_file(&self.file),
            None => Location {
                file: self.file.to_path_buf(),
                line: 1,
                column: 1,
            },
        }
    }

    /// The position of `path` when it is saved: the root, a top-level key's value,
    /// an item of a top-level list.
    fn saved_mark(&self, path: &[Step<'_>]) -> Option<Mark> {
        match path {
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
        }
    }

    /// Where the user at `index` of this file's `users:` was declared.
    pub fn user_origin(&self, index: usize) -> Origin {
        match self.saved_mark(&[Step::Key("users"), Step::Index(index)]) {
            Some(mark) => Origin::new(Arc::clone(&self.file), mark.line, mark.column),
            None => Origin::default(),
        }
    }
}

/// The text of `file` read again for a deep position, when it is still the
/// `length` it was (without its byte order mark); a file changed since names no
/// position.
fn read_again(file: &Path, length: usize) -> Option<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(file)
        .ok()?
        .take(length as u64 + 4)
        .read_to_string(&mut text)
        .ok()?;
    (strip_bom(&text).len() == length).then_some(text)
}

/// Whether `text` holds a next line, line separator or paragraph separator (U+0085,
/// U+2028, U+2029: line breaks in YAML 1.1 only), C2 85, E2 80 A8 or E2 80 A9 in
/// UTF-8. A chunk of ASCII, as state files nearly are, is passed over in one test
/// without a branch per byte; the bytes of the others are looked at (a character
/// cut by a chunk's end is read from its first byte, in full).
fn has_yaml_1_1_break(text: &str) -> bool {
    const CHUNK: usize = 64;
    let bytes = text.as_bytes();
    let break_at = |at: usize| match bytes[at] {
        0xc2 => bytes.get(at + 1) == Some(&0x85),
        0xe2 => bytes.get(at + 1) == Some(&0x80) && matches!(bytes.get(at + 2), Some(0xa8 | 0xa9)),
        _ => false,
    };
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes.len().min(start + CHUNK);
        let ascii = bytes[start..end]
            .iter()
            .fold(true, |all, &byte| all & byte.is_ascii());
        if !ascii && (start..end).any(break_at) {
            return true;
        }
        start = end;
    }
    false
}

/// The source of a file that declares nothing: empty, or only `~`.
fn declares_nothing<'t>(file: &Arc<Path>, text: &'t str, root: Option<&Node>) -> Source<'t> {
    Source::new(file, text, root, StateFile::default(), Vec::new())
}

fn read_one<'t>(
    schema: &serde_json::Value,
    file: &Arc<Path>,
    text: &'t str,
) -> Result<Source<'t>, Vec<Diagnostic>> {
    if has_yaml_1_1_break(text) {
        return read_with_serde_yaml(schema, file, text);
    }
    // Each item of the top-level lists is checked and converted as soon as the
    // parser has read it, then dropped: the file is parsed once, and never held
    // as a whole tree.
    let (root, items) = yaml::read_streaming(file, text, &LISTS, || Items::new(schema, file))
        .map_err(|problem| vec![problem])?;
    let root = match root {
        Some(root) if !root.is_null() => root,
        nothing => return Ok(declares_nothing(file, text, nothing.as_ref())),
    };
    let mut found = items.found;
    found.extend(yaml::check(schema, &root, file, "a state file", None));
    if !found.is_empty() {
        return Err(found);
    }
    let source = Source::new(file, text, Some(&root), StateFile::default(), items.marks);
    let positions = lines::FileLines::of(&root);
    // What is left of the tree (settings, and lists written twice) is consumed too.
    let converted = yaml::from_node::<StateFile>(root);
    let (Ok(mut content), false) = (converted, items.unconvertible) else {
        // The checks passed but a value does not fit its type (a case the checks
        // do not cover, such as an empty list item): serde_yaml's own message says
        // which field, as it always has.
        return read_with_serde_yaml(schema, file, text);
    };
    positions.apply(&mut content);
    prepend(&mut content.users, items.users);
    // The users stay until every file is read: the list's slack (a quarter on
    // average) is not kept that long.
    content.users.shrink_to_fit();
    prepend(&mut content.groups, items.groups);
    prepend(&mut content.profiles, items.profiles);
    prepend(&mut content.admin_groups, items.admin_groups);
    Ok(Source { content, ..source })
}

/// The top-level lists whose items are handed out while parsing.
const LISTS: [&str; 4] = ["users", "groups", "profiles", "admin_groups"];

/// Puts the items handed out while parsing (from the first time the list was
/// written) before any that stayed in the tree.
fn prepend<T>(list: &mut Vec<T>, mut first: Vec<T>) {
    if list.is_empty() {
        *list = first;
    } else {
        first.append(list);
        *list = first;
    }
}

/// The items of the top-level lists, checked and converted one by one as the
/// parser hands them out, with their positions.
struct Items<'a> {
    schema: &'a serde_json::Value,
    file: &'a Path,
    users: Vec<UserSpec>,
    groups: Vec<GroupSpec>,
    profiles: Vec<ProfileSpec>,
    admin_groups: Vec<ProfileSpec>,
    marks: Vec<(&'static str, Vec<Mark>)>,
    found: Vec<Diagnostic>,
    /// An item passed the checks but could not be converted.
    unconvertible: bool,
    fits: yaml::Fits,
}

impl<'a> Items<'a> {
    fn new(schema: &'a serde_json::Value, file: &'a Path) -> Self {
        Items {
            schema,
            file,
            users: Vec::new(),
            groups: Vec::new(),
            profiles: Vec::new(),
            admin_groups: Vec::new(),
            marks: Vec::new(),
            found: Vec::new(),
            unconvertible: false,
            fits: yaml::Fits::default(),
        }
    }
}

impl yaml::Collector for Items<'_> {
    fn append(&mut self, mut next: Self) {
        self.users.append(&mut next.users);
        self.groups.append(&mut next.groups);
        self.profiles.append(&mut next.profiles);
        self.admin_groups.append(&mut next.admin_groups);
        for (list, mut marks) in next.marks {
            match self.marks.iter_mut().find(|(name, _)| *name == list) {
                Some((_, known)) => known.append(&mut marks),
                None => self.marks.push((list, marks)),
            }
        }
        self.found.append(&mut next.found);
        self.unconvertible |= next.unconvertible;
    }

    fn take(&mut self, list: &str, item: Node) {
        let Some(list) = LISTS.iter().copied().find(|known| *known == list) else {
            return;
        };
        match self.marks.iter_mut().find(|(name, _)| *name == list) {
            Some((_, marks)) => marks.push(item.mark),
            None => self.marks.push((list, vec![item.mark])),
        }
        let item = match list {
            "users" => match plain::user(item) {
                Ok(user) => {
                    // Nothing to report: kept unless the file will not be used.
                    if self.found.is_empty() && !self.unconvertible {
                        self.users.push(user);
                    }
                    return;
                }
                Err(item) => item,
            },
            _ => item,
        };
        let problems = yaml::check_list_item(self.schema, list, &item, self.file, &mut self.fits);
        if !problems.is_empty() || !self.found.is_empty() || self.unconvertible {
            // The file will not be used: only its problems are collected.
            self.found.extend(problems);
            return;
        }
        // Conversion drops positions: the lines plans point at are taken first.
        let converted = match list {
            "users" => {
                let lines = lines::UserLines::of(&item);
                yaml::from_node(item).map(|mut user| {
                    lines.apply(&mut user);
                    self.users.push(user);
                })
            }
            "groups" => {
                let (members, profiles) = (
                    lines::entry_lines(&item, "members"),
                    lines::entry_lines(&item, "profiles"),
                );
                yaml::from_node(item).map(|group| {
                    self.groups.push(GroupSpec {
                        member_lines: members,
                        profile_lines: profiles,
                        ..group
                    })
                })
            }
            _ => {
                let member_lines = lines::entry_lines(&item, "members");
                yaml::from_node(item).map(|profile| {
                    let profile = ProfileSpec {
                        member_lines,
                        ..profile
                    };
                    match list {
                        "profiles" => self.profiles.push(profile),
                        _ => self.admin_groups.push(profile),
                    }
                })
            }
        };
        self.unconvertible = converted.is_err();
    }
}

/// The way files with YAML 1.1 line breaks in them are read: libyaml (YAML 1.1)
/// reads these characters as line breaks inside text and yaml-rust2 (YAML 1.2) does
/// not; serde_yaml writes them the 1.1 way, so such rare files keep being read by
/// serde_yaml, as `umapi export` wrote them, with the tree for positions and checks.
fn read_with_serde_yaml<'t>(
    schema: &serde_json::Value,
    file: &Arc<Path>,
    text: &'t str,
) -> Result<Source<'t>, Vec<Diagnostic>> {
    let root = yaml::parse(file, text).map_err(|problem| vec![problem])?;
    let root = match root {
        Some(root) if !root.is_null() => root,
        nothing => return Ok(declares_nothing(file, text, nothing.as_ref())),
    };
    let found = yaml::check(schema, &root, file, "a state file", None);
    if !found.is_empty() {
        return Err(found);
    }
    let source = Source::new(file, text, Some(&root), StateFile::default(), Vec::new());
    let positions = lines::FileLines::of(&root);
    drop(root);
    let mut content = typed_parse(file, text)?;
    positions.apply(&mut content);
    Ok(Source { content, ..source })
}

/// The files named by `paths`: files as given, folders expanded to their YAML files.
///
/// A file reached twice (listed twice, or through a folder and by name, or through a
/// symbolic link) and a folder reached twice (a link loop) are errors: their users
/// would be declared twice.
pub fn state_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    gather(paths, false)
}

/// [`state_files`]; with `each_yields`, a folder without any YAML file is an error too.
fn gather(paths: &[PathBuf], each_yields: bool) -> Result<Vec<PathBuf>, Error> {
    let mut walk = Walk::default();
    let mut problems = Vec::new();
    for path in paths {
        let before = walk.files.len() + walk.problems.len();
        if path.is_dir() {
            if let Err(problem) = walk.folder(path) {
                problems.push(problem);
                continue;
            }
            if each_yields && walk.files.len() + walk.problems.len() == before {
                problems.push(Diagnostic {
                    location: None,
                    message: format!(
                        "state folder `{}` holds no YAML file (`*.yaml` or `*.yml`)",
                        path.display()
                    ),
                    hint: Some(
                        "add the state files, or remove the folder from `state:` in umapi.yaml; \
                         an empty folder is never read as \"no users\""
                            .to_owned(),
                    ),
                });
            }
        } else if path.is_file() {
            walk.file(path);
        } else if path.exists() {
            problems.push(Diagnostic {
                location: None,
                message: format!(
                    "state path `{}` is neither a file nor a folder",
                    path.display()
                ),
                hint: Some("list state files and folders of state files under `state:`".to_owned()),
            });
        } else {
            problems.push(Diagnostic {
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
    problems.append(&mut walk.problems);
    if problems.is_empty() {
        Ok(walk.files)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// The files and folders found so far, by their real paths.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    /// Real path of each file and folder read, and the path it was reached by.
    seen: std::collections::HashMap<PathBuf, PathBuf>,
    /// Files and folders reached a second time, and YAML entries that are not files.
    problems: Vec<Diagnostic>,
}

impl Walk {
    /// Whether `path` is reached for the first time; if not, the problem is noted.
    fn first_time(&mut self, path: &Path, what: &str) -> bool {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        match self.seen.get(&real) {
            None => {
                self.seen.insert(real, path.to_path_buf());
                true
            }
            Some(first) => {
                let hint = if what == "folder" {
                    "a symbolic link leads back to a folder already read (a loop), or the \
                     folder is listed twice under `state:`: remove one of the two"
                } else {
                    "list each file or folder once under `state:` in umapi.yaml, and do not \
                     link to a state file from a state folder"
                };
                self.problems.push(Diagnostic {
                    location: None,
                    message: if first == path {
                        format!("{what} `{}` is reached twice", path.display())
                    } else {
                        format!(
                            "{what} `{}` is reached twice: it is `{}`, read already",
                            path.display(),
                            first.display()
                        )
                    },
                    hint: Some(hint.to_owned()),
                });
                false
            }
        }
    }

    fn file(&mut self, path: &Path) {
        if self.first_time(path, "state file") {
            self.files.push(path.to_path_buf());
        }
    }

    /// Adds the YAML files under `folder`, in name order. Hidden entries (`.git`,
    /// editor back-ups) are skipped.
    fn folder(&mut self, folder: &Path) -> Result<(), Diagnostic> {
        let io = |error: std::io::Error| Diagnostic {
            location: None,
            message: format!(
                "state folder `{}` cannot be read: {error}",
                folder.display()
            ),
            hint: None,
        };
        if !self.first_time(folder, "folder") {
            return Ok(());
        }
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
                self.folder(&entry)?;
            } else if is_yaml(&entry) && entry.is_file() {
                self.file(&entry);
            } else if is_yaml(&entry) {
                // Reading a pipe or device would block or never end.
                self.problems.push(Diagnostic {
                    location: None,
                    message: format!(
                        "`{}` is not a regular file (a broken symbolic link, a pipe or a device)",
                        entry.display()
                    ),
                    hint: Some("remove it from the state folder".to_owned()),
                });
            }
            if self.files.len() > MAX_STATE_FILES {
                return Err(Diagnostic {
                    location: None,
                    message: format!(
                        "more than {MAX_STATE_FILES} YAML files under `{}`",
                        folder.display()
                    ),
                    hint: Some(
                        "one state file holds many users: check that `state:` in umapi.yaml \
                         names the folder of the state files"
                            .to_owned(),
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Whether `path` names a YAML file: `.yaml` or `.yml`, in any case (`USERS.YAML`).
fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml")
        })
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
        let source = read_one(&schema, &Arc::from(Path::new("org.yaml")), VALID).unwrap();
        assert!(rules::check_file(&source).is_empty());
        let (_, found) = merge::check_all(std::slice::from_ref(&source), None, true);
        assert!(found.is_empty(), "{found:?}");
        assert!(source.tree.get().is_none(), "no deep position was needed");
        let (state, found) = merge::merge(vec![source], None, true);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(state.users.len(), 4);
        assert_eq!(
            state.origin_of("engineering").unwrap().to_string(),
            "org.yaml:20:5"
        );
    }

    /// Damaged copies of every fixture: the streaming reader must report exactly
    /// what checking the whole tree reports, and read the same values as serde_yaml.
    mod agreement {
        use proptest::prelude::*;

        use super::*;

        const FIXTURES: [&str; 7] = [
            VALID,
            include_str!("../../tests/fixtures/state/errors/identities.yaml"),
            include_str!("../../tests/fixtures/state/errors/names.yaml"),
            include_str!("../../tests/fixtures/state/errors/references.yaml"),
            include_str!("../../tests/fixtures/state/errors/settings.yaml"),
            include_str!("../../tests/fixtures/state/errors/shape.yaml"),
            include_str!("../../tests/fixtures/state/errors/syntax.yaml"),
        ];

        fn damaged() -> impl Strategy<Value = String> {
            (
                0..FIXTURES.len(),
                any::<prop::sample::Index>(),
                0usize..40,
                "[ -~\n]{0,12}",
            )
                .prop_map(|(fixture, start, length, insert)| {
                    let base = FIXTURES[fixture];
                    crate::yaml::damage(base, start.index(base.len() + 1), length, &insert)
                })
        }

        fn outcome(
            read: Result<Source<'_>, Vec<Diagnostic>>,
        ) -> Result<(StateFile, Vec<Location>, Vec<Diagnostic>), Vec<Diagnostic>> {
            read.map(|source| {
                let marks = source
                    .top
                    .iter()
                    .flat_map(|(_, mark, items)| std::iter::once(mark).chain(items))
                    .map(|mark| mark.in_file(&source.file))
                    .collect();
                let found = rules::check_file(&source);
                (source.content, marks, found)
            })
            .map_err(|mut found| {
                sort(&mut found);
                found
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            #[test]
            fn streaming_reads_what_the_whole_tree_reads(text in damaged()) {
                let schema = crate::schema::state_schema();
                let file: Arc<Path> = Arc::from(Path::new("damaged.yaml"));
                let streamed = outcome(read_one(&schema, &file, &text));
                let whole = outcome(read_with_serde_yaml(&schema, &file, &text));
                // The one difference allowed: syntax that yaml-rust2 (which every
                // check and position always came from) accepts and libyaml reads
                // otherwise or refuses, such as `$` in an anchor name or `?` in a flow
                // list, was an error only because serde_yaml read the file again.
                let only_libyaml_refused = match &whole {
                    Err(found) => typed_parse::<StateFile>(&file, &text).err().as_ref() == Some(found),
                    Ok(_) => false,
                };
                if !(streamed.is_ok() && only_libyaml_refused) {
                    prop_assert_eq!(streamed, whole, "{}", text);
                }
            }
        }
    }

    #[test]
    fn a_value_that_fitted_once_does_not_excuse_the_same_text_written_otherwise() {
        // Each user's `type` and groups are checked against their alternatives once
        // per spelling: a value that fits is remembered, one that does not is
        // reported wherever it is written, and a quoted `"123"` (text) says nothing
        // about a plain `123` (a number).
        let text = "groups:\n- name: \"123\"\n- name: Staff\nusers:\n\
            - email: a@example.com\n  type: federatedID\n  groups: [Staff, \"123\"]\n\
            - email: b@example.com\n  type: robot\n  groups: [Staff, 123]\n\
            - email: c@example.com\n  type: robot\n  groups: [Staff]\n\
            - email: d@example.com\n  type: federatedID\n  groups: [Staff, 123]\n";
        let Err(Error::Invalid(problems)) = load_str("org.yaml", text) else {
            panic!("a number and an unknown type must be refused");
        };
        let at: Vec<(usize, usize)> = problems
            .iter()
            .map(|p| {
                let location = p.location.as_ref().unwrap();
                (location.line, location.column)
            })
            .collect();
        assert_eq!(at, [(9, 9), (10, 19), (12, 9), (16, 19)], "{problems:#?}");
    }

    #[test]
    fn each_user_keeps_the_file_it_was_declared_in_when_files_are_read_on_several_threads() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(
            folder.path().join("groups.yaml"),
            "groups:\n- name: Staff\n",
        )
        .unwrap();
        let mut declared = Vec::new();
        // Files of different sizes, so the workers' shares hold different numbers
        // of files.
        for file in 0..24 {
            let name = format!("users-{file:02}.yaml");
            let mut text = String::from("# users\nusers:\n");
            for user in 0..1 + file * 7 {
                let email = format!("u{file}-{user}@example.com");
                text.push_str(&format!(
                    "- email: {email}\n  country: US\n  groups: [Staff]\n"
                ));
                declared.push((email, name.clone(), 3 + user * 3));
            }
            std::fs::write(folder.path().join(&name), text).unwrap();
        }
        let state = load(&[folder.path().to_path_buf()]).unwrap();
        assert_eq!(state.users.len(), declared.len());
        for (email, name, line) in declared {
            let user = state.user(&email).unwrap();
            let origin = state.origin_of_user(user).unwrap();
            assert_eq!(origin.file, folder.path().join(&name), "{email}");
            assert_eq!((origin.line, origin.column), (line, 3), "{email}");
        }
    }

    #[test]
    fn deep_positions_of_a_file_read_from_disk_come_from_reading_it_again() {
        let schema = crate::schema::state_schema();
        let folder = tempfile::tempdir().unwrap();
        let file: Arc<Path> = Arc::from(folder.path().join("org.yaml"));
        let text = format!("\u{feff}{VALID}");
        std::fs::write(&file, &text).unwrap();
        let read = || {
            read_one(&schema, &file, strip_bom(&text))
                .unwrap()
                .detached()
        };
        let (source, changed) = (read(), read());
        drop(text);
        let deep = [
            Step::Key("users"),
            Step::Index(0),
            Step::Key("groups"),
            Step::Index(1),
        ];
        // The same position as from the text, the byte order mark left out.
        let at = source.location(&deep);
        assert_eq!((at.file.as_path(), at.line, at.column), (&*file, 8, 27));
        // A file changed since it was read gives no position inside it.
        std::fs::write(&file, "users: []\n").unwrap();
        let at = changed.location(&deep);
        assert_eq!((at.line, at.column), (1, 1));
    }

    mod breaks {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #[test]
            fn yaml_1_1_breaks_are_found_as_characters(
                text in prop::collection::vec(
                    prop_oneof![
                        16 => proptest::char::range(' ', '~'),
                        1 => prop::sample::select(vec![
                            '\u{85}', '\u{2028}', '\u{2029}', '\u{2027}', '\u{202a}', '\u{84}',
                            '\u{c5}', 'é', '\u{2080}', '\u{85a8}',
                        ]),
                        1 => any::<char>(),
                    ],
                    0..300,
                )
                .prop_map(|chars| chars.into_iter().collect::<String>()),
            ) {
                let breaks = ['\u{85}', '\u{2028}', '\u{2029}'];
                prop_assert_eq!(has_yaml_1_1_break(&text), text.contains(breaks));
            }
        }
    }

    #[test]
    fn deep_positions_come_from_parsing_again() {
        let schema = crate::schema::state_schema();
        let source = read_one(&schema, &Arc::from(Path::new("org.yaml")), VALID).unwrap();
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

//! A YAML document as a tree of nodes that remember where they were written.
//!
//! serde_yaml knows positions only for the error it stops at; checks that run after
//! the typed parse (references, duplicates, rules) need the position of every value,
//! so the loader also reads each file with yaml-rust2's marked event parser.
//!
//! What a file can make the reader build is bounded ([`MAX_DEPTH`], [`MAX_SCALAR`],
//! [`ALIAS_ALLOWANCE`] and [`ALIAS_COPIES_PER_VALUE`]), so a few hundred bytes of
//! nested aliases or brackets end in a located error instead of exhausting memory
//! or the stack: every later step (checks, conversion, dropping the tree) walks the
//! tree recursively.

use std::collections::HashMap;
use std::path::Path;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::desired::Location;
use crate::error::Diagnostic;

/// A line and column (both 1-based) inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Mark {
    pub line: usize,
    pub column: usize,
}

impl Mark {
    fn from_marker(marker: Marker) -> Self {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Mark {
            line: marker.line(),
            column: marker.col() + 1,
        }
    }

    /// The mark as a [`Location`] in `file`.
    pub fn in_file(self, file: &Path) -> Location {
        Location {
            file: file.to_path_buf(),
            line: self.line,
            column: self.column,
        }
    }
}

/// One YAML value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub mark: Mark,
    pub value: Value,
}

/// The shape of a YAML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A scalar; `quoted` is false for plain scalars, whose meaning (null, number,
    /// boolean) depends on their text.
    Scalar {
        text: String,
        quoted: bool,
    },
    Sequence(Vec<Node>),
    /// Keys in the order written (duplicates kept: the checks report them).
    Mapping(Vec<(Node, Node)>),
}

/// A step on the way from the root to a value: a mapping key or a list index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl Node {
    /// Whether this is a null (`~`, `null`, or nothing at all).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false } if is_null_text(text))
    }

    /// The scalar text, if this is a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value under `key` in a mapping (the first, if written twice).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Where the key `key` of a mapping was written.
    pub fn key_mark(&self, key: &str) -> Option<Mark> {
        match &self.value {
            Value::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(k, _)| k.mark),
            _ => None,
        }
    }

    /// The item at `index` of a sequence.
    pub fn item(&self, index: usize) -> Option<&Node> {
        match &self.value {
            Value::Sequence(items) => items.get(index),
            _ => None,
        }
    }

    /// The mark of the value at `path`, or of the deepest ancestor that exists (so a
    /// message about a value that was left out points at the object that lacks it).
    pub fn mark_at(&self, path: &[Step<'_>]) -> Mark {
        let mut node = self;
        for step in path {
            let next = match step {
                Step::Key(key) => node.get(key),
                Step::Index(index) => node.item(*index),
            };
            match next {
                // An empty value (`groups:`) has no position of its own worth showing.
                Some(next) if !(next.is_null() && next.mark == node.mark) => node = next,
                Some(next) => return next.mark,
                None => break,
            }
        }
        node.mark
    }

    /// A short description of the value's kind, for "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Sequence(_) => "a list".to_owned(),
            Value::Mapping(_) => "a mapping".to_owned(),
            Value::Scalar { .. } if self.is_null() => "nothing (null)".to_owned(),
            Value::Scalar { text, quoted } => {
                if *quoted {
                    format!("the text {text:?}")
                } else {
                    format!("`{text}`")
                }
            }
        }
    }
}

/// How deeply lists and mappings may nest. A state file needs four levels (a list of
/// users, each a mapping holding a list of groups); the checks and the conversion
/// recurse once per level.
pub(crate) const MAX_DEPTH: usize = 64;

/// The longest scalar, in bytes. Names, emails and patterns are short; a longer
/// value is a missing closing quote, or a hostile file (the "did you mean"
/// suggestions compare values pairwise).
pub(crate) const MAX_SCALAR: usize = 64 * 1024;

/// Values that aliases (`*name`) and their anchors (`&name`) may copy in a file
/// whatever its size, on top of [`ALIAS_COPIES_PER_VALUE`] per value written out:
/// aliases of aliases multiply, and ten levels of nine aliases would otherwise copy
/// billions of values from a few hundred bytes.
pub(crate) const ALIAS_ALLOWANCE: usize = 100_000;

/// Values aliases may copy per value written out in the file so far, so a large
/// file may use anchors as freely as a small one.
pub(crate) const ALIAS_COPIES_PER_VALUE: usize = 10;

/// Whether a plain scalar's text means null in YAML 1.2's core schema.
pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Parses `text` into a tree. `Ok(None)` for a file without any document (empty or
/// only comments). A syntax error or a second document is one diagnostic.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Option<Node>, Diagnostic> {
    parse_streaming(file, text, &[], &mut |_, _| {})
}

/// Like [`parse`], but each item of the top-level lists named in `lists` (the first
/// time such a key is written, in the first document) is handed to `on_item` as
/// soon as it is complete, with the list's name, and left out of the tree, whose
/// list stays empty. A large file then never exists as a whole tree: each item can
/// be checked and converted while the next is read.
pub(crate) fn parse_streaming(
    file: &Path,
    text: &str,
    lists: &[&str],
    on_item: &mut dyn FnMut(&str, Node),
) -> Result<Option<Node>, Diagnostic> {
    let mut builder = Builder {
        lists,
        on_item,
        streaming: None,
        streamed: Vec::new(),
        documents: Vec::new(),
        open: Vec::new(),
        pending_keys: Vec::new(),
        anchors: HashMap::new(),
        written: 0,
        copied: 0,
    };
    // The events are pulled one by one rather than with `Parser::load`, which
    // recurses once per nesting level (deep brackets would overflow the stack), and
    // so a bound that is crossed stops the parse at once.
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break,
            Ok((event, marker)) => builder
                .on_event(event, marker)
                .map_err(|crossed| crossed.in_file(file))?,
            // yaml-rust2 counts open brackets in a byte; libyaml would take minutes
            // to word this error for a file of brackets.
            Err(error) if error.info() == "recursion limit exceeded" => {
                let mark = Mark::from_marker(*error.marker());
                return Err(Builder::too_deep(mark).in_file(file));
            }
            Err(error) => return Err(syntax_error(file, text, &error)),
        }
    }
    let mut documents = builder.documents.into_iter();
    let first = documents.next();
    if let Some(second) = documents.next() {
        return Err(Diagnostic {
            location: Some(second.mark.in_file(file)),
            message: "a second YAML document (after `---`) in one file".to_owned(),
            hint: Some("put each document in a file of its own".to_owned()),
        });
    }
    Ok(first)
}

/// A syntax error, worded by libyaml when it can.
fn syntax_error(file: &Path, text: &str, error: &yaml_rust2::ScanError) -> Diagnostic {
    // libyaml (inside serde_yaml) words syntax errors better, naming where an
    // unclosed bracket or quote was opened; yaml-rust2's is the fallback.
    let (location, message) = match serde_yaml::from_str::<serde_yaml::Value>(text) {
        Err(libyaml) if libyaml.location().is_some() => {
            let at = libyaml.location().expect("checked");
            let message = libyaml.to_string();
            let own = format!(" at line {} column {}", at.line(), at.column());
            let message = message.replacen(&own, "", 1);
            (
                Mark {
                    line: at.line(),
                    column: at.column(),
                },
                message,
            )
        }
        _ => (Mark::from_marker(*error.marker()), error.info().to_owned()),
    };
    Diagnostic {
        location: Some(location.in_file(file)),
        message: format!("invalid YAML: {message}"),
        hint: Some(
            "check the indentation and the quoting near this point; values containing \
             `: `, `#` or starting with a special character need quotes"
                .to_owned(),
        ),
    }
}

/// Collects parser events into nodes.
struct Builder<'l, 's> {
    /// Top-level lists whose items go to `on_item`.
    lists: &'l [&'l str],
    on_item: &'s mut dyn FnMut(&str, Node),
    /// The list whose items are being handed out.
    streaming: Option<&'l str>,
    /// Lists already handed out (a key written twice is kept in the tree, where the
    /// checks report it).
    streamed: Vec<&'l str>,
    documents: Vec<Node>,
    /// Open sequences and mappings, innermost last.
    open: Vec<Open>,
    /// Mapping keys waiting for their value, one slot per open collection.
    pending_keys: Vec<Option<Node>>,
    anchors: HashMap<usize, Anchored>,
    /// Values written out in the file so far (aliases not counted).
    written: usize,
    /// Values copied for anchors and aliases so far.
    copied: usize,
}

/// An open sequence or mapping.
struct Open {
    node: Node,
    anchor: usize,
    /// Values in it, itself included.
    size: usize,
    /// Levels of lists and mappings in it, itself included.
    height: usize,
}

/// An anchored value, with its size and height for the bounds.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

/// A bound crossed, and where.
struct Crossed {
    mark: Mark,
    message: String,
    hint: &'static str,
}

impl Crossed {
    fn in_file(self, file: &Path) -> Diagnostic {
        Diagnostic {
            location: Some(self.mark.in_file(file)),
            message: self.message,
            hint: Some(self.hint.to_owned()),
        }
    }
}

impl<'l> Builder<'l, '_> {
    /// Adds a complete value (`size` values in all, `height` levels deep) to the
    /// open collection, or hands it out, or makes it a document.
    fn push_value(&mut self, node: Node, anchor: usize, size: usize, height: usize) {
        if anchor > 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    size,
                    height,
                },
            );
        }
        if let Some(list) = self.streaming
            && self.open.len() == 2
        {
            (self.on_item)(list, node);
            return;
        }
        let Some(parent) = self.open.last_mut() else {
            self.documents.push(node);
            return;
        };
        parent.size += size;
        parent.height = parent.height.max(height + 1);
        match &mut parent.node.value {
            Value::Sequence(items) => items.push(node),
            Value::Mapping(entries) => {
                let slot = self
                    .pending_keys
                    .last_mut()
                    .expect("every open collection has a key slot");
                match slot.take() {
                    Some(key) => {
                        // A block mapping's start mark points past its first key;
                        // its first key is where a reader sees it begin.
                        if entries.is_empty() {
                            parent.node.mark = parent.node.mark.min(key.mark);
                        }
                        entries.push((key, node));
                    }
                    None => *slot = Some(node),
                }
            }
            Value::Scalar { .. } => unreachable!("scalars are never opened"),
        }
    }

    fn open(&mut self, node: Node, anchor: usize) -> Result<(), Crossed> {
        self.deep_enough(node.mark, 1)?;
        if matches!(node.value, Value::Sequence(_))
            && let Some(list) = self.list_opening()
        {
            self.streaming = Some(list);
            self.streamed.push(list);
        }
        self.open.push(Open {
            node,
            anchor,
            size: 1,
            height: 1,
        });
        self.pending_keys.push(None);
        Ok(())
    }

    /// The name of the top-level list a sequence opening now is the value of, if its
    /// items are to be handed out.
    fn list_opening(&self) -> Option<&'l str> {
        if !self.documents.is_empty() || self.open.len() != 1 {
            return None;
        }
        if !matches!(self.open[0].node.value, Value::Mapping(_)) {
            return None;
        }
        let key = self.pending_keys.first()?.as_ref()?.scalar()?;
        let list = *self.lists.iter().find(|list| **list == key)?;
        (!self.streamed.contains(&list)).then_some(list)
    }

    fn close(&mut self) -> Result<(), Crossed> {
        if let Some(open) = self.open.pop() {
            self.pending_keys.pop();
            if self.open.len() == 1 {
                self.streaming = None;
            }
            if open.anchor > 0 {
                self.copy(open.node.mark, open.size)?;
            }
            self.push_value(open.node, open.anchor, open.size, open.height);
        }
        Ok(())
    }

    /// Fails when `height` more levels of lists and mappings here would nest deeper
    /// than [`MAX_DEPTH`].
    fn deep_enough(&self, mark: Mark, height: usize) -> Result<(), Crossed> {
        if self.open.len() + height <= MAX_DEPTH {
            return Ok(());
        }
        Err(Self::too_deep(mark))
    }

    fn too_deep(mark: Mark) -> Crossed {
        Crossed {
            mark,
            message: format!("lists and mappings nest more than {MAX_DEPTH} levels deep here"),
            hint: "a state file needs a few levels (a list of users, each with a list of \
                   groups); look for unclosed brackets or runaway indentation",
        }
    }

    /// Counts `size` values copied for an anchor or alias, and fails past the bound.
    fn copy(&mut self, mark: Mark, size: usize) -> Result<(), Crossed> {
        self.copied = self.copied.saturating_add(size);
        let allowed = ALIAS_ALLOWANCE.saturating_add(self.written * ALIAS_COPIES_PER_VALUE);
        if self.copied <= allowed {
            return Ok(());
        }
        Err(Crossed {
            mark,
            message: format!(
                "aliases (`*name`) here expand to more than {allowed} copied values, for {} \
                 values written out",
                self.written
            ),
            hint: "write the values out instead of repeating aliases of aliases; each level \
                   of aliases multiplies what the file expands to",
        })
    }

    fn on_event(&mut self, event: Event, marker: Marker) -> Result<(), Crossed> {
        let mark = Mark::from_marker(marker);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                if text.len() > MAX_SCALAR {
                    return Err(Crossed {
                        mark,
                        message: format!(
                            "a value of {} bytes; values are at most {MAX_SCALAR} bytes",
                            text.len()
                        ),
                        hint: "names, emails and patterns are short: look for a quote that \
                               is not closed",
                    });
                }
                self.written += 1;
                if anchor > 0 {
                    self.copy(mark, 1)?;
                }
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push_value(
                    Node {
                        mark,
                        value: Value::Scalar { text, quoted },
                    },
                    anchor,
                    1,
                    0,
                );
            }
            Event::SequenceStart(anchor, _) => {
                self.written += 1;
                self.open(
                    Node {
                        mark,
                        value: Value::Sequence(Vec::new()),
                    },
                    anchor,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                self.written += 1;
                self.open(
                    Node {
                        mark,
                        value: Value::Mapping(Vec::new()),
                    },
                    anchor,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close()?,
            Event::Alias(anchor) => {
                let found = self
                    .anchors
                    .get(&anchor)
                    .map(|anchored| (anchored.size, anchored.height));
                let (node, size, height) = match found {
                    Some((size, height)) => {
                        // Counted before the copy is made.
                        self.deep_enough(mark, height)?;
                        self.copy(mark, size)?;
                        (self.anchors[&anchor].node.clone(), size, height)
                    }
                    None => (
                        Node {
                            mark,
                            value: Value::Scalar {
                                text: String::new(),
                                quoted: false,
                            },
                        },
                        1,
                        0,
                    ),
                };
                self.push_value(Node { mark, ..node }, 0, size, height);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Node {
        parse(Path::new("t.yaml"), text).unwrap().unwrap()
    }

    #[test]
    fn marks_are_one_based_and_point_at_what_was_written() {
        let root = tree("users:\n  - email: a@example.com\n    groups: [x, \"y\"]\n");
        let user = root.get("users").unwrap().item(0).unwrap();
        assert_eq!(user.mark, Mark { line: 2, column: 5 });
        let email = user.get("email").unwrap();
        assert_eq!(
            email.mark,
            Mark {
                line: 2,
                column: 12
            }
        );
        let second = user.get("groups").unwrap().item(1).unwrap();
        assert_eq!(
            second.mark,
            Mark {
                line: 3,
                column: 17
            }
        );
        assert_eq!(
            second.value,
            Value::Scalar {
                text: "y".into(),
                quoted: true
            }
        );
    }

    #[test]
    fn missing_paths_fall_back_to_the_nearest_ancestor() {
        let root = tree("groups:\n  - name: a\n");
        let mark = root.mark_at(&[Step::Key("groups"), Step::Index(0), Step::Key("members")]);
        assert_eq!(mark, Mark { line: 2, column: 5 });
    }

    #[test]
    fn empty_files_have_no_document() {
        assert_eq!(parse(Path::new("e.yaml"), "# nothing\n").unwrap(), None);
        assert_eq!(parse(Path::new("e.yaml"), "").unwrap(), None);
    }

    #[test]
    fn syntax_errors_and_extra_documents_are_diagnostics() {
        let error = parse(Path::new("b.yaml"), "a: [b\nc: d").unwrap_err();
        assert_eq!(error.location.unwrap().to_string(), "b.yaml:2:2");
        let error = parse(Path::new("b.yaml"), "a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(error.location.unwrap().line, 3);
    }

    /// Ten levels of nine aliases: about 3.5 billion values from 558 bytes.
    fn alias_bomb() -> String {
        let mut text = String::from("a0: &a0 [\"lol\"]\n");
        for level in 1..=10 {
            let aliases = vec![format!("*a{}", level - 1); 9].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
        }
        text
    }

    #[test]
    fn an_alias_bomb_stops_at_the_alias_that_crosses_the_bound() {
        let error = parse(Path::new("b.yaml"), &alias_bomb()).unwrap_err();
        let location = error.location.unwrap();
        // Levels 1 to 4 copy about 31,000 values in all; each alias of level 5 copies
        // about 14,000 more, and its fifth crosses the allowance.
        assert_eq!(
            (location.line, location.column),
            (6, 30),
            "{}",
            error.message
        );
        assert!(
            error
                .message
                .starts_with("aliases (`*name`) here expand to more than 100"),
            "{}",
            error.message
        );
    }

    #[test]
    fn aliases_may_copy_ten_values_per_value_written_out() {
        // 20,000 values written, each list copying 3 values: well within the bound.
        let mut text = String::from("std: &std [a, b, c]\nusers:\n");
        for index in 0..5_000 {
            text.push_str(&format!("  - {{email: u{index}@x.org, groups: *std}}\n"));
        }
        let root = tree(&text);
        let users = root.get("users").unwrap();
        assert_eq!(
            users
                .item(4_999)
                .unwrap()
                .get("groups")
                .unwrap()
                .item(2)
                .unwrap()
                .scalar(),
            Some("c")
        );
    }

    #[test]
    fn nesting_deeper_than_the_bound_is_refused_where_it_crosses() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(Path::new("d.yaml"), &ok).is_ok());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let error = parse(Path::new("d.yaml"), &deep).unwrap_err();
        // yaml-rust2 reads brackets ahead (a bracket may open a key), and stops at 255.
        assert_eq!(error.location.unwrap().line, 1);
        assert!(
            error.message.contains("more than 64 levels"),
            "{}",
            error.message
        );
        let block: String = (0..100)
            .map(|depth| format!("{}- \n", "  ".repeat(depth)))
            .collect();
        let error = parse(Path::new("d.yaml"), &block).unwrap_err();
        assert_eq!(error.location.unwrap().to_string(), "d.yaml:65:129");
        assert!(
            error.message.contains("more than 64 levels"),
            "{}",
            error.message
        );
        // Aliases cannot stack nesting past the bound either.
        let stacked = format!(
            "a: &a {open}x{close}\nb: &b {open}*a{close}\nc: {open}*b{close}\n",
            open = "[".repeat(30),
            close = "]".repeat(30)
        );
        let error = parse(Path::new("d.yaml"), &stacked).unwrap_err();
        assert_eq!(error.location.unwrap().line, 3);
    }

    #[test]
    fn a_huge_value_is_refused_at_its_start() {
        let text = format!("users:\n  - email: \"{}\"\n", "x".repeat(MAX_SCALAR + 1));
        let error = parse(Path::new("h.yaml"), &text).unwrap_err();
        assert_eq!(error.location.unwrap().to_string(), "h.yaml:2:12");
        assert!(error.message.contains("65537 bytes"), "{}", error.message);
        let fits = format!("a: {}\n", "x".repeat(MAX_SCALAR));
        assert!(parse(Path::new("h.yaml"), &fits).is_ok());
    }

    #[test]
    fn aliases_copy_the_anchored_value() {
        let root = tree("a: &x [1, 2]\nb: *x\n");
        assert_eq!(root.get("b").unwrap().item(1).unwrap().scalar(), Some("2"));
    }
}

//! A YAML document as a tree of nodes that remember where they were written.
//!
//! serde_yaml knows positions only for the error it stops at; checks that run after
//! the typed parse (references, duplicates, rules) need the position of every value,
//! so the loader also reads each file with yaml-rust2's marked event parser.

use std::collections::HashMap;
use std::path::Path;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::Diagnostic;
use crate::model::Location;

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
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(error) = parser.load(&mut builder, true) {
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
        return Err(Diagnostic {
            location: Some(location.in_file(file)),
            message: format!("invalid YAML: {message}"),
            hint: Some(
                "check the indentation and the quoting near this point; values containing \
                 `: `, `#` or starting with a special character need quotes"
                    .to_owned(),
            ),
        });
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
    /// Open sequences and mappings, innermost last, with their anchor ids.
    open: Vec<(Node, usize)>,
    /// Mapping keys waiting for their value, one slot per open collection.
    pending_keys: Vec<Option<Node>>,
    anchors: HashMap<usize, Node>,
}

impl<'l> Builder<'l, '_> {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        if let Some(list) = self.streaming
            && self.open.len() == 2
        {
            (self.on_item)(list, node);
            return;
        }
        let Some((parent, _)) = self.open.last_mut() else {
            self.documents.push(node);
            return;
        };
        match &mut parent.value {
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
                            parent.mark = parent.mark.min(key.mark);
                        }
                        entries.push((key, node));
                    }
                    None => *slot = Some(node),
                }
            }
            Value::Scalar { .. } => unreachable!("scalars are never opened"),
        }
    }

    fn open(&mut self, node: Node, anchor: usize) {
        if matches!(node.value, Value::Sequence(_))
            && let Some(list) = self.list_opening()
        {
            self.streaming = Some(list);
            self.streamed.push(list);
        }
        self.open.push((node, anchor));
        self.pending_keys.push(None);
    }

    /// The name of the top-level list a sequence opening now is the value of, if its
    /// items are to be handed out.
    fn list_opening(&self) -> Option<&'l str> {
        if !self.documents.is_empty() || self.open.len() != 1 {
            return None;
        }
        if !matches!(self.open[0].0.value, Value::Mapping(_)) {
            return None;
        }
        let key = self.pending_keys.first()?.as_ref()?.scalar()?;
        let list = *self.lists.iter().find(|list| **list == key)?;
        (!self.streamed.contains(&list)).then_some(list)
    }

    fn close(&mut self) {
        if let Some((node, anchor)) = self.open.pop() {
            self.pending_keys.pop();
            if self.open.len() == 1 {
                self.streaming = None;
            }
            self.push_value(node, anchor);
        }
    }
}

impl MarkedEventReceiver for Builder<'_, '_> {
    fn on_event(&mut self, event: Event, marker: Marker) {
        let mark = Mark::from_marker(marker);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push_value(
                    Node {
                        mark,
                        value: Value::Scalar { text, quoted },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.open(
                Node {
                    mark,
                    value: Value::Sequence(Vec::new()),
                },
                anchor,
            ),
            Event::MappingStart(anchor, _) => self.open(
                Node {
                    mark,
                    value: Value::Mapping(Vec::new()),
                },
                anchor,
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(anchor) => {
                let node = self.anchors.get(&anchor).cloned().unwrap_or(Node {
                    mark,
                    value: Value::Scalar {
                        text: String::new(),
                        quoted: false,
                    },
                });
                self.push_value(Node { mark, ..node }, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
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

    #[test]
    fn aliases_copy_the_anchored_value() {
        let root = tree("a: &x [1, 2]\nb: *x\n");
        assert_eq!(root.get("b").unwrap().item(1).unwrap().scalar(), Some("2"));
    }
}

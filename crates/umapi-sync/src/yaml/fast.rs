//! A fast reader for the plain block YAML that state files are almost always
//! written in, building the same tree as [`super::tree::parse_streaming`].
//!
//! The general reader (yaml-rust2's event parser and the tree builder) reads about
//! 20 MB a second; a large org's state is 150 MB. This reader only understands a
//! small part of YAML, line by line: block mappings with plain keys, block lists,
//! and values written on one line (plain, single-quoted, double-quoted without
//! escapes, and one-line lists of such values). It gives up on anything else
//! (returns `None`) as soon as it meets it: tabs, anchors, aliases, tags, block
//! text, values over several lines, empty values, flow mappings, escapes, several
//! documents, control characters. The file is then read by the general reader, so
//! what a file means, every bound on what it may build and every error message
//! come from one place; this reader only ever accepts files that the general one
//! reads into exactly the same tree (`tests::agrees_with_the_general_reader`).

use super::tree::{MAX_SCALAR, Mark, Node, Value};

/// Levels of nesting this reader follows: a state file needs four; anything
/// deeper goes to the general reader, which bounds it.
const MAX_LEVELS: usize = 12;

/// Reads `text` as [`super::tree::parse_streaming`] would, handing the items of the
/// top-level lists named in `lists` to `on_item`; `None` when the text is not in the
/// part of YAML this reader understands (the items handed out so far are then to
/// be thrown away).
pub(crate) fn parse_streaming(
    text: &str,
    lists: &[&str],
    on_item: &mut dyn FnMut(&str, Node),
) -> Option<Node> {
    if !plain_text(text) {
        return None;
    }
    let mut reader = Reader {
        lines: Lines {
            rest: text,
            number: 0,
            peeked: None,
        },
        lists,
        on_item,
        open_at_end: None,
    };
    let first = reader.lines.peek()?;
    if first.indent != 0 || !is_key_line(first.body) {
        return None;
    }
    let root = reader.mapping(0, None, 1, true)?;
    // Anything left over (a line less indented than the root cannot exist; a
    // `---` or `...` is not a key line) means the text is not understood.
    if reader.lines.peek().is_some() {
        return None;
    }
    Some(root)
}

/// Like [`parse_streaming`], but with the text cut into up to `parts` pieces at
/// items of its largest top-level list, read at the same time on as many threads:
/// each piece's items go to a collector of its own, made by `collector` and fed by
/// `take`, and the collectors come back in the order of the pieces.
///
/// `None` when the text is not cut (too small, or no list to cut it in) or when the
/// pieces do not read as a whole: the caller then reads it in one piece. Each
/// piece but the first must consist of items of the list the piece before it ended
/// in, so the tree and the items are the same as read in one piece
/// (`tests::pieces_read_as_the_whole`).
pub(crate) fn parse_in_pieces<C: Send>(
    text: &str,
    lists: &[&str],
    parts: usize,
    collector: impl Fn() -> C + Sync,
    take: impl Fn(&mut C, &str, Node) + Sync,
) -> Option<(Node, Vec<C>)> {
    if !plain_text(text) {
        return None;
    }
    let (open, starts) = cuts(text, lists, parts)?;
    // Each piece with its first line's number.
    let mut pieces = Vec::with_capacity(starts.len() + 1);
    let (mut from, mut line) = (0, 1);
    for &start in &starts {
        pieces.push((&text[from..start], line));
        line += text.as_bytes()[from..start]
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count();
        from = start;
    }
    pieces.push((&text[from..], line));
    let last = pieces.len() - 1;
    let read = |index: usize, (piece, first_line): (&str, usize)| {
        let mut items = collector();
        let mut on_item = |list: &str, item: Node| take(&mut items, list, item);
        let mut reader = Reader {
            lines: Lines {
                rest: piece,
                number: first_line - 1,
                peeked: None,
            },
            lists,
            on_item: &mut on_item,
            open_at_end: None,
        };
        let read = if index == 0 {
            reader.head()
        } else {
            reader.rest(open, index == last)
        };
        read.map(|read| (read, items))
    };
    let mut results: Vec<Option<(Piece<'_>, C)>> = std::thread::scope(|scope| {
        let read = &read;
        let workers: Vec<_> = pieces
            .iter()
            .enumerate()
            .skip(1)
            .map(|(index, &piece)| scope.spawn(move || read(index, piece)))
            .collect();
        let mut results = vec![read(0, pieces[0])];
        for worker in workers {
            match worker.join() {
                Ok(result) => results.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    let mut collectors = Vec::with_capacity(results.len());
    let (Piece::Head(mut root, ended_in), first) = results.remove(0)? else {
        return None;
    };
    if ended_in != Some(open) {
        return None;
    }
    collectors.push(first);
    for result in results {
        let (piece, items) = result?;
        collectors.push(items);
        if let Piece::Rest(entries) = piece {
            let Value::Mapping(root_entries) = &mut root.value else {
                return None;
            };
            for (key, value) in entries {
                if root_entries
                    .iter()
                    .any(|(known, _)| known.scalar() == key.scalar())
                {
                    return None;
                }
                root_entries.push((key, value));
            }
        }
    }
    Some((root, collectors))
}

/// What a piece of text read into.
enum Piece<'l> {
    /// The first piece: the root, and the list it ended in.
    Head(Node, Option<Open<'l>>),
    /// A later piece: the root's entries after the list the pieces were cut in
    /// (only the last piece has any).
    Rest(Vec<(Node, Node)>),
}

/// Where to cut `text` into up to `parts` pieces of about equal size: the list
/// to cut in (the one the middle of the text is in) and the byte offsets of the
/// lines starting an item of it nearest to each ideal cut.
fn cuts<'l>(text: &str, lists: &[&'l str], parts: usize) -> Option<(Open<'l>, Vec<usize>)> {
    if parts < 2 {
        return None;
    }
    let middle = boundary(text, text.len() / 2);
    // The last top-level key before the middle names the list.
    let mut key_at = text[..middle].rfind('\n').map_or(0, |at| at + 1);
    loop {
        let line = &text[key_at..];
        if line.starts_with(|c: char| c != ' ' && c != '#' && c != '-' && c != '\n') {
            break;
        }
        key_at = text[..key_at.checked_sub(1)?]
            .rfind('\n')
            .map_or(0, |at| at + 1);
    }
    let line = &text[key_at
        ..text[key_at..]
            .find('\n')
            .map_or(text.len(), |end| key_at + end)];
    let length = key_length(line)?;
    let list = lists
        .iter()
        .copied()
        .find(|list| *list == &line[..length])?;
    // Its first item sets the column of its `-`.
    let after = key_at + line.len() + 1;
    let mut lines = Lines {
        rest: text.get(after..)?,
        number: 0,
        peeked: None,
    };
    let first = lines.peek()?;
    if !is_item_line(first.body) {
        return None;
    }
    let open = Open {
        list,
        indent: first.indent,
        indentless: first.indent == 0,
    };
    let prefix = format!("\n{}- ", " ".repeat(open.indent));
    let mut starts: Vec<usize> = Vec::with_capacity(parts - 1);
    for part in 1..parts {
        let ideal = boundary(text, (text.len() * part / parts).max(after));
        let Some(found) = text[ideal..].find(&prefix) else {
            break;
        };
        let start = ideal + found + 1;
        if starts.last() != Some(&start) {
            starts.push(start);
        }
    }
    (!starts.is_empty()).then_some((open, starts))
}

/// The first character boundary of `text` at or after byte `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Whether `text` is free of the characters this reader leaves to the general one:
/// tabs, carriage returns and other control characters, and the non-ASCII
/// characters YAML does not count as printable (or reads as breaks or marks).
fn plain_text(text: &str) -> bool {
    // One pass over the bytes: the characters left out are U+0000–U+001F but the
    // line feed, U+007F, U+0080–U+00A0 (C2 80–C2 A0 in UTF-8), U+2028 and U+2029
    // (E2 80 A8/A9), U+FEFF (EF BB BF), U+FFFE and U+FFFF (EF BF BE/BF).
    let bytes = text.as_bytes();
    let left_out = |at: usize| match bytes[at] {
        b'\n' => false,
        0..0x20 | 0x7f => true,
        0xc2 => matches!(bytes.get(at + 1), Some(0x80..=0xa0)),
        0xe2 => bytes.get(at + 1) == Some(&0x80) && matches!(bytes.get(at + 2), Some(0xa8 | 0xa9)),
        0xef => matches!(
            (bytes.get(at + 1), bytes.get(at + 2)),
            (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
        ),
        _ => false,
    };
    // Nearly all of a state file is printable ASCII and line feeds: a chunk of only
    // those is passed over in one test without a branch per byte (which the
    // compiler vectorises), and only the other chunks are looked at byte by byte
    // (a character cut by a chunk's end is read from its first byte, in full).
    const CHUNK: usize = 64;
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes.len().min(start + CHUNK);
        let printable = bytes[start..end].iter().fold(true, |all, &byte| {
            all & ((0x20..0x7f).contains(&byte) | (byte == b'\n'))
        });
        if !printable && (start..end).any(left_out) {
            return false;
        }
        start = end;
    }
    true
}

/// One line with content (not blank, not only a comment).
#[derive(Clone, Copy)]
struct Line<'t> {
    /// 1-based.
    number: usize,
    /// Leading spaces.
    indent: usize,
    /// The whole line, without its line break.
    full: &'t str,
    /// The line after its indentation.
    body: &'t str,
}

impl Line<'_> {
    /// The mark of the character at byte `at` of the line.
    fn mark(&self, at: usize) -> Mark {
        let before = &self.full[..at];
        let column = if before.is_ascii() {
            at
        } else {
            before.chars().count()
        };
        Mark {
            line: self.number,
            column: column + 1,
        }
    }
}

/// The lines with content, one at a time.
struct Lines<'t> {
    rest: &'t str,
    /// Number of the last line taken from `rest`.
    number: usize,
    peeked: Option<Line<'t>>,
}

impl<'t> Lines<'t> {
    fn peek(&mut self) -> Option<Line<'t>> {
        if self.peeked.is_none() {
            self.peeked = self.read();
        }
        self.peeked
    }

    fn take(&mut self) {
        self.peeked = None;
    }

    fn read(&mut self) -> Option<Line<'t>> {
        while !self.rest.is_empty() {
            // Lines are short: a plain loop finds their end sooner than a search
            // set up for long texts.
            let end = self.rest.bytes().position(|byte| byte == b'\n');
            let (full, rest) = match end {
                Some(end) => (&self.rest[..end], &self.rest[end + 1..]),
                None => (self.rest, ""),
            };
            self.rest = rest;
            self.number += 1;
            let body = full.trim_start_matches(' ');
            if body.trim_end_matches(' ').is_empty() || body.starts_with('#') {
                continue;
            }
            return Some(Line {
                number: self.number,
                indent: full.len() - body.len(),
                full,
                body,
            });
        }
        None
    }
}

/// The length of the key at the start of `body` when `body` is `key:` or
/// `key: …` with a plain name as the key.
fn key_length(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() && bytes[0] != b'_' {
        return None;
    }
    let length = bytes
        .iter()
        .position(|&byte| !(byte.is_ascii_alphanumeric() || byte == b'_'))?;
    (bytes[length] == b':' && matches!(bytes.get(length + 1), None | Some(b' '))).then_some(length)
}

fn is_key_line(body: &str) -> bool {
    key_length(body).is_some()
}

/// Whether `body` starts a list item: `- ` followed by its value.
fn is_item_line(body: &str) -> bool {
    body.starts_with("- ")
}

struct Reader<'t, 'l, 's> {
    lines: Lines<'t>,
    lists: &'l [&'l str],
    on_item: &'s mut dyn FnMut(&str, Node),
    /// The top-level list whose items went to `on_item` last, if the text ended
    /// inside it.
    open_at_end: Option<Open<'l>>,
}

/// A top-level list whose items go on past the end of a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Open<'l> {
    list: &'l str,
    /// Column of its `-`.
    indent: usize,
    /// Whether its `-` are at its key's column.
    indentless: bool,
}

impl<'t, 'l> Reader<'t, 'l, '_> {
    /// The first piece of a text cut at items of a list: the root as far as it goes.
    fn head(&mut self) -> Option<Piece<'l>> {
        let first = self.lines.peek()?;
        if first.indent != 0 || !is_key_line(first.body) {
            return None;
        }
        let root = self.mapping(0, None, 1, true)?;
        if self.lines.peek().is_some() {
            return None;
        }
        Some(Piece::Head(root, self.open_at_end))
    }

    /// A later piece: items of the list `open`, then (in the `last` piece only)
    /// more of the root.
    fn rest(&mut self, open: Open<'l>, last: bool) -> Option<Piece<'l>> {
        let first = self.lines.peek()?;
        if first.indent != open.indent || !is_item_line(first.body) {
            return None;
        }
        self.sequence(open.indent, 2, Some(open.list), open.indentless)?;
        if self.lines.peek().is_none() {
            return Some(Piece::Rest(Vec::new()));
        }
        if !last {
            return None;
        }
        let Value::Mapping(entries) = self.mapping(0, None, 1, true)?.value else {
            return None;
        };
        if self.lines.peek().is_some() {
            return None;
        }
        Some(Piece::Rest(entries))
    }

    /// A block mapping whose keys are at column `indent`; `first` is a line whose
    /// key starts at byte `at` after a list item's `- `. `top` for the root.
    fn mapping(
        &mut self,
        indent: usize,
        mut first: Option<(Line<'t>, usize)>,
        level: usize,
        top: bool,
    ) -> Option<Node> {
        if level > MAX_LEVELS {
            return None;
        }
        // A user's keys without growing the list twice.
        let mut entries: Vec<(Node, Node)> = Vec::with_capacity(8);
        let mut mark = None;
        loop {
            let (line, at) = match first.take() {
                Some(first) => first,
                None => {
                    let Some(line) = self.lines.peek() else { break };
                    if line.indent < indent {
                        break;
                    }
                    if line.indent > indent {
                        return None;
                    }
                    self.lines.take();
                    (line, line.indent)
                }
            };
            let body = &line.full[at..];
            let length = key_length(body)?;
            let name = &body[..length];
            let key = Node {
                mark: line.mark(at),
                value: Value::Scalar {
                    text: name.to_owned(),
                    quoted: false,
                },
            };
            mark.get_or_insert(key.mark);
            let stream = if top {
                if entries.iter().any(|(key, _)| key.scalar() == Some(name)) {
                    // The general reader keeps a list written twice in the tree.
                    return None;
                }
                self.lists.iter().copied().find(|list| *list == name)
            } else {
                None
            };
            self.open_at_end = None;
            let value_at = at + length + 1;
            let rest = &line.full[value_at..];
            let skipped = rest.len() - rest.trim_start_matches(' ').len();
            let value = if rest[skipped..].is_empty() || rest[skipped..].starts_with('#') {
                // The value is on the lines below: a deeper block, or a list at the
                // key's own column.
                let next = self.lines.peek()?;
                if next.indent > indent {
                    self.block(next, level + 1, stream)?
                } else if next.indent == indent && is_item_line(next.body) {
                    self.sequence(indent, level + 1, stream, true)?
                } else {
                    // An empty value: its position is the general reader's to give.
                    return None;
                }
            } else {
                let mut value = inline(&line, value_at + skipped)?;
                if let (Some(list), Value::Sequence(items)) = (stream, &mut value.value) {
                    for item in std::mem::take(items) {
                        (self.on_item)(list, item);
                    }
                }
                value
            };
            entries.push((key, value));
        }
        Some(Node {
            mark: mark?,
            value: Value::Mapping(entries),
        })
    }

    /// A block value starting on `line` (deeper than its key).
    fn block(&mut self, line: Line<'t>, level: usize, stream: Option<&'l str>) -> Option<Node> {
        if is_item_line(line.body) {
            self.sequence(line.indent, level, stream, false)
        } else if is_key_line(line.body) && stream.is_none() {
            self.mapping(line.indent, None, level, false)
        } else {
            None
        }
    }

    /// A block list whose `-` are at column `indent`; its items go to `on_item`
    /// when `stream` names the list. `indentless` when the `-` are at the column
    /// of the key whose value the list is (the general reader then marks the list
    /// where its first item's value starts).
    fn sequence(
        &mut self,
        indent: usize,
        level: usize,
        stream: Option<&'l str>,
        indentless: bool,
    ) -> Option<Node> {
        if level > MAX_LEVELS {
            return None;
        }
        let mut items = Vec::new();
        let mut mark = None;
        while let Some(line) = self.lines.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return None;
            }
            if !is_item_line(line.body) {
                if line.body.starts_with('-') {
                    return None;
                }
                // A key at the column of a list that is a key's value ends it.
                break;
            }
            self.lines.take();
            mark.get_or_insert(line.mark(if indentless { indent + 2 } else { indent }));
            let at = indent + 2;
            let body = &line.full[at..];
            let item = if is_key_line(body) {
                self.mapping(at, Some((line, at)), level + 1, false)?
            } else if body.starts_with([' ', '-']) {
                return None;
            } else {
                inline(&line, at)?
            };
            match stream {
                Some(list) => (self.on_item)(list, item),
                None => items.push(item),
            }
        }
        if let Some(list) = stream
            && self.lines.peek().is_none()
        {
            self.open_at_end = Some(Open {
                list,
                indent,
                indentless,
            });
        }
        Some(Node {
            mark: mark?,
            value: Value::Sequence(items),
        })
    }
}

/// The value written from byte `at` of `line` to its end (or to a comment).
fn inline(line: &Line<'_>, at: usize) -> Option<Node> {
    let text = &line.full[at..];
    let (node, used) = match *text.as_bytes().first()? {
        b'[' => flow_list(line, at)?,
        b'\'' | b'"' => quoted(line, at)?,
        _ => {
            let end = comment_start(text);
            let value = text[..end].trim_end_matches(' ');
            (plain(line, at, value, false)?, end)
        }
    };
    let after = text[used..].trim_start_matches(' ');
    // A comment needs a space before its `#`.
    (after.is_empty() || (after.starts_with('#') && text[used..].starts_with(' '))).then_some(node)
}

/// A plain value; `flow` inside a one-line list, where `,[]{}` end it.
fn plain(line: &Line<'_>, at: usize, value: &str, flow: bool) -> Option<Node> {
    let first = *value.as_bytes().first()?;
    if matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    ) || value.len() > MAX_SCALAR
        || value.ends_with(':')
        || has_key_or_comment(value)
        || (flow && value.contains([':', '#', ',', '[', ']', '{', '}']))
    {
        return None;
    }
    Some(Node {
        mark: line.mark(at),
        value: Value::Scalar {
            text: value.to_owned(),
            quoted: false,
        },
    })
}

/// Where a comment starts in `text` (at the space before a `#`), or its length.
fn comment_start(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = bytes[from..].iter().position(|&byte| byte == b'#') {
        let at = from + found;
        if at > 0 && bytes[at - 1] == b' ' {
            return at - 1;
        }
        from = at + 1;
    }
    text.len()
}

/// Whether `text` holds `: ` (a key) or ` #` (a comment).
fn has_key_or_comment(text: &str) -> bool {
    text.as_bytes()
        .windows(2)
        .any(|pair| matches!(pair, [b':', b' '] | [b' ', b'#']))
}

/// A quoted value starting at byte `at`, ending on the same line; with the bytes
/// it takes.
fn quoted(line: &Line<'_>, at: usize) -> Option<(Node, usize)> {
    let text = &line.full[at..];
    let quote = text.as_bytes()[0];
    let mut value = String::new();
    let mut from = 1;
    let used = loop {
        let close = from + text[from..].find(quote as char)?;
        value.push_str(&text[from..close]);
        if quote == b'\'' && text.as_bytes().get(close + 1) == Some(&b'\'') {
            value.push('\'');
            from = close + 2;
        } else {
            break close + 1;
        }
    };
    if (quote == b'"' && value.contains('\\')) || value.len() > MAX_SCALAR {
        return None;
    }
    let node = Node {
        mark: line.mark(at),
        value: Value::Scalar {
            text: value,
            quoted: true,
        },
    };
    Some((node, used))
}

/// A list written on one line, `[a, 'b', "c"]`; with the bytes it takes.
fn flow_list(line: &Line<'_>, at: usize) -> Option<(Node, usize)> {
    let text = &line.full[at..];
    let mut items = Vec::new();
    let mut position = 1;
    loop {
        position += text[position..].len() - text[position..].trim_start_matches(' ').len();
        let rest = &text[position..];
        match rest.as_bytes().first()? {
            b']' if items.is_empty() => {
                position += 1;
                break;
            }
            b'\'' | b'"' => {
                let (item, used) = quoted(line, at + position)?;
                items.push(item);
                position += used;
            }
            _ => {
                let end = rest.find([',', ']'])?;
                let value = rest[..end].trim_end_matches(' ');
                items.push(plain(line, at + position, value, true)?);
                position += end;
            }
        }
        position += text[position..].len() - text[position..].trim_start_matches(' ').len();
        match text.as_bytes().get(position)? {
            b',' => position += 1,
            b']' => {
                position += 1;
                break;
            }
            _ => return None,
        }
        // A comma must be followed by an item (a trailing comma is left to the
        // general reader).
        if text[position..].trim_start_matches(' ').starts_with(']') {
            return None;
        }
    }
    let node = Node {
        mark: line.mark(at),
        value: Value::Sequence(items),
    };
    Some((node, position))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;
    use crate::yaml::tree;

    const LISTS: [&str; 4] = ["users", "groups", "profiles", "admin_groups"];

    /// A root and the items handed out, with their lists' names.
    type Read = (Node, Vec<(String, Node)>);

    /// The root and the items handed out, by the fast reader (`None` when it gives up).
    fn fast(text: &str) -> Option<Read> {
        let mut items = Vec::new();
        let root = parse_streaming(text, &LISTS, &mut |list, item| {
            items.push((list.to_owned(), item));
        })?;
        Some((root, items))
    }

    /// The same, by the general reader.
    fn general(text: &str) -> Result<Option<Read>, String> {
        let mut items = Vec::new();
        let root = tree::parse_streaming(Path::new("t.yaml"), text, &LISTS, &mut |list, item| {
            items.push((list.to_owned(), item));
        })
        .map_err(|problem| problem.message)?;
        Ok(root.map(|root| (root, items)))
    }

    fn agrees(text: &str) -> Result<(), TestCaseError> {
        if let Some(read) = fast(text) {
            prop_assert_eq!(Ok(Some(read)), general(text), "{}", text);
        }
        Ok(())
    }

    /// The root and the items, read in up to `parts` pieces (`None` when not cut).
    fn in_pieces(text: &str, parts: usize) -> Option<Read> {
        let (root, pieces) = parse_in_pieces(
            text,
            &LISTS,
            parts,
            Vec::new,
            |items: &mut Vec<(String, Node)>, list, item| items.push((list.to_owned(), item)),
        )?;
        Some((root, pieces.into_iter().flatten().collect()))
    }

    fn pieces_agree(text: &str, parts: usize) -> Result<(), TestCaseError> {
        if let Some(read) = in_pieces(text, parts) {
            prop_assert_eq!(Ok(Some(read)), general(text), "{} parts:\n{}", parts, text);
        }
        Ok(())
    }

    #[test]
    fn a_large_list_is_read_in_pieces_as_it_is_read_whole() {
        for (indent, parts) in [("", 2), ("  ", 2), ("    ", 3), ("  ", 7)] {
            let mut text = String::from("# users\nusers:\n");
            for index in 0..3_000 {
                text.push_str(&format!(
                    "{indent}- email: u{index}@example.com\n{indent}  firstname: Zoë\n\
                     {indent}  groups:\n{indent}  - 'Team {}'\n",
                    index % 7
                ));
            }
            text.push_str("groups:\n- name: Team 1\nsettings:\n  unlisted_users: remove\n");
            let read = in_pieces(&text, parts).expect("cut into pieces");
            assert_eq!(Some(read.clone()), fast(&text));
            assert_eq!(read.1.len(), 3_001);
            pieces_agree(&text, parts).unwrap();
        }
    }

    fn understood(text: &str) {
        assert!(fast(text).is_some(), "the fast reader gave up on:\n{text}");
        agrees(text).unwrap();
    }

    #[test]
    fn reads_state_files_as_they_are_usually_written() {
        let fixture = include_str!("../../tests/fixtures/state/valid/org.yaml");
        // Up to its settings, written as flow mappings (`{users: […]}`).
        understood(&fixture[..fixture.find("settings:").unwrap()]);
        // As `umapi export` writes them (serde_yaml: lists at their key's column).
        let state: crate::desired::StateFile =
            serde_yaml::from_str(include_str!("../../tests/fixtures/state/valid/org.yaml"))
                .unwrap();
        understood(&serde_yaml::to_string(&state).unwrap());
        understood(
            "users:\n- email: 'it''s@x.org'   # a comment\n  firstname: \"Zoë\"\n  \
             groups: [ a , 'b', \"c d\" ]\n\n  # between keys\n  lastname: O'Brien\n\
             groups: []\nsettings:\n  limits:\n    max_user_removals: 5%\n",
        );
    }

    #[test]
    fn gives_up_on_what_it_does_not_understand() {
        for text in [
            "",
            "# only a comment\n",
            "users:\n  - email: &a x@y.org\n",
            "users:\n  - email: *a\n",
            "users:\n  - email: !!str x\n",
            "users:\n  - email:\n",
            "users:\n  - email: x\n      y\n",
            "users:\n  - email: \"a\\tb\"\n",
            "users:\n  - email: 'open\n    close'\n",
            "users:\n\t- x\n",
            "users:\r\n  - x\r\n",
            "a: 1\n---\nb: 2\n",
            "users: [a, ]\n",
            "users: {a: b}\n",
            "users:\n  - a\nusers:\n  - b\n",
            "description: |\n  text\n",
            "  indented: root\n",
        ] {
            assert!(fast(text).is_none(), "{text:?}");
        }
    }

    /// Values that are, or nearly are, what the fast reader understands.
    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Z0-9._@+-]{1,12}",
            1 => prop::sample::select(vec![
                "a@example.com", "Zoë Ünal", "123", "true", "~", "null", "a: b", "a #b", "a#b",
                "it's", "-x", "x:", "[x]", "{x}", "a, b", "'q'", "\"d\"", "a\\b", "& x", "*x",
                "!t", "|", ">", "%x", "@x", "`x", "?x", ":x", "a ", " a", "é", "x\u{a0}y",
                "http://x/y", "a:b", "5%", "0x10", "-1", ".inf", "2026-12-31", "2026-1-3",
            ])
            .prop_map(str::to_owned),
        ]
    }

    fn written(value: String, style: u8) -> String {
        match style {
            0 | 1 => value,
            2 => format!("'{}'", value.replace('\'', "''")),
            _ => format!("\"{value}\""),
        }
    }

    fn flow_list() -> impl Strategy<Value = String> {
        prop::collection::vec((scalar(), 0u8..4), 0..4).prop_map(|items| {
            let items: Vec<String> = items
                .into_iter()
                .map(|(value, style)| written(value, style))
                .collect();
            format!("[{}]", items.join(", "))
        })
    }

    /// A value on the key's line (`Ok`) or a block below it (`Err`, its lines
    /// relative to the key's indentation).
    #[derive(Debug, Clone)]
    enum Written {
        Inline(String),
        Block(Vec<(usize, String)>),
    }

    fn mapping_lines(entries: Vec<(String, Written)>, indent: usize) -> Vec<(usize, String)> {
        let mut lines = Vec::new();
        for (key, value) in entries {
            match value {
                Written::Inline(value) => lines.push((indent, format!("{key}: {value}"))),
                Written::Block(block) => {
                    lines.push((indent, format!("{key}:")));
                    lines.extend(block.into_iter().map(|(at, line)| (indent + at, line)));
                }
            }
        }
        lines
    }

    fn value(depth: u32) -> BoxedStrategy<Written> {
        let inline = prop_oneof![
            (scalar(), 0u8..4).prop_map(|(value, style)| Written::Inline(written(value, style))),
            flow_list().prop_map(Written::Inline),
        ];
        if depth == 0 {
            return inline.boxed();
        }
        let key = prop::sample::select(vec![
            "email", "name", "groups", "members", "users", "x_1", "limits", "email", "until",
        ]);
        let mapping = prop::collection::vec((key, value(depth - 1)), 1..4).prop_map(|entries| {
            entries
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect::<Vec<_>>()
        });
        let item = prop_oneof![
            (scalar(), 0u8..4).prop_map(|(value, style)| vec![(0, written(value, style))]),
            mapping
                .clone()
                .prop_map(|entries| mapping_lines(entries, 0)),
        ];
        prop_oneof![
            2 => inline,
            1 => (mapping, 1usize..4).prop_map(|(entries, indent)| {
                Written::Block(mapping_lines(entries, indent))
            }),
            2 => (prop::collection::vec(item, 1..4), 0usize..3).prop_map(|(items, indent)| {
                let mut lines = Vec::new();
                for item in items {
                    for (index, (at, line)) in item.into_iter().enumerate() {
                        if index == 0 {
                            lines.push((indent, format!("- {line}")));
                        } else {
                            lines.push((indent + 2 + at, line));
                        }
                    }
                }
                Written::Block(lines)
            }),
        ]
        .boxed()
    }

    /// A document of top-level keys, with comments and blank lines here and there.
    fn document() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "users",
            "groups",
            "profiles",
            "admin_groups",
            "settings",
            "users",
        ]);
        (
            prop::collection::vec((key, value(2)), 1..4),
            prop::collection::vec(0u8..8, 0..40),
        )
            .prop_map(|(entries, extras)| {
                let entries = entries
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect();
                let mut text = String::new();
                let mut extras = extras.into_iter();
                for (indent, line) in mapping_lines(entries, 0) {
                    match extras.next() {
                        Some(0) => text.push('\n'),
                        Some(1) => text.push_str(&format!("{}# note\n", " ".repeat(indent))),
                        Some(2) => text.push_str("#: x\n"),
                        _ => {}
                    }
                    text.push_str(&" ".repeat(indent));
                    text.push_str(&line);
                    if extras.next() == Some(3) {
                        text.push_str(" # why");
                    }
                    text.push('\n');
                }
                text
            })
    }

    /// A user as usually written: plain or quoted values, lists on one line or
    /// below their key (at its column or deeper).
    fn user() -> impl Strategy<Value = Vec<String>> {
        let safe = ("[a-zA-Z0-9._@+-]{1,12}", 0u8..4).prop_map(|(value, style)| {
            let value = if value.starts_with(['-', '.', '@']) {
                format!("x{value}")
            } else {
                value
            };
            written(value, style)
        });
        let key = prop::sample::select(vec!["email", "firstname", "groups", "country", "until"]);
        let field = (key, 0u8..3, prop::collection::vec(safe, 1..4), 0usize..3);
        prop::collection::vec(field, 1..5).prop_map(|fields| {
            let mut lines = Vec::new();
            for (key, kind, values, indent) in fields {
                match kind {
                    0 => lines.push(format!("{key}: {}", values[0])),
                    1 => lines.push(format!("{key}: [{}]", values.join(", "))),
                    _ => {
                        lines.push(format!("{key}:"));
                        for value in values {
                            lines.push(format!("{}- {value}", " ".repeat(indent)));
                        }
                    }
                }
            }
            lines
        })
    }

    /// A document starting with a long list of users, which can be cut.
    fn long_document() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(user(), 4..24),
            0usize..3,
            prop_oneof![Just(String::new()), document()],
        )
            .prop_map(|(users, indent, rest)| {
                let mut text = String::from("users:\n");
                let pad = " ".repeat(indent);
                for user in users {
                    for (index, line) in user.into_iter().enumerate() {
                        let dash = if index == 0 { "- " } else { "  " };
                        text.push_str(&format!("{pad}{dash}{line}\n"));
                    }
                }
                text + &rest
            })
    }

    /// A document with a few bytes replaced.
    fn damaged() -> impl Strategy<Value = String> {
        (
            prop_oneof![document(), long_document()],
            any::<prop::sample::Index>(),
            0usize..6,
            "[ -~\n\t#:'\"\\[\\]{},&*!|>-]{0,4}",
        )
            .prop_map(|(base, start, length, insert)| {
                crate::yaml::damage(&base, start.index(base.len() + 1), length, &insert)
            })
    }

    /// The characters [`plain_text`] leaves to the general reader, one by one.
    fn plain_char(c: char) -> bool {
        !matches!(
            c,
            '\u{0}'..='\u{9}'
                | '\u{b}'..='\u{1f}'
                | '\u{7f}'..='\u{a0}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{feff}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
    }

    #[test]
    fn plain_text_leaves_out_exactly_the_listed_characters() {
        for c in ('\u{0}'..='\u{3000}').chain('\u{f000}'..='\u{10fff}') {
            let text = format!("a{c}b");
            assert_eq!(plain_text(&text), plain_char(c), "U+{:04X}", c as u32);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        #[test]
        fn plain_text_reads_characters_not_bytes(
            text in prop::collection::vec(any::<char>(), 0..16)
                .prop_map(|chars| chars.into_iter().collect::<String>()),
        ) {
            prop_assert_eq!(plain_text(&text), text.chars().all(plain_char));
        }

        /// Texts of many chunks, nearly all printable ASCII, with a character of any
        /// kind here and there (also across a chunk's end).
        #[test]
        fn plain_text_reads_long_texts_as_characters(
            text in prop::collection::vec(
                prop_oneof![16 => proptest::char::range(' ', '~'), 2 => Just('\n'), 1 => any::<char>()],
                0..400,
            )
            .prop_map(|chars| chars.into_iter().collect::<String>()),
        ) {
            prop_assert_eq!(plain_text(&text), text.chars().all(plain_char));
        }

        /// Whatever the fast reader accepts, the general reader reads into the same
        /// tree, with the same items handed out in the same order.
        #[test]
        fn agrees_with_the_general_reader(text in document()) {
            agrees(&text)?;
        }

        #[test]
        fn agrees_with_the_general_reader_on_damaged_files(text in damaged()) {
            agrees(&text)?;
        }

        /// A text cut into pieces reads into the same tree and items as read whole.
        #[test]
        fn pieces_read_as_the_whole(
            text in prop_oneof![document(), long_document()],
            parts in 2usize..5,
        ) {
            pieces_agree(&text, parts)?;
        }

        #[test]
        fn pieces_read_as_the_whole_when_damaged(text in damaged(), parts in 2usize..5) {
            pieces_agree(&text, parts)?;
        }
    }
}

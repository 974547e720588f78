//! YAML documents with the position of every value, for files people write:
//! reading them (fast for plain block YAML, general otherwise, and in pieces on
//! several threads when large), checking them against a JSON Schema with located
//! messages and suggestions, and typing them with serde.
//!
//! Nothing here knows about the desired state: [`read_streaming`] is the one way
//! a document is read, and the state loader (and the config file) build on it.

mod de;
mod fast;
mod shape;
mod suggest;
mod tree;

use std::path::Path;

use crate::desired::Location;
use crate::error::Diagnostic;

pub(crate) use de::from_node;
pub(crate) use shape::{Fits, check, check_list_item, is_typed_plain};
pub(crate) use suggest::{closest, did_you_mean};
pub(crate) use tree::{Mark, Node, Step, Value, is_null_text, parse};

/// Takes the items of a document's top-level lists as they are read.
///
/// A large document is read in pieces on several threads, each piece's items
/// going to a collector of its own; the collectors are then joined in order.
pub(crate) trait Collector: Send {
    /// Takes the next item of the top-level list `list`.
    fn take(&mut self, list: &str, item: Node);
    /// Adds what the collector of the next piece took.
    fn append(&mut self, next: Self);
}

/// The least bytes read on a thread of its own: a large document is cut into
/// pieces of at least this size, read at the same time.
const PIECE_BYTES: usize = 1 << 20;

/// Reads the YAML document `text` (`file` names it in messages) into a tree of
/// positioned values, handing each item of the top-level lists named in `lists`
/// (the first time each is written) to a collector made by `collector` instead of
/// keeping it in the tree, where those lists stay empty. `Ok(None)` for a text
/// without any document; a syntax error, a crossed bound or a second document is
/// one diagnostic.
///
/// Plain block YAML is read by a fast line reader, in pieces on several threads
/// when the text is large; anything else by yaml-rust2. Both build the same tree
/// and hand out the same items in the same order, and every bound on what a text
/// may build ([`tree`]) holds on both.
pub(crate) fn read_streaming<C: Collector>(
    file: &Path,
    text: &str,
    lists: &[&str],
    collector: impl Fn() -> C + Sync,
) -> Result<(Option<Node>, C), Diagnostic> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads > 1 && text.len() >= PIECE_BYTES * 2 {
        let parts = threads.min(text.len() / PIECE_BYTES);
        let take = |items: &mut C, list: &str, item: Node| items.take(list, item);
        if let Some((root, pieces)) = fast::parse_in_pieces(text, lists, parts, &collector, take) {
            let mut pieces = pieces.into_iter();
            if let Some(mut items) = pieces.next() {
                for next in pieces {
                    items.append(next);
                }
                return Ok((Some(root), items));
            }
        }
    }
    let mut items = collector();
    if let Some(root) = fast::parse_streaming(text, lists, &mut |list, item| items.take(list, item))
    {
        return Ok((Some(root), items));
    }
    // Whatever the fast reader handed out before it gave up is read again.
    let mut items = collector();
    let root = tree::parse_streaming(file, text, lists, &mut |list, item| items.take(list, item))?;
    Ok((root, items))
}

/// `map` applied to each of `items`, the results in order: spread over the
/// available cores, in contiguous shares of about equal `size`.
pub(crate) fn map_in_shares<'t, T: Sync, R: Send>(
    items: &'t [T],
    size: impl Fn(&T) -> usize,
    map: impl Fn(&'t T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if items.len() < 2 || threads < 2 {
        return items.iter().map(map).collect();
    }
    let sizes: Vec<usize> = items.iter().map(size).collect();
    let mut shares: Vec<&'t [T]> = Vec::with_capacity(threads);
    let mut start = 0;
    for end in share_ends(&sizes, threads) {
        shares.push(&items[start..end]);
        start = end;
    }
    let map = &map;
    std::thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(move || share.iter().map(map).collect::<Vec<_>>()))
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

/// Where each of at most `shares` contiguous, non-empty shares of `sizes` ends, so
/// that the shares are as close to equal in total size as cutting between items
/// allows. Contiguous shares keep the results in order.
///
/// Each cut is placed at the item boundary nearest to its ideal point: cutting only
/// once a share has reached its ideal size would give two nearly equal files (49/51)
/// both to the first share.
fn share_ends(sizes: &[usize], shares: usize) -> Vec<usize> {
    let total: usize = sizes.iter().sum();
    // Boundary `b` lies after item `b - 1`; `before[b]` is the size of the items before it.
    let before: Vec<usize> = std::iter::once(0)
        .chain(sizes.iter().scan(0, |sum, size| {
            *sum += size;
            Some(*sum)
        }))
        .collect();
    let mut ends = Vec::with_capacity(shares);
    let mut last = 0;
    for share in 1..shares.min(sizes.len()) {
        let ideal = total * share / shares;
        // The boundaries left after `last`, keeping one item for each later share.
        let latest = sizes.len() - (shares.min(sizes.len()) - share);
        let Some(best) = (last + 1..=latest).min_by_key(|&b| before[b].abs_diff(ideal)) else {
            break;
        };
        ends.push(best);
        last = best;
    }
    if last < sizes.len() {
        ends.push(sizes.len());
    }
    ends
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

/// `base` with `length` bytes from byte `start` replaced by `insert`, both ends moved
/// back to character boundaries: the damaged documents of the loaders' property tests.
#[cfg(test)]
pub(crate) fn damage(base: &str, start: usize, length: usize, insert: &str) -> String {
    let mut start = start.min(base.len());
    while !base.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + length).min(base.len());
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{}{}", &base[..start], insert, &base[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cut_at_the_boundary_nearest_their_ideal_size() {
        // Two nearly equal files go to two threads, whichever is larger.
        assert_eq!(share_ends(&[49, 51], 2), vec![1, 2]);
        assert_eq!(share_ends(&[51, 49], 2), vec![1, 2]);
        assert_eq!(share_ends(&[50, 50], 2), vec![1, 2]);
        // One large file and small ones: the large one alone.
        assert_eq!(share_ends(&[1, 1, 100, 1], 2), vec![2, 4]);
        assert_eq!(share_ends(&[100, 1, 1, 1], 2), vec![1, 4]);
        assert_eq!(share_ends(&[10; 9], 3), vec![3, 6, 9]);
        // More shares than files: one file each, none empty.
        assert_eq!(share_ends(&[5, 7], 4), vec![1, 2]);
        assert_eq!(share_ends(&[0, 0, 0], 2), vec![1, 3]);
        assert_eq!(share_ends(&[3], 2), vec![1]);
    }
}

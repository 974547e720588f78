//! The lines of the entries a plan points at: each `groups:` entry of a user, its
//! `until:`, each `members:` entry of a group, profile or admin group, and each
//! `profiles:` entry of a user group.
//!
//! Converting a positioned item into its typed value drops the positions, so they
//! are taken from the item just before, and set on the value just after: a `u32`
//! per entry (the file is the item's own, known from its origin), which keeps a
//! million users' positions to a few megabytes.

use crate::desired::{Line, Lines, StateFile, UserSpec};
use crate::yaml::{Mark, Node, Value};

/// A mark's line, as stored beside the entries.
pub(super) fn line(mark: Mark) -> u32 {
    u32::try_from(mark.line).unwrap_or(u32::MAX)
}

/// The line of `key` in the mapping `node`; 0 without one.
fn key_line(node: &Node, key: &str) -> Line {
    Line(node.key_mark(key).map_or(0, line))
}

/// The marks of a list's items; none when `node` is not a list.
fn item_lines(node: Option<&Node>) -> impl Iterator<Item = &Node> {
    let items = match node.map(|node| &node.value) {
        Some(Value::Sequence(items)) => items.as_slice(),
        _ => &[],
    };
    items.iter()
}

/// The lines of one user item.
pub(super) struct UserLines {
    /// Per `groups:` entry: its line, and its `until:` line (0 without one).
    groups: Vec<(Line, Line)>,
    /// The user's `until:` line (0 without one).
    until: Line,
}

impl UserLines {
    pub(super) fn of(item: &Node) -> Self {
        UserLines {
            groups: item_lines(item.get("groups"))
                .map(|entry| (Line(line(entry.mark)), key_line(entry, "until")))
                .collect(),
            until: key_line(item, "until"),
        }
    }

    pub(super) fn apply(self, user: &mut UserSpec) {
        user.until_line = self.until;
        for (membership, (line, until)) in user.groups.iter_mut().zip(self.groups) {
            membership.line = line;
            membership.until_line = until;
        }
    }
}

/// The lines of the entries of the list `list` of an item (`members`, `profiles`).
pub(super) fn entry_lines(item: &Node, list: &str) -> Lines {
    Lines(
        item_lines(item.get(list))
            .map(|entry| line(entry.mark))
            .collect(),
    )
}

/// The lines of the items of a whole file's lists that are still in its tree.
pub(super) struct FileLines {
    users: Vec<UserLines>,
    /// Per user group: its `members:` and `profiles:` lines.
    groups: Vec<(Lines, Lines)>,
    profiles: Vec<Lines>,
    admin_groups: Vec<Lines>,
}

impl FileLines {
    pub(super) fn of(root: &Node) -> Self {
        let members = |list: &str| {
            item_lines(root.get(list))
                .map(|item| entry_lines(item, "members"))
                .collect()
        };
        FileLines {
            users: item_lines(root.get("users")).map(UserLines::of).collect(),
            groups: item_lines(root.get("groups"))
                .map(|item| (entry_lines(item, "members"), entry_lines(item, "profiles")))
                .collect(),
            profiles: members("profiles"),
            admin_groups: members("admin_groups"),
        }
    }

    pub(super) fn apply(self, content: &mut StateFile) {
        for (user, lines) in content.users.iter_mut().zip(self.users) {
            lines.apply(user);
        }
        for (group, (members, profiles)) in content.groups.iter_mut().zip(self.groups) {
            group.member_lines = members;
            group.profile_lines = profiles;
        }
        let profiles = (content.profiles.iter_mut()).zip(self.profiles);
        let admin_groups = (content.admin_groups.iter_mut()).zip(self.admin_groups);
        for (profile, lines) in profiles.chain(admin_groups) {
            profile.member_lines = lines;
        }
    }
}

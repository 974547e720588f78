//! Provenance: which lines of the state files ask for a change or a membership,
//! as `path:line` a reviewer can open (the path relative to the folder of
//! `umapi.yaml`, with `/` between folders).
//!
//! The loader keeps one line per `groups:` and `members:` entry beside it
//! ([`crate::desired::Membership::line`], `member_lines`) and one origin per user and
//! group ([`DesiredState::origins`]); the file of an entry is the one its user or
//! group was declared in.

use std::collections::HashMap;
use std::path::Path;

use jiff::civil::Date;
use rustc_hash::FxHashMap;

use crate::desired::{DesiredState, Location, Target, UserSpec};
use crate::expiry::parse_day;
use crate::plan::{ChangeKind, Plan};

/// `file` relative to `root` when it lies under it, with `/` between folders.
pub fn relative_path(file: &Path, root: Option<&Path>) -> String {
    let relative = root
        .and_then(|root| file.strip_prefix(root).ok())
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or(file);
    let parts: Vec<String> = relative
        .components()
        .filter(|part| !matches!(part, std::path::Component::CurDir))
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = parts.join("/");
    // An absolute path keeps its leading `/` (the root component is one itself).
    joined
        .strip_prefix("//")
        .map_or(joined.clone(), |rest| format!("/{rest}"))
}

/// The lines behind the entries of one desired state.
pub struct Sources<'a> {
    desired: &'a DesiredState,
    root: Option<&'a Path>,
    /// Per managed name (lower-cased): user index → line of the `members:` entry
    /// naming the user, made the first time the name is asked about.
    members: HashMap<String, FxHashMap<usize, u32>>,
}

impl<'a> Sources<'a> {
    /// The sources of `desired`, with paths relative to `root` (the folder of
    /// `umapi.yaml`) when given.
    pub fn new(desired: &'a DesiredState, root: Option<&'a Path>) -> Self {
        Sources {
            desired,
            root,
            members: HashMap::new(),
        }
    }

    /// `path:line` of `line` in the file of `location`; none for an unknown line.
    pub fn at(&self, location: Option<&Location>, line: impl Into<Option<u32>>) -> Option<String> {
        let (location, line) = (location?, line.into()?);
        (line > 0).then(|| format!("{}:{line}", relative_path(&location.file, self.root)))
    }

    /// `path:line` of a location.
    pub fn of_location(&self, location: &Location) -> String {
        format!(
            "{}:{}",
            relative_path(&location.file, self.root),
            location.line
        )
    }

    /// Where the user is declared.
    pub fn of_user(&self, user: &UserSpec) -> Option<String> {
        self.desired
            .origin_of_user(user)
            .map(|location| self.of_location(&location))
    }

    /// Where the group, profile or admin group `name` is declared.
    pub fn of_name(&self, name: &str) -> Option<String> {
        self.desired
            .origin_of(name)
            .map(|location| self.of_location(location))
    }

    /// The user's `groups:` entry naming `name`: its line, `until` and `until:` line.
    pub fn entry_of<'u>(
        &self,
        user: &'u UserSpec,
        name: &str,
    ) -> Option<(Option<String>, &'u crate::desired::Membership)> {
        let membership = user
            .groups
            .iter()
            .find(|membership| membership.name.to_lowercase() == name.to_lowercase())?;
        Some((
            self.at(
                self.desired.origin_of_user(user).as_ref(),
                membership.line.get(),
            ),
            membership,
        ))
    }

    /// The `members:` entry of `name` that names the user at `index`.
    pub fn member_entry(&mut self, index: usize, name: &str) -> Option<String> {
        let key = name.to_lowercase();
        let desired = self.desired;
        let lines = self.members.entry(key).or_insert_with(|| {
            let (members, lines) = match desired.target(name) {
                Some(Target::Group(group)) => (&group.members, &group.member_lines),
                Some(Target::Profile(profile) | Target::AdminGroup(profile)) => {
                    (&profile.members, &profile.member_lines)
                }
                None => return FxHashMap::default(),
            };
            let mut found = FxHashMap::default();
            for (member, &line) in members.iter().zip(&lines.0) {
                if let Some(user) = desired.user_index(member) {
                    found.entry(user).or_insert(line);
                }
            }
            found
        });
        let line = lines.get(&index).copied()?;
        self.at(desired.origin_of(name), line)
    }

    /// Every line that makes the user at `index` a member of `name`: the user's
    /// `groups:` entry, then the group's `members:` entry.
    pub fn of_membership(&mut self, index: usize, name: &str) -> Vec<String> {
        let user = &self.desired.users[index];
        let mut found: Vec<String> = self
            .entry_of(user, name)
            .and_then(|(line, _)| line)
            .into_iter()
            .collect();
        found.extend(self.member_entry(index, name));
        found
    }

    /// For access that ended on `today` (`until` passed): the `until:` line and the day.
    fn expired(
        &self,
        user: &UserSpec,
        group: Option<&str>,
        today: Date,
    ) -> Option<(Option<String>, String)> {
        let over = |until: &Option<Box<str>>| {
            until
                .as_deref()
                .and_then(parse_day)
                .is_some_and(|day| day < today)
        };
        let origin = self.desired.origin_of_user(user);
        let origin = origin.as_ref();
        if over(&user.until) {
            return Some((
                self.at(origin, user.until_line.get()),
                user.until.as_deref()?.into(),
            ));
        }
        let (_, membership) = self.entry_of(user, group?)?;
        if !over(&membership.until) {
            return None;
        }
        let line = membership.until_line.get().or(membership.line.get());
        Some((self.at(origin, line), membership.until.as_deref()?.into()))
    }
}

/// Fills in [`crate::plan::Change::sources`] and [`crate::plan::Change::until`]
/// from the state as loaded (`desired`, before anything expired), for the day
/// `today` the plan is made for.
pub(crate) fn attach(
    plan: &mut Plan,
    desired: &DesiredState,
    today: Option<Date>,
    root: Option<&Path>,
) {
    let mut sources = Sources::new(desired, root);
    for change in &mut plan.changes {
        let (found, until) = match &change.kind {
            ChangeKind::CreateGroup { group, .. }
            | ChangeKind::RenameGroup { group, .. }
            | ChangeKind::ReassertGroup { group, .. } => {
                (sources.of_name(group).into_iter().collect(), None)
            }
            ChangeKind::CreateUser { user, .. }
            | ChangeKind::UpdateUser { user, .. }
            | ChangeKind::RenameUser { user, .. } => (
                desired
                    .user(user)
                    .and_then(|user| sources.of_user(user))
                    .into_iter()
                    .collect(),
                None,
            ),
            ChangeKind::AddMembership { user, group, .. } => (
                desired
                    .user_index(user)
                    .map(|index| sources.of_membership(index, group))
                    .unwrap_or_default(),
                None,
            ),
            ChangeKind::RemoveMembership { user, group, .. } => {
                expired(&sources, desired, user, Some(group), today)
            }
            ChangeKind::RemoveUser { user, .. } => expired(&sources, desired, user, None, today),
            ChangeKind::DeleteGroup { .. } => (Vec::new(), None),
        };
        change.sources = found;
        change.until = until;
    }
}

/// The `until:` line and day behind a removal, when access ended.
fn expired(
    sources: &Sources<'_>,
    desired: &DesiredState,
    user: &str,
    group: Option<&str>,
    today: Option<Date>,
) -> (Vec<String>, Option<String>) {
    let found = today.and_then(|today| sources.expired(desired.user(user)?, group, today));
    match found {
        Some((line, until)) => (line.into_iter().collect(), Some(until)),
        None => (Vec::new(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_root_with_forward_slashes() {
        let file = Path::new("/srv/org/state/users.yaml");
        assert_eq!(
            relative_path(file, Some(Path::new("/srv/org"))),
            "state/users.yaml"
        );
        assert_eq!(
            relative_path(file, Some(Path::new("/srv/org/"))),
            "state/users.yaml"
        );
        assert_eq!(
            relative_path(Path::new("./state/users.yaml"), Some(Path::new("."))),
            "state/users.yaml"
        );
        assert_eq!(
            relative_path(Path::new("state/users.yaml"), Some(Path::new(""))),
            "state/users.yaml"
        );
        // A file outside the root keeps its path as loaded.
        assert_eq!(
            relative_path(file, Some(Path::new("/elsewhere"))),
            "/srv/org/state/users.yaml"
        );
        assert_eq!(relative_path(file, None), "/srv/org/state/users.yaml");
    }
}

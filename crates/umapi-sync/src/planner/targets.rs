//! Targeted (partial) plans: only the changes that concern the named users and
//! groups, for an emergency such as offboarding one person now.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use umapi_core::identity::UserKey;

use super::change::ChangeList;
use crate::current::Snapshot;
use crate::desired::DesiredState;
use crate::error::{Diagnostic, Error};
use crate::plan::{ChangeKind, NotVerifiable};

/// What a partial plan is limited to: `user:EMAIL` or `group:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PlanTarget {
    /// A user, by email or username: its creation, update, rename or removal, and
    /// its memberships.
    User(String),
    /// A user group, product profile or admin group, by name: the group itself and
    /// its memberships.
    Group(String),
}

impl std::str::FromStr for PlanTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let named = |rest: &str| (!rest.trim().is_empty()).then(|| rest.trim().to_owned());
        match text.split_once(':') {
            Some(("user", rest)) if let Some(name) = named(rest) => Ok(PlanTarget::User(name)),
            Some(("group", rest)) if let Some(name) = named(rest) => Ok(PlanTarget::Group(name)),
            _ => Err(format!(
                "`{text}` is not a target; write user:EMAIL (like user:ada@example.com) or group:NAME"
            )),
        }
    }
}

impl TryFrom<String> for PlanTarget {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<PlanTarget> for String {
    fn from(target: PlanTarget) -> String {
        target.to_string()
    }
}

impl std::fmt::Display for PlanTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanTarget::User(user) => write!(f, "user:{user}"),
            PlanTarget::Group(group) => write!(f, "group:{group}"),
        }
    }
}

/// Every target must name a user or group of the desired state or of the org.
pub(crate) fn check(
    targets: &[PlanTarget],
    desired: &DesiredState,
    current: &Snapshot,
) -> Result<(), Error> {
    let mut found = Vec::new();
    for target in targets {
        let (known, candidates): (bool, Vec<&str>) = match target {
            PlanTarget::User(user) => {
                let candidates: Vec<&str> = desired
                    .users
                    .iter()
                    .chain(&desired.expired_users)
                    .flat_map(|spec| [spec.email.as_deref(), spec.username.as_deref()])
                    .chain(
                        current
                            .users
                            .iter()
                            .flat_map(|u| [u.email.as_deref(), u.username.as_deref()]),
                    )
                    .flatten()
                    .collect();
                let known = candidates.iter().any(|c| c.eq_ignore_ascii_case(user))
                    || desired.user(user).is_some();
                (known, candidates)
            }
            PlanTarget::Group(group) => {
                let candidates: Vec<&str> = desired
                    .targets()
                    .map(|t| t.name())
                    .chain(
                        desired
                            .groups
                            .iter()
                            .flat_map(|g| g.previously.iter().map(String::as_str)),
                    )
                    .chain(current.groups.iter().map(|g| g.name.as_str()))
                    .collect();
                let known = candidates
                    .iter()
                    .any(|c| c.to_lowercase() == group.to_lowercase());
                (known, candidates)
            }
        };
        if !known {
            let (name, noun) = match target {
                PlanTarget::User(user) => (user, "user"),
                PlanTarget::Group(group) => (group, "group"),
            };
            let hint = match crate::yaml::closest(name, candidates.iter().copied()) {
                Some(close) => format!("did you mean `{noun}:{close}`?"),
                None => format!("name a {noun} of the state files or of the org"),
            };
            found.push(Diagnostic {
                location: None,
                message: format!(
                    "--target {target} matches no {noun} in the state files or the org"
                ),
                hint: Some(hint),
            });
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(found))
    }
}

/// Keeps the changes that concern a target, and those they need first: the
/// creation or rename of the user and group of a membership kept.
pub(crate) fn keep(
    changes: &mut ChangeList,
    not_verifiable: &mut Vec<NotVerifiable>,
    warnings: &mut Vec<String>,
    targets: &[PlanTarget],
) {
    // Warnings name what they are about; those about other objects wait for a full plan.
    warnings.retain(|warning| {
        let warning = warning.to_lowercase();
        targets.iter().any(|target| {
            let (PlanTarget::User(name) | PlanTarget::Group(name)) = target;
            warning.contains(&name.to_lowercase())
        })
    });
    // Changes name users as written (an email, or `username (domain)`): compared by
    // key, so that case and Unicode normal form do not matter.
    let users: HashSet<UserKey> = targets
        .iter()
        .filter_map(|t| match t {
            PlanTarget::User(user) => Some(UserKey::parse(user)),
            PlanTarget::Group(_) => None,
        })
        .collect();
    let groups: HashSet<String> = targets
        .iter()
        .filter_map(|t| match t {
            PlanTarget::Group(group) => Some(group.to_lowercase()),
            PlanTarget::User(_) => None,
        })
        .collect();
    let concerns = |kind: &ChangeKind| {
        let (user, group) = touched(kind);
        user.iter().any(|u| users.contains(&UserKey::parse(u)))
            || group.iter().any(|g| groups.contains(&g.to_lowercase()))
    };
    let mut kept: Vec<bool> = changes.0.iter().map(|c| concerns(&c.kind)).collect();
    // A membership kept needs its user and group to exist under the declared name.
    let mut needed_users = HashSet::new();
    let mut needed_groups = HashSet::new();
    for (change, _) in changes.0.iter().zip(&kept).filter(|(_, kept)| **kept) {
        if let ChangeKind::AddMembership { user, group, .. } = &change.kind {
            needed_users.insert(UserKey::parse(user));
            needed_groups.insert(group.to_lowercase());
        }
    }
    for (change, kept) in changes.0.iter().zip(kept.iter_mut()) {
        *kept |= match &change.kind {
            ChangeKind::CreateUser { user, .. } | ChangeKind::RenameUser { user, .. } => {
                needed_users.contains(&UserKey::parse(user))
            }
            ChangeKind::CreateGroup { group, .. } | ChangeKind::RenameGroup { group, .. } => {
                needed_groups.contains(&group.to_lowercase())
            }
            _ => false,
        };
    }
    let mut flags = kept.into_iter();
    changes.0.retain(|_| flags.next().unwrap_or(false));
    // Write-only values ride on the group's own changes, not on its memberships.
    let kept_groups: HashSet<String> = changes
        .0
        .iter()
        .filter(|c| {
            !matches!(
                c.kind,
                ChangeKind::AddMembership { .. } | ChangeKind::RemoveMembership { .. }
            )
        })
        .flat_map(|c| touched(&c.kind).1)
        .map(str::to_lowercase)
        .collect();
    not_verifiable.retain(|item| kept_groups.contains(&item.group.to_lowercase()));
}

/// The users and the groups a change names, earlier names of renames included.
fn touched(kind: &ChangeKind) -> (Vec<&str>, Vec<&str>) {
    match kind {
        ChangeKind::CreateGroup { group, .. }
        | ChangeKind::DeleteGroup { group, .. }
        | ChangeKind::ReassertGroup { group, .. } => (Vec::new(), vec![group]),
        ChangeKind::RenameGroup { group, from } => (Vec::new(), vec![group, from]),
        ChangeKind::CreateUser { user, email, .. } => (vec![user, email], Vec::new()),
        ChangeKind::UpdateUser { user, .. } | ChangeKind::RemoveUser { user, .. } => {
            (vec![user], Vec::new())
        }
        ChangeKind::RenameUser { user, from, .. } => (vec![user, from], Vec::new()),
        ChangeKind::AddMembership { user, group, .. }
        | ChangeKind::RemoveMembership { user, group, .. } => (vec![user], vec![group]),
    }
}

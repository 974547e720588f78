//! Licences (seats) in the plan: for every product profile the plan adds members to
//! or removes members from, directly or through a user group that carries the
//! profile, the seats used now and after the plan, against the profile's quota.
//!
//! The estimate:
//! - now: the profile's `memberCount` (what Adobe counts), else the snapshot's
//!   users holding it directly or through a user group the state files link to it;
//! - after: now, plus every user the plan gives the profile (a user who already
//!   holds it directly or through another group takes no new seat), minus every
//!   user who loses it (a removal frees a seat only when no other path remains).
//!
//! Which profiles a user group carries is write-only in UMAPI: the estimate takes
//! the links declared in the state files (the plan sends them), and knows none for
//! user groups the state files do not declare.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use umapi_core::identity::{UserKey, UserKeyRef};
use umapi_core::wire::{GroupType, IdentityType};

use super::change::{Address, Decided, UserTarget};
use crate::current::{LicenseQuota, Snapshot, SnapshotUser};
use crate::desired::DesiredState;
use crate::plan::ChangeKind;

/// The seats of one product profile the plan touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    /// The product profile, as the org spells it.
    pub profile: String,
    /// Its licence quota (a number or `UNLIMITED`); absent when UMAPI did not report one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<LicenseQuota>,
    /// Seats used now.
    pub now: u64,
    /// Seats used after the plan (estimated).
    pub after: u64,
}

impl Licence {
    /// The seats the plan itself takes beyond the quota: after the plan, the seats
    /// over the quota that were neither used nor over it before. 0 for a plan that
    /// does not add seats, and for profiles without a numeric quota.
    pub fn over_by(&self) -> u64 {
        match self.quota.and_then(LicenseQuota::seats) {
            Some(quota) => self.after.saturating_sub(self.now.max(quota)),
            None => 0,
        }
    }

    /// The warning of a plan that takes the profile over its quota.
    pub fn warning(&self) -> Option<String> {
        let quota = self.quota.and_then(LicenseQuota::seats)?;
        (self.over_by() > 0).then(|| {
            format!(
                "product profile {}: this plan takes it to {} seats, over its licence quota \
                 of {quota} ({} used now); Adobe may refuse the adds beyond the quota",
                self.profile, self.after, self.now
            )
        })
    }
}

/// A user whose memberships the plan changes.
#[derive(Default)]
struct Moves {
    /// Index into the snapshot's users; `None` for users the plan creates.
    current: Option<usize>,
    /// Lower-cased groups added and removed.
    adds: Vec<String>,
    removes: Vec<String>,
    leaves: bool,
}

/// The seats of every product profile the changes touch, ordered by profile name.
pub(crate) fn estimate(
    desired: &DesiredState,
    current: &Snapshot,
    changes: &[Decided],
) -> Vec<Licence> {
    let profiles: HashMap<String, usize> = current
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.group_type == GroupType::ProductProfile)
        .map(|(i, g)| (g.name.to_lowercase(), i))
        .collect();
    if profiles.is_empty()
        || !changes.iter().any(|c| {
            matches!(
                c.kind,
                ChangeKind::AddMembership { .. }
                    | ChangeKind::RemoveMembership { .. }
                    | ChangeKind::RemoveUser { .. }
            )
        })
    {
        return Vec::new();
    }
    let links = declared_links(desired, &profiles);
    let carried = |group: &str| -> Vec<usize> {
        match profiles.get(group) {
            Some(&p) => vec![p],
            None => links.get(group).cloned().unwrap_or_default(),
        }
    };

    let moves = moves(current, changes);
    let mut delta: BTreeMap<usize, i64> = BTreeMap::new();
    let mut touched: BTreeSet<usize> = BTreeSet::new();
    for m in moves.values() {
        for group in m.adds.iter().chain(&m.removes) {
            touched.extend(carried(group));
        }
        let before: Vec<String> = m
            .current
            .map(|i| {
                current.users[i]
                    .groups
                    .iter()
                    .map(|g| g.to_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let held_before = held(&before, &carried);
        let held_after = if m.leaves {
            BTreeSet::new()
        } else {
            let mut after: Vec<String> = before
                .iter()
                .filter(|g| !m.removes.contains(g))
                .cloned()
                .collect();
            after.extend(m.adds.iter().cloned());
            held(&after, &carried)
        };
        for &p in held_after.difference(&held_before) {
            *delta.entry(p).or_default() += 1;
            touched.insert(p);
        }
        for &p in held_before.difference(&held_after) {
            *delta.entry(p).or_default() -= 1;
            touched.insert(p);
        }
    }
    if touched.is_empty() {
        return Vec::new();
    }

    let uncounted: BTreeSet<usize> = touched
        .iter()
        .copied()
        .filter(|&p| current.groups[p].member_count.is_none())
        .collect();
    let mut counted: HashMap<usize, u64> = HashMap::new();
    if !uncounted.is_empty() {
        for user in &current.users {
            let groups: Vec<String> = user.groups.iter().map(|g| g.to_lowercase()).collect();
            for p in held(&groups, &carried) {
                if uncounted.contains(&p) {
                    *counted.entry(p).or_default() += 1;
                }
            }
        }
    }
    // Snapshot groups are sorted by name, so index order is name order.
    touched
        .into_iter()
        .map(|p| {
            let group = &current.groups[p];
            let now = group
                .member_count
                .unwrap_or_else(|| counted.get(&p).copied().unwrap_or(0));
            let change = delta.get(&p).copied().unwrap_or(0);
            Licence {
                profile: group.name.clone(),
                quota: group.license_quota,
                now,
                after: now.saturating_add_signed(change),
            }
        })
        .collect()
}

/// The profiles held through `groups` (lower-cased names): the profiles among
/// them, and those the user groups among them carry.
fn held(groups: &[String], carried: &impl Fn(&str) -> Vec<usize>) -> BTreeSet<usize> {
    groups.iter().flat_map(|g| carried(g)).collect()
}

/// Declared user group (lower-cased, under its name and earlier names) → the
/// org's product profiles it carries.
fn declared_links(
    desired: &DesiredState,
    profiles: &HashMap<String, usize>,
) -> HashMap<String, Vec<usize>> {
    let mut links = HashMap::new();
    for group in &desired.groups {
        let carried: Vec<usize> = group
            .profiles
            .iter()
            .filter_map(|p| profiles.get(&p.to_lowercase()).copied())
            .collect();
        if carried.is_empty() {
            continue;
        }
        for name in std::iter::once(&group.name).chain(&group.previously) {
            links.insert(name.to_lowercase(), carried.clone());
        }
    }
    links
}

/// The membership moves of every user the changes touch, by the name changes
/// give them.
fn moves(current: &Snapshot, changes: &[Decided]) -> BTreeMap<String, Moves> {
    let users = Resolver::new(
        current,
        changes.iter().filter_map(|c| match &c.address {
            Address::User { target } => Some(target),
            Address::Group { .. } => None,
        }),
    );
    // Membership changes name a renamed user by the new name; the rename's request
    // addresses the account by the current one.
    let mut renamed: HashMap<&str, Option<usize>> = HashMap::new();
    let mut created: BTreeSet<&str> = BTreeSet::new();
    for change in changes {
        match (&change.kind, &change.address) {
            (ChangeKind::RenameUser { user, .. }, Address::User { target }) => {
                renamed.insert(user, users.find(target));
            }
            (ChangeKind::CreateUser { user, .. }, _) => {
                created.insert(user);
            }
            _ => {}
        }
    }
    let mut moves: BTreeMap<String, Moves> = BTreeMap::new();
    for change in changes {
        let Address::User { target } = &change.address else {
            continue;
        };
        let (user, group, add) = match &change.kind {
            ChangeKind::AddMembership { user, group, .. } => (user, Some(group), true),
            ChangeKind::RemoveMembership { user, group, .. } => (user, Some(group), false),
            ChangeKind::RemoveUser { user, .. } => (user, None, false),
            _ => continue,
        };
        let entry = moves.entry(user.clone()).or_insert_with(|| Moves {
            current: if created.contains(user.as_str()) {
                None
            } else {
                match renamed.get(user.as_str()) {
                    Some(found) => *found,
                    None => users.find(target),
                }
            },
            ..Moves::default()
        });
        match group {
            Some(group) if add => entry.adds.push(group.to_lowercase()),
            Some(group) => entry.removes.push(group.to_lowercase()),
            None => entry.leaves = true,
        }
    }
    moves
}

/// Finds the snapshot user a request's user target names. Only the names the
/// changes use are indexed: a large org is scanned once, without a map of it.
struct Resolver<'a> {
    users: &'a [SnapshotUser],
    by_name: HashMap<UserKey, Vec<usize>>,
}

/// The key a request's user target names: its username within its domain, or its
/// email (an email-shaped username is read as the email, as UMAPI reads it).
fn target_key(target: &UserTarget) -> UserKeyRef<'_> {
    match target.domain.as_deref() {
        Some(domain) => UserKeyRef::username(&target.user, domain),
        None => UserKeyRef::email(&target.user),
    }
}

impl<'a> Resolver<'a> {
    fn new<'t>(current: &'a Snapshot, targets: impl Iterator<Item = &'t UserTarget>) -> Self {
        let mut by_name: HashMap<UserKey, Vec<usize>> = targets
            .map(|target| (target_key(target).into_owned(), Vec::new()))
            .collect();
        for (i, user) in current.users.iter().enumerate() {
            let [by_email, by_username] = UserKeyRef::aliases(
                user.email.as_deref(),
                user.username.as_deref(),
                user.domain.as_deref(),
            );
            for key in [by_email, by_username].into_iter().flatten() {
                if let Some(found) = by_name.get_mut(&key) {
                    found.push(i);
                }
            }
        }
        Resolver {
            users: &current.users,
            by_name,
        }
    }

    fn find(&self, target: &UserTarget) -> Option<usize> {
        let found = self.by_name.get(&target_key(target))?;
        let adobe_id = |i: usize| self.users[i].identity_type == IdentityType::AdobeId;
        found
            .iter()
            .copied()
            .find(|&i| adobe_id(i) == target.use_adobe_id)
            .or_else(|| found.first().copied())
    }
}

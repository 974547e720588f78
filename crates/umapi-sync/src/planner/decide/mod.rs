//! Deciding: matches desired users and groups to the snapshot and decides every
//! change, as the change list that limits count and [`super::pack`] packs.
//!
//! Declared groups are resolved first ([`groups`]), then desired users are matched
//! to the org's accounts (here), each user's changes are decided ([`users`]), and
//! the decisions become the ordered change list ([`changes`]).

mod changes;
mod groups;
mod users;

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use regex::{Regex, RegexBuilder};
use rustc_hash::{FxHashMap, FxHashSet};
use umapi_core::identity::{UserKeyRef, normalized};
use umapi_core::protocol::is_email_shaped;
use umapi_core::wire::{IdentityType, UserStep};

use super::PlanOptions;
use super::change::UserTarget;
use crate::current::{AccountKey, Snapshot, SnapshotUser};
use crate::desired::{DesiredState, Location, UserSpec};
use crate::error::{Diagnostic, Error};
use crate::halves::in_halves;
use crate::plan::{FieldChange, GroupKind, NotVerifiable};
use umapi_core::protocol::{MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY};

pub(crate) use changes::Built;

/// The write-only values declared for a user group.
struct GroupSpec {
    /// Index into `managed`.
    managed: u32,
    description: Option<String>,
    profiles: Vec<String>,
}

/// A managed group, profile or admin group.
struct Managed {
    /// Name as declared (used in requests after the group phase).
    name: String,
    kind: GroupKind,
    /// The group's current name in the org, when it exists (the old name of a rename).
    current: Option<String>,
    /// Rename from `current` to `name`.
    renamed: bool,
    /// Declared but excluded: never touched.
    excluded: bool,
}

/// What a snapshot group name means to the planner.
#[derive(Clone, Copy)]
struct GroupInfo {
    managed: Option<u32>,
    excluded: bool,
    admin: bool,
}

/// A desired user, declared or only named as a member.
struct Wanted<'a> {
    spec: Option<&'a UserSpec>,
    /// The member reference, for users only named in `members:` lists.
    reference: &'a str,
    identity_type: IdentityType,
    /// Managed groups the user should be in (indices into `managed`), sorted; no
    /// excluded group.
    groups: Vec<u32>,
    current: Option<u32>,
    renamed_from: Option<u32>,
}

pub(crate) struct Builder<'a> {
    desired: &'a DesiredState,
    snapshot: &'a Snapshot,
    options: &'a PlanOptions,
    managed: Vec<Managed>,
    by_declared: HashMap<String, u32>,
    // Looked up for every membership of every user: the fast hash.
    by_current_exact: FxHashMap<&'a str, GroupInfo>,
    by_current_lower: FxHashMap<String, GroupInfo>,
    user_patterns: Vec<Regex>,
    /// Users whose email another account of the org shares.
    shared_users: FxHashSet<u32>,
    excluded_types: Vec<IdentityType>,
    diagnostics: Vec<Diagnostic>,
    warnings: Vec<String>,
    not_verifiable: Vec<NotVerifiable>,
    /// Declared user groups that are not excluded, in declaration order.
    group_specs: Vec<GroupSpec>,
}

/// Room for the keys of `users` users: one each (the email), and a second for those
/// few who sign in with a username that is not an email. Room for two each would
/// double the maps of a large org (a million users: 130 MB more) for keys few have.
fn aliases_of(users: usize) -> usize {
    users + users / 8
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// A user's keys (see [`UserKeyRef::aliases`]).
type Aliases<'s> = [Option<UserKeyRef<'s>>; 2];

/// How requests name an existing user; `shared` when another account of the org
/// answers to the same name (its email or email-form username).
fn target_of_current(user: &SnapshotUser, shared: bool) -> UserTarget {
    let (name, domain) = user.target();
    let mut target = UserTarget::new(name, domain);
    target.use_adobe_id = shared && user.identity_type == IdentityType::AdobeId;
    if target.domain.is_some() && !shared {
        target.list_email = user
            .email
            .as_deref()
            .filter(|email| !email.is_empty())
            .map(String::from);
    }
    target
}

impl<'a> Builder<'a> {
    pub(crate) fn new(
        desired: &'a DesiredState,
        snapshot: &'a Snapshot,
        options: &'a PlanOptions,
    ) -> Result<Self, Error> {
        let settings = &desired.settings;
        let mut diagnostics = Vec::new();
        let mut user_patterns = Vec::new();
        for pattern in &settings.exclude.users {
            match RegexBuilder::new(pattern).case_insensitive(true).build() {
                Ok(regex) => user_patterns.push(regex),
                Err(err) => diagnostics.push(Diagnostic {
                    location: None,
                    message: format!(
                        "settings.exclude.users: invalid regular expression `{pattern}`: {err}"
                    ),
                    hint: Some("use Rust regex syntax, e.g. \"^svc-\"".into()),
                }),
            }
        }
        let mut builder = Builder {
            desired,
            snapshot,
            options,
            managed: Vec::new(),
            by_declared: HashMap::new(),
            by_current_exact: FxHashMap::with_capacity_and_hasher(
                snapshot.groups.len(),
                Default::default(),
            ),
            by_current_lower: FxHashMap::with_capacity_and_hasher(
                snapshot.groups.len(),
                Default::default(),
            ),
            user_patterns,
            shared_users: FxHashSet::default(),
            excluded_types: settings.exclude.types.clone(),
            diagnostics,
            warnings: Vec::new(),
            not_verifiable: Vec::new(),
            group_specs: Vec::new(),
        };
        builder.resolve_groups();
        Ok(builder)
    }

    fn origin(&self, key: &str) -> Option<Location> {
        self.desired.origins.get(key).cloned()
    }

    fn user_origin(&self, spec: &UserSpec) -> Option<Location> {
        self.desired.origin_of_user(spec)
    }

    fn push_managed(&mut self, managed: Managed) -> u32 {
        let index = self.managed.len() as u32;
        self.by_declared.insert(lower(&managed.name), index);
        self.managed.push(managed);
        index
    }

    fn group_info(&self, name: &str) -> Option<GroupInfo> {
        self.by_current_exact
            .get(name)
            .copied()
            .or_else(|| self.by_current_lower.get(&lower(name)).copied())
            .or_else(|| {
                // A membership in a group the group listing did not return: treat
                // admin-looking names as admin roles, never as managed.
                name.starts_with('_').then_some(GroupInfo {
                    managed: None,
                    excluded: false,
                    admin: true,
                })
            })
    }

    fn user_excluded(&self, user: &SnapshotUser) -> bool {
        if self.excluded_types.contains(&user.identity_type) {
            return true;
        }
        if self.matches_pattern(user.email.as_deref(), user.username.as_deref()) {
            return true;
        }
        user.groups
            .iter()
            .any(|g| self.group_info(g).is_some_and(|info| info.excluded))
    }

    fn matches_pattern(&self, email: Option<&str>, username: Option<&str>) -> bool {
        self.user_patterns.iter().any(|re| {
            email.is_some_and(|e| re.is_match(e)) || username.is_some_and(|u| re.is_match(u))
        })
    }

    /// Decides every change.
    pub(crate) fn run(mut self) -> Result<Built, Error> {
        let snapshot = self.snapshot;
        // The org's index and the wanted users are independent, and each costs a
        // pass over a million users at scale: the wanted users are collected on a
        // second thread meanwhile. (The other way round, the plan's peak memory at
        // a million users went over 1 GB in 8 runs of 40, against 1 of 12.)
        let (current, mut wanted) = std::thread::scope(|scope| {
            let wanted = scope.spawn(|| self.wanted_users());
            let current = CurrentIndex::of(snapshot);
            let wanted = wanted
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (current, wanted)
        });
        let claimed = self.match_users(&mut wanted, &current);
        self.shared_users = current.shared_users;
        if !self.diagnostics.is_empty() {
            return Err(Error::Invalid(std::mem::take(&mut self.diagnostics)));
        }
        self.decide(wanted, claimed)
    }

    /// The desired users, declared or only named in `members:` lists, each with the
    /// managed groups it should be in (excluded groups left out).
    fn wanted_users(&mut self) -> Vec<Wanted<'a>> {
        let desired = self.desired;
        let settings = &desired.settings;
        let mut wanted: Vec<Wanted<'a>> = desired
            .users
            .iter()
            .map(|spec| Wanted {
                spec: Some(spec),
                reference: "",
                identity_type: spec
                    .identity_type
                    .or(settings.default_type)
                    .unwrap_or(IdentityType::FederatedId),
                groups: Vec::new(),
                current: None,
                renamed_from: None,
            })
            .collect();

        // Memberships declared on users… (names are nearly always spelled as declared)
        let declared_exact: FxHashMap<&str, u32> = desired
            .groups
            .iter()
            .map(|g| &g.name)
            .chain(desired.profiles.iter().map(|p| &p.name))
            .chain(desired.admin_groups.iter().map(|p| &p.name))
            .filter_map(|name| Some((name.as_str(), *self.by_declared.get(&lower(name))?)))
            .collect();
        // Declared, yet not managed: its own error (not in the org, say) is reported
        // already, and a user listing it is no second error.
        let declared_unmanaged: HashSet<String> = desired
            .groups
            .iter()
            .map(|g| &g.name)
            .chain(desired.profiles.iter().map(|p| &p.name))
            .chain(desired.admin_groups.iter().map(|p| &p.name))
            .map(|name| lower(name))
            .filter(|key| !self.by_declared.contains_key(key))
            .collect();
        for (index, spec) in desired.users.iter().enumerate() {
            for group in &spec.groups {
                let found = declared_exact
                    .get(&*group.name)
                    .or_else(|| self.by_declared.get(&lower(group)));
                match found {
                    Some(&m) => {
                        if !self.managed[m as usize].excluded {
                            wanted[index].groups.push(m);
                        }
                    }
                    None if declared_unmanaged.contains(&lower(group)) => {}
                    None => self.diagnostics.push(Diagnostic {
                        location: self.user_origin(spec),
                        message: format!(
                            "user {} lists `{}`, which is not declared under groups, profiles or admin_groups",
                            spec.display_identity(),
                            group.name
                        ),
                        hint: Some("declare it, so that umapi manages its members, or remove it from the user".into()),
                    }),
                }
            }
        }
        // …and on groups, profiles and admin groups. Their members are found among
        // the declared users by key, or by bare username; the index of both is built
        // only for the first member (a state exported from a large org lists
        // memberships on its users, and has none).
        let mut by_reference: Option<WantedIndex<'a>> = None;
        let member_lists = desired
            .groups
            .iter()
            .map(|g| (&g.name, &g.members))
            .chain(desired.profiles.iter().map(|p| (&p.name, &p.members)))
            .chain(desired.admin_groups.iter().map(|p| (&p.name, &p.members)));
        for (name, members) in member_lists {
            let Some(&m) = self.by_declared.get(&lower(name)) else {
                continue;
            };
            for member in members {
                let index = by_reference
                    .get_or_insert_with(|| WantedIndex::of(&desired.users))
                    .find_or_add(member, &mut wanted, settings.default_type);
                if !self.managed[m as usize].excluded {
                    wanted[index as usize].groups.push(m);
                }
            }
        }
        for w in &mut wanted {
            w.groups.sort_unstable();
            w.groups.dedup();
        }
        wanted
    }

    /// Matches desired users to the org's accounts: first each to an account of its
    /// declared type, then org-owned users to an account of another type (reported,
    /// since UMAPI cannot change a type). An Adobe ID never takes over an org-owned
    /// account with its email: it is a user of its own. Returns which accounts are
    /// taken.
    fn match_users(&self, wanted: &mut [Wanted<'a>], current: &CurrentIndex<'a>) -> Vec<bool> {
        let snapshot = self.snapshot;
        // The look-ups are independent of one another, and at a million users they
        // wait mostly on memory: both halves at once, on two threads.
        let (mut firsts, rest) = in_halves(wanted, |part| {
            part.iter()
                .map(|w| {
                    own_keys(w).map(|key| key.and_then(|key| current.by_key.get(&key).copied()))
                })
                .collect::<Vec<_>>()
        });
        firsts.extend(rest);
        let mut claimed: Vec<bool> = vec![false; snapshot.users.len()];
        let mut pending: Vec<u32> = Vec::new();
        for exact in [true, false] {
            let round: Vec<u32> = if exact {
                (0..wanted.len() as u32).collect()
            } else {
                std::mem::take(&mut pending)
            };
            for i in round {
                let w = &mut wanted[i as usize];
                let mut known = false;
                let found = (0..2).find_map(|slot| {
                    let first = firsts[i as usize][slot]?;
                    known = true;
                    let single = [first];
                    // Only an account whose key another shares has other candidates.
                    let candidates = if current.shared_users.contains(&first) {
                        own_keys(w)[slot]
                            .as_ref()
                            .and_then(|key| current.shared.get(key))
                            .map_or(&single[..], Vec::as_slice)
                    } else {
                        &single[..]
                    };
                    candidates.iter().copied().find(|&c| {
                        let have = snapshot.users[c as usize].identity_type;
                        let fits = if exact {
                            have == w.identity_type || have == IdentityType::Unknown
                        } else {
                            w.identity_type != IdentityType::AdobeId
                        };
                        fits && !claimed[c as usize]
                    })
                });
                if let Some(found) = found {
                    claimed[found as usize] = true;
                    w.current = Some(found);
                    continue;
                }
                if known {
                    if exact {
                        pending.push(i);
                    }
                    continue;
                }
                if !exact {
                    continue;
                }
                let (previously, domain): (&[Box<str>], Option<&str>) = match w.spec {
                    Some(spec) => (&spec.previously, spec.domain.as_deref()),
                    None => (&[], None),
                };
                let old = previously.iter().find_map(|p| {
                    let key = UserKeyRef::from_reference(p)
                        .or_else(|| domain.map(|d| UserKeyRef::username(p, d)))?;
                    current.by_key.get(&key).copied()
                });
                if let Some(old) = old
                    && !claimed[old as usize]
                {
                    claimed[old as usize] = true;
                    w.current = Some(old);
                    w.renamed_from = Some(old);
                }
            }
        }
        claimed
    }
}

/// The keys a wanted user is known by: those of its declaration, or the one its
/// member reference names.
fn own_keys<'a>(w: &Wanted<'a>) -> Aliases<'a> {
    match w.spec {
        Some(spec) => UserKeyRef::aliases(
            spec.email.as_deref(),
            spec.username.as_deref(),
            spec.domain.as_deref(),
        ),
        None => [UserKeyRef::from_reference(w.reference), None],
    }
}

/// The org's users by every key they answer to.
struct CurrentIndex<'a> {
    /// The first user (in snapshot order) under each key.
    by_key: FxHashMap<UserKeyRef<'a>, u32>,
    /// Every user under a key that several share (an Adobe ID and an org-owned
    /// account with the same email), in snapshot order.
    shared: FxHashMap<UserKeyRef<'a>, Vec<u32>>,
    /// Users whose email another account of the org shares.
    shared_users: FxHashSet<u32>,
}

impl<'a> CurrentIndex<'a> {
    fn of(snapshot: &'a Snapshot) -> Self {
        // Millions of keys at a million users: the fast hash, not SipHash (a
        // collision only costs time, and these keys come from the admin's own org).
        let mut index = CurrentIndex {
            by_key: FxHashMap::with_capacity_and_hasher(
                aliases_of(snapshot.users.len()),
                Default::default(),
            ),
            shared: FxHashMap::default(),
            shared_users: FxHashSet::default(),
        };
        for (position, user) in snapshot.users.iter().enumerate() {
            let position = position as u32;
            for alias in UserKeyRef::aliases(
                user.email.as_deref(),
                user.username.as_deref(),
                user.domain.as_deref(),
            )
            .into_iter()
            .flatten()
            {
                match index.by_key.entry(alias) {
                    Entry::Vacant(slot) => {
                        slot.insert(position);
                    }
                    Entry::Occupied(slot) => {
                        let first = *slot.get();
                        index.shared_users.insert(first);
                        index.shared_users.insert(position);
                        index
                            .shared
                            .entry(slot.key().clone())
                            .or_insert_with(|| vec![first])
                            .push(position);
                    }
                }
            }
        }
        index
    }
}

/// The declared users by the references a `members:` list may name them with: any
/// of their keys, or a bare username.
struct WantedIndex<'a> {
    by_key: FxHashMap<UserKeyRef<'a>, u32>,
    by_username: FxHashMap<Cow<'a, str>, u32>,
}

impl<'a> WantedIndex<'a> {
    /// The index of `users`, which are the first `users.len()` wanted users.
    fn of(users: &'a [UserSpec]) -> Self {
        let mut index = WantedIndex {
            by_key: FxHashMap::with_capacity_and_hasher(
                aliases_of(users.len()),
                Default::default(),
            ),
            by_username: FxHashMap::default(),
        };
        for (position, spec) in users.iter().enumerate() {
            let position = position as u32;
            let keys = UserKeyRef::aliases(
                spec.email.as_deref(),
                spec.username.as_deref(),
                spec.domain.as_deref(),
            );
            for key in keys.into_iter().flatten() {
                index.by_key.entry(key).or_insert(position);
            }
            if let Some(username) = spec.username.as_deref().filter(|u| !is_email_shaped(u)) {
                index
                    .by_username
                    .entry(normalized(username))
                    .or_insert(position);
            }
        }
        index
    }

    /// The wanted user `member` names; one only named here is added to `wanted`.
    fn find_or_add(
        &mut self,
        member: &'a str,
        wanted: &mut Vec<Wanted<'a>>,
        default_type: Option<IdentityType>,
    ) -> u32 {
        let key = UserKeyRef::from_reference(member);
        let found = match &key {
            Some(key) => self.by_key.get(key),
            None => self.by_username.get(&normalized(member)),
        };
        if let Some(&index) = found {
            return index;
        }
        let index = wanted.len() as u32;
        match key {
            Some(key) => self.by_key.insert(key, index),
            None => self.by_username.insert(normalized(member), index),
        };
        wanted.push(Wanted {
            spec: None,
            reference: member,
            identity_type: default_type.unwrap_or(IdentityType::FederatedId),
            groups: Vec::new(),
            current: None,
            renamed_from: None,
        });
        index
    }
}

/// The target of a declared user after creation or rename.
fn new_target(spec: &UserSpec) -> (String, Option<String>) {
    match (&spec.email, &spec.username) {
        (_, Some(username)) if !username.contains('@') => (
            username.to_string(),
            spec.domain.as_deref().map(String::from),
        ),
        (Some(email), _) => (email.to_string(), None),
        (None, Some(username)) => (username.to_string(), None),
        (None, None) => (String::new(), None),
    }
}

/// The profiles that fit in one entry after `leading` other steps, and the rest in
/// chunks of one entry each.
fn split_profiles(profiles: &[String], leading: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let first = (MAX_STEPS_PER_ENTRY - leading) * MAX_NAMES_PER_LIST;
    let (head, rest) = profiles.split_at(first.min(profiles.len()));
    let per_entry = MAX_STEPS_PER_ENTRY * MAX_NAMES_PER_LIST;
    (
        head.to_vec(),
        rest.chunks(per_entry).map(<[String]>::to_vec).collect(),
    )
}

/// Sorted `a` minus sorted `b`.
fn difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    a.iter()
        .copied()
        .filter(|x| b.binary_search(x).is_err())
        .collect()
}

/// What happens to one user.
#[derive(Default)]
struct UserDecision {
    key: AccountKey,
    current: Option<u32>,
    /// How requests name the user before the update phase.
    target: UserTarget,
    /// How requests name the user after a rename.
    after: Option<UserTarget>,
    create: Option<Create>,
    /// A username set right after the create, in the same entry.
    create_username: Option<String>,
    update: Vec<FieldChange>,
    rename: Vec<FieldChange>,
    adds: Vec<u32>,
    removes: Vec<u32>,
    leave: Option<Leave>,
}

/// A user to create.
struct Create {
    step: UserStep,
    identity_type: IdentityType,
    email: String,
    country: Option<String>,
}

/// A user leaving the org.
struct Leave {
    delete_account: bool,
    identity_type: IdentityType,
}

/// An unlisted user group to delete.
struct Delete {
    group: String,
    /// Its member count, when UMAPI reported one.
    member_count: Option<u64>,
}

impl UserDecision {
    fn is_empty(&self) -> bool {
        self.create.is_none()
            && self.update.is_empty()
            && self.rename.is_empty()
            && self.adds.is_empty()
            && self.removes.is_empty()
            && self.leave.is_none()
    }
}

/// The decisions on a run of wanted users, with what they found to report.
#[derive(Default)]
struct Decided {
    users: Vec<UserDecision>,
    warnings: Vec<String>,
    diagnostics: Vec<Diagnostic>,
    managed_memberships: u64,
}

#[derive(Default)]
struct Decisions {
    users: Vec<UserDecision>,
    deletes: Vec<Delete>,
}

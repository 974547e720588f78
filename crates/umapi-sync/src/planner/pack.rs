//! Packing: turns the change list into as few action requests as the packing sizes
//! allow. A pure function of the changes and the sizes.
//!
//! Sizes (defaults: the protocol maxima): entries per request, steps per entry,
//! names per step. Memberships of user groups go either into user entries
//! (`add {"group"}`) or group entries (`usergroup` + `add {"user"}`), whichever needs
//! fewer entries; product profiles and admin groups only take user entries.

use std::collections::HashMap;

use umapi_core::wire::{
    CreateUser, CreateUserGroup, Empty, Entry, GroupList, IdentityType, IfAlreadyExists,
    RemoveFromOrg, UpdateUser, UpdateUserGroup, UserEntry, UserGroupEntry, UserGroupStep,
    UserGroupTargets, UserStep,
};

use super::change::{Address, Decided, UserTarget};
use super::cover::minimum_vertex_cover;
use crate::plan::{ChangeId, ChangeKind, GroupKind, Phase, PhaseName, Request};

pub use umapi_core::protocol::{MAX_ENTRIES_PER_REQUEST, MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY};

/// How many names, steps and entries one step, entry and request carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packing {
    /// Names in one step's list (users of a group, groups of a user, profiles).
    pub names_per_step: usize,
    /// Steps in one entry.
    pub steps_per_entry: usize,
    /// Entries in one action request.
    pub entries_per_request: usize,
}

impl Default for Packing {
    fn default() -> Self {
        Packing {
            names_per_step: MAX_NAMES_PER_LIST,
            steps_per_entry: MAX_STEPS_PER_ENTRY,
            entries_per_request: MAX_ENTRIES_PER_REQUEST,
        }
    }
}

impl Packing {
    /// Names one entry can carry.
    fn names_per_entry(&self) -> usize {
        self.names_per_step * self.steps_per_entry
    }
}

/// An entry with the change ids of each of its steps.
struct Planned {
    entry: Entry,
    ids: Vec<Vec<ChangeId>>,
}

/// The packed phases and counts.
pub(crate) struct Packed {
    pub phases: Vec<Phase>,
    pub entries: u64,
    pub lower_bound_requests: u64,
}

/// The steps of one group entry, with the changes each carries.
struct GroupSteps {
    /// The entry's `usergroup`.
    group: String,
    steps: Vec<(UserGroupStep, Vec<ChangeId>)>,
}

/// One membership to add or remove, by index into [`Memberships`]' tables.
#[derive(Debug, Clone, Copy)]
struct MembershipOp {
    user: u32,
    group: u32,
    id: ChangeId,
}

/// A group named by membership changes.
struct GroupName {
    /// As declared (and sent).
    name: String,
    /// Lower-cased, for ordering.
    key: String,
    kind: GroupKind,
}

/// The memberships of one phase, with the users and groups they name.
#[derive(Default)]
struct Memberships {
    targets: Vec<UserTarget>,
    groups: Vec<GroupName>,
    group_index: HashMap<String, u32>,
    ops: Vec<MembershipOp>,
}

impl Memberships {
    /// Starts a new user (each user's memberships come together).
    fn user(&mut self, target: &UserTarget) -> u32 {
        self.targets.push(target.clone());
        (self.targets.len() - 1) as u32
    }

    fn push(&mut self, user: u32, group: &str, kind: GroupKind, id: ChangeId) {
        let key = group.to_lowercase();
        let next = self.groups.len() as u32;
        let group = *self.group_index.entry(key.clone()).or_insert_with(|| {
            self.groups.push(GroupName {
                name: group.to_string(),
                key,
                kind,
            });
            next
        });
        self.ops.push(MembershipOp { user, group, id });
    }

    /// Adds the memberships of `changes`, one user per run of equal targets.
    fn extend<'c>(&mut self, changes: impl Iterator<Item = (ChangeId, &'c Decided)>) {
        let mut last: Option<(&UserTarget, u32)> = None;
        for (id, change) in changes {
            let (Address::User { target }, Some((group, kind))) =
                (&change.address, membership(&change.kind))
            else {
                continue;
            };
            let user = match last {
                Some((previous, user)) if previous == target => user,
                _ => self.user(target),
            };
            last = Some((target, user));
            self.push(user, group, kind, id);
        }
    }
}

/// The group and its kind, for membership changes.
fn membership(kind: &ChangeKind) -> Option<(&str, GroupKind)> {
    match kind {
        ChangeKind::AddMembership {
            group, group_kind, ..
        }
        | ChangeKind::RemoveMembership {
            group, group_kind, ..
        } => Some((group, *group_kind)),
        _ => None,
    }
}

fn user_entry(target: &UserTarget, steps: Vec<UserStep>, ids: Vec<Vec<ChangeId>>) -> Planned {
    Planned {
        entry: Entry::User(UserEntry {
            user: target.user.clone(),
            domain: target.domain.clone(),
            use_adobe_id: target.use_adobe_id.then_some(true),
            request_id: None,
            steps,
        }),
        ids,
    }
}

/// Splits `(name, id)` lists into steps of at most `names_per_step` names.
fn named_steps<T>(
    names: &[(String, ChangeId)],
    names_per_step: usize,
    make: impl Fn(Vec<String>) -> T,
) -> Vec<(T, Vec<ChangeId>)> {
    names
        .chunks(names_per_step)
        .map(|chunk| {
            (
                make(chunk.iter().map(|(n, _)| n.clone()).collect()),
                chunk.iter().map(|(_, id)| *id).collect(),
            )
        })
        .collect()
}

fn div_ceil(n: usize, d: usize) -> usize {
    n.div_ceil(d)
}

/// A name for a list, with the change it carries.
type Named = (String, ChangeId);
/// A lower-cased sort key, the name, and the change it carries.
type KeyedName = (String, String, ChangeId);

/// The step that creates a user, from its change.
fn create_step(kind: &ChangeKind) -> Option<UserStep> {
    let ChangeKind::CreateUser {
        identity_type,
        email,
        firstname,
        lastname,
        country,
        ..
    } = kind
    else {
        return None;
    };
    let fields = CreateUser {
        email: email.clone(),
        firstname: firstname.clone(),
        lastname: lastname.clone(),
        country: country.clone(),
        option: Some(IfAlreadyExists::Ignore),
    };
    match identity_type {
        IdentityType::FederatedId => Some(UserStep::CreateFederatedId(fields)),
        IdentityType::EnterpriseId => Some(UserStep::CreateEnterpriseId(fields)),
        IdentityType::AdobeId => Some(UserStep::AddAdobeId(fields)),
        IdentityType::Unknown => None,
    }
}

/// Sets the fields a user update or rename changes.
fn apply_fields(kind: &ChangeKind, update: &mut UpdateUser) {
    let fields = match kind {
        ChangeKind::UpdateUser { fields, .. } | ChangeKind::RenameUser { fields, .. } => fields,
        _ => return,
    };
    for field in fields {
        let slot = match field.field.as_str() {
            "email" => &mut update.email,
            "username" => &mut update.username,
            "firstname" => &mut update.firstname,
            _ => &mut update.lastname,
        };
        *slot = field.new.clone();
    }
}

/// Packs the change list into phases of requests.
pub(crate) fn pack(changes: &[Decided], sizes: Packing) -> Packed {
    Packer {
        sizes,
        phases: Vec::new(),
        entries: 0,
        lower_bound_requests: 0,
    }
    .run(changes)
}

struct Packer {
    sizes: Packing,
    phases: Vec<Phase>,
    entries: u64,
    lower_bound_requests: u64,
}

impl Packer {
    fn add_phase(&mut self, name: PhaseName, entries: Vec<Planned>, lower_bound_entries: usize) {
        if entries.is_empty() {
            return;
        }
        self.entries += entries.len() as u64;
        self.lower_bound_requests +=
            div_ceil(lower_bound_entries, self.sizes.entries_per_request) as u64;
        let mut requests =
            Vec::with_capacity(entries.len().div_ceil(self.sizes.entries_per_request));
        let mut iter = entries.into_iter().peekable();
        while iter.peek().is_some() {
            let chunk: Vec<Planned> = iter.by_ref().take(self.sizes.entries_per_request).collect();
            let (entries, changes) = chunk.into_iter().map(|p| (p.entry, p.ids)).unzip();
            requests.push(Request { entries, changes });
        }
        self.phases.push(Phase { name, requests });
    }

    fn run(mut self, changes: &[Decided]) -> Packed {
        let of = |phase: PhaseName| {
            changes
                .iter()
                .enumerate()
                .filter(move |(_, c)| c.phase == phase)
                .map(|(id, c)| (id as ChangeId, c))
        };

        let groups = self.group_steps(of(PhaseName::GroupCreatesAndUpdates));
        let count = groups.len();
        let entries = self.group_entries(groups);
        self.add_phase(PhaseName::GroupCreatesAndUpdates, entries, count);

        let mut overflow = Memberships::default();
        let (entries, count) = self.creates(of(PhaseName::UserCreates), &mut overflow);
        self.add_phase(PhaseName::UserCreates, entries, count);

        let entries = self.updates(of(PhaseName::UserUpdates));
        let count = entries.len();
        self.add_phase(PhaseName::UserUpdates, entries, count);

        let mut removals = Memberships::default();
        removals.extend(of(PhaseName::MembershipRemovals));
        let (entries, bound) = self.pack_memberships(&removals, false, Vec::new());
        self.add_phase(PhaseName::MembershipRemovals, entries, bound);

        // Group entries that wait for the group phase (profile links of renamed
        // groups, and those beyond what a new group's create entry holds), then the
        // adds of existing users, then those that did not fit a create entry.
        let late = self.group_steps(of(PhaseName::MembershipAdds));
        let late_count = late.len();
        let mut adds = Memberships::default();
        adds.extend(of(PhaseName::MembershipAdds));
        for op in std::mem::take(&mut overflow.ops) {
            let user = adds.user(&overflow.targets[op.user as usize]);
            let group = &overflow.groups[op.group as usize];
            adds.push(user, &group.name, group.kind, op.id);
        }
        let late = self.group_entries(late);
        let (entries, bound) = self.pack_memberships(&adds, true, late);
        self.add_phase(PhaseName::MembershipAdds, entries, bound.max(late_count));

        let entries: Vec<Planned> = of(PhaseName::UsersLeavingOrg)
            .filter_map(|(id, c)| match (&c.kind, &c.address) {
                (ChangeKind::RemoveUser { delete_account, .. }, Address::User { target }) => {
                    Some(user_entry(
                        target,
                        vec![UserStep::RemoveFromOrg(RemoveFromOrg {
                            delete_account: *delete_account,
                        })],
                        vec![vec![id]],
                    ))
                }
                _ => None,
            })
            .collect();
        let count = entries.len();
        self.add_phase(PhaseName::UsersLeavingOrg, entries, count);

        let entries: Vec<Planned> = of(PhaseName::GroupDeletes)
            .filter_map(|(id, c)| match &c.address {
                Address::Group { name } => Some(Planned {
                    entry: Entry::UserGroup(UserGroupEntry {
                        usergroup: name.clone(),
                        request_id: None,
                        steps: vec![UserGroupStep::Delete(Empty {})],
                    }),
                    ids: vec![vec![id]],
                }),
                Address::User { .. } => None,
            })
            .collect();
        let count = entries.len();
        self.add_phase(PhaseName::GroupDeletes, entries, count);

        Packed {
            phases: self.phases,
            entries: self.entries,
            lower_bound_requests: self.lower_bound_requests,
        }
    }

    fn profile_steps(
        &self,
        profiles: &[String],
        id: ChangeId,
    ) -> Vec<(UserGroupStep, Vec<ChangeId>)> {
        profiles
            .chunks(self.sizes.names_per_step)
            .map(|chunk| {
                (
                    UserGroupStep::Add(UserGroupTargets::Profiles {
                        product_configuration: chunk.to_vec(),
                    }),
                    vec![id],
                )
            })
            .collect()
    }

    /// One group entry per change, except that a description re-asserted for a
    /// renamed group rides on the rename's step.
    fn group_steps<'c>(
        &self,
        changes: impl Iterator<Item = (ChangeId, &'c Decided)>,
    ) -> Vec<GroupSteps> {
        let mut out: Vec<GroupSteps> = Vec::new();
        for (id, change) in changes {
            let Address::Group { name } = &change.address else {
                continue;
            };
            let mut steps = Vec::new();
            match &change.kind {
                ChangeKind::CreateGroup {
                    description,
                    profiles,
                    ..
                } => {
                    steps.push((
                        UserGroupStep::Create(CreateUserGroup {
                            name: None,
                            description: description.clone(),
                            // A re-run after a partial apply must not fail on the
                            // group it created.
                            option: Some(IfAlreadyExists::Ignore),
                        }),
                        vec![id],
                    ));
                    steps.extend(self.profile_steps(profiles, id));
                }
                ChangeKind::RenameGroup { group, .. } => steps.push((
                    UserGroupStep::Update(UpdateUserGroup {
                        name: Some(group.clone()),
                        description: None,
                    }),
                    vec![id],
                )),
                ChangeKind::ReassertGroup {
                    description,
                    profiles,
                    ..
                } => {
                    if let Some(description) = description {
                        if profiles.is_empty()
                            && let Some(rename) = out.last_mut().filter(|w| &w.group == name)
                            && let [(UserGroupStep::Update(update), ids)] =
                                rename.steps.as_mut_slice()
                            && update.name.is_some()
                            && update.description.is_none()
                        {
                            update.description = Some(description.clone());
                            ids.push(id);
                            continue;
                        }
                        steps.push((
                            UserGroupStep::Update(UpdateUserGroup {
                                name: None,
                                description: Some(description.clone()),
                            }),
                            vec![id],
                        ));
                    }
                    steps.extend(self.profile_steps(profiles, id));
                }
                _ => continue,
            }
            out.push(GroupSteps {
                group: name.clone(),
                steps,
            });
        }
        out
    }

    /// The entries of group steps. Deciding splits profile links so that each
    /// change fits one entry of the largest size; smaller sizes split it further.
    fn group_entries(&self, groups: Vec<GroupSteps>) -> Vec<Planned> {
        let mut out = Vec::with_capacity(groups.len());
        for work in groups {
            for chunk in work.steps.chunks(self.sizes.steps_per_entry) {
                let (steps, ids): (Vec<_>, Vec<_>) = chunk.iter().cloned().unzip();
                out.push(Planned {
                    entry: Entry::UserGroup(UserGroupEntry {
                        usergroup: work.group.clone(),
                        request_id: None,
                        steps,
                    }),
                    ids,
                });
            }
        }
        out
    }

    /// One entry per created user: the create step, a username update, then the
    /// user's memberships as far as they fit. The rest go to `overflow` for the
    /// adds phase, since entries of one request may run before the create.
    fn creates<'c>(
        &self,
        changes: impl Iterator<Item = (ChangeId, &'c Decided)>,
        overflow: &mut Memberships,
    ) -> (Vec<Planned>, usize) {
        struct Open<'c> {
            target: &'c UserTarget,
            steps: Vec<UserStep>,
            ids: Vec<Vec<ChangeId>>,
            adds: Vec<(String, GroupKind, ChangeId)>,
        }
        let mut entries = Vec::new();
        let mut count = 0;
        let mut close = |open: Option<Open<'c>>, overflow: &mut Memberships| {
            let Some(mut open) = open else { return };
            let names: Vec<Named> = open
                .adds
                .iter()
                .map(|(g, _, id)| (g.clone(), *id))
                .collect();
            let adds = named_steps(&names, self.sizes.names_per_step, |group| {
                UserStep::Add(GroupList::Groups { group })
            });
            let fit = self.sizes.steps_per_entry.saturating_sub(open.steps.len());
            let mut overflow_from = None;
            for (i, (step, step_ids)) in adds.into_iter().enumerate() {
                if i < fit {
                    open.steps.push(step);
                    open.ids.push(step_ids);
                } else {
                    overflow_from.get_or_insert(i * self.sizes.names_per_step);
                }
            }
            if let Some(from) = overflow_from {
                let user = overflow.user(open.target);
                for (group, kind, id) in &open.adds[from..] {
                    overflow.push(user, group, *kind, *id);
                }
            }
            entries.push(user_entry(open.target, open.steps, open.ids));
            count += 1;
        };
        let mut open: Option<Open<'c>> = None;
        for (id, change) in changes {
            let Address::User { target } = &change.address else {
                continue;
            };
            if let Some(step) = create_step(&change.kind) {
                close(open.take(), overflow);
                open = Some(Open {
                    target,
                    steps: vec![step],
                    ids: vec![vec![id]],
                    adds: Vec::new(),
                });
                continue;
            }
            let Some(current) = open.as_mut() else {
                continue;
            };
            if let Some((group, kind)) = membership(&change.kind) {
                current.adds.push((group.to_string(), kind, id));
            } else {
                let mut update = UpdateUser::default();
                apply_fields(&change.kind, &mut update);
                current.steps.push(UserStep::Update(update));
                current.ids.push(vec![id]);
            }
        }
        close(open.take(), overflow);
        (entries, count)
    }

    /// One entry per user: every field a rename and an update set, in one step.
    fn updates<'c>(&self, changes: impl Iterator<Item = (ChangeId, &'c Decided)>) -> Vec<Planned> {
        let mut open: Vec<(&UserTarget, UpdateUser, Vec<ChangeId>)> = Vec::new();
        for (id, change) in changes {
            let Address::User { target } = &change.address else {
                continue;
            };
            match open.last_mut() {
                Some((last, update, ids)) if *last == target => {
                    apply_fields(&change.kind, update);
                    ids.push(id);
                }
                _ => {
                    let mut update = UpdateUser::default();
                    apply_fields(&change.kind, &mut update);
                    open.push((target, update, vec![id]));
                }
            }
        }
        open.into_iter()
            .map(|(target, update, ids)| {
                user_entry(target, vec![UserStep::Update(update)], vec![ids])
            })
            .collect()
    }

    /// Users in a minimum vertex cover of the user-group memberships of users that
    /// have no user entry yet, plus those that do; and the maximum matching's size.
    fn cover_candidate(
        &self,
        by_group: &HashMap<u32, Vec<u32>>,
        group_keys: &[u32],
        forced: &[bool],
    ) -> (Vec<bool>, usize) {
        let mut left_of: HashMap<u32, u32> = HashMap::new();
        let mut users: Vec<u32> = Vec::new();
        let mut adjacency: Vec<Vec<u32>> = Vec::new();
        for (right, g) in group_keys.iter().enumerate() {
            for &u in &by_group[g] {
                if forced[u as usize] {
                    continue;
                }
                let left = *left_of.entry(u).or_insert_with(|| {
                    users.push(u);
                    adjacency.push(Vec::new());
                    (users.len() - 1) as u32
                });
                adjacency[left as usize].push(right as u32);
            }
        }
        let cover = minimum_vertex_cover(group_keys.len(), &adjacency);
        let mut chosen = forced.to_vec();
        for (left, &u) in users.iter().enumerate() {
            if cover.left[left] {
                chosen[u as usize] = true;
            }
        }
        (chosen, cover.matching)
    }

    /// Users of the cheapest prefix of groups, taken from the fewest remaining
    /// members up, whose members switch to user entries; plus those that already have one.
    fn prefix_candidate(
        &self,
        m: &Memberships,
        by_group: &HashMap<u32, Vec<u32>>,
        forced: &[bool],
    ) -> Vec<bool> {
        let names_per_entry = self.sizes.names_per_entry();
        let mut groups: Vec<(usize, &str, u32)> = by_group
            .iter()
            .map(|(&g, users)| {
                let remaining = users.iter().filter(|&&u| !forced[u as usize]).count();
                (remaining, m.groups[g as usize].key.as_str(), g)
            })
            .collect();
        groups.sort_unstable();
        let mut suffix_cost = vec![0usize; groups.len() + 1];
        for i in (0..groups.len()).rev() {
            suffix_cost[i] = suffix_cost[i + 1] + div_ceil(groups[i].0, names_per_entry);
        }
        let mut chosen = forced.to_vec();
        let mut joined = vec![false; forced.len()];
        let mut new_users = 0usize;
        let (mut best_k, mut best_cost) = (0usize, suffix_cost[0]);
        for (i, &(_, _, g)) in groups.iter().enumerate() {
            for &u in &by_group[&g] {
                if !forced[u as usize] && !joined[u as usize] {
                    joined[u as usize] = true;
                    new_users += 1;
                }
            }
            let cost = new_users + suffix_cost[i + 1];
            if cost < best_cost {
                best_cost = cost;
                best_k = i + 1;
            }
        }
        for &(_, _, g) in &groups[..best_k] {
            for &u in &by_group[&g] {
                chosen[u as usize] = true;
            }
        }
        chosen
    }

    /// Packs one membership phase. Returns the entries and the lower bound of entries.
    ///
    /// Users that need a user entry anyway (profile or admin-group memberships, or a
    /// username that group lists cannot name) take all their memberships in it. For
    /// the remaining user-group memberships, groups are considered from the fewest
    /// such members up; the cheapest prefix of groups whose members switch to user
    /// entries is chosen, and the other groups take group entries.
    fn pack_memberships(
        &self,
        m: &Memberships,
        adding: bool,
        mut entries: Vec<Planned>,
    ) -> (Vec<Planned>, usize) {
        let ops = &m.ops;
        let names_per_entry = self.sizes.names_per_entry();
        if ops.is_empty() {
            return (entries, 0);
        }
        let user_count = m.targets.len();
        let mut in_user_entry = vec![false; user_count];
        let mut forced_names: HashMap<u32, usize> = HashMap::new();
        let mut by_group: HashMap<u32, Vec<u32>> = HashMap::new();
        for op in ops {
            let kind = m.groups[op.group as usize].kind;
            let target = &m.targets[op.user as usize];
            if kind != GroupKind::UserGroup || target.list_name().is_none() {
                in_user_entry[op.user as usize] = true;
                *forced_names.entry(op.user).or_default() += 1;
            } else {
                by_group.entry(op.group).or_default().push(op.user);
            }
        }
        let forced_entries: usize = forced_names
            .values()
            .map(|&n| div_ceil(n, names_per_entry))
            .sum();

        // Two candidates for the users that take user entries: the minimum vertex
        // cover of the remaining membership graph, and the cheapest prefix of groups
        // (fewest remaining members first) whose members switch to user entries,
        // which accounts for the 100 names an entry holds. The cheaper one wins.
        let mut degree: HashMap<u32, usize> = HashMap::new();
        for op in ops {
            *degree.entry(op.user).or_default() += 1;
        }
        let mut group_keys: Vec<u32> = by_group.keys().copied().collect();
        group_keys
            .sort_unstable_by(|a, b| m.groups[*a as usize].key.cmp(&m.groups[*b as usize].key));
        let cost = |chosen: &[bool]| -> usize {
            let users: usize = degree
                .iter()
                .filter(|(u, _)| chosen[**u as usize])
                .map(|(_, &d)| div_ceil(d, names_per_entry))
                .sum();
            let groups: usize = group_keys
                .iter()
                .map(|g| {
                    let rest = by_group[g].iter().filter(|&&u| !chosen[u as usize]).count();
                    div_ceil(rest, names_per_entry)
                })
                .sum();
            users + groups
        };

        let (cover_users, matching) = self.cover_candidate(&by_group, &group_keys, &in_user_entry);
        let prefix_users = self.prefix_candidate(m, &by_group, &in_user_entry);
        // Entries holding forced memberships are those users' own entries and carry no
        // one else's, so the other users' memberships need further entries: at least
        // one per edge of a matching, and one per 100 names.
        let other_ops = ops
            .iter()
            .filter(|op| !in_user_entry[op.user as usize])
            .count();
        let lower_bound = (forced_entries + matching.max(div_ceil(other_ops, names_per_entry)))
            .max(div_ceil(ops.len(), names_per_entry));
        in_user_entry = if cost(&cover_users) <= cost(&prefix_users) {
            cover_users
        } else {
            prefix_users
        };

        // Group entries for the rest, in group order.
        let mut group_lists: Vec<(&str, u32, Vec<Named>)> = Vec::new();
        let mut group_slot: HashMap<u32, usize> = HashMap::new();
        let mut user_lists: HashMap<u32, Vec<KeyedName>> = HashMap::new();
        for op in ops {
            let GroupName { name, key, .. } = &m.groups[op.group as usize];
            // Users without a list name were forced into user entries above.
            let list_name = m.targets[op.user as usize]
                .list_name()
                .filter(|_| !in_user_entry[op.user as usize]);
            match list_name {
                None => {
                    user_lists
                        .entry(op.user)
                        .or_default()
                        .push((key.clone(), name.clone(), op.id))
                }
                Some(user_name) => {
                    let slot = *group_slot.entry(op.group).or_insert_with(|| {
                        group_lists.push((key.as_str(), op.group, Vec::new()));
                        group_lists.len() - 1
                    });
                    group_lists[slot].2.push((user_name.to_string(), op.id));
                }
            }
        }
        group_lists.sort_by(|a, b| a.0.cmp(b.0));
        for (_, g, mut names) in group_lists {
            names.sort_by_cached_key(|(n, _)| n.to_lowercase());
            let steps = named_steps(&names, self.sizes.names_per_step, |user| {
                let targets = UserGroupTargets::Users { user };
                if adding {
                    UserGroupStep::Add(targets)
                } else {
                    UserGroupStep::Remove(targets)
                }
            });
            for chunk in steps.chunks(self.sizes.steps_per_entry) {
                let (steps, ids): (Vec<_>, Vec<_>) = chunk.iter().cloned().unzip();
                entries.push(Planned {
                    entry: Entry::UserGroup(UserGroupEntry {
                        usergroup: m.groups[g as usize].name.clone(),
                        request_id: None,
                        steps,
                    }),
                    ids,
                });
            }
        }

        // User entries, in user order.
        let mut users: Vec<(u32, Vec<KeyedName>)> = user_lists.into_iter().collect();
        users.sort_by(|a, b| {
            let (ta, tb) = (&m.targets[a.0 as usize], &m.targets[b.0 as usize]);
            (&ta.key, &ta.domain, a.0).cmp(&(&tb.key, &tb.domain, b.0))
        });
        for (u, mut list) in users {
            list.sort();
            let names: Vec<(String, ChangeId)> =
                list.into_iter().map(|(_, n, id)| (n, id)).collect();
            let steps = named_steps(&names, self.sizes.names_per_step, |group| {
                let list = GroupList::Groups { group };
                if adding {
                    UserStep::Add(list)
                } else {
                    UserStep::Remove(list)
                }
            });
            let target = &m.targets[u as usize];
            for chunk in steps.chunks(self.sizes.steps_per_entry) {
                let (steps, ids): (Vec<_>, Vec<_>) = chunk.iter().cloned().unzip();
                entries.push(user_entry(target, steps, ids));
            }
        }
        (entries, lower_bound)
    }
}

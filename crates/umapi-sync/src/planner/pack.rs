//! Packing: turns decided changes into as few action requests as the limits allow.
//!
//! Limits: 10 entries per request, 10 steps per entry, 10 names per
//! list. Memberships of user groups go either into user entries (`add {"group"}`)
//! or group entries (`usergroup` + `add {"user"}`), whichever needs fewer entries;
//! product profiles and admin groups only take user entries.

use std::collections::HashMap;

use umapi_core::wire::{
    CreateUserGroup, Empty, Entry, GroupList, IfAlreadyExists, RemoveFromOrg, UpdateUser,
    UpdateUserGroup, UserEntry, UserGroupEntry, UserGroupStep, UserGroupTargets, UserStep,
};

use super::cover::minimum_vertex_cover;
use crate::plan::{ChangeId, GroupKind, Phase, PhaseName, Request};

pub use umapi_core::protocol::{MAX_ENTRIES_PER_REQUEST, MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY};
/// Names one entry can carry: 10 steps of 10 names.
const NAMES_PER_ENTRY: usize = MAX_STEPS_PER_ENTRY * MAX_NAMES_PER_LIST;

/// How requests name a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UserTarget {
    /// The entry's `user`.
    pub user: String,
    /// The entry's `domain`, for usernames that are not emails.
    pub domain: Option<String>,
    /// Lower-cased `user`, for ordering.
    pub key: String,
    /// An Adobe ID that shares its email with an org-owned account: entries say
    /// `useAdobeID`, or UMAPI would pick the other account.
    pub use_adobe_id: bool,
    /// For a username that is not an email: the user's email, when no other account
    /// of the org answers to it. Group member lists name users by email (they carry
    /// no domain), so this lets such a user join a group entry instead of needing
    /// an entry of its own.
    pub list_email: Option<String>,
}

impl UserTarget {
    pub(crate) fn new(user: String, domain: Option<String>) -> Self {
        let key = user.to_lowercase();
        UserTarget {
            user,
            domain,
            key,
            use_adobe_id: false,
            list_email: None,
        }
    }

    /// The name for a group's `add {"user": […]}` list: only users that a bare name
    /// identifies (no `useAdobeID`; for usernames that need a domain, the email).
    fn list_name(&self) -> Option<&str> {
        if self.use_adobe_id {
            None
        } else if self.domain.is_none() {
            Some(&self.user)
        } else {
            self.list_email.as_deref()
        }
    }

    pub(crate) fn display(&self) -> String {
        let name = match &self.domain {
            Some(domain) => format!("{} ({domain})", self.user),
            None => self.user.clone(),
        };
        if self.use_adobe_id {
            format!("{name} (Adobe ID)")
        } else {
            name
        }
    }
}

/// One group entry of the group phase: steps with the changes they carry.
#[derive(Debug, Clone)]
pub(crate) struct GroupWork {
    group: String,
    steps: Vec<(UserGroupStep, Vec<ChangeId>)>,
}

fn profile_steps(
    profiles: &[String],
    id: ChangeId,
) -> impl Iterator<Item = (UserGroupStep, Vec<ChangeId>)> + '_ {
    profiles.chunks(MAX_NAMES_PER_LIST).map(move |chunk| {
        (
            UserGroupStep::Add(UserGroupTargets::Profiles {
                product_configuration: chunk.to_vec(),
            }),
            vec![id],
        )
    })
}

impl GroupWork {
    pub(crate) fn create(
        group: &str,
        description: Option<String>,
        profiles: Vec<String>,
        id: ChangeId,
    ) -> Self {
        let mut steps = vec![(
            UserGroupStep::Create(CreateUserGroup {
                name: None,
                description,
                // A re-run after a partial apply must not fail on the group it created.
                option: Some(IfAlreadyExists::Ignore),
            }),
            vec![id],
        )];
        steps.extend(profile_steps(&profiles, id));
        GroupWork {
            group: group.to_string(),
            steps,
        }
    }

    pub(crate) fn rename(
        from: &str,
        to: &str,
        description: Option<String>,
        id: ChangeId,
        reassert_id: Option<ChangeId>,
    ) -> Self {
        let mut ids = vec![id];
        if description.is_some() {
            ids.extend(reassert_id);
        }
        GroupWork {
            group: from.to_string(),
            steps: vec![(
                UserGroupStep::Update(UpdateUserGroup {
                    name: Some(to.to_string()),
                    description,
                }),
                ids,
            )],
        }
    }

    pub(crate) fn reassert(
        group: &str,
        description: Option<String>,
        profiles: Vec<String>,
        id: ChangeId,
    ) -> Self {
        let mut steps = Vec::new();
        if let Some(description) = description {
            steps.push((
                UserGroupStep::Update(UpdateUserGroup {
                    name: None,
                    description: Some(description),
                }),
                vec![id],
            ));
        }
        steps.extend(profile_steps(&profiles, id));
        GroupWork {
            group: group.to_string(),
            steps,
        }
    }
}

/// A user to create, with the memberships that ride along in its entry.
pub(crate) struct CreateWork {
    pub target: UserTarget,
    pub step: UserStep,
    pub id: ChangeId,
    /// An update right after the create (a username that is another email).
    pub update: Option<(UpdateUser, ChangeId)>,
    /// (managed group index, change id).
    pub adds: Vec<(u32, ChangeId)>,
}

/// A user to update (names, email, username), named as before the update.
pub(crate) struct UpdateWork {
    pub target: UserTarget,
    pub update: UpdateUser,
    pub ids: Vec<ChangeId>,
}

/// One membership to add or remove.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MembershipWork {
    /// Index into [`Work::targets`].
    pub user: u32,
    /// Index into [`Work::group_names`].
    pub group: u32,
    pub id: ChangeId,
}

/// A user leaving the org.
pub(crate) struct LeaveWork {
    pub target: UserTarget,
    pub delete: bool,
    pub id: ChangeId,
}

/// Everything to pack, by phase.
#[derive(Default)]
pub(crate) struct Work {
    pub groups: Vec<GroupWork>,
    pub creates: Vec<CreateWork>,
    pub updates: Vec<UpdateWork>,
    pub removals: Vec<MembershipWork>,
    pub adds: Vec<MembershipWork>,
    /// Group entries that must wait for the group phase (profile links of renamed
    /// groups, profile links beyond what a new group's create entry holds).
    pub late_groups: Vec<GroupWork>,
    pub leaves: Vec<LeaveWork>,
    pub deletes: Vec<(String, ChangeId)>,
    /// Users named by membership work.
    pub targets: Vec<UserTarget>,
    /// Managed groups: (name as declared, lower-cased name, kind).
    pub group_names: Vec<(String, String, GroupKind)>,
}

/// A name for a list, with the change it carries.
type Named = (String, ChangeId);
/// A lower-cased sort key, the name, and the change it carries.
type KeyedName = (String, String, ChangeId);

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

/// The entry of one group's work. The planner splits profile links so that no
/// group work needs more than one entry (each change stays in one request).
fn group_entry(work: GroupWork) -> Planned {
    debug_assert!(work.steps.len() <= MAX_STEPS_PER_ENTRY);
    let (steps, ids): (Vec<_>, Vec<_>) = work.steps.into_iter().unzip();
    Planned {
        entry: Entry::UserGroup(UserGroupEntry {
            usergroup: work.group,
            request_id: None,
            steps,
        }),
        ids,
    }
}

/// Splits `(name, id)` lists into entries of at most 10 steps of 10 names.
fn named_steps<T>(
    names: &[(String, ChangeId)],
    make: impl Fn(Vec<String>) -> T,
) -> Vec<(T, Vec<ChangeId>)> {
    names
        .chunks(MAX_NAMES_PER_LIST)
        .map(|chunk| {
            (
                make(chunk.iter().map(|(n, _)| n.clone()).collect()),
                chunk.iter().map(|(_, id)| *id).collect(),
            )
        })
        .collect()
}

fn requests(entries: Vec<Planned>) -> Vec<Request> {
    let mut out = Vec::with_capacity(entries.len().div_ceil(MAX_ENTRIES_PER_REQUEST));
    let mut iter = entries.into_iter().peekable();
    while iter.peek().is_some() {
        let chunk: Vec<Planned> = iter.by_ref().take(MAX_ENTRIES_PER_REQUEST).collect();
        let (entries, changes) = chunk.into_iter().map(|p| (p.entry, p.ids)).unzip();
        out.push(Request { entries, changes });
    }
    out
}

fn div_ceil(n: usize, d: usize) -> usize {
    n.div_ceil(d)
}

impl Work {
    pub(crate) fn pack(mut self) -> Packed {
        let mut phases = Vec::new();
        let mut lower_bound_requests = 0u64;
        let mut entries_total = 0u64;
        let mut add_phase = |name: PhaseName, entries: Vec<Planned>, lower_bound_entries: usize| {
            if entries.is_empty() {
                return;
            }
            entries_total += entries.len() as u64;
            lower_bound_requests += div_ceil(lower_bound_entries, MAX_ENTRIES_PER_REQUEST) as u64;
            phases.push(Phase {
                name,
                requests: requests(entries),
            });
        };

        // Phase 1.
        let late = std::mem::take(&mut self.late_groups);
        let mut entries = Vec::new();
        let group_count = self.groups.len();
        for work in std::mem::take(&mut self.groups) {
            entries.push(group_entry(work));
        }
        add_phase(PhaseName::GroupCreatesAndUpdates, entries, group_count);

        // Phase 2: the create step, then the user's memberships in the same entry.
        let mut entries = Vec::new();
        let create_count = self.creates.len();
        for create in std::mem::take(&mut self.creates) {
            let names: Vec<(String, ChangeId)> = create
                .adds
                .iter()
                .map(|&(m, id)| (self.group_names[m as usize].0.clone(), id))
                .collect();
            let mut steps = vec![create.step];
            let mut ids = vec![vec![create.id]];
            if let Some((update, id)) = create.update {
                steps.push(UserStep::Update(update));
                ids.push(vec![id]);
            }
            let adds = named_steps(&names, |group| UserStep::Add(GroupList::Groups { group }));
            let fit = MAX_STEPS_PER_ENTRY - steps.len();
            let mut overflow_from = None;
            for (i, (step, step_ids)) in adds.into_iter().enumerate() {
                if i < fit {
                    steps.push(step);
                    ids.push(step_ids);
                } else {
                    overflow_from.get_or_insert(i * MAX_NAMES_PER_LIST);
                }
            }
            if let Some(from) = overflow_from {
                // More memberships than one entry holds: the rest wait for the adds
                // phase, since entries of one request may run before the create.
                let user = self.targets.len() as u32;
                self.targets.push(create.target.clone());
                for &(group, id) in &create.adds[from..] {
                    self.adds.push(MembershipWork { user, group, id });
                }
            }
            entries.push(user_entry(&create.target, steps, ids));
        }
        add_phase(PhaseName::UserCreates, entries, create_count);

        // Phase 3.
        let update_count = self.updates.len();
        let entries: Vec<Planned> = std::mem::take(&mut self.updates)
            .into_iter()
            .map(|u| user_entry(&u.target, vec![UserStep::Update(u.update)], vec![u.ids]))
            .collect();
        add_phase(PhaseName::UserUpdates, entries, update_count);

        // Phases 4 and 5.
        let (entries, bound) = self.pack_memberships(&self.removals, false, Vec::new());
        add_phase(PhaseName::MembershipRemovals, entries, bound);
        let late_count = late.len();
        let (entries, bound) = self.pack_memberships(&self.adds, true, late);
        add_phase(PhaseName::MembershipAdds, entries, bound.max(late_count));

        // Phase 6.
        let leave_count = self.leaves.len();
        let entries: Vec<Planned> = std::mem::take(&mut self.leaves)
            .into_iter()
            .map(|l| {
                user_entry(
                    &l.target,
                    vec![UserStep::RemoveFromOrg(RemoveFromOrg {
                        delete_account: l.delete,
                    })],
                    vec![vec![l.id]],
                )
            })
            .collect();
        add_phase(PhaseName::UsersLeavingOrg, entries, leave_count);

        // Phase 7.
        let delete_count = self.deletes.len();
        let entries: Vec<Planned> = std::mem::take(&mut self.deletes)
            .into_iter()
            .map(|(group, id)| Planned {
                entry: Entry::UserGroup(UserGroupEntry {
                    usergroup: group,
                    request_id: None,
                    steps: vec![UserGroupStep::Delete(Empty {})],
                }),
                ids: vec![vec![id]],
            })
            .collect();
        add_phase(PhaseName::GroupDeletes, entries, delete_count);

        Packed {
            phases,
            entries: entries_total,
            lower_bound_requests,
        }
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
    fn prefix_candidate(&self, by_group: &HashMap<u32, Vec<u32>>, forced: &[bool]) -> Vec<bool> {
        let mut groups: Vec<(usize, &str, u32)> = by_group
            .iter()
            .map(|(&g, users)| {
                let remaining = users.iter().filter(|&&u| !forced[u as usize]).count();
                (remaining, self.group_names[g as usize].1.as_str(), g)
            })
            .collect();
        groups.sort_unstable();
        let mut suffix_cost = vec![0usize; groups.len() + 1];
        for i in (0..groups.len()).rev() {
            suffix_cost[i] = suffix_cost[i + 1] + div_ceil(groups[i].0, NAMES_PER_ENTRY);
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
        ops: &[MembershipWork],
        adding: bool,
        extra_groups: Vec<GroupWork>,
    ) -> (Vec<Planned>, usize) {
        let mut entries: Vec<Planned> = extra_groups.into_iter().map(group_entry).collect();
        if ops.is_empty() {
            return (entries, 0);
        }
        let user_count = self.targets.len();
        let mut in_user_entry = vec![false; user_count];
        let mut forced_names: HashMap<u32, usize> = HashMap::new();
        let mut by_group: HashMap<u32, Vec<u32>> = HashMap::new();
        for op in ops {
            let kind = self.group_names[op.group as usize].2;
            let target = &self.targets[op.user as usize];
            if kind != GroupKind::UserGroup || target.list_name().is_none() {
                in_user_entry[op.user as usize] = true;
                *forced_names.entry(op.user).or_default() += 1;
            } else {
                by_group.entry(op.group).or_default().push(op.user);
            }
        }
        let forced_entries: usize = forced_names
            .values()
            .map(|&n| div_ceil(n, NAMES_PER_ENTRY))
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
        group_keys.sort_unstable_by(|a, b| {
            self.group_names[*a as usize]
                .1
                .cmp(&self.group_names[*b as usize].1)
        });
        let cost = |chosen: &[bool]| -> usize {
            let users: usize = degree
                .iter()
                .filter(|(u, _)| chosen[**u as usize])
                .map(|(_, &d)| div_ceil(d, NAMES_PER_ENTRY))
                .sum();
            let groups: usize = group_keys
                .iter()
                .map(|g| {
                    let rest = by_group[g].iter().filter(|&&u| !chosen[u as usize]).count();
                    div_ceil(rest, NAMES_PER_ENTRY)
                })
                .sum();
            users + groups
        };

        let (cover_users, matching) = self.cover_candidate(&by_group, &group_keys, &in_user_entry);
        let prefix_users = self.prefix_candidate(&by_group, &in_user_entry);
        // Entries holding forced memberships are those users' own entries and carry no
        // one else's, so the other users' memberships need further entries: at least
        // one per edge of a matching, and one per 100 names.
        let other_ops = ops
            .iter()
            .filter(|op| !in_user_entry[op.user as usize])
            .count();
        let lower_bound = (forced_entries + matching.max(div_ceil(other_ops, NAMES_PER_ENTRY)))
            .max(div_ceil(ops.len(), NAMES_PER_ENTRY));
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
            let (name, key, _) = &self.group_names[op.group as usize];
            // Users without a list name were forced into user entries above.
            let list_name = self.targets[op.user as usize]
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
            let steps = named_steps(&names, |user| {
                let targets = UserGroupTargets::Users { user };
                if adding {
                    UserGroupStep::Add(targets)
                } else {
                    UserGroupStep::Remove(targets)
                }
            });
            for chunk in steps.chunks(MAX_STEPS_PER_ENTRY) {
                let (steps, ids): (Vec<_>, Vec<_>) = chunk.iter().cloned().unzip();
                entries.push(Planned {
                    entry: Entry::UserGroup(UserGroupEntry {
                        usergroup: self.group_names[g as usize].0.clone(),
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
            let (ta, tb) = (&self.targets[a.0 as usize], &self.targets[b.0 as usize]);
            (&ta.key, &ta.domain, a.0).cmp(&(&tb.key, &tb.domain, b.0))
        });
        for (u, mut list) in users {
            list.sort();
            let names: Vec<(String, ChangeId)> =
                list.into_iter().map(|(_, n, id)| (n, id)).collect();
            let steps = named_steps(&names, |group| {
                let list = GroupList::Groups { group };
                if adding {
                    UserStep::Add(list)
                } else {
                    UserStep::Remove(list)
                }
            });
            let target = &self.targets[u as usize];
            for chunk in steps.chunks(MAX_STEPS_PER_ENTRY) {
                let (steps, ids): (Vec<_>, Vec<_>) = chunk.iter().cloned().unzip();
                entries.push(user_entry(target, steps, ids));
            }
        }
        (entries, lower_bound)
    }
}

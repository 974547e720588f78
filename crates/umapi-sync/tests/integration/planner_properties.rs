//! Properties of the planner over random orgs and desired states:
//! - `plan(x, x)` is empty;
//! - applying a plan to the sandbox's in-memory org (`OrgState::execute`) yields the desired state within
//!   the managed scope (and planning again finds nothing to do);
//! - every change lands in exactly one request, and every step carries a change;
//! - the lower bound never exceeds the requests planned;
//! - no request, entry, step or list exceeds a limit;
//! - the same inputs give byte-identical plans.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use umapi_core::wire::{Entry, GroupType, IdentityType};
use umapi_sync::current::{Snapshot, SnapshotGroup, SnapshotUser};
use umapi_sync::desired::{
    DesiredState, Exclusions, GroupSpec, Limit, Limits, Off, ProfileSpec, Settings, UnlistedGroups,
    UnlistedUsers, UserSpec,
};
use umapi_sync::plan::Plan;
use umapi_sync::planner::{PlanOptions, plan};

use crate::planner_support::{SandboxOrg, check_request_limits};

const USERS: usize = 10;
const USER_GROUPS: usize = 5;
/// Membership bits: 0..5 user groups, 5..8 profiles, 8 the admin group, 9 `_org_admin`.
const PROFILE_BASE: usize = USER_GROUPS;
const ADMIN_BIT: usize = 8;
const ORG_ADMIN_BIT: usize = 9;
const NAMES: [&str; 3] = ["Ann", "Ben", "Cy"];

#[derive(Debug, Clone)]
struct UserSlot {
    exists: bool,
    declared: bool,
    /// 0 Federated ID by email, 1 Federated ID by username, 2 Adobe ID, 3 Enterprise ID.
    kind: u8,
    current_name: u8,
    wanted_name: u8,
    current_groups: u16,
    wanted_groups: u16,
    upper_case: bool,
    declare_on_group: bool,
    rename_from: Option<usize>,
}

#[derive(Debug, Clone)]
struct World {
    users: Vec<UserSlot>,
    groups_exist: Vec<bool>,
    groups_declared: Vec<bool>,
    group_rename: Option<(usize, usize)>,
    profiles_declared: Vec<bool>,
    admin_declared: bool,
    unlisted_users: u8,
    unlisted_groups: bool,
    exclude_regex: bool,
    exclude_adobe: bool,
    exclude_group: Option<usize>,
    seed: u64,
}

fn user_slot() -> impl Strategy<Value = UserSlot> {
    (
        any::<bool>(),
        any::<bool>(),
        0u8..4,
        0u8..3,
        0u8..3,
        any::<u16>(),
        any::<u16>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::weighted(0.2, 0usize..USERS),
    )
        .prop_map(
            |(
                exists,
                declared,
                kind,
                current_name,
                wanted_name,
                current_groups,
                wanted_groups,
                upper_case,
                declare_on_group,
                rename_from,
            )| UserSlot {
                exists,
                declared,
                kind,
                current_name,
                wanted_name,
                // `_org_admin` is rare, as in real orgs.
                current_groups: if current_groups % 7 == 0 {
                    current_groups
                } else {
                    current_groups & !(1 << ORG_ADMIN_BIT)
                },
                wanted_groups,
                upper_case,
                declare_on_group,
                rename_from,
            },
        )
}

fn world() -> impl Strategy<Value = World> {
    (
        proptest::collection::vec(user_slot(), USERS),
        proptest::collection::vec(any::<bool>(), USER_GROUPS),
        proptest::collection::vec(any::<bool>(), USER_GROUPS),
        proptest::option::of((0usize..USER_GROUPS, 0usize..USER_GROUPS)),
        proptest::collection::vec(any::<bool>(), 3),
        any::<bool>(),
        0u8..4,
        any::<bool>(),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::option::weighted(0.2, 0usize..USER_GROUPS),
        ),
        any::<u64>(),
    )
        .prop_map(
            |(
                users,
                groups_exist,
                groups_declared,
                group_rename,
                profiles_declared,
                admin_declared,
                unlisted_users,
                unlisted_groups,
                (exclude_regex, exclude_adobe, exclude_group),
                seed,
            )| World {
                // `_admin_Group 0` lives and dies with `Group 0`: it is declared only
                // beside a `Group 0` that stays as it is.
                admin_declared: admin_declared
                    && groups_exist[0]
                    && groups_declared[0]
                    && group_rename.is_none_or(|(a, b)| a != 0 && b != 0),
                users,
                groups_exist,
                groups_declared,
                group_rename,
                profiles_declared,
                unlisted_users,
                unlisted_groups,
                exclude_regex,
                exclude_adobe,
                exclude_group,
                seed,
            },
        )
}

fn group_name(bit: usize) -> String {
    match bit {
        b if b < USER_GROUPS => format!("Group {b}"),
        b if b < ADMIN_BIT => format!("Profile {}", b - PROFILE_BASE),
        ADMIN_BIT => "_admin_Group 0".into(),
        _ => "_org_admin".into(),
    }
}

fn identity_type(kind: u8) -> IdentityType {
    match kind {
        2 => IdentityType::AdobeId,
        3 => IdentityType::EnterpriseId,
        _ => IdentityType::FederatedId,
    }
}

fn email(i: usize, kind: u8) -> String {
    if kind == 1 {
        format!("first.u{i}@example.com")
    } else {
        format!("u{i}@example.com")
    }
}

impl World {
    /// A declared rename is only kept when it makes sense: the new user is declared
    /// and absent, the old one exists, is not declared, and both are email Federated IDs.
    fn rename_of(&self, i: usize) -> Option<usize> {
        let slot = &self.users[i];
        let j = slot.rename_from?;
        let old = &self.users[j];
        (j != i
            && slot.declared
            && !slot.exists
            && slot.kind == 0
            && old.exists
            && !old.declared
            && old.kind == 0)
            .then_some(j)
    }

    fn group_exists(&self, bit: usize) -> bool {
        match bit {
            b if b < USER_GROUPS => self.groups_exist[b],
            ADMIN_BIT => self.groups_exist[0],
            _ => true,
        }
    }

    fn snapshot(&self) -> Snapshot {
        let mut users = Vec::new();
        for (i, slot) in self.users.iter().enumerate() {
            if !slot.exists {
                continue;
            }
            let groups = (0..=ORG_ADMIN_BIT)
                .filter(|&b| slot.current_groups & (1 << b) != 0 && self.group_exists(b))
                .map(group_name)
                .collect();
            let (username, domain) = if slot.kind == 1 {
                (format!("user{i}"), "example.com".to_string())
            } else {
                (email(i, slot.kind), "example.com".to_string())
            };
            users.push(umapi_core::wire::User {
                email: Some(email(i, slot.kind)),
                username: Some(username),
                domain: Some(domain),
                firstname: Some(NAMES[slot.current_name as usize].into()),
                lastname: Some("Test".into()),
                country: Some("US".into()),
                identity_type: Some(identity_type(slot.kind)),
                groups,
                ..Default::default()
            });
        }
        let mut groups = Vec::new();
        for bit in 0..=ORG_ADMIN_BIT {
            if !self.group_exists(bit) {
                continue;
            }
            let group_type = match bit {
                b if b < USER_GROUPS => GroupType::UserGroup,
                b if b < ADMIN_BIT => GroupType::ProductProfile,
                ADMIN_BIT => GroupType::UserAdminGroup,
                _ => GroupType::SysadminGroup,
            };
            groups.push(umapi_core::wire::Group {
                group_id: None,
                group_name: group_name(bit),
                group_type,
                member_count: None,
                admin_group_name: None,
                user_group_name: None,
                product_profile_name: None,
                product_name: None,
                license_quota: None,
            });
        }
        Snapshot::from_parts("SIM@AdobeOrg", users, groups)
    }

    fn group_declared(&self, bit: usize) -> bool {
        match bit {
            b if b < USER_GROUPS => {
                self.groups_declared[b] || self.renamed_group().is_some_and(|(new, _)| new == b)
            }
            b if b < ADMIN_BIT => self.profiles_declared[b - PROFILE_BASE],
            ADMIN_BIT => self.admin_declared,
            _ => false,
        }
    }

    /// Excluded, or renamed from an excluded group (which must not be touched either).
    fn group_excluded(&self, bit: usize) -> bool {
        self.exclude_group == Some(bit)
            || self
                .renamed_group()
                .is_some_and(|(new, old)| new == bit && self.exclude_group == Some(old))
    }

    /// (new, old): group `new` is declared with `previously: [old]`.
    fn renamed_group(&self) -> Option<(usize, usize)> {
        let (new, old) = self.group_rename?;
        (new != old
            && !self.groups_exist[new]
            && self.groups_exist[old]
            && !self.groups_declared[old])
            .then_some((new, old))
    }

    fn settings(&self) -> Settings {
        Settings {
            default_type: Some(IdentityType::FederatedId),
            default_country: Some("US".into()),
            unlisted_users: match self.unlisted_users {
                0 => UnlistedUsers::Ignore,
                1 => UnlistedUsers::RemoveMemberships,
                2 => UnlistedUsers::Remove,
                _ => UnlistedUsers::Delete,
            },
            unlisted_groups: if self.unlisted_groups {
                UnlistedGroups::Delete
            } else {
                UnlistedGroups::Ignore
            },
            exclude: Exclusions {
                users: if self.exclude_regex {
                    vec!["^u1@".into()]
                } else {
                    vec![]
                },
                types: if self.exclude_adobe {
                    vec![IdentityType::AdobeId]
                } else {
                    vec![]
                },
                groups: self.exclude_group.map(group_name).into_iter().collect(),
            },
            // The properties are about what the planner plans; the limits
            // property below switches them on one at a time.
            limits: Limits {
                max_user_removals: Some(Limit::Off(Off::Off)),
                max_membership_removals: Some(Limit::Off(Off::Off)),
                max_group_deletions: Some(Limit::Off(Off::Off)),
                max_seats_over_quota: None,
            },
            ..Settings::default()
        }
    }

    fn desired(&self) -> DesiredState {
        let mut groups: Vec<GroupSpec> = Vec::new();
        for b in 0..USER_GROUPS {
            if self.group_declared(b) {
                groups.push(GroupSpec {
                    name: group_name(b),
                    description: (b == 0).then(|| "The first group".to_string()),
                    profiles: if b == 0 {
                        vec![group_name(PROFILE_BASE)]
                    } else {
                        vec![]
                    },
                    previously: self
                        .renamed_group()
                        .filter(|(new, _)| *new == b)
                        .map(|(_, old)| group_name(old))
                        .into_iter()
                        .collect(),
                    ..Default::default()
                });
            }
        }
        let mut profiles: Vec<ProfileSpec> = (PROFILE_BASE..ADMIN_BIT)
            .filter(|&b| self.group_declared(b))
            .map(|b| ProfileSpec {
                name: group_name(b),
                ..ProfileSpec::default()
            })
            .collect();
        let mut admin_groups: Vec<ProfileSpec> = if self.admin_declared {
            vec![ProfileSpec {
                name: group_name(ADMIN_BIT),
                ..ProfileSpec::default()
            }]
        } else {
            vec![]
        };
        let mut users = Vec::new();
        for (i, slot) in self.users.iter().enumerate() {
            if !slot.declared {
                continue;
            }
            let mut address = email(i, slot.kind);
            if slot.upper_case {
                address = address.to_uppercase();
            }
            let wanted: Vec<String> = (0..ORG_ADMIN_BIT)
                .filter(|&b| slot.wanted_groups & (1 << b) != 0 && self.group_declared(b))
                .map(group_name)
                .collect();
            let reference = if slot.kind == 1 {
                format!("user{i}")
            } else {
                address.clone()
            };
            let mut spec = UserSpec {
                email: Some(address.into()),
                username: (slot.kind == 1).then(|| format!("user{i}").into()),
                domain: (slot.kind == 1).then(|| "example.com".into()),
                identity_type: Some(identity_type(slot.kind)),
                firstname: Some(NAMES[slot.wanted_name as usize].into()),
                lastname: Some("Test".into()),
                country: Some("US".into()),
                previously: self
                    .rename_of(i)
                    .map(|j| email(j, 0).into())
                    .into_iter()
                    .collect(),
                ..Default::default()
            };
            if slot.declare_on_group {
                for name in wanted {
                    let members = groups
                        .iter_mut()
                        .find(|g| g.name == name)
                        .map(|g| &mut g.members)
                        .or_else(|| {
                            profiles
                                .iter_mut()
                                .find(|p| p.name == name)
                                .map(|p| &mut p.members)
                        })
                        .or_else(|| {
                            admin_groups
                                .iter_mut()
                                .find(|p| p.name == name)
                                .map(|p| &mut p.members)
                        });
                    if let Some(members) = members {
                        members.push(reference.clone());
                    }
                }
            } else {
                spec.groups = wanted.into_iter().map(Into::into).collect();
            }
            users.push(spec);
        }
        DesiredState {
            users,
            groups,
            profiles,
            admin_groups,
            settings: self.settings(),
            ..Default::default()
        }
    }
}

/// The desired state that describes `snapshot` exactly (what `umapi export` writes).
fn export(snapshot: &Snapshot, settings: Settings) -> DesiredState {
    let users = snapshot
        .users
        .iter()
        .map(|u| {
            let by_username = u.username.as_deref().is_some_and(|n| !n.contains('@'));
            UserSpec {
                email: u.email.clone(),
                username: by_username.then(|| u.username.clone()).flatten(),
                domain: by_username.then(|| u.domain.clone()).flatten(),
                identity_type: Some(u.identity_type),
                firstname: u.firstname.clone(),
                lastname: u.lastname.clone(),
                country: u.country.clone(),
                groups: u
                    .groups
                    .iter()
                    .filter(|g| &***g != "_org_admin")
                    .map(|g| (**g).into())
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let by_type = |t: fn(&GroupType) -> bool| -> Vec<&SnapshotGroup> {
        snapshot
            .groups
            .iter()
            .filter(|g| t(&g.group_type) && g.name != "_org_admin")
            .collect()
    };
    DesiredState {
        users,
        groups: by_type(|t| *t == GroupType::UserGroup)
            .into_iter()
            .map(|g| GroupSpec {
                name: g.name.clone(),
                ..Default::default()
            })
            .collect(),
        profiles: by_type(|t| *t == GroupType::ProductProfile)
            .into_iter()
            .map(|g| ProfileSpec {
                name: g.name.clone(),
                ..ProfileSpec::default()
            })
            .collect(),
        admin_groups: by_type(|t| !matches!(t, GroupType::UserGroup | GroupType::ProductProfile))
            .into_iter()
            .map(|g| ProfileSpec {
                name: g.name.clone(),
                ..ProfileSpec::default()
            })
            .collect(),
        settings,
        ..Default::default()
    }
}

fn steps_of(entry: &Entry) -> usize {
    match entry {
        Entry::User(e) => e.steps.len(),
        Entry::UserGroup(e) => e.steps.len(),
    }
}

/// Every change in exactly one request; every step carries at least one change; the
/// id table has the shape of the entries.
fn check_mapping(plan: &Plan) -> Result<(), String> {
    let mut seen: BTreeMap<u32, BTreeSet<(usize, usize)>> = BTreeMap::new();
    for (p, phase) in plan.phases.iter().enumerate() {
        for (r, request) in phase.requests.iter().enumerate() {
            check_request_limits(&request.entries)?;
            if request.changes.len() != request.entries.len() {
                return Err("changes table does not match entries".into());
            }
            for (entry, ids) in request.entries.iter().zip(&request.changes) {
                if ids.len() != steps_of(entry) {
                    return Err(format!("step ids do not match steps in {entry:?}"));
                }
                for step in ids {
                    if step.is_empty() {
                        return Err(format!("a step carries no change in {entry:?}"));
                    }
                    for id in step {
                        seen.entry(*id).or_default().insert((p, r));
                    }
                }
            }
        }
    }
    for change in &plan.changes {
        match seen.get(&change.id).map(BTreeSet::len) {
            Some(1) => {}
            Some(n) => return Err(format!("change {} is in {n} requests", change.id)),
            None => return Err(format!("change {:?} is in no request", change)),
        }
    }
    if seen.len() != plan.changes.len() {
        return Err("a request names a change id that does not exist".into());
    }
    let e = &plan.estimate;
    let requests: u64 = plan.phases.iter().map(|p| p.requests.len() as u64).sum();
    if e.requests != requests || e.lower_bound_requests > e.requests {
        return Err(format!("estimate {e:?} does not match {requests} requests"));
    }
    Ok(())
}

fn excluded(world: &World, user: &SnapshotUser) -> bool {
    let settings = world.settings();
    (world.exclude_regex
        && user
            .email
            .as_deref()
            .is_some_and(|e| e.to_lowercase().starts_with("u1@")))
        || settings.exclude.types.contains(&user.identity_type)
        || user.groups.iter().any(|g| {
            settings
                .exclude
                .groups
                .iter()
                .any(|x| x.eq_ignore_ascii_case(g))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn planning_an_org_against_itself_changes_nothing(world in world()) {
        let snapshot = world.snapshot();
        let desired = export(&snapshot, world.settings());
        let plan = plan(&desired, &snapshot, &PlanOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!plan.has_changes(), "{}", umapi_sync::render::text(&plan, false));
        // Exported users that the settings exclude are reported, nothing else.
        prop_assert!(plan.warnings.iter().all(|w| w.contains("excluded by settings.exclude")), "{:?}", plan.warnings);
        check_mapping(&plan).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn applying_a_plan_reaches_the_desired_state(world in world()) {
        let snapshot = world.snapshot();
        let desired = world.desired();
        let options = PlanOptions::default();
        let first = plan(&desired, &snapshot, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_mapping(&first).map_err(TestCaseError::fail)?;

        let mut org = SandboxOrg::new(snapshot.clone());
        let errors = org.apply(&first, world.seed);
        prop_assert!(errors.is_empty(), "step errors {:?}\n{}", errors, first.to_json());
        let after = org.to_snapshot();

        let second = plan(&desired, &after, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!second.has_changes(), "not converged:\n{}\nfirst:\n{}", umapi_sync::render::text(&second, false), umapi_sync::render::text(&first, false));

        // Direct checks within the managed scope.
        let managed: BTreeSet<String> = (0..ORG_ADMIN_BIT)
            .filter(|&b| world.group_declared(b) && !world.group_excluded(b))
            .map(|b| group_name(b).to_lowercase())
            .collect();
        let now: BTreeMap<String, &SnapshotUser> = after.users.iter().map(|u| (u.key().to_string(), u)).collect();
        let before: BTreeMap<String, &SnapshotUser> = snapshot.users.iter().map(|u| (u.key().to_string(), u)).collect();
        for (i, slot) in world.users.iter().enumerate() {
            let key = email(i, slot.kind).to_lowercase();
            if slot.declared {
                let was = before.get(&key).copied().or_else(|| world.rename_of(i).and_then(|j| before.get(&email(j, 0))).copied());
                if was.is_some_and(|u| excluded(&world, u)) {
                    continue;
                }
                if was.is_none() && (slot.kind == 2 && world.exclude_adobe || world.exclude_regex && i == 1) {
                    continue;
                }
                let user = now.get(&key);
                prop_assert!(user.is_some(), "declared user {} missing", key);
                let wanted: BTreeSet<String> = (0..ORG_ADMIN_BIT)
                    .filter(|&b| slot.wanted_groups & (1 << b) != 0)
                    .map(|b| group_name(b).to_lowercase())
                    .filter(|g| managed.contains(g))
                    .collect();
                let has: BTreeSet<String> = user.unwrap().groups.iter().map(|g| g.to_lowercase()).filter(|g| managed.contains(g)).collect();
                prop_assert_eq!(has, wanted, "memberships of {}", key);
                if slot.kind != 2 {
                    prop_assert_eq!(user.unwrap().firstname.as_deref(), Some(NAMES[slot.wanted_name as usize]));
                }
            } else if let Some(old) = before.get(&key) {
                let renamed = (0..USERS).any(|n| world.rename_of(n) == Some(i));
                if renamed || excluded(&world, old) {
                    continue;
                }
                // Deleting a user group deletes its admin group: that role protects no one.
                let deleted_roles: BTreeSet<String> = first.changes.iter().filter_map(|c| match &c.kind {
                    umapi_sync::plan::ChangeKind::DeleteGroup { group, .. } => Some(format!("_admin_{group}").to_lowercase()),
                    _ => None,
                }).collect();
                let admin = old.groups.iter().any(|g| g.starts_with('_') && !deleted_roles.contains(&g.to_lowercase()));
                match world.settings().unlisted_users {
                    UnlistedUsers::Ignore => prop_assert!(now.contains_key(&key)),
                    UnlistedUsers::RemoveMemberships => {
                        let user = now.get(&key);
                        prop_assert!(user.is_some());
                        prop_assert!(!user.unwrap().groups.iter().any(|g| managed.contains(&g.to_lowercase())));
                    }
                    UnlistedUsers::Remove | UnlistedUsers::Delete => {
                        prop_assert_eq!(now.contains_key(&key), admin, "unlisted {} (admin: {})", key, admin);
                    }
                }
            }
        }
        // Profile links of declared groups were (re-)asserted.
        if world.group_declared(0) && !world.group_excluded(0) {
            prop_assert_eq!(org.links(&group_name(0)), vec![group_name(PROFILE_BASE)]);
        }
    }

    /// The counts count objects: a user renamed and updated in the same plan is one
    /// change in place, memberships count one by one.
    #[test]
    fn counts_count_each_object_once(world in world()) {
        use umapi_sync::plan::ChangeKind;
        let plan = plan(&world.desired(), &world.snapshot(), &PlanOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let s = &plan.summary;
        let users_in_place: std::collections::BTreeSet<String> = plan
            .changes
            .iter()
            .filter_map(|c| match &c.kind {
                ChangeKind::UpdateUser { user, .. } | ChangeKind::RenameUser { user, .. } => {
                    Some(user.to_lowercase())
                }
                _ => None,
            })
            .collect();
        prop_assert_eq!(s.to_change, s.groups_renamed + users_in_place.len() as u64);
        prop_assert!(s.to_change <= s.groups_renamed + s.users_updated + s.users_renamed);
        let memberships = plan
            .changes
            .iter()
            .filter(|c| matches!(c.kind, ChangeKind::AddMembership { .. }))
            .count() as u64;
        prop_assert_eq!(s.memberships_added, memberships);
        prop_assert_eq!(s.to_add, s.groups_created + s.users_created + memberships);
    }

    #[test]
    fn the_same_inputs_give_byte_identical_plans(world in world()) {
        let snapshot = world.snapshot();
        let desired = world.desired();
        let options = PlanOptions::default();
        let a = plan(&desired, &snapshot, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut json = Vec::new();
        snapshot.to_writer(&mut json).unwrap();
        let reread = Snapshot::from_reader(json.as_slice()).unwrap();
        let b = plan(&desired.clone(), &reread, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a.to_json(), b.to_json());
        let back = Plan::from_reader(a.to_json().as_bytes()).unwrap();
        prop_assert_eq!(back, a);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Each safety limit blocks exactly the plans that go over it: a blocked plan
    /// is otherwise the same plan, names the limit and its numbers, and `--allow`
    /// at the planned count lets it through, recorded.
    #[test]
    fn limits_stop_exactly_the_plans_over_them(world in world()) {
        use umapi_sync::desired::{LimitName, LimitOverride};
        use umapi_sync::plan::LimitSource;
        let snapshot = world.snapshot();
        let desired = world.desired();
        let options = PlanOptions::default();
        let free = plan(&desired, &snapshot, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(!free.is_blocked());
        let s = &free.summary;
        let classes = [
            (LimitName::MaxUserRemovals, s.users_removed + s.users_deleted),
            (LimitName::MaxMembershipRemovals, s.memberships_removed),
            (LimitName::MaxGroupDeletions, s.groups_deleted),
        ];
        let same_plan = |p: &Plan| {
            let mut p = p.clone();
            p.blocked.clear();
            p.overrides.clear();
            p.desired_state_hash = free.desired_state_hash.clone();
            p.to_json() == free.to_json()
        };
        for (name, planned) in classes {
            for allowed in [planned, planned.saturating_sub(1)] {
                let mut limited = desired.clone();
                let limit = Some(Limit::Count(allowed));
                match name {
                    LimitName::MaxUserRemovals => limited.settings.limits.max_user_removals = limit,
                    LimitName::MaxMembershipRemovals => limited.settings.limits.max_membership_removals = limit,
                    LimitName::MaxGroupDeletions => limited.settings.limits.max_group_deletions = limit,
                    LimitName::MaxSeatsOverQuota => limited.settings.limits.max_seats_over_quota = limit,
                }
                let p = plan(&limited, &snapshot, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(same_plan(&p), "a limit changes nothing but `blocked`");
                if planned <= allowed {
                    prop_assert!(p.blocked.is_empty(), "{} blocked a plan within it", name);
                    continue;
                }
                prop_assert_eq!(p.blocked.len(), 1);
                let blocked = &p.blocked[0];
                prop_assert_eq!(blocked.limit, name);
                prop_assert_eq!(blocked.source, LimitSource::Settings);
                prop_assert_eq!((blocked.planned, blocked.allowed), (planned, allowed));
                prop_assert_eq!(
                    blocked.affected.len() as u64 + blocked.more,
                    planned
                );
                let allow = PlanOptions {
                    overrides: vec![LimitOverride { limit: name, value: Limit::Count(planned) }],
                    ..PlanOptions::default()
                };
                let p = plan(&limited, &snapshot, &allow).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(p.blocked.is_empty());
                prop_assert!(same_plan(&p));
                prop_assert_eq!(p.overrides.len(), 1);
                prop_assert_eq!(p.overrides[0].requested(), allow.overrides[0].clone());
            }
        }
    }
}

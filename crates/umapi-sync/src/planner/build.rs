//! Applies the planning rules: matches desired users and groups to the snapshot and
//! decides every change, leaving the packing into requests to [`super::pack`].

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use regex::{Regex, RegexBuilder};
use umapi_core::wire::{
    CreateUser, GroupType, IdentityType, IfAlreadyExists, UpdateUser, UserStep,
};

use super::PlanOptions;
use super::pack::{
    CreateWork, GroupWork, LeaveWork, MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY, MembershipWork,
    UpdateWork, UserTarget, Work,
};
use crate::error::{Diagnostic, Error};
use crate::model::{DesiredState, Location, UnlistedGroups, UnlistedUsers, UserSpec};
use crate::plan::{ChangeId, ChangeKind, FieldChange, GroupKind, NotVerifiable};
use crate::snapshot::{Snapshot, SnapshotUser, identity_key};

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
    reference: String,
    identity_type: IdentityType,
    /// Managed groups the user should be in (indices into `managed`).
    groups: Vec<u32>,
    current: Option<u32>,
    renamed_from: Option<u32>,
}

/// Everything decided, ready for limits and packing.
pub(crate) struct Built {
    pub changes: Vec<ChangeKind>,
    pub warnings: Vec<String>,
    pub not_verifiable: Vec<NotVerifiable>,
    pub work: Work,
    /// Touched users by snapshot key: snapshot index (if any) and touched groups
    /// (lower-cased current names).
    pub touched_users: BTreeMap<String, (Option<u32>, Vec<String>)>,
    /// Touched groups by lower-cased name: current type.
    pub touched_groups: BTreeMap<String, Option<GroupType>>,
    pub user_removals: u64,
    pub membership_removals: u64,
    pub group_deletions: u64,
    /// Current memberships in managed groups, for percentage limits.
    pub managed_memberships: u64,
}

pub(crate) struct Builder<'a> {
    desired: &'a DesiredState,
    snapshot: &'a Snapshot,
    options: &'a PlanOptions,
    managed: Vec<Managed>,
    by_declared: HashMap<String, u32>,
    by_current_exact: HashMap<&'a str, GroupInfo>,
    by_current_lower: HashMap<String, GroupInfo>,
    user_patterns: Vec<Regex>,
    /// Users whose email another account of the org shares.
    shared_users: HashSet<u32>,
    excluded_types: Vec<IdentityType>,
    diagnostics: Vec<Diagnostic>,
    warnings: Vec<String>,
    not_verifiable: Vec<NotVerifiable>,
    /// Group creates/renames/re-assertions in declaration order: (managed index, description, profiles).
    group_specs: Vec<(u32, Option<String>, Vec<String>)>,
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// The key [`crate::model::DesiredState::origins`] uses for a user.
fn origin_key(spec: &UserSpec) -> String {
    match (&spec.username, &spec.email) {
        (Some(username), _) if username.contains('@') => lower(username),
        (Some(username), _) => format!(
            "{} ({})",
            lower(username),
            lower(spec.domain.as_deref().unwrap_or_default())
        ),
        (None, Some(email)) => lower(email),
        (None, None) => String::new(),
    }
}

/// Lower-cased, borrowing when the text is already lower case (most emails are):
/// a large org has millions of these.
fn lower_cow(s: &str) -> Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// A user's look-up names (see [`aliases`]).
type Aliases<'s> = [Option<Cow<'s, str>>; 2];

/// Look-up aliases of a user: email, email-form username, `username (domain)`.
fn aliases<'s>(
    email: Option<&'s str>,
    username: Option<&'s str>,
    domain: Option<&str>,
) -> Aliases<'s> {
    let email = email.filter(|e| !e.is_empty()).map(lower_cow);
    let username = username.filter(|u| !u.is_empty()).and_then(|username| {
        if username.contains('@') {
            let u = lower_cow(username);
            (email.as_deref() != Some(&*u)).then_some(u)
        } else {
            Some(Cow::Owned(format!(
                "{} ({})",
                lower(username),
                lower(domain.unwrap_or_default())
            )))
        }
    });
    [email, username]
}

fn display_user(user: &str, domain: Option<&str>) -> String {
    match domain {
        Some(domain) => format!("{user} ({domain})"),
        None => user.to_string(),
    }
}

/// How requests name an existing user; `shared` when another account of the org
/// has the same email.
fn target_of_current(user: &SnapshotUser, shared: bool) -> UserTarget {
    let (name, domain) = user.target();
    let mut target = UserTarget::new(name, domain);
    target.use_adobe_id = shared && user.identity_type == IdentityType::AdobeId;
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
            by_current_exact: HashMap::with_capacity(snapshot.groups.len()),
            by_current_lower: HashMap::with_capacity(snapshot.groups.len()),
            user_patterns,
            shared_users: HashSet::new(),
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

    fn resolve_groups(&mut self) {
        let desired = self.desired;
        let snapshot = self.snapshot;
        let current: HashMap<String, &crate::snapshot::SnapshotGroup> = snapshot
            .groups
            .iter()
            .map(|g| (lower(&g.name), g))
            .collect();
        let excluded: HashSet<String> = desired
            .settings
            .exclude
            .groups
            .iter()
            .map(|g| lower(g))
            .collect();

        for group in &desired.groups {
            let key = lower(&group.name);
            if self.by_declared.contains_key(&key) {
                continue;
            }
            let is_excluded = excluded.contains(&key);
            let (current_name, renamed) = match current.get(&key) {
                Some(found) if found.group_type == GroupType::UserGroup => {
                    (Some(found.name.clone()), false)
                }
                Some(found) => {
                    self.diagnostics.push(Diagnostic {
                        location: self.origin(&key),
                        message: format!(
                            "`{}` is declared as a user group, but the org has a {} of that name",
                            group.name,
                            GroupKind::of(&found.group_type).label()
                        ),
                        hint: Some(format!(
                            "declare it under `{}` instead, or choose another name",
                            if found.group_type == GroupType::ProductProfile {
                                "profiles"
                            } else {
                                "admin_groups"
                            }
                        )),
                    });
                    continue;
                }
                None => {
                    let old = group.previously.iter().find_map(|p| {
                        current
                            .get(&lower(p))
                            .filter(|g| g.group_type == GroupType::UserGroup)
                    });
                    match old {
                        Some(old) => (Some(old.name.clone()), true),
                        None => (None, false),
                    }
                }
            };
            // Renaming an excluded group would touch it: the declared group is then
            // left alone as well.
            let is_excluded = is_excluded
                || (renamed
                    && current_name
                        .as_deref()
                        .is_some_and(|c| excluded.contains(&lower(c))));
            if is_excluded {
                self.warnings.push(format!(
                    "user group {} is excluded by settings.exclude.groups; it is not touched",
                    match (&current_name, renamed) {
                        (Some(old), true) => format!("{} (previously {old})", group.name),
                        _ => group.name.clone(),
                    }
                ));
            }
            for profile in &group.profiles {
                match current.get(&lower(profile)) {
                    Some(found) if found.group_type == GroupType::ProductProfile => {}
                    _ => self.diagnostics.push(Diagnostic {
                        location: self.origin(&key),
                        message: format!(
                            "user group `{}` links product profile `{profile}`, which does not exist in the org",
                            group.name
                        ),
                        hint: Some("product profiles cannot be created through the API; create it in the Admin Console, or correct the name".into()),
                    }),
                }
            }
            let index = self.push_managed(Managed {
                name: group.name.clone(),
                kind: GroupKind::UserGroup,
                current: current_name,
                renamed,
                excluded: is_excluded,
            });
            if !is_excluded {
                self.group_specs
                    .push((index, group.description.clone(), group.profiles.clone()));
                if let Some(description) = &group.description {
                    self.not_verifiable.push(NotVerifiable {
                        group: group.name.clone(),
                        field: "description".into(),
                        value: description.clone(),
                    });
                }
                if !group.profiles.is_empty() {
                    self.not_verifiable.push(NotVerifiable {
                        group: group.name.clone(),
                        field: "profiles".into(),
                        value: group.profiles.join(", "),
                    });
                }
            }
        }

        let declared_profiles = desired
            .profiles
            .iter()
            .map(|p| (p, GroupKind::ProductProfile))
            .chain(
                desired
                    .admin_groups
                    .iter()
                    .map(|p| (p, GroupKind::AdminGroup)),
            );
        for (profile, kind) in declared_profiles {
            let key = lower(&profile.name);
            if self.by_declared.contains_key(&key) {
                continue;
            }
            if key == "_org_admin" {
                self.diagnostics.push(Diagnostic {
                    location: self.origin(&key),
                    message: "`_org_admin` cannot be managed: UMAPI cannot assign or remove system administrators".into(),
                    hint: Some("remove it from admin_groups; manage system administrators in the Admin Console".into()),
                });
                continue;
            }
            let found = current
                .get(&key)
                .filter(|g| GroupKind::of(&g.group_type) == kind);
            let Some(found) = found else {
                let what = kind.label();
                self.diagnostics.push(Diagnostic {
                    location: self.origin(&key),
                    message: format!("{what} `{}` does not exist in the org", profile.name),
                    hint: Some(if kind == GroupKind::ProductProfile {
                        "product profiles cannot be created through the API; create it in the Admin Console, or correct the name".into()
                    } else {
                        "admin groups are created by the Admin Console with the group or profile they administer; correct the name".into()
                    }),
                });
                continue;
            };
            let is_excluded = excluded.contains(&key);
            if is_excluded {
                self.warnings.push(format!(
                    "{} {} is excluded by settings.exclude.groups; it is not touched",
                    kind.label(),
                    profile.name
                ));
            }
            self.push_managed(Managed {
                name: profile.name.clone(),
                kind,
                current: Some(found.name.clone()),
                renamed: false,
                excluded: is_excluded,
            });
        }

        let mut managed_by_current: HashMap<String, u32> = HashMap::new();
        for (index, managed) in self.managed.iter().enumerate() {
            if let (Some(current), false) = (&managed.current, managed.excluded) {
                managed_by_current.insert(lower(current), index as u32);
            }
        }
        for group in &snapshot.groups {
            let key = lower(&group.name);
            let info = GroupInfo {
                managed: managed_by_current.get(&key).copied(),
                excluded: excluded.contains(&key),
                admin: GroupKind::of(&group.group_type) == GroupKind::AdminGroup
                    || group.name.starts_with('_'),
            };
            self.by_current_exact.insert(group.name.as_str(), info);
            self.by_current_lower.insert(key, info);
        }
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
        let desired = self.desired;
        let snapshot = self.snapshot;
        let settings = &desired.settings;

        // Current users by every alias.
        let mut current_lookup: HashMap<Cow<'a, str>, u32> =
            HashMap::with_capacity(snapshot.users.len() * 2);
        let mut shared_aliases: HashMap<Cow<'a, str>, Vec<u32>> = HashMap::new();
        for (index, user) in snapshot.users.iter().enumerate() {
            for alias in aliases(
                user.email.as_deref(),
                user.username.as_deref(),
                user.domain.as_deref(),
            )
            .into_iter()
            .flatten()
            {
                match current_lookup.entry(alias) {
                    Entry::Vacant(slot) => {
                        slot.insert(index as u32);
                    }
                    Entry::Occupied(slot) => {
                        // An Adobe ID and an org-owned account with the same email.
                        let first = *slot.get();
                        self.shared_users.insert(first);
                        self.shared_users.insert(index as u32);
                        let candidates = shared_aliases
                            .entry(slot.key().clone())
                            .or_insert_with(|| vec![first]);
                        candidates.push(index as u32);
                    }
                }
            }
        }

        // Desired users, and every name a `members:` list may use for them.
        let mut wanted: Vec<Wanted<'a>> = Vec::with_capacity(desired.users.len());
        let mut wanted_lookup: HashMap<Cow<'a, str>, u32> =
            HashMap::with_capacity(desired.users.len() * 2);
        for spec in &desired.users {
            let index = wanted.len() as u32;
            let names = aliases(
                spec.email.as_deref(),
                spec.username.as_deref(),
                spec.domain.as_deref(),
            );
            let plain_username = spec
                .username
                .as_deref()
                .filter(|u| !u.contains('@'))
                .map(lower_cow);
            for name in names.into_iter().chain([plain_username]).flatten() {
                wanted_lookup.entry(name).or_insert(index);
            }
            wanted.push(Wanted {
                spec: Some(spec),
                reference: String::new(),
                identity_type: spec
                    .identity_type
                    .or(settings.default_type)
                    .unwrap_or(IdentityType::FederatedId),
                groups: Vec::new(),
                current: None,
                renamed_from: None,
            });
        }

        // Memberships declared on users… (names are nearly always spelled as declared)
        let declared_exact: HashMap<&str, u32> = desired
            .groups
            .iter()
            .map(|g| &g.name)
            .chain(desired.profiles.iter().map(|p| &p.name))
            .chain(desired.admin_groups.iter().map(|p| &p.name))
            .filter_map(|name| Some((name.as_str(), *self.by_declared.get(&lower(name))?)))
            .collect();
        for (index, spec) in desired.users.iter().enumerate() {
            for group in &spec.groups {
                let found = declared_exact
                    .get(group.as_str())
                    .or_else(|| self.by_declared.get(&lower(group)));
                match found {
                    Some(&m) => wanted[index].groups.push(m),
                    None => self.diagnostics.push(Diagnostic {
                        location: self.origin(&origin_key(spec)),
                        message: format!(
                            "user {} lists `{group}`, which is not declared under groups, profiles or admin_groups",
                            spec.display_identity_fallback()
                        ),
                        hint: Some("declare it, so that umapi manages its members, or remove it from the user".into()),
                    }),
                }
            }
        }
        // …and on groups, profiles and admin groups.
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
                let key = lower_cow(member);
                let index = match wanted_lookup.get(&*key) {
                    Some(&index) => index,
                    None => {
                        let index = wanted.len() as u32;
                        wanted_lookup.insert(key, index);
                        wanted.push(Wanted {
                            spec: None,
                            reference: member.clone(),
                            identity_type: settings
                                .default_type
                                .unwrap_or(IdentityType::FederatedId),
                            groups: Vec::new(),
                            current: None,
                            renamed_from: None,
                        });
                        index
                    }
                };
                wanted[index as usize].groups.push(m);
            }
        }
        for w in &mut wanted {
            w.groups.sort_unstable();
            w.groups.dedup();
        }

        // Match desired users to the org.
        let mut claimed: Vec<bool> = vec![false; snapshot.users.len()];
        for w in wanted.iter_mut() {
            let (own, previously, domain): (Aliases<'_>, &[String], Option<&str>) = match w.spec {
                Some(spec) => (
                    aliases(
                        spec.email.as_deref(),
                        spec.username.as_deref(),
                        spec.domain.as_deref(),
                    ),
                    &spec.previously,
                    spec.domain.as_deref(),
                ),
                None => ([Some(lower_cow(&w.reference)), None], &[], None),
            };
            let found = own.iter().flatten().find_map(|a| {
                let first = current_lookup.get(&**a).copied()?;
                // Where accounts share the email, take the one of the declared type.
                Some(
                    shared_aliases
                        .get(&**a)
                        .and_then(|candidates| {
                            candidates.iter().copied().find(|&c| {
                                !claimed[c as usize]
                                    && snapshot.users[c as usize].identity_type == w.identity_type
                            })
                        })
                        .unwrap_or(first),
                )
            });
            if let Some(found) = found {
                if !claimed[found as usize] {
                    claimed[found as usize] = true;
                    w.current = Some(found);
                }
                continue;
            }
            let old = previously.iter().find_map(|p| {
                let key = lower(p);
                current_lookup.get(key.as_str()).copied().or_else(|| {
                    (!p.contains('@'))
                        .then(|| {
                            domain.and_then(|d| {
                                current_lookup
                                    .get(format!("{key} ({})", lower(d)).as_str())
                                    .copied()
                            })
                        })
                        .flatten()
                })
            });
            if let Some(old) = old
                && !claimed[old as usize]
            {
                claimed[old as usize] = true;
                w.current = Some(old);
                w.renamed_from = Some(old);
            }
        }

        if !self.diagnostics.is_empty() {
            return Err(Error::Invalid(std::mem::take(&mut self.diagnostics)));
        }
        self.decide(wanted, claimed)
    }

    fn decide(mut self, wanted: Vec<Wanted<'a>>, claimed: Vec<bool>) -> Result<Built, Error> {
        let desired = self.desired;
        let snapshot = self.snapshot;
        let settings = &desired.settings;
        let mut out = Decisions::default();

        // Per-user decisions, keyed for deterministic output.
        let mut managed_memberships: u64 = 0;
        for w in &wanted {
            self.decide_wanted(w, &mut out, &mut managed_memberships);
        }
        if !self.diagnostics.is_empty() {
            return Err(Error::Invalid(std::mem::take(&mut self.diagnostics)));
        }

        for (index, user) in snapshot.users.iter().enumerate() {
            if claimed[index] {
                continue;
            }
            if self.user_excluded(user) {
                continue;
            }
            let mut current_managed: Vec<u32> = Vec::new();
            let mut admin_roles: Vec<&str> = Vec::new();
            for group in &user.groups {
                if let Some(info) = self.group_info(group) {
                    if let Some(m) = info.managed {
                        current_managed.push(m);
                    }
                    if info.admin {
                        admin_roles.push(group);
                    }
                }
            }
            managed_memberships += current_managed.len() as u64;
            match settings.unlisted_users {
                UnlistedUsers::Ignore => {}
                UnlistedUsers::RemoveMemberships => {
                    if current_managed.is_empty() {
                        continue;
                    }
                    current_managed.sort_unstable();
                    current_managed.dedup();
                    out.users.push(UserDecision {
                        key: user.unique_key(),
                        current: Some(index as u32),
                        target: target_of_current(
                            user,
                            self.shared_users.contains(&(index as u32)),
                        ),
                        removes: current_managed,
                        ..UserDecision::default()
                    });
                }
                UnlistedUsers::Remove | UnlistedUsers::Delete => {
                    if !admin_roles.is_empty() {
                        self.warnings.push(format!(
                            "{} is not declared but holds admin roles ({}); it stays in the org (declare or exclude it, or remove the roles first)",
                            display_user(&user.target().0, user.target().1.as_deref()),
                            admin_roles.join(", ")
                        ));
                        continue;
                    }
                    let mut delete = settings.unlisted_users == UnlistedUsers::Delete;
                    if delete && user.identity_type == IdentityType::AdobeId {
                        delete = false;
                        self.warnings.push(format!(
                            "{} is an Adobe ID: it is removed from the org, but its account belongs to the user and cannot be deleted",
                            display_user(&user.target().0, user.target().1.as_deref()),
                        ));
                    }
                    out.users.push(UserDecision {
                        key: user.unique_key(),
                        current: Some(index as u32),
                        target: target_of_current(
                            user,
                            self.shared_users.contains(&(index as u32)),
                        ),
                        leave: Some((delete, user.identity_type)),
                        ..UserDecision::default()
                    });
                }
            }
        }

        // Unlisted user groups.
        if settings.unlisted_groups == UnlistedGroups::Delete {
            let declared: HashSet<String> = self
                .managed
                .iter()
                .filter_map(|m| m.current.as_deref().map(lower))
                .chain(self.managed.iter().map(|m| lower(&m.name)))
                .collect();
            for group in &snapshot.groups {
                let key = lower(&group.name);
                if group.group_type != GroupType::UserGroup || declared.contains(&key) {
                    continue;
                }
                if self.by_current_lower.get(&key).is_some_and(|i| i.excluded) {
                    continue;
                }
                out.deletes.push((group.name.clone(), group.member_count));
            }
        }

        Ok(self.emit(out, managed_memberships))
    }

    fn decide_wanted(
        &mut self,
        w: &Wanted<'a>,
        out: &mut Decisions,
        managed_memberships: &mut u64,
    ) {
        let desired = self.desired;
        let snapshot = self.snapshot;
        let groups: Vec<u32> = w
            .groups
            .iter()
            .copied()
            .filter(|&m| !self.managed[m as usize].excluded)
            .collect();
        match w.current {
            Some(current) => {
                let user = &snapshot.users[current as usize];
                if self.user_excluded(user) {
                    if w.spec.is_some() {
                        self.warnings.push(format!(
                            "{} is declared but excluded by settings.exclude; it is not touched",
                            display_user(&user.target().0, user.target().1.as_deref())
                        ));
                    }
                    return;
                }
                // Key and target are filled in only for users with changes: most
                // users of a large org have none, and the strings are not free.
                let mut decision = UserDecision {
                    current: Some(current),
                    ..UserDecision::default()
                };
                let shown = || {
                    let (name, domain) = user.target();
                    display_user(&name, domain.as_deref())
                };
                if let Some(spec) = w.spec {
                    if user.identity_type != IdentityType::Unknown
                        && user.identity_type != w.identity_type
                    {
                        self.warnings.push(format!(
                            "{} is declared as {} but is {} in the org; UMAPI cannot change an identity type (remove and re-create the user to change it)",
                            shown(),
                            w.identity_type, user.identity_type
                        ));
                    }
                    if let (Some(want), Some(have)) = (&spec.country, &user.country)
                        && !want.eq_ignore_ascii_case(have)
                    {
                        self.warnings.push(format!(
                            "{} is declared with country {want} but has {have} in the org; UMAPI cannot change a country",
                            shown()
                        ));
                    }
                    let mut fields = Vec::new();
                    for (field, want, have) in [
                        ("firstname", &spec.firstname, &user.firstname),
                        ("lastname", &spec.lastname, &user.lastname),
                    ] {
                        if let Some(want) = want
                            && Some(want) != have.as_ref()
                        {
                            fields.push(FieldChange {
                                field: field.into(),
                                old: have.clone(),
                                new: Some(want.clone()),
                            });
                        }
                    }
                    let mut rename = Vec::new();
                    if w.renamed_from.is_some() {
                        let new_email = spec
                            .email
                            .clone()
                            .or_else(|| spec.username.clone().filter(|u| u.contains('@')));
                        if let Some(new_email) = &new_email
                            && !user
                                .email
                                .as_deref()
                                .is_some_and(|e| e.eq_ignore_ascii_case(new_email))
                        {
                            rename.push(FieldChange {
                                field: "email".into(),
                                old: user.email.clone(),
                                new: Some(new_email.clone()),
                            });
                        }
                        let username_is_email = match (&user.username, &user.email) {
                            (Some(u), Some(e)) => u.eq_ignore_ascii_case(e),
                            _ => false,
                        };
                        let new_username = match &spec.username {
                            Some(u) => Some(u.clone()),
                            None if username_is_email => new_email.clone(),
                            None => None,
                        };
                        if let Some(new_username) = new_username
                            && !user
                                .username
                                .as_deref()
                                .is_some_and(|u| u.eq_ignore_ascii_case(&new_username))
                        {
                            rename.push(FieldChange {
                                field: "username".into(),
                                old: user.username.clone(),
                                new: Some(new_username),
                            });
                        }
                    }
                    if user.identity_type == IdentityType::AdobeId
                        && !(fields.is_empty() && rename.is_empty())
                    {
                        self.warnings.push(format!(
                            "{} is an Adobe ID: its names and email belong to the user and cannot be updated through UMAPI",
                            shown()
                        ));
                        fields.clear();
                        rename.clear();
                    }
                    if !rename.is_empty() {
                        let (user_name, domain) = new_target(spec);
                        decision.after = Some(UserTarget::new(user_name, domain));
                    }
                    decision.update = fields;
                    decision.rename = rename;
                }
                // Memberships within the managed scope.
                let mut have: Vec<u32> = user
                    .groups
                    .iter()
                    .filter_map(|g| self.group_info(g).and_then(|i| i.managed))
                    .collect();
                have.sort_unstable();
                have.dedup();
                *managed_memberships += have.len() as u64;
                decision.adds = difference(&groups, &have);
                decision.removes = difference(&have, &groups);
                if decision.is_empty() {
                    return;
                }
                decision.key = user.unique_key();
                decision.target = target_of_current(user, self.shared_users.contains(&current));
                out.users.push(decision);
            }
            None => {
                let Some(spec) = w.spec else {
                    if !groups.is_empty() {
                        self.warnings.push(format!(
                            "{} is a member of {} but is neither declared under users nor in the org; declare it under users to create it",
                            w.reference,
                            self.managed[groups[0] as usize].name
                        ));
                    }
                    return;
                };
                if self.excluded_types.contains(&w.identity_type)
                    || self.matches_pattern(spec.email.as_deref(), spec.username.as_deref())
                {
                    self.warnings.push(format!(
                        "{} is declared but excluded by settings.exclude; it is not created",
                        spec.display_identity_fallback()
                    ));
                    return;
                }
                let location = self.origin(&origin_key(spec));
                let email = spec
                    .email
                    .clone()
                    .or_else(|| spec.username.clone().filter(|u| u.contains('@')));
                let Some(email) = email else {
                    self.diagnostics.push(Diagnostic {
                        location,
                        message: format!(
                            "cannot create {}: it is not in the org and has no email",
                            spec.display_identity_fallback()
                        ),
                        hint: Some("add `email:` to the user".into()),
                    });
                    return;
                };
                let country = spec
                    .country
                    .clone()
                    .or_else(|| desired.settings.default_country.clone());
                if w.identity_type == IdentityType::FederatedId && country.is_none() {
                    self.diagnostics.push(Diagnostic {
                        location,
                        message: format!(
                            "cannot create Federated ID {}: a country is required",
                            spec.display_identity_fallback()
                        ),
                        hint: Some(
                            "add `country:` to the user, or `settings.default_country`".into(),
                        ),
                    });
                    return;
                }
                let fields = CreateUser {
                    email: email.clone(),
                    firstname: spec.firstname.clone(),
                    lastname: spec.lastname.clone(),
                    country: country.clone(),
                    option: Some(IfAlreadyExists::Ignore),
                };
                let step = match w.identity_type {
                    IdentityType::FederatedId => UserStep::CreateFederatedId(fields),
                    IdentityType::EnterpriseId => UserStep::CreateEnterpriseId(fields),
                    IdentityType::AdobeId => UserStep::AddAdobeId(fields),
                    IdentityType::Unknown => {
                        self.diagnostics.push(Diagnostic {
                            location,
                            message: format!(
                                "cannot create {}: unknown identity type",
                                spec.display_identity_fallback()
                            ),
                            hint: Some("use adobeID, enterpriseID or federatedID".into()),
                        });
                        return;
                    }
                };
                let (user_name, domain) = new_target(spec);
                out.users.push(UserDecision {
                    key: {
                        let key = identity_key(
                            spec.email.as_deref(),
                            spec.username.as_deref(),
                            spec.domain.as_deref(),
                        );
                        if w.identity_type == IdentityType::AdobeId {
                            format!("{key} (adobeID)")
                        } else {
                            key
                        }
                    },
                    current: None,
                    target: UserTarget::new(user_name, domain),
                    create: Some((step, w.identity_type, email, country)),
                    adds: groups,
                    ..UserDecision::default()
                });
            }
        }
    }

    /// Turns the decisions into numbered changes and packing work, in a fixed order.
    fn emit(self, mut out: Decisions, managed_memberships: u64) -> Built {
        let options = self.options;
        let mut changes: Vec<ChangeKind> = Vec::new();
        let mut work = Work::default();
        let mut touched_users: BTreeMap<String, (Option<u32>, Vec<String>)> = BTreeMap::new();
        let mut touched_groups: BTreeMap<String, Option<GroupType>> = BTreeMap::new();
        let snapshot = self.snapshot;
        let group_type_of = |name: &str| -> Option<GroupType> {
            let key = lower(name);
            snapshot
                .groups
                .binary_search_by(|g| lower(&g.name).cmp(&key))
                .ok()
                .map(|i| snapshot.groups[i].group_type.clone())
        };
        let push = |changes: &mut Vec<ChangeKind>, kind: ChangeKind| -> ChangeId {
            changes.push(kind);
            (changes.len() - 1) as ChangeId
        };

        // Phase 1: group creates, renames and re-assertions.
        let mut group_specs = self.group_specs.clone();
        group_specs.sort_by_key(|(m, _, _)| lower(&self.managed[*m as usize].name));
        for (m, description, profiles) in &group_specs {
            let managed = &self.managed[*m as usize];
            let key = lower(&managed.name);
            match (&managed.current, managed.renamed) {
                (None, _) => {
                    // Profiles beyond what the create entry holds are linked by extra
                    // (uncounted) changes after the group phase, so that every change
                    // stays within one entry and one request.
                    let (head, rest) = split_profiles(profiles, 1);
                    let id = push(
                        &mut changes,
                        ChangeKind::CreateGroup {
                            group: managed.name.clone(),
                            description: description.clone(),
                            profiles: head.clone(),
                        },
                    );
                    touched_groups.insert(key, None);
                    work.groups.push(GroupWork::create(
                        &managed.name,
                        description.clone(),
                        head,
                        id,
                    ));
                    for chunk in rest {
                        let id = push(
                            &mut changes,
                            ChangeKind::ReassertGroup {
                                group: managed.name.clone(),
                                description: None,
                                profiles: chunk.clone(),
                            },
                        );
                        work.late_groups
                            .push(GroupWork::reassert(&managed.name, None, chunk, id));
                    }
                }
                (Some(from), true) => {
                    let id = push(
                        &mut changes,
                        ChangeKind::RenameGroup {
                            group: managed.name.clone(),
                            from: from.clone(),
                        },
                    );
                    touched_groups.insert(key, None);
                    touched_groups.insert(lower(from), Some(GroupType::UserGroup));
                    // The description rides on the rename step; profile links follow
                    // under the new name in a later phase (steps after a rename in the
                    // same entry would still name the old group). Separate
                    // re-assertions, so that each lands in exactly one request.
                    let description = description.clone().filter(|_| options.reassert_write_only);
                    let description_id = description.as_ref().map(|d| {
                        push(
                            &mut changes,
                            ChangeKind::ReassertGroup {
                                group: managed.name.clone(),
                                description: Some(d.clone()),
                                profiles: Vec::new(),
                            },
                        )
                    });
                    work.groups.push(GroupWork::rename(
                        from,
                        &managed.name,
                        description,
                        id,
                        description_id,
                    ));
                    if options.reassert_write_only {
                        let (head, mut rest) = split_profiles(profiles, 0);
                        if !head.is_empty() {
                            rest.insert(0, head);
                        }
                        for chunk in rest {
                            let id = push(
                                &mut changes,
                                ChangeKind::ReassertGroup {
                                    group: managed.name.clone(),
                                    description: None,
                                    profiles: chunk.clone(),
                                },
                            );
                            work.late_groups.push(GroupWork::reassert(
                                &managed.name,
                                None,
                                chunk,
                                id,
                            ));
                        }
                    }
                }
                (Some(_), false) => {
                    if options.reassert_write_only
                        && (description.is_some() || !profiles.is_empty())
                    {
                        touched_groups.insert(key, Some(GroupType::UserGroup));
                        // The group exists, so its entries may run in any order: all
                        // stay in the group phase, one change per entry.
                        let (head, rest) =
                            split_profiles(profiles, usize::from(description.is_some()));
                        let first = (description.clone(), head);
                        for (description, chunk) in
                            std::iter::once(first).chain(rest.into_iter().map(|c| (None, c)))
                        {
                            if description.is_none() && chunk.is_empty() {
                                continue;
                            }
                            let id = push(
                                &mut changes,
                                ChangeKind::ReassertGroup {
                                    group: managed.name.clone(),
                                    description: description.clone(),
                                    profiles: chunk.clone(),
                                },
                            );
                            work.groups.push(GroupWork::reassert(
                                &managed.name,
                                description,
                                chunk,
                                id,
                            ));
                        }
                    }
                }
            }
        }

        // Membership tables for packing.
        for managed in &self.managed {
            work.group_names
                .push((managed.name.clone(), lower(&managed.name), managed.kind));
        }

        out.users.sort_by(|a, b| a.key.cmp(&b.key));
        let mut user_removals = 0u64;
        let mut membership_removals = 0u64;

        // Phase 2: user creates with their memberships.
        for d in out.users.iter().filter(|d| d.create.is_some()) {
            let Some((step, identity_type, email, country)) = &d.create else {
                continue;
            };
            let (firstname, lastname) = match step {
                UserStep::CreateFederatedId(c)
                | UserStep::CreateEnterpriseId(c)
                | UserStep::AddAdobeId(c) => (c.firstname.clone(), c.lastname.clone()),
                _ => (None, None),
            };
            let shown = d.target.display();
            let id = push(
                &mut changes,
                ChangeKind::CreateUser {
                    user: shown.clone(),
                    identity_type: *identity_type,
                    email: email.clone(),
                    firstname,
                    lastname,
                    country: country.clone(),
                },
            );
            let mut adds = Vec::new();
            for &m in &d.adds {
                let managed = &self.managed[m as usize];
                let add_id = push(
                    &mut changes,
                    ChangeKind::AddMembership {
                        user: shown.clone(),
                        group: managed.name.clone(),
                        group_kind: managed.kind,
                    },
                );
                adds.push((m, add_id));
                if managed.kind != GroupKind::UserGroup || managed.current.is_some() {
                    touched_groups.insert(lower(&managed.name), group_type_of(&managed.name));
                }
            }
            touched_users.insert(d.key.clone(), (None, Vec::new()));
            work.creates.push(CreateWork {
                target: d.target.clone(),
                step: step.clone(),
                id,
                adds,
            });
        }

        // Phase 3: user updates and renames.
        for d in out
            .users
            .iter()
            .filter(|d| !d.update.is_empty() || !d.rename.is_empty())
        {
            let shown = d.after.as_ref().unwrap_or(&d.target).display();
            let mut ids = Vec::new();
            let mut update = UpdateUser::default();
            if !d.rename.is_empty() {
                ids.push(push(
                    &mut changes,
                    ChangeKind::RenameUser {
                        user: shown.clone(),
                        from: d.target.display(),
                        fields: d.rename.clone(),
                    },
                ));
                for field in &d.rename {
                    match field.field.as_str() {
                        "email" => update.email = field.new.clone(),
                        _ => update.username = field.new.clone(),
                    }
                }
            }
            if !d.update.is_empty() {
                ids.push(push(
                    &mut changes,
                    ChangeKind::UpdateUser {
                        user: shown.clone(),
                        fields: d.update.clone(),
                    },
                ));
                for field in &d.update {
                    match field.field.as_str() {
                        "firstname" => update.firstname = field.new.clone(),
                        _ => update.lastname = field.new.clone(),
                    }
                }
            }
            work.updates.push(UpdateWork {
                target: d.target.clone(),
                update,
                ids,
            });
        }

        // Phases 4 and 5: membership removals, then adds (of existing users).
        for adding in [false, true] {
            for d in out
                .users
                .iter()
                .filter(|d| d.create.is_none() && d.leave.is_none())
            {
                let list = if adding { &d.adds } else { &d.removes };
                if list.is_empty() {
                    continue;
                }
                let target = d.after.as_ref().unwrap_or(&d.target);
                let shown = target.display();
                let user_index = work.targets.len() as u32;
                work.targets.push(target.clone());
                for &m in list {
                    let managed = &self.managed[m as usize];
                    let kind = if adding {
                        ChangeKind::AddMembership {
                            user: shown.clone(),
                            group: managed.name.clone(),
                            group_kind: managed.kind,
                        }
                    } else {
                        membership_removals += 1;
                        ChangeKind::RemoveMembership {
                            user: shown.clone(),
                            group: managed.name.clone(),
                            group_kind: managed.kind,
                        }
                    };
                    let id = push(&mut changes, kind);
                    let op = MembershipWork {
                        user: user_index,
                        group: m,
                        id,
                    };
                    if adding {
                        work.adds.push(op);
                    } else {
                        work.removals.push(op);
                    }
                }
            }
        }

        // Phase 6: users leaving the org.
        for d in out.users.iter().filter(|d| d.leave.is_some()) {
            let Some((delete, identity_type)) = d.leave else {
                continue;
            };
            user_removals += 1;
            let id = push(
                &mut changes,
                ChangeKind::RemoveUser {
                    user: d.target.display(),
                    identity_type,
                    delete_account: delete,
                },
            );
            work.leaves.push(LeaveWork {
                target: d.target.clone(),
                delete,
                id,
            });
        }

        // Phase 7: group deletes.
        out.deletes.sort_by_key(|(name, _)| lower(name));
        let group_deletions = out.deletes.len() as u64;
        for (name, member_count) in &out.deletes {
            let id = push(
                &mut changes,
                ChangeKind::DeleteGroup {
                    group: name.clone(),
                    member_count: *member_count,
                },
            );
            touched_groups.insert(lower(name), Some(GroupType::UserGroup));
            work.deletes.push((name.clone(), id));
        }

        // Preconditions of existing users: the groups touched for them.
        for d in &out.users {
            let Some(current) = d.current else { continue };
            let mut groups: Vec<String> = d
                .adds
                .iter()
                .chain(d.removes.iter())
                .filter_map(|&m| {
                    let managed = &self.managed[m as usize];
                    managed.current.as_deref().map(lower)
                })
                .collect();
            groups.sort();
            groups.dedup();
            for &m in d.adds.iter().chain(d.removes.iter()) {
                let managed = &self.managed[m as usize];
                if let Some(current) = &managed.current {
                    touched_groups
                        .entry(lower(current))
                        .or_insert_with(|| group_type_of(current));
                }
            }
            touched_users.insert(d.key.clone(), (Some(current), groups));
        }

        Built {
            changes,
            warnings: self.warnings,
            not_verifiable: self.not_verifiable,
            work,
            touched_users,
            touched_groups,
            user_removals,
            membership_removals,
            group_deletions,
            managed_memberships,
        }
    }
}

/// The target of a declared user after creation or rename.
fn new_target(spec: &UserSpec) -> (String, Option<String>) {
    match (&spec.email, &spec.username) {
        (_, Some(username)) if !username.contains('@') => (username.clone(), spec.domain.clone()),
        (Some(email), _) => (email.clone(), None),
        (None, Some(username)) => (username.clone(), None),
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
    key: String,
    current: Option<u32>,
    /// How requests name the user before the update phase.
    target: UserTarget,
    /// How requests name the user after a rename.
    after: Option<UserTarget>,
    create: Option<(UserStep, IdentityType, String, Option<String>)>,
    update: Vec<FieldChange>,
    rename: Vec<FieldChange>,
    adds: Vec<u32>,
    removes: Vec<u32>,
    leave: Option<(bool, IdentityType)>,
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

#[derive(Default)]
struct Decisions {
    users: Vec<UserDecision>,
    deletes: Vec<(String, Option<u64>)>,
}

trait DisplayIdentity {
    fn display_identity_fallback(&self) -> String;
}

impl DisplayIdentity for UserSpec {
    fn display_identity_fallback(&self) -> String {
        match (&self.email, &self.username) {
            (Some(email), _) => email.clone(),
            (None, Some(username)) => display_user(username, self.domain.as_deref()),
            (None, None) => "(no identity)".into(),
        }
    }
}

//! The org the sandbox serves: users with their direct memberships, user groups with the
//! product profiles they carry, product profiles and admin groups. This is also the JSON
//! state file, written atomically.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use umapi_core::identity::{self, UserKey};
use umapi_core::protocol;
use umapi_core::wire::{self, GroupType, IdentityType};

use crate::Error;

/// The whole org. Names, emails and usernames compare case-insensitively (and in Unicode
/// NFC) everywhere, as in UMAPI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgState {
    /// Users of the org, in listing order.
    #[serde(default)]
    pub users: Vec<UserRecord>,
    /// User groups (managed through `usergroup` actions).
    #[serde(default)]
    pub user_groups: Vec<UserGroupRecord>,
    /// Product profiles (cannot be created through the API).
    #[serde(default)]
    pub product_profiles: Vec<ProductProfileRecord>,
    /// Admin groups (`_org_admin`, `_admin_<group or profile>`, `_product_admin_<product>`,
    /// `_developer_<profile>`, …).
    #[serde(default)]
    pub admin_groups: Vec<AdminGroupRecord>,
}

/// One user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Opaque id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Sign-in name (the email, except for some Federated IDs).
    pub username: String,
    /// Domain of the username.
    pub domain: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Identity type.
    #[serde(rename = "type")]
    pub identity_type: IdentityType,
    /// Direct memberships: user groups, product profiles and admin groups, by name.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// One user group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGroupRecord {
    /// Numeric id.
    pub group_id: u64,
    /// Name.
    pub name: String,
    /// Description (write-only through UMAPI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Product profiles whose entitlements the members inherit (write-only through UMAPI).
    #[serde(default)]
    pub profiles: Vec<String>,
    /// Read-only (synced from a directory or shared by another org): it cannot be renamed
    /// or deleted and its members cannot change through the API.
    #[serde(default)]
    pub read_only: bool,
}

/// One product profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductProfileRecord {
    /// Numeric id.
    pub group_id: u64,
    /// Name.
    pub name: String,
    /// The product it belongs to.
    pub product_name: String,
    /// Licence quota as UMAPI reports it (`"UNLIMITED"`, `"100"`).
    #[serde(default = "unlimited")]
    pub license_quota: String,
}

fn unlimited() -> String {
    "UNLIMITED".into()
}

/// One admin group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminGroupRecord {
    /// Numeric id.
    pub group_id: u64,
    /// Name, starting with `_`.
    pub name: String,
    /// Adobe's group type; derived from the name when absent.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub group_type: Option<GroupType>,
}

impl UserRecord {
    /// Whether `key` identifies this user: its email, or its username and domain when the
    /// username is not an email.
    pub fn has_key(&self, key: &UserKey) -> bool {
        // The key is normalised already; ASCII values compare without allocating.
        let is = |value: &str, normalized: &str| {
            if value.is_ascii() && normalized.is_ascii() {
                value.eq_ignore_ascii_case(normalized)
            } else {
                identity::normalize(value) == normalized
            }
        };
        match (key.as_email(), key.as_username()) {
            (Some(email), _) => is(&self.email, email),
            (None, Some((username, domain))) => {
                !protocol::is_email_shaped(&self.username)
                    && is(&self.username, username)
                    && is(&self.domain, domain)
            }
            (None, None) => false,
        }
    }

    /// Every key that identifies this user (see [`UserKey::all_of`]).
    pub fn keys(&self) -> Vec<UserKey> {
        UserKey::all_of(&self.email, &self.username, &self.domain)
    }
}

/// Among matching users (in listing order), the first of the preferred kind (an Adobe ID when
/// `prefer_adobe_id`, an org-owned account otherwise), else the first.
pub fn pick_user(
    users: &[UserRecord],
    hits: impl IntoIterator<Item = usize>,
    prefer_adobe_id: bool,
) -> Option<usize> {
    let mut first = None;
    for i in hits {
        if (users[i].identity_type == IdentityType::AdobeId) == prefer_adobe_id {
            return Some(i);
        }
        first.get_or_insert(i);
    }
    first
}

/// What a group name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRef {
    /// Index into `user_groups`.
    UserGroup(usize),
    /// Index into `product_profiles`.
    Profile(usize),
    /// Index into `admin_groups`.
    Admin(usize),
}

/// The normal form of a name or email (see [`identity::normalize`]).
pub fn key(name: &str) -> String {
    identity::normalize(name)
}

/// Whether two names or emails are the same once normalised, without allocating for ASCII.
pub fn same(a: &str, b: &str) -> bool {
    identity::same_identifier(a, b)
}

impl OrgState {
    /// Reads a state file.
    pub fn load(path: &Path) -> Result<OrgState, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::StateFile {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| Error::StateFormat {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// Writes the state to `path` atomically: a temporary file in the same folder, then a
    /// rename, so a reader never sees half a file. (No fsync: the file is rehearsal state,
    /// and readers, not power cuts, are what it must be safe against.)
    pub fn save_atomic(&self, path: &Path) -> Result<(), Error> {
        let write_error = |source| Error::StateFile {
            action: "write",
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
        {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            serde_json::to_writer_pretty(&mut out, self)
                .map_err(|e| write_error(std::io::Error::other(e)))?;
            out.write_all(b"\n").map_err(write_error)?;
            out.flush().map_err(write_error)?;
        }
        tmp.persist(path).map_err(|e| write_error(e.error))?;
        Ok(())
    }

    /// Finds a user group, product profile or admin group by name.
    pub fn find_group(&self, name: &str) -> Option<GroupRef> {
        if let Some(i) = self.user_groups.iter().position(|g| same(&g.name, name)) {
            return Some(GroupRef::UserGroup(i));
        }
        if let Some(i) = self
            .product_profiles
            .iter()
            .position(|g| same(&g.name, name))
        {
            return Some(GroupRef::Profile(i));
        }
        self.admin_groups
            .iter()
            .position(|g| same(&g.name, name))
            .map(GroupRef::Admin)
    }

    /// The canonical (stored) spelling of a group name.
    pub fn group_name(&self, group: GroupRef) -> &str {
        match group {
            GroupRef::UserGroup(i) => &self.user_groups[i].name,
            GroupRef::Profile(i) => &self.product_profiles[i].name,
            GroupRef::Admin(i) => &self.admin_groups[i].name,
        }
    }

    /// Finds the user `key` identifies, as UMAPI resolves the `user` of an action entry or
    /// a lookup. When an Adobe ID and an org-owned account share the email, the org-owned
    /// one wins unless `prefer_adobe_id`.
    pub fn find_user(&self, key: &UserKey, prefer_adobe_id: bool) -> Option<usize> {
        let hits = self
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.has_key(key))
            .map(|(i, _)| i);
        pick_user(&self.users, hits, prefer_adobe_id)
    }

    /// The largest group id in use, so new groups get fresh ones.
    pub fn next_group_id(&self) -> u64 {
        let max = self
            .user_groups
            .iter()
            .map(|g| g.group_id)
            .chain(self.product_profiles.iter().map(|g| g.group_id))
            .chain(self.admin_groups.iter().map(|g| g.group_id))
            .max()
            .unwrap_or(0);
        max + 1
    }

    /// Renames a group in every user's memberships.
    pub fn rename_memberships(&mut self, old: &str, new: &str) {
        for u in &mut self.users {
            for g in &mut u.groups {
                if same(g, old) {
                    *g = new.to_string();
                }
            }
        }
    }

    /// Removes a group from every user's memberships.
    pub fn drop_memberships(&mut self, name: &str) {
        for u in &mut self.users {
            u.groups.retain(|g| !same(g, name));
        }
    }

    /// Profiles carried by each user group, keyed by lower-case user-group name.
    pub fn inherited_profiles(&self) -> HashMap<String, &[String]> {
        self.user_groups
            .iter()
            .map(|g| (key(&g.name), g.profiles.as_slice()))
            .collect()
    }

    /// A user's groups as the queries report them: direct memberships, plus (unless
    /// `direct_only`) the profiles inherited through user groups.
    pub fn user_groups_of<'u>(
        user: &'u UserRecord,
        direct_only: bool,
        inherited: &HashMap<String, &[String]>,
    ) -> Cow<'u, [String]> {
        if direct_only {
            return Cow::Borrowed(&user.groups);
        }
        let mut groups = user.groups.clone();
        for g in &user.groups {
            if let Some(profiles) = inherited.get(&key(g)) {
                for p in profiles.iter() {
                    if !groups.iter().any(|x| same(x, p)) {
                        groups.push(p.clone());
                    }
                }
            }
        }
        Cow::Owned(groups)
    }

    /// Whether the user is in `group`: directly, or (unless `direct_only`) through a user group
    /// that carries it. Same answer as searching `user_groups_of`, without building the list.
    pub fn is_member(
        user: &UserRecord,
        group: &str,
        direct_only: bool,
        inherited: &HashMap<String, &[String]>,
    ) -> bool {
        user.groups.iter().any(|g| {
            same(g, group)
                || (!direct_only
                    && inherited
                        .get(&key(g))
                        .is_some_and(|profiles| profiles.iter().any(|p| same(p, group))))
        })
    }

    /// The wire form of a user.
    pub fn wire_user(user: &UserRecord, groups: Option<Vec<String>>) -> wire::User {
        Self::wire_user_ref(user, groups.map(Cow::Owned)).to_user()
    }

    /// The wire form of a user, borrowing from the record.
    pub fn wire_user_ref<'u>(
        user: &'u UserRecord,
        groups: Option<Cow<'u, [String]>>,
    ) -> wire::UserRef<'u> {
        wire::UserRef {
            id: Some(&user.id),
            email: Some(&user.email),
            username: Some(&user.username),
            domain: Some(&user.domain),
            firstname: user.firstname.as_deref(),
            lastname: user.lastname.as_deref(),
            country: user.country.as_deref(),
            identity_type: Some(user.identity_type),
            status: Some("active"),
            groups: groups.unwrap_or_default(),
        }
    }

    /// The type of an admin group (from its record or its name) and the group it is
    /// about, if any.
    pub fn admin_group_type(&self, group: &AdminGroupRecord) -> (GroupType, Option<String>) {
        let administers_profile =
            |target: &str| self.product_profiles.iter().any(|p| same(&p.name, target));
        let by_name = protocol::admin_group_type(&group.name, false).map(|(kind, target)| {
            let kind = if kind == GroupType::UserAdminGroup && administers_profile(target) {
                GroupType::ProfileAdminGroup
            } else {
                kind
            };
            (kind, (!target.is_empty()).then(|| target.to_string()))
        });
        match (&group.group_type, by_name) {
            (Some(kind), by_name) => (kind.clone(), by_name.and_then(|(_, target)| target)),
            (None, Some(found)) => found,
            (None, None) => (GroupType::Unknown("UNKNOWN".into()), None),
        }
    }

    /// The product profiles (by index) a user holds through `groups`: those among them, and
    /// those the user groups among them carry.
    fn profiles_through<'g>(
        &self,
        groups: impl Iterator<Item = &'g String>,
        inherited: &HashMap<String, &[String]>,
    ) -> Vec<usize> {
        let mut held = Vec::new();
        let mut hold = |name: &str| {
            if let Some(p) = self
                .product_profiles
                .iter()
                .position(|p| same(&p.name, name))
                && !held.contains(&p)
            {
                held.push(p);
            }
        };
        for g in groups {
            hold(g);
            if let Some(carried) = inherited.get(&key(g)) {
                for p in carried.iter() {
                    hold(p);
                }
            }
        }
        held
    }

    /// Seats used per product profile (by index): the users who hold it directly or
    /// through a user group that carries it, each counted once. This is the profile's
    /// `memberCount`.
    pub fn seats_used(&self) -> Vec<u64> {
        let inherited = self.inherited_profiles();
        // What a membership gives is worked out once per spelling of its name: a large org
        // repeats a few hundred names on every user.
        let mut gives: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut used = vec![0u64; self.product_profiles.len()];
        let mut held = Vec::new();
        for u in &self.users {
            held.clear();
            for g in &u.groups {
                let profiles = gives
                    .entry(g.as_str())
                    .or_insert_with(|| self.profiles_through(std::iter::once(g), &inherited));
                for &p in profiles.iter() {
                    if !held.contains(&p) {
                        held.push(p);
                    }
                }
            }
            for &p in &held {
                used[p] += 1;
            }
        }
        used
    }

    /// The first product profile that `gains` (per user: the user's index, or `None` for a
    /// user being created, and the groups they join) and `links` (user groups and the
    /// profiles they start to carry) would take over its licence quota: its name, the
    /// seats it would use and the quota. Users who already hold a profile directly or
    /// through another group take no new seat; a profile whose seats do not grow is never
    /// refused.
    pub fn over_quota(
        &self,
        gains: &[(Option<usize>, Vec<String>)],
        links: &[(String, Vec<String>)],
    ) -> Option<(String, u64, u64)> {
        let inherited = self.inherited_profiles();
        let mut carried: HashMap<String, Vec<String>> = inherited
            .iter()
            .map(|(k, v)| (k.clone(), v.to_vec()))
            .collect();
        for (group, profiles) in links {
            carried
                .entry(key(group))
                .or_default()
                .extend(profiles.iter().cloned());
        }
        let after_links: HashMap<String, &[String]> = carried
            .iter()
            .map(|(k, v)| (k.clone(), v.as_slice()))
            .collect();
        // Most adds give no profile with a quota: they need no count.
        let quota = |p: usize| {
            self.product_profiles[p]
                .license_quota
                .trim()
                .parse::<u64>()
                .ok()
        };
        let named = gains
            .iter()
            .flat_map(|(_, groups)| groups)
            .chain(links.iter().map(|(group, _)| group));
        if self
            .profiles_through(named, &after_links)
            .into_iter()
            .all(|p| quota(p).is_none())
        {
            return None;
        }
        let mut used = self.seats_used();
        let mut grown: Vec<usize> = Vec::new();
        let relinked: Vec<String> = links.iter().map(|(g, _)| key(g)).collect();
        let mut grow = |before: Vec<usize>, after: Vec<usize>| {
            for p in after.into_iter().filter(|p| !before.contains(p)) {
                used[p] += 1;
                grown.push(p);
            }
        };
        for (i, u) in self.users.iter().enumerate() {
            let joins: Vec<&String> = gains
                .iter()
                .filter(|(who, _)| *who == Some(i))
                .flat_map(|(_, groups)| groups)
                .collect();
            if joins.is_empty() && !u.groups.iter().any(|g| relinked.contains(&key(g))) {
                continue;
            }
            grow(
                self.profiles_through(u.groups.iter(), &inherited),
                self.profiles_through(u.groups.iter().chain(joins), &after_links),
            );
        }
        for (_, groups) in gains.iter().filter(|(who, _)| who.is_none()) {
            grow(
                Vec::new(),
                self.profiles_through(groups.iter(), &after_links),
            );
        }
        grown.sort_unstable();
        grown.dedup();
        grown.into_iter().find_map(|p| {
            let quota = quota(p)?;
            (used[p] > quota).then(|| (self.product_profiles[p].name.clone(), used[p], quota))
        })
    }

    /// Every group in listing order (user groups, product profiles, admin groups), in wire form,
    /// with member counts: direct memberships, and for product profiles the seats used
    /// ([`OrgState::seats_used`]).
    pub fn wire_groups(&self) -> Vec<wire::Group> {
        // Counted by spelling first, so that each spelling is normalised once.
        let mut by_spelling: HashMap<&str, u64> = HashMap::new();
        for u in &self.users {
            for g in &u.groups {
                *by_spelling.entry(g.as_str()).or_default() += 1;
            }
        }
        let mut counts: HashMap<String, u64> = HashMap::new();
        for (spelling, n) in by_spelling {
            *counts.entry(key(spelling)).or_default() += n;
        }
        // group.md, adminGroupName: "The name is in the format `_admin_user-group-name` or
        // `_admin_product-profile-name`."
        let admin_of = |name: &str| {
            let wanted = key(&protocol::admin_group_for(name));
            self.admin_groups
                .iter()
                .find(|a| key(&a.name) == wanted)
                .map(|a| a.name.clone())
        };
        let count = |name: &str| Some(counts.get(&key(name)).copied().unwrap_or(0));
        let mut out = Vec::with_capacity(
            self.user_groups.len() + self.product_profiles.len() + self.admin_groups.len(),
        );
        for g in &self.user_groups {
            out.push(wire::Group {
                group_id: Some(g.group_id),
                group_name: g.name.clone(),
                group_type: GroupType::UserGroup,
                member_count: count(&g.name),
                admin_group_name: admin_of(&g.name),
                user_group_name: None,
                product_profile_name: None,
                product_name: None,
                license_quota: None,
            });
        }
        // userCountDescription.md: "The number of users assigned to a configuration": a
        // user holding the profile through a user group is assigned it too.
        let seats = self.seats_used();
        for (p, seats) in self.product_profiles.iter().zip(seats) {
            out.push(wire::Group {
                group_id: Some(p.group_id),
                group_name: p.name.clone(),
                group_type: GroupType::ProductProfile,
                member_count: Some(seats),
                admin_group_name: admin_of(&p.name),
                user_group_name: None,
                product_profile_name: None,
                product_name: Some(p.product_name.clone()),
                license_quota: Some(p.license_quota.clone()),
            });
        }
        for a in &self.admin_groups {
            let (group_type, target) = self.admin_group_type(a);
            // group.md: "userGroupName" for `USER_ADMIN_GROUP`, "productProfileName" for
            // `PROFILE_ADMIN_GROUP` (and, in its example, for product admin and developer
            // groups).
            let (user_group_name, product_profile_name) = match group_type {
                GroupType::UserAdminGroup => (target, None),
                GroupType::ProfileAdminGroup
                | GroupType::ProductAdminGroup
                | GroupType::DeveloperGroup => (None, target),
                _ => (None, None),
            };
            out.push(wire::Group {
                group_id: Some(a.group_id),
                group_name: a.name.clone(),
                group_type,
                member_count: count(&a.name),
                admin_group_name: None,
                user_group_name,
                product_profile_name,
                product_name: None,
                license_quota: None,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str, t: IdentityType) -> UserRecord {
        UserRecord {
            id: email.into(),
            email: email.into(),
            username: email.into(),
            domain: email.split('@').nth(1).unwrap_or_default().into(),
            firstname: None,
            lastname: None,
            country: None,
            identity_type: t,
            groups: vec![],
        }
    }

    #[test]
    fn org_owned_account_wins_unless_adobe_id_is_asked_for() {
        let state = OrgState {
            users: vec![
                user("a@x.com", IdentityType::AdobeId),
                user("A@x.com", IdentityType::FederatedId),
            ],
            ..Default::default()
        };
        let key = UserKey::email("a@X.com");
        assert_eq!(state.find_user(&key, false), Some(1));
        assert_eq!(state.find_user(&key, true), Some(0));
        assert_eq!(state.find_user(&UserKey::email("b@x.com"), false), None);
    }

    #[test]
    fn save_atomic_round_trips_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let state = OrgState {
            users: vec![user("a@x.com", IdentityType::EnterpriseId)],
            ..Default::default()
        };
        state.save_atomic(&path).unwrap();
        assert_eq!(OrgState::load(&path).unwrap(), state);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_broken_state_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\n \"users\": [1]\n}").unwrap();
        let msg = OrgState::load(&path).unwrap_err().to_string();
        assert!(msg.contains("bad.json") && msg.contains("line 2"), "{msg}");
    }
}

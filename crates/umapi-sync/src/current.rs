//! The current state of an org, as the planner sees it.
//!
//! A [`Snapshot`] holds every active user (identity, names, country and direct
//! memberships) and every group (user groups, product profiles, admin groups) with
//! its member count. It is built from UMAPI queries or read from a JSON file, and is
//! always sorted so that the same org gives the same snapshot byte for byte.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use umapi_core::identity::{UserKey, UserKeyRef};
use umapi_core::protocol::is_email_shaped;
use umapi_core::wire::{self, GroupType, IdentityType};

use crate::error::Error;
use crate::halves::in_halves;

/// Version of the snapshot JSON written by this crate.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// The current org: users with their direct memberships, and groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Version of this document (`1`).
    pub format_version: u32,
    /// The org id (`…@AdobeOrg`).
    pub org_id: String,
    /// Active users, sorted by [`SnapshotUser::key`].
    pub users: Vec<SnapshotUser>,
    /// User groups, product profiles and admin groups, sorted by lower-cased name.
    pub groups: Vec<SnapshotGroup>,
}

/// A user as an action entry names it (`user`, and `domain` for a username that is
/// not an email), as messages show it: `username (domain)`, or the email.
pub fn display_target(user: &str, domain: Option<&str>) -> String {
    match domain {
        Some(domain) => format!("{user} ({domain})"),
        None => user.to_owned(),
    }
}

/// A user of the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotUser {
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Box<str>>,
    /// Sign-in name (equal to the email for most accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Box<str>>,
    /// Domain of the username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Box<str>>,
    /// Identity type (`unknown` when UMAPI did not say).
    #[serde(rename = "type")]
    pub identity_type: IdentityType,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<Box<str>>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<Box<str>>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Box<str>>,
    /// Direct memberships (user groups, product profiles, admin groups), sorted
    /// case-insensitively. A snapshot shares one allocation per distinct name among all
    /// its users (a large org repeats a few hundred names on a million users).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "names_as_strings",
        deserialize_with = "names_from_strings"
    )]
    pub groups: Vec<Arc<str>>,
}

/// Writes a list of names (serde derives no `Arc<str>` without its `rc` feature).
fn names_as_strings<S: serde::Serializer>(
    names: &[Arc<str>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(names.iter().map(|name| &**name))
}

/// Reads a list of names written by [`names_as_strings`].
fn names_from_strings<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Arc<str>>, D::Error> {
    let names = Vec::<Cow<'de, str>>::deserialize(deserializer)?;
    Ok(names
        .into_iter()
        .map(|name| Arc::from(name.as_ref()))
        .collect())
}

/// Shares one allocation per distinct group name among a snapshot's users.
#[derive(Default)]
struct Names(FxHashSet<Arc<str>>);

impl Names {
    fn intern(&mut self, name: &str) -> Arc<str> {
        match self.0.get(name) {
            Some(shared) => Arc::clone(shared),
            None => {
                let shared: Arc<str> = Arc::from(name);
                self.0.insert(Arc::clone(&shared));
                shared
            }
        }
    }
}

/// A user group, product profile or admin group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotGroup {
    /// Name as UMAPI spells it.
    pub name: String,
    /// Kind of group.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Number of members UMAPI reports, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u64>,
    /// For product profiles: the product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// For product profiles: how many licences the profile may hand out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_quota: Option<LicenseQuota>,
}

/// A product profile's licence quota, as UMAPI's group listing gives it
/// (`licenseQuota`: a number as a string, or `UNLIMITED`). In a snapshot file it is a
/// number or `"UNLIMITED"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "QuotaRepr", into = "QuotaRepr")]
pub enum LicenseQuota {
    /// At most this many members hold the product's licence.
    Seats(u64),
    /// No quota.
    Unlimited,
}

impl LicenseQuota {
    /// Reads UMAPI's `licenseQuota`; `None` for a value it does not document.
    pub fn parse(text: &str) -> Option<LicenseQuota> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("UNLIMITED") {
            Some(LicenseQuota::Unlimited)
        } else {
            text.parse().ok().map(LicenseQuota::Seats)
        }
    }

    /// The number of seats, `None` when unlimited.
    pub fn seats(self) -> Option<u64> {
        match self {
            LicenseQuota::Seats(n) => Some(n),
            LicenseQuota::Unlimited => None,
        }
    }
}

/// The serde form of [`LicenseQuota`].
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum QuotaRepr {
    Seats(u64),
    Word(String),
}

impl TryFrom<QuotaRepr> for LicenseQuota {
    type Error = String;

    fn try_from(repr: QuotaRepr) -> Result<Self, String> {
        match repr {
            QuotaRepr::Seats(n) => Ok(LicenseQuota::Seats(n)),
            QuotaRepr::Word(word) => LicenseQuota::parse(&word)
                .ok_or_else(|| format!("`{word}` is not a licence quota (a number or UNLIMITED)")),
        }
    }
}

impl From<LicenseQuota> for QuotaRepr {
    fn from(quota: LicenseQuota) -> Self {
        match quota {
            LicenseQuota::Seats(n) => QuotaRepr::Seats(n),
            LicenseQuota::Unlimited => QuotaRepr::Word("UNLIMITED".to_owned()),
        }
    }
}

/// The key umapi keeps an account under in snapshots and plans: its email when it has
/// one (UMAPI identifies every user by email), else its username and domain (an
/// email-shaped username standing for an email). `None` when neither is known.
pub fn account_key<'a>(
    email: Option<&'a str>,
    username: Option<&'a str>,
    domain: Option<&'a str>,
) -> Option<UserKeyRef<'a>> {
    match (
        email.filter(|e| !e.is_empty()),
        username.filter(|u| !u.is_empty()),
    ) {
        (Some(email), _) => Some(UserKeyRef::email(email)),
        (None, Some(username)) => Some(UserKeyRef::username(username, domain.unwrap_or_default())),
        (None, None) => None,
    }
}

/// A user account of a plan: its [`account_key`], and whether it is an Adobe ID (an
/// Adobe ID and an org-owned account may share an email; this tells them apart).
///
/// Its text form (`Display`, and serde as a string) is the key's, followed by
/// ` (adobeID)` for an Adobe ID. A key is lower case, so the suffix cannot be
/// mistaken for the domain of a key by username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    /// The key (the empty email for an account with neither email nor username).
    pub user: UserKey,
    /// Whether the account is an Adobe ID.
    pub adobe_id: bool,
}

const ADOBE_ID_SUFFIX: &str = " (adobeID)";

/// The key of an account with neither email nor username.
impl Default for AccountKey {
    fn default() -> Self {
        AccountKey {
            user: UserKey::email(""),
            adobe_id: false,
        }
    }
}

impl AccountKey {
    /// Reads the text form back.
    pub fn parse(text: &str) -> AccountKey {
        match text.strip_suffix(ADOBE_ID_SUFFIX) {
            Some(user) => AccountKey {
                user: UserKey::parse(user),
                adobe_id: true,
            },
            None => AccountKey {
                user: UserKey::parse(text),
                adobe_id: false,
            },
        }
    }
}

impl std::fmt::Display for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.user.fmt(f)?;
        if self.adobe_id {
            f.write_str(ADOBE_ID_SUFFIX)?;
        }
        Ok(())
    }
}

impl Serialize for AccountKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccountKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(AccountKey::parse(&text))
    }
}

impl Default for SnapshotUser {
    fn default() -> Self {
        SnapshotUser {
            email: None,
            username: None,
            domain: None,
            identity_type: IdentityType::Unknown,
            firstname: None,
            lastname: None,
            country: None,
            groups: Vec::new(),
        }
    }
}

impl SnapshotUser {
    /// The user's [`account_key`] (the empty email when it has neither email nor
    /// username, which UMAPI never lists).
    pub fn key(&self) -> UserKey {
        self.key_ref().into_owned()
    }

    fn key_ref(&self) -> UserKeyRef<'_> {
        account_key(
            self.email.as_deref(),
            self.username.as_deref(),
            self.domain.as_deref(),
        )
        .unwrap_or_else(|| UserKeyRef::email(""))
    }

    /// [`SnapshotUser::key`], and whether the user is an Adobe ID: an Adobe ID and an
    /// org-owned account may share an email, and this key tells them apart.
    pub fn unique_key(&self) -> AccountKey {
        AccountKey {
            user: self.key(),
            adobe_id: self.identity_type == IdentityType::AdobeId,
        }
    }

    /// The user as an action entry names it: the username and domain when the username
    /// is not an email, otherwise the email. An email-shaped username never names a
    /// user (UMAPI would read it as an email), so it stands in only when there is no
    /// email at all.
    pub fn target(&self) -> (String, Option<String>) {
        let username = self.username.as_deref().filter(|u| !u.is_empty());
        match (self.email.as_deref().filter(|e| !e.is_empty()), username) {
            (_, Some(username)) if !is_email_shaped(username) => (
                username.to_string(),
                self.domain.as_deref().map(String::from),
            ),
            (Some(email), _) => (email.to_string(), None),
            (None, Some(username)) => (username.to_string(), None),
            (None, None) => (String::new(), None),
        }
    }

    /// [`SnapshotUser::target`] as messages show it: `username (domain)`, or the email.
    pub fn display_target(&self) -> String {
        let (user, domain) = self.target();
        display_target(&user, domain.as_deref())
    }

    /// Converts a user from a UMAPI listing; memberships are sorted.
    pub fn from_wire(user: wire::User) -> Self {
        Self::from_wire_sharing(user, &mut Names::default())
    }

    /// [`SnapshotUser::from_wire`], taking group names from `names`.
    fn from_wire_sharing(user: wire::User, names: &mut Names) -> Self {
        let mut groups: Vec<Arc<str>> = user.groups.iter().map(|g| names.intern(g)).collect();
        sort_names(&mut groups);
        groups.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        SnapshotUser {
            email: user.email.map(String::into_boxed_str),
            username: user.username.map(String::into_boxed_str),
            domain: user.domain.map(String::into_boxed_str),
            identity_type: user.identity_type.unwrap_or(IdentityType::Unknown),
            firstname: user.firstname.map(String::into_boxed_str),
            lastname: user.lastname.map(String::into_boxed_str),
            country: user.country.map(String::into_boxed_str),
            groups,
        }
    }
}

impl SnapshotGroup {
    /// Converts a group from a UMAPI listing.
    pub fn from_wire(group: wire::Group) -> Self {
        SnapshotGroup {
            name: group.group_name,
            group_type: group.group_type,
            member_count: group.member_count,
            product_name: group.product_name,
            license_quota: group.license_quota.as_deref().and_then(LicenseQuota::parse),
        }
    }
}

/// Orders names as `(name.to_lowercase(), name)` does: case-insensitively, ties
/// broken by the exact spelling. ASCII names (nearly all) are compared in place.
fn cmp_names(a: &str, b: &str) -> Ordering {
    let folded = if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    };
    folded.then_with(|| a.cmp(b))
}

/// Sorts names case-insensitively, ties broken by the exact spelling.
pub(crate) fn sort_names<S: AsRef<str>>(names: &mut [S]) {
    let in_order = |a: &S, b: &S| cmp_names(a.as_ref(), b.as_ref()) != Ordering::Greater;
    // Listings and snapshot files are usually in order already.
    if !names.is_sorted_by(in_order) {
        names.sort_unstable_by(|a, b| cmp_names(a.as_ref(), b.as_ref()));
    }
}

/// Sorts users by [`SnapshotUser::key`], then username and domain (input order for
/// full ties), computing each key once and borrowing those already lower case.
///
/// The sort moves pairs of a key's [`UserKeyRef::order_prefix`] and the user's
/// position: most comparisons are settled by the prefixes in the array, without
/// reading two users' texts from wherever they live (at a million users the sort
/// takes about half the time it took comparing keys). A large org's pairs are
/// sorted in two halves on two threads and merged: the sort runs once the org is
/// read, when loading the desired state has usually finished and left a core free.
fn sort_users(users: &mut [SnapshotUser]) {
    sort_users_halved_from(users, 1 << 16);
}

fn sort_users_halved_from(users: &mut [SnapshotUser], halved_from: usize) {
    let order: Vec<usize> = {
        let keys: Vec<UserKeyRef<'_>> = users.iter().map(SnapshotUser::key_ref).collect();
        let cmp = |a: &(u128, usize), b: &(u128, usize)| {
            a.0.cmp(&b.0).then_with(|| {
                let (x, y) = (&users[a.1], &users[b.1]);
                keys[a.1]
                    .cmp(&keys[b.1])
                    .then_with(|| x.username.cmp(&y.username))
                    .then_with(|| x.domain.cmp(&y.domain))
                    .then(a.1.cmp(&b.1))
            })
        };
        let mut order: Vec<(u128, usize)> =
            keys.iter().map(UserKeyRef::order_prefix).zip(0..).collect();
        if order.is_sorted_by(|a, b| cmp(a, b) != Ordering::Greater) {
            return;
        }
        if order.len() < halved_from {
            order.sort_unstable_by(cmp);
            order.into_iter().map(|(_, index)| index).collect()
        } else {
            in_halves(&mut order, |half| half.sort_unstable_by(cmp));
            let (first, second) = order.split_at(order.len().div_ceil(2));
            merged(first, second, cmp)
        }
    };
    permute(users, order);
}

/// The positions of two sorted runs of pairs, merged in order.
fn merged(
    first: &[(u128, usize)],
    second: &[(u128, usize)],
    cmp: impl Fn(&(u128, usize), &(u128, usize)) -> Ordering,
) -> Vec<usize> {
    let mut order = Vec::with_capacity(first.len() + second.len());
    let (mut a, mut b) = (first.iter().peekable(), second.iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        if cmp(x, y) == Ordering::Greater {
            order.push(y.1);
            b.next();
        } else {
            order.push(x.1);
            a.next();
        }
    }
    order.extend(a.chain(b).map(|pair| pair.1));
    order
}

/// Rearranges `items` so that position `i` holds the item that was at `order[i]`,
/// by swapping along the permutation's cycles.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = at;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Progress of [`Snapshot::read`], reported as pages arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadProgress {
    /// This many users read so far.
    Users(usize),
    /// This many groups read so far.
    Groups(usize),
}

impl Snapshot {
    /// Builds a sorted snapshot from UMAPI listings (users with direct memberships).
    pub fn from_parts(
        org_id: impl Into<String>,
        users: impl IntoIterator<Item = wire::User>,
        groups: impl IntoIterator<Item = wire::Group>,
    ) -> Self {
        let mut names = Names::default();
        Self::sorted(
            org_id.into(),
            users
                .into_iter()
                .map(|user| SnapshotUser::from_wire_sharing(user, &mut names))
                .collect(),
            groups.into_iter().map(SnapshotGroup::from_wire).collect(),
        )
    }

    fn sorted(
        org_id: String,
        mut users: Vec<SnapshotUser>,
        mut groups: Vec<SnapshotGroup>,
    ) -> Self {
        sort_users(&mut users);
        // Stable: a user group and a profile may share a name.
        groups.sort_by(|a, b| cmp_names(&a.name, &b.name));
        Snapshot {
            format_version: SNAPSHOT_FORMAT_VERSION,
            org_id,
            users,
            groups,
        }
    }

    /// Reads the org through UMAPI: one listing of the groups and one listing of all
    /// users with their direct memberships (`directOnly=true`), which gives every
    /// membership without a query per group.
    ///
    /// `on_progress` is called after every page. Users are converted as they arrive,
    /// so the wire form of the whole org is never held at once.
    pub async fn read(
        conn: &umapi_core::Connection,
        mut on_progress: impl FnMut(ReadProgress),
    ) -> Result<Self, Error> {
        use futures::StreamExt;

        let started = std::time::Instant::now();
        let mut groups = Vec::new();
        let mut stream = conn.groups();
        while let Some(group) = stream.next().await {
            groups.push(SnapshotGroup::from_wire(group?));
            if groups.len() % 400 == 0 {
                on_progress(ReadProgress::Groups(groups.len()));
            }
        }
        on_progress(ReadProgress::Groups(groups.len()));

        let mut users = Vec::new();
        let mut names = Names::default();
        let mut stream = conn.users(umapi_core::UsersQuery::all().direct_only(true));
        while let Some(user) = stream.next().await {
            if users.is_empty() {
                // Sized once from the listing's count, not grown by doubling (which
                // briefly holds both the old and the new array).
                let total = stream.stats().total_count.unwrap_or(0);
                users.reserve_exact(usize::try_from(total).unwrap_or(0).min(1 << 24));
            }
            users.push(SnapshotUser::from_wire_sharing(user?, &mut names));
            if users.len() % 2000 == 0 {
                on_progress(ReadProgress::Users(users.len()));
            }
        }
        on_progress(ReadProgress::Users(users.len()));
        users.shrink_to_fit();
        let read = started.elapsed();
        let snapshot = Snapshot::sorted(conn.org_id().to_string(), users, groups);
        tracing::debug!(
            users = snapshot.users.len(),
            groups = snapshot.groups.len(),
            read_s = read.as_secs_f64(),
            sorted_s = (started.elapsed() - read).as_secs_f64(),
            "read the org"
        );
        Ok(snapshot)
    }

    /// Writes the snapshot as pretty JSON.
    pub fn to_writer(&self, writer: impl std::io::Write) -> Result<(), Error> {
        serde_json::to_writer_pretty(writer, self).map_err(|source| Error::Json {
            what: "snapshot",
            source,
        })
    }

    /// Reads a snapshot written by [`Snapshot::to_writer`]; refuses other versions.
    pub fn from_reader(reader: impl std::io::Read) -> Result<Self, Error> {
        let mut snapshot: Snapshot = read_versioned("snapshot", reader, SNAPSHOT_FORMAT_VERSION)?;
        let mut names = Names::default();
        for user in &mut snapshot.users {
            for group in &mut user.groups {
                *group = names.intern(group);
            }
            // A hand-edited file may be unsorted; the planner's output order relies on it.
            sort_names(&mut user.groups);
        }
        Ok(Snapshot::sorted(
            snapshot.org_id,
            snapshot.users,
            snapshot.groups,
        ))
    }
}

/// Reads a versioned JSON document, checking `format_version` before the rest so an
/// incompatible file gets a clear message instead of a missing-field error.
pub(crate) fn read_versioned<T: serde::de::DeserializeOwned>(
    what: &'static str,
    mut reader: impl std::io::Read,
    supported: u32,
) -> Result<T, Error> {
    #[derive(Deserialize)]
    struct Version {
        format_version: Option<u64>,
    }
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Json {
            what,
            source: serde_json::Error::io(source),
        })?;
    let json = |source| Error::Json { what, source };
    let version: Version = serde_json::from_slice(&bytes).map_err(json)?;
    if version.format_version != Some(u64::from(supported)) {
        return Err(Error::UnsupportedFormat {
            what,
            found: version.format_version,
            supported,
        });
    }
    serde_json::from_slice(&bytes).map_err(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_user_stays_small() {
        // A snapshot holds one per account of the org: text fields are boxed,
        // without spare capacity.
        assert_eq!(size_of::<SnapshotUser>(), 128);
    }

    fn user(email: &str, groups: &[&str]) -> wire::User {
        wire::User {
            email: Some(email.into()),
            username: Some(email.into()),
            identity_type: Some(IdentityType::FederatedId),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn snapshot_is_sorted_and_round_trips() {
        let snap = Snapshot::from_parts(
            "org@AdobeOrg",
            vec![user("b@x.com", &["z", "A"]), user("A@x.com", &[])],
            vec![wire::Group {
                group_id: None,
                group_name: "Zed".into(),
                group_type: GroupType::UserGroup,
                member_count: Some(1),
                admin_group_name: None,
                user_group_name: None,
                product_profile_name: None,
                product_name: None,
                license_quota: None,
            }],
        );
        assert_eq!(snap.users[0].key(), UserKey::email("a@x.com"));
        assert_eq!(snap.users[1].groups, vec!["A".into(), "z".into()]);
        let mut buf = Vec::new();
        snap.to_writer(&mut buf).unwrap();
        let back = Snapshot::from_reader(buf.as_slice()).unwrap();
        assert_eq!(back, snap);
    }

    #[test]
    fn users_share_one_allocation_per_group_name_read_or_loaded() {
        let snap = Snapshot::from_parts(
            "org@AdobeOrg",
            vec![user("a@x.com", &["Team", "z"]), user("b@x.com", &["Team"])],
            vec![],
        );
        let shared =
            |snap: &Snapshot| Arc::ptr_eq(&snap.users[0].groups[0], &snap.users[1].groups[0]);
        assert!(shared(&snap));
        let mut buf = Vec::new();
        snap.to_writer(&mut buf).unwrap();
        assert!(shared(&Snapshot::from_reader(buf.as_slice()).unwrap()));
    }

    /// Names with case variants, non-ASCII letters, and ties only the spelling breaks.
    const NAMES: [&str; 12] = [
        "b",
        "B",
        "a",
        "A",
        "Ab",
        "aB",
        "Äb",
        "äb",
        "zeta",
        "Σίγμα",
        "σίγμα",
        "",
    ];

    #[test]
    fn names_sort_as_their_lower_case_then_spelling() {
        let mut names: Vec<String> = NAMES.iter().rev().map(|n| n.to_string()).collect();
        let mut reference = names.clone();
        reference.sort_by_key(|n| (n.to_lowercase(), n.clone()));
        sort_names(&mut names);
        assert_eq!(names, reference);
        for a in NAMES {
            for b in NAMES {
                assert_eq!(
                    cmp_names(a, b),
                    (a.to_lowercase(), a).cmp(&(b.to_lowercase(), b)),
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn users_sort_by_key_username_and_domain() {
        // Pseudo-random users: emails or usernames in mixed case, some sharing a key.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut users: Vec<SnapshotUser> = (0..500)
            .map(|_| {
                let name = NAMES[next(NAMES.len() as u64) as usize];
                let n = next(40);
                let domain = Some(["x.com", "X.com", "y.org"][next(3) as usize].into());
                match next(4) {
                    0 => SnapshotUser {
                        email: Some(format!("{name}{n}@x.com").into()),
                        username: Some(format!("{name}{n}@X.com").into()),
                        domain,
                        ..Default::default()
                    },
                    1 => SnapshotUser {
                        email: Some(format!("{name}{n}@x.com").into()),
                        username: Some(format!("{name}{n}").into()),
                        domain,
                        ..Default::default()
                    },
                    2 => SnapshotUser {
                        username: Some(format!("{name}{n}").into()),
                        domain,
                        ..Default::default()
                    },
                    _ => SnapshotUser {
                        username: Some(format!("{name}{n}@y.org").into()),
                        ..Default::default()
                    },
                }
            })
            .collect();
        let mut reference = users.clone();
        reference.sort_by_key(|u| (u.key(), u.username.clone(), u.domain.clone()));
        // Sorted in two halves on two threads and merged, as a large org is.
        let mut halved = users.clone();
        sort_users_halved_from(&mut halved, 2);
        assert_eq!(halved, reference);
        sort_users(&mut users);
        assert_eq!(users, reference);
        // Already in order: unchanged.
        sort_users(&mut users);
        assert_eq!(users, reference);
    }

    #[test]
    fn other_versions_are_refused() {
        let err = Snapshot::from_reader(r#"{"format_version": 7, "org_id": "o"}"#.as_bytes())
            .unwrap_err();
        assert!(err.to_string().contains("format_version 7"), "{err}");
    }

    #[test]
    fn targets_use_domain_only_for_plain_usernames() {
        let mut u = SnapshotUser {
            email: Some("John.Doe@x.com".into()),
            username: Some("jdoe".into()),
            domain: Some("x.com".into()),
            ..Default::default()
        };
        assert_eq!(u.target(), ("jdoe".into(), Some("x.com".into())));
        assert_eq!(u.key(), UserKey::email("john.doe@x.com"));
        u.username = Some("john.doe@X.com".into());
        assert_eq!(u.target(), ("John.Doe@x.com".into(), None));
    }

    #[test]
    fn licence_quotas_read_as_umapi_lists_them_and_round_trip() {
        assert_eq!(LicenseQuota::parse("100"), Some(LicenseQuota::Seats(100)));
        assert_eq!(
            LicenseQuota::parse("UNLIMITED"),
            Some(LicenseQuota::Unlimited)
        );
        assert_eq!(LicenseQuota::parse("lots"), None);
        let group = SnapshotGroup::from_wire(wire::Group {
            group_id: None,
            group_name: "Default Photoshop".into(),
            group_type: GroupType::ProductProfile,
            member_count: Some(3),
            admin_group_name: None,
            user_group_name: None,
            product_profile_name: None,
            product_name: Some("Photoshop".into()),
            license_quota: Some("25".into()),
        });
        assert_eq!(group.license_quota, Some(LicenseQuota::Seats(25)));
        let json = serde_json::to_string(&group).unwrap();
        assert!(json.contains(r#""license_quota":25"#), "{json}");
        let unlimited = r#"{"name":"P","type":"PRODUCT_PROFILE","license_quota":"UNLIMITED"}"#;
        let back: SnapshotGroup = serde_json::from_str(unlimited).unwrap();
        assert_eq!(back.license_quota, Some(LicenseQuota::Unlimited));
        let bad = r#"{"name":"P","type":"PRODUCT_PROFILE","license_quota":"x"}"#;
        assert!(serde_json::from_str::<SnapshotGroup>(bad).is_err());
    }
}

//! The plan: what `umapi apply` will do, as a typed, versioned JSON document.
//!
//! A [`Plan`] lists every change with a stable id, the action requests that carry
//! them grouped into execution phases, summary counts, the request estimate, and the
//! preconditions (the current values of everything it touches) that let a saved plan
//! be checked for staleness before it is applied. The same inputs always give the
//! byte-identical document.
//!
//! JSON layout (`format_version` 1), field by field:
//! - `format_version`: `1`.
//! - `org_id`: the org the plan was made for.
//! - `desired_state_hash`: SHA-256 (hex) of the desired state the plan was made from.
//! - `summary`: counts per kind of change ([`Summary`]).
//! - `changes`: every change ([`Change`]): `id`, `kind` and the kind's fields, and
//!   - `sources`: where the state files ask for it, as `path:line` with the path
//!     relative to the folder of `umapi.yaml` and written with `/` (like
//!     `state/users.yaml:12`): for a membership added, the user's `groups:` entry
//!     naming the group and/or the group's `members:` entry naming the user (both
//!     when both are written); for a user created, updated or renamed, the user's
//!     entry; for a user group created, renamed or re-asserted, the group's entry;
//!     for a removal whose `until` has passed, the line of that `until:`. Absent for
//!     other removals: what causes them is that nothing is declared.
//!   - `until`: on a removal because the last day of access has passed, that day
//!     (`YYYY-MM-DD`); absent otherwise.
//! - `warnings`: things the plan will not fix (identity-type mismatches, country
//!   differences, administrators kept in the org, …).
//! - `not_verifiable`: write-only fields UMAPI cannot read back ([`NotVerifiable`]).
//! - `phases`: execution phases in order ([`Phase`]); each holds requests; each request
//!   holds the wire entries to POST and, per entry and step, the ids of the changes
//!   that step carries.
//! - `estimate`: requests, entries, the lower bound and duration ([`Estimate`]).
//! - `preconditions`: current values of touched users and groups ([`Preconditions`]).
//! - `blocked`: the safety limits the plan goes over ([`Blocked`]): `limit`,
//!   `setting`, `source` (`default`, `settings` or `override`), `planned`,
//!   `allowed`, `total`, the first `affected` objects and how many `more`. Always
//!   present; empty when no limit is exceeded. A plan with any entry here is shown
//!   but never sent.
//! - `overrides`: the limits overridden for this plan with `--allow` ([`Override`]):
//!   `limit`, `value`, `instead_of`, `planned`, `allowed`, `total`. Always present;
//!   empty when there are none.
//! - `reassert`: `true` for a plan made with `--reassert` (every declared
//!   write-only value sent); absent otherwise.
//! - `licences`: the seats of every product profile the plan adds members to or
//!   removes members from, directly or through a user group that carries it
//!   ([`crate::planner::Licence`]): `profile`, `quota` (a number or `UNLIMITED`;
//!   absent when UMAPI reported none), `now` and `after` (estimated). Always
//!   present; empty when the plan touches no profile.
//!
//! A saved plan is applied only if planning again from the same state files, org
//! and overrides gives the same document, field for field (see
//! [`Plan::first_difference`]); what is sent is the plan made again, never the
//! entries read from the file.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use umapi_core::wire::{Entry, GroupType, IdentityType};

use crate::current::{AccountKey, Snapshot, read_versioned};
use crate::desired::{Limit, LimitName, LimitOverride};
use crate::error::Error;
use umapi_core::identity::UserKey;

/// Version of the plan JSON written by this crate.
pub const PLAN_FORMAT_VERSION: u32 = 2;

/// Identifies one change within a plan (its index in [`Plan::changes`]).
pub type ChangeId = u32;

/// A complete, executable plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Version of this document (`1`).
    pub format_version: u32,
    /// The org the plan was made for.
    pub org_id: String,
    /// SHA-256 (hex) of the desired state the plan was made from.
    pub desired_state_hash: String,
    /// Counts per kind of change.
    pub summary: Summary,
    /// Every change, ordered by id (`changes[i].id == i`).
    pub changes: Vec<Change>,
    /// Differences the plan reports but does not (or cannot) fix. Always written,
    /// empty when none (as the documented fields all are); `default` reads plans
    /// written without it.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Fields UMAPI cannot read back that this plan sends (on create, when the
    /// declared value changed since umapi last wrote it, or with `--reassert`).
    #[serde(default)]
    pub not_verifiable: Vec<NotVerifiable>,
    /// Execution phases in order; a phase finishes before the next starts.
    pub phases: Vec<Phase>,
    /// Requests planned and the time they take at the configured rate limit.
    pub estimate: Estimate,
    /// Current values of everything the plan touches.
    pub preconditions: Preconditions,
    /// Safety limits the plan goes over: when any, nothing is sent.
    #[serde(default)]
    pub blocked: Vec<Blocked>,
    /// Safety limits overridden for this plan (`--allow LIMIT=VALUE`).
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// Made with `--reassert`: every declared write-only value is sent, whatever
    /// the record of what umapi last wrote says.
    #[serde(default)]
    pub reassert: bool,
    /// Users and memberships whose `until` falls within the days the plan looks
    /// ahead (`--expiring`), soonest first; always written, empty when none.
    #[serde(default)]
    pub expiring: Vec<crate::expiry::Expiring>,
    /// The users and groups a partial plan is limited to (`--target`), like
    /// `user:ada@example.com`; always written, empty for a full plan.
    #[serde(default)]
    pub targets: Vec<crate::planner::PlanTarget>,
    /// Seats used now and after the plan, for every product profile it touches;
    /// always written, empty when none.
    #[serde(default)]
    pub licences: Vec<crate::planner::Licence>,
}

/// Where the value of a safety limit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// Not written: the built-in default.
    Default,
    /// Written under `settings.limits`.
    Settings,
    /// Given with `--allow` for this plan.
    Override,
}

/// A safety limit the plan goes over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    /// The limit.
    pub limit: LimitName,
    /// Its value, as written or as the default reads (`10% (at least 5)`).
    pub setting: String,
    /// Where the value came from.
    pub source: LimitSource,
    /// How many the plan would remove or delete.
    pub planned: u64,
    /// How many the limit allows.
    pub allowed: u64,
    /// The total a percentage is taken of.
    pub total: u64,
    /// The first objects affected (users, `user from group`, groups).
    pub affected: Vec<String>,
    /// How many more are affected than listed.
    pub more: u64,
}

/// A safety limit overridden for this plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The limit.
    pub limit: LimitName,
    /// The value given with `--allow`.
    pub value: Limit,
    /// The value it replaced, as written or as the default reads.
    pub instead_of: String,
    /// How many the plan removes or deletes.
    pub planned: u64,
    /// How many the override allows.
    pub allowed: u64,
    /// The total a percentage is taken of.
    pub total: u64,
}

impl Override {
    /// The override as given, for planning again.
    pub fn requested(&self) -> LimitOverride {
        LimitOverride {
            limit: self.limit,
            value: self.value.clone(),
        }
    }
}

/// One change to the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Stable id: the change's index in [`Plan::changes`].
    pub id: ChangeId,
    /// What changes.
    #[serde(flatten)]
    pub kind: ChangeKind,
    /// Where the state files ask for the change: `path:line`, the path relative
    /// to the folder of `umapi.yaml` with `/` between folders. Empty for a removal
    /// of something not declared (its cause is an absence).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// For a removal because `until` has passed: that last day (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// Kinds of group whose membership a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// A user group.
    UserGroup,
    /// A product profile.
    ProductProfile,
    /// An admin group (`_admin_…`, `_product_admin_…`, …).
    AdminGroup,
}

impl GroupKind {
    /// Classifies a group type reported by UMAPI.
    pub fn of(group_type: &GroupType) -> Self {
        match group_type {
            GroupType::UserGroup => GroupKind::UserGroup,
            GroupType::ProductProfile => GroupKind::ProductProfile,
            _ => GroupKind::AdminGroup,
        }
    }

    /// Name used in messages (`user group`, `product profile`, `admin group`).
    pub fn label(self) -> &'static str {
        match self {
            GroupKind::UserGroup => "user group",
            GroupKind::ProductProfile => "product profile",
            GroupKind::AdminGroup => "admin group",
        }
    }
}

/// One field of a user that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// `firstname`, `lastname`, `email` or `username`.
    pub field: String,
    /// The current value.
    pub old: Option<String>,
    /// The value after apply.
    pub new: Option<String>,
}

/// What a change does. Users are named by email (or username), groups by name as
/// declared; both as they will be after the user-update and group-update phases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// Create a user group, with its (write-only) description and profile links.
    CreateGroup {
        /// Name of the new group.
        group: String,
        /// Description set on create.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Product profiles linked on create.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        profiles: Vec<String>,
    },
    /// Rename a user group (declared through `previously`).
    RenameGroup {
        /// The new name.
        group: String,
        /// The current name.
        from: String,
    },
    /// Delete a user group.
    DeleteGroup {
        /// The group.
        group: String,
        /// Its member count when planned, if UMAPI reported one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member_count: Option<u64>,
    },
    /// Send a declared group's write-only fields again: they changed since umapi
    /// last wrote them, were never recorded, or `--reassert` asks for all of them
    /// (not counted as a change).
    ReassertGroup {
        /// The group.
        group: String,
        /// Description re-sent with `updateUserGroup`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Profiles re-linked with `add {"productConfiguration": …}`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        profiles: Vec<String>,
    },
    /// Create (or add, for Adobe IDs) a user.
    CreateUser {
        /// Email or username of the new user.
        user: String,
        /// Identity type.
        identity_type: IdentityType,
        /// Email.
        email: String,
        /// First name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        firstname: Option<String>,
        /// Last name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lastname: Option<String>,
        /// Country.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country: Option<String>,
    },
    /// Update a user's names.
    UpdateUser {
        /// The user.
        user: String,
        /// Fields that change.
        fields: Vec<FieldChange>,
    },
    /// Rename a user (new email and/or username, declared through `previously`).
    RenameUser {
        /// The user's new email or username.
        user: String,
        /// The current email or username.
        from: String,
        /// Fields that change (`email`, `username`).
        fields: Vec<FieldChange>,
    },
    /// Add a user to a user group, product profile or admin group.
    AddMembership {
        /// The user.
        user: String,
        /// The group.
        group: String,
        /// Kind of group.
        group_kind: GroupKind,
    },
    /// Remove a user from a user group, product profile or admin group.
    RemoveMembership {
        /// The user.
        user: String,
        /// The group.
        group: String,
        /// Kind of group.
        group_kind: GroupKind,
    },
    /// Remove a user from the org, and delete the account if asked.
    RemoveUser {
        /// The user.
        user: String,
        /// Identity type.
        identity_type: IdentityType,
        /// Also delete the account.
        delete_account: bool,
    },
}

impl ChangeKind {
    /// The users and groups the change names, as it spells them.
    pub fn names(&self) -> Vec<&str> {
        match self {
            ChangeKind::CreateGroup { group, .. }
            | ChangeKind::DeleteGroup { group, .. }
            | ChangeKind::ReassertGroup { group, .. } => vec![group],
            ChangeKind::RenameGroup { group, from } => vec![group, from],
            ChangeKind::CreateUser { user, .. }
            | ChangeKind::UpdateUser { user, .. }
            | ChangeKind::RemoveUser { user, .. } => vec![user],
            ChangeKind::RenameUser { user, from, .. } => vec![user, from],
            ChangeKind::AddMembership { user, group, .. }
            | ChangeKind::RemoveMembership { user, group, .. } => vec![user, group],
        }
    }

    /// The user a change of it in place is about (its key), for changes that
    /// count once per user: a rename and an update of the same user are one
    /// change in the counts. `None` for changes counted one by one.
    pub fn changed_user(&self) -> Option<UserKey> {
        match self {
            ChangeKind::UpdateUser { user, .. } | ChangeKind::RenameUser { user, .. } => {
                Some(UserKey::parse(user))
            }
            _ => None,
        }
    }

    /// Whether the change is counted (re-assertions of write-only fields are not).
    pub fn is_counted(&self) -> bool {
        !matches!(self, ChangeKind::ReassertGroup { .. })
    }

    /// Whether the change removes something (memberships, users, groups).
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            ChangeKind::DeleteGroup { .. }
                | ChangeKind::RemoveMembership { .. }
                | ChangeKind::RemoveUser { .. }
        )
    }
}

/// A write-only field that UMAPI cannot read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotVerifiable {
    /// The user group.
    pub group: String,
    /// `description` or `profiles`.
    pub field: String,
    /// The declared value (profiles joined with `, `).
    pub value: String,
}

/// The execution phases, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseName {
    /// User groups created, renamed, and write-only fields re-asserted.
    GroupCreatesAndUpdates,
    /// Users created, with their memberships.
    UserCreates,
    /// Users' names, emails and usernames updated.
    UserUpdates,
    /// Memberships removed.
    MembershipRemovals,
    /// Memberships added.
    MembershipAdds,
    /// Users removed from the org (and deleted).
    UsersLeavingOrg,
    /// User groups deleted.
    GroupDeletes,
}

impl PhaseName {
    /// All phases in execution order.
    pub const ALL: [PhaseName; 7] = [
        PhaseName::GroupCreatesAndUpdates,
        PhaseName::UserCreates,
        PhaseName::UserUpdates,
        PhaseName::MembershipRemovals,
        PhaseName::MembershipAdds,
        PhaseName::UsersLeavingOrg,
        PhaseName::GroupDeletes,
    ];

    /// A short human description.
    pub fn label(self) -> &'static str {
        match self {
            PhaseName::GroupCreatesAndUpdates => "group creates and updates",
            PhaseName::UserCreates => "user creates",
            PhaseName::UserUpdates => "user updates",
            PhaseName::MembershipRemovals => "membership removals",
            PhaseName::MembershipAdds => "membership adds",
            PhaseName::UsersLeavingOrg => "users leaving the org",
            PhaseName::GroupDeletes => "group deletes",
        }
    }
}

/// One execution phase: its requests may be sent in any order, and entries within a
/// request may run in any order, but the phase finishes before the next starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// Which phase.
    pub name: PhaseName,
    /// The action requests of the phase.
    pub requests: Vec<Request>,
}

/// One POST to `/action/{orgId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The JSON array to send (at most 10 entries).
    pub entries: Vec<Entry>,
    /// `changes[e][s]`: ids of the changes carried by step `s` of entry `e`, so a
    /// server error at (`index`, `step`) maps back to the changes it affects.
    pub changes: Vec<Vec<Vec<ChangeId>>>,
}

/// Counts per kind of change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Objects added: users and groups created, memberships added.
    pub to_add: u64,
    /// Objects changed in place: users updated or renamed (a user both renamed
    /// and updated counts once), groups renamed.
    pub to_change: u64,
    /// Objects removed: memberships removed, users removed, groups deleted.
    pub to_remove: u64,
    /// User groups created.
    pub groups_created: u64,
    /// User groups renamed.
    pub groups_renamed: u64,
    /// User groups deleted.
    pub groups_deleted: u64,
    /// Users created.
    pub users_created: u64,
    /// Users whose names change.
    pub users_updated: u64,
    /// Users whose email or username changes.
    pub users_renamed: u64,
    /// Users removed from the org (account kept).
    pub users_removed: u64,
    /// Users removed from the org and deleted.
    pub users_deleted: u64,
    /// Memberships added.
    pub memberships_added: u64,
    /// Memberships removed.
    pub memberships_removed: u64,
    /// Write-only fields re-asserted on apply (not counted above).
    pub reasserted: u64,
}

/// How many requests the plan sends and how long that takes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Action requests planned.
    pub requests: u64,
    /// Entries across all requests.
    pub entries: u64,
    /// Fewest requests the API's limits allow for these changes with these phases.
    pub lower_bound_requests: u64,
    /// The configured action rate limit (requests per window, Adobe's minute unless
    /// the sandbox's time scale shortens it); `null` = unlimited.
    #[serde(default)]
    pub action_requests_per_minute: Option<u32>,
    /// Seconds the requests wait for that rate limit (see
    /// [`umapi_core::rate::RateLimits::action_pacing`]: a sliding window plus the
    /// pacing margin, so the first batch starts at once); server time not included.
    pub duration_seconds: f64,
}

/// What the plan touches, as it was when planned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preconditions {
    /// Touched users by key (see [`crate::current::SnapshotUser::unique_key`]),
    /// sorted.
    pub users: Vec<UserPrecondition>,
    /// Touched groups by lower-cased name, sorted.
    pub groups: Vec<GroupPrecondition>,
}

/// A touched user as it was when planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPrecondition {
    /// The user's key, as a string: the normalised email (for an account without
    /// one, `username (domain)`), with ` (adobeID)` appended for Adobe IDs.
    pub key: AccountKey,
    /// The user's values; absent when the user did not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<UserFacts>,
}

/// The values of a user the plan depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFacts {
    /// Identity type.
    #[serde(rename = "type")]
    pub identity_type: IdentityType,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Groups the plan touches for this user that the user was in (lower-cased).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_of: Vec<String>,
    /// Groups the plan touches for this user that the user was not in (lower-cased).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_member_of: Vec<String>,
}

/// A touched group as it was when planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPrecondition {
    /// Lower-cased name.
    pub key: String,
    /// Its type; absent when the group did not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_type: Option<GroupType>,
}

impl UserFacts {
    /// The facts of a snapshot user, restricted to the given (lower-cased) groups.
    pub fn of(user: &crate::current::SnapshotUser, groups: &[String]) -> Self {
        let current: std::collections::HashSet<String> =
            user.groups.iter().map(|g| g.to_lowercase()).collect();
        let (member_of, not_member_of) = groups
            .iter()
            .cloned()
            .partition(|g| current.contains(g.as_str()));
        UserFacts {
            identity_type: user.identity_type,
            email: user.email.as_deref().map(String::from),
            username: user.username.as_deref().map(String::from),
            firstname: user.firstname.as_deref().map(String::from),
            lastname: user.lastname.as_deref().map(String::from),
            member_of,
            not_member_of,
        }
    }
}

impl Plan {
    /// For a partial plan (`--target`), what it is limited to and what it leaves.
    pub fn partial_note(&self) -> Option<String> {
        (!self.targets.is_empty()).then(|| {
            format!(
                "PARTIAL plan: only the changes that concern {}; the rest of the drift \
                 is left for a full plan.",
                self.target_list()
            )
        })
    }

    /// The targets of a partial plan, as given: `user:a@example.com, group:Design`.
    pub fn target_list(&self) -> String {
        self.targets
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the plan changes anything (re-assertions alone do not count).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.kind.is_counted())
    }

    /// Whether a safety limit blocks the plan (it is shown but never sent).
    pub fn is_blocked(&self) -> bool {
        !self.blocked.is_empty()
    }

    /// Number of requests across all phases.
    pub fn request_count(&self) -> usize {
        self.phases.iter().map(|p| p.requests.len()).sum()
    }

    /// Writes the plan as pretty JSON.
    pub fn to_writer(&self, writer: impl std::io::Write) -> Result<(), Error> {
        serde_json::to_writer_pretty(writer, self).map_err(|source| Error::Json {
            what: "plan",
            source,
        })
    }

    /// The plan as pretty JSON.
    pub fn to_json(&self) -> String {
        let mut buf = Vec::new();
        // Writing plain data to a Vec cannot fail.
        let _ = self.to_writer(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Reads a plan written by [`Plan::to_writer`]; refuses other versions.
    pub fn from_reader(reader: impl std::io::Read) -> Result<Self, Error> {
        read_versioned("plan", reader, PLAN_FORMAT_VERSION)
    }

    /// Checks that everything the plan touches still has the values it had when the
    /// plan was made. Returns every difference found, naming users and groups as
    /// the plan spells them (as declared), else as the org does.
    pub fn check_fresh(&self, snapshot: &Snapshot) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let spelling = Spelling::new(self, snapshot);
        if !snapshot.org_id.is_empty() && !self.org_id.is_empty() && snapshot.org_id != self.org_id
        {
            problems.push(format!(
                "the plan was made for org {}, not {}",
                self.org_id, snapshot.org_id
            ));
        }
        let mut users: HashMap<AccountKey, &crate::current::SnapshotUser> =
            HashMap::with_capacity(snapshot.users.len());
        for user in &snapshot.users {
            users.insert(user.unique_key(), user);
        }
        let groups: HashMap<String, &crate::current::SnapshotGroup> = snapshot
            .groups
            .iter()
            .map(|g| (g.name.to_lowercase(), g))
            .collect();
        for pre in &self.preconditions.groups {
            let now = groups.get(&pre.key).map(|g| g.group_type.clone());
            if now != pre.group_type {
                problems.push(format!(
                    "group {}: was {} when planned, now {}",
                    spelling.group(&pre.key),
                    describe_group(pre.group_type.as_ref()),
                    describe_group(now.as_ref())
                ));
            }
        }
        for pre in &self.preconditions.users {
            let now = users.get(&pre.key);
            match (&pre.current, now) {
                (None, None) => {}
                (None, Some(_)) => problems.push(format!(
                    "user {}: did not exist when planned, now exists",
                    spelling.user(&pre.key)
                )),
                (Some(_), None) => problems.push(format!(
                    "user {}: existed when planned, now does not",
                    spelling.user(&pre.key)
                )),
                (Some(then), Some(now)) => {
                    let mut touched = then.member_of.clone();
                    touched.extend(then.not_member_of.iter().cloned());
                    touched.sort();
                    let mut now = UserFacts::of(now, &touched);
                    let mut then = then.clone();
                    now.member_of.sort();
                    now.not_member_of.sort();
                    then.member_of.sort();
                    then.not_member_of.sort();
                    describe_user_drift(&pre.key, &then, &now, &spelling, &mut problems);
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// Users and groups as people wrote them, by the keys preconditions use: the plan's
/// own spelling (the state files') first, then the org's.
struct Spelling<'a> {
    /// Lower-cased group names, and user names of the changes by their lower-cased
    /// text (changes name users as written: an email, or `username (domain)`).
    names: HashMap<String, &'a str>,
    /// Users named by the changes, by key.
    users: HashMap<UserKey, &'a str>,
    /// Touched users of the org, by key.
    accounts: HashMap<AccountKey, &'a str>,
}

impl<'a> Spelling<'a> {
    fn new(plan: &'a Plan, snapshot: &'a Snapshot) -> Self {
        let mut names: HashMap<String, &'a str> = HashMap::new();
        let mut users: HashMap<UserKey, &'a str> = HashMap::new();
        for change in &plan.changes {
            for name in change.kind.names() {
                // Names of groups and of users alike: each is looked up where it fits.
                users.entry(UserKey::parse(name)).or_insert(name);
                names.entry(name.to_lowercase()).or_insert(name);
            }
        }
        let touched: std::collections::HashSet<&AccountKey> =
            plan.preconditions.users.iter().map(|u| &u.key).collect();
        let mut accounts: HashMap<AccountKey, &'a str> = HashMap::new();
        for user in &snapshot.users {
            let key = user.unique_key();
            if touched.contains(&key) && !accounts.contains_key(&key) {
                let spelled = match user.email.as_deref().filter(|e| !e.is_empty()) {
                    Some(email) => email,
                    None => user.username.as_deref().unwrap_or_default(),
                };
                if !spelled.is_empty() {
                    accounts.insert(key, spelled);
                }
            }
        }
        for group in &snapshot.groups {
            names
                .entry(group.name.to_lowercase())
                .or_insert(group.name.as_str());
        }
        Spelling {
            names,
            users,
            accounts,
        }
    }

    /// The user as spelled; its key when neither the plan nor the org names it.
    fn user(&self, key: &AccountKey) -> String {
        let named = (!key.adobe_id).then(|| self.users.get(&key.user)).flatten();
        if let Some(name) = named.or_else(|| self.accounts.get(key)) {
            return (*name).to_owned();
        }
        if key.adobe_id {
            let base = AccountKey {
                user: key.user.clone(),
                adobe_id: false,
            };
            format!("{} (adobeID)", self.user(&base))
        } else {
            key.user.to_string()
        }
    }

    /// The group with lower-cased name `key` as spelled; `key` itself when neither
    /// the plan nor the org names it.
    fn group(&self, key: &str) -> String {
        self.names
            .get(key)
            .map_or_else(|| key.to_owned(), |name| (*name).to_owned())
    }
}

fn describe_group(group_type: Option<&GroupType>) -> String {
    match group_type {
        None => "absent".to_string(),
        Some(t) => format!("a {}", GroupKind::of(t).label()),
    }
}

fn describe_user_drift(
    key: &AccountKey,
    then: &UserFacts,
    now: &UserFacts,
    spelling: &Spelling<'_>,
    out: &mut Vec<String>,
) {
    let key = spelling.user(key);
    let fields: [(&str, String, String); 5] = [
        (
            "type",
            then.identity_type.to_string(),
            now.identity_type.to_string(),
        ),
        ("email", show(&then.email), show(&now.email)),
        ("username", show(&then.username), show(&now.username)),
        ("firstname", show(&then.firstname), show(&now.firstname)),
        ("lastname", show(&then.lastname), show(&now.lastname)),
    ];
    for (field, old, new) in fields {
        if old != new {
            out.push(format!(
                "user {key}: {field} was {old} when planned, now {new}"
            ));
        }
    }
    let gained: BTreeMap<&str, ()> = now
        .member_of
        .iter()
        .filter(|g| !then.member_of.contains(g))
        .map(|g| (g.as_str(), ()))
        .collect();
    let lost: BTreeMap<&str, ()> = then
        .member_of
        .iter()
        .filter(|g| !now.member_of.contains(g))
        .map(|g| (g.as_str(), ()))
        .collect();
    for group in gained.keys() {
        out.push(format!(
            "user {key}: was not in {} when planned, now is",
            spelling.group(group)
        ));
    }
    for group in lost.keys() {
        out.push(format!(
            "user {key}: was in {} when planned, now is not",
            spelling.group(group)
        ));
    }
}

fn show(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "(none)".to_string(),
    }
}

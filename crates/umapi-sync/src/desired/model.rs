//! The desired state as written in the YAML state files.
//!
//! These types are the single source of `state-schema.json` (generated with
//! `schemars`); the loader fills them from one or more files and the planner reads them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use umapi_core::identity::{UserKey, UserKeyRef};
use umapi_core::wire::IdentityType;

/// The contents of one state file; several files merge into one [`DesiredState`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    /// Users of the org and their memberships.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserSpec>,
    /// User groups: created, updated and deleted by umapi.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSpec>,
    /// Product profiles: must exist in the org; listing one manages its members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileSpec>,
    /// Admin groups (names start with `_`); `_org_admin` cannot be managed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_groups: Vec<ProfileSpec>,
    /// Settings; at most one file may hold them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
}

/// A user: identified by email, or by username + domain for non-email Federated IDs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Email address (at most 60 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 60))]
    pub email: Option<Box<str>>,
    /// Username, for Federated IDs whose username is not their email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Box<str>>,
    /// Domain of the username (required with `username`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<Box<str>>,
    /// Identity type; defaults to `settings.default_type`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<IdentityTypeName>")]
    pub identity_type: Option<IdentityType>,
    /// First name (at most 250 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 250))]
    pub firstname: Option<Box<str>>,
    /// Last name (at most 250 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 250))]
    pub lastname: Option<Box<str>>,
    /// Two upper-case letters; used on create only (UMAPI cannot change a country).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[A-Z]{2}$"))]
    pub country: Option<Box<str>>,
    /// User groups, product profiles and admin groups the user belongs to: a name,
    /// or `{name: NAME, until: YYYY-MM-DD}` for a membership that ends after that day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Membership>,
    /// Earlier emails or usernames: the user is renamed instead of removed and re-created.
    #[serde(default, skip_serializing_if = "<[_]>::is_empty")]
    pub previously: Box<[Box<str>]>,
    /// Last day (`YYYY-MM-DD`, UTC) the user belongs to the org: from the next day
    /// on, the user is removed from the org (the account is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub until: Option<Box<str>>,
    /// The line of `until:` in its state file (0 when unknown), for plans that say
    /// why a user leaves.
    #[serde(skip)]
    #[schemars(skip)]
    pub until_line: Line,
    /// Where the user was declared (none in a state built by hand); read it with
    /// [`DesiredState::origin_of_user`].
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
}

/// Where a user was declared, kept on the user itself: its file is shared by every
/// user of that file, so a million users' origins take 24 bytes each and no
/// allocation. Like [`Line`], equal to any other.
#[derive(Debug, Clone, Default, Eq)]
pub struct Origin(Option<(std::sync::Arc<std::path::Path>, u32, u32)>);

impl PartialEq for Origin {
    fn eq(&self, _: &Origin) -> bool {
        true
    }
}

impl Origin {
    /// The origin at `line` and `column` (1-based) of `file`.
    pub fn new(file: std::sync::Arc<std::path::Path>, line: usize, column: usize) -> Self {
        let narrow = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
        Origin(Some((file, narrow(line), narrow(column))))
    }

    /// The origin as a [`Location`], when known.
    pub fn location(&self) -> Option<Location> {
        self.0.as_ref().map(|(file, line, column)| Location {
            file: file.to_path_buf(),
            line: *line as usize,
            column: *column as usize,
        })
    }
}

/// The line (1-based) an entry was written on in its state file; 0 when unknown
/// (a state built by hand). Every line equals every other: where a declaration is
/// written does not change what it declares, so states compare by content.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Line(pub u32);

impl PartialEq for Line {
    fn eq(&self, _: &Line) -> bool {
        true
    }
}

impl Line {
    /// The line number, when known.
    pub fn get(self) -> Option<u32> {
        (self.0 > 0).then_some(self.0)
    }
}

/// The lines of the entries of a list, in order (empty when unknown); like
/// [`Line`], equal to any other.
#[derive(Debug, Clone, Default, Eq)]
pub struct Lines(pub Vec<u32>);

impl PartialEq for Lines {
    fn eq(&self, _: &Lines) -> bool {
        true
    }
}

impl Lines {
    /// The line of entry `index`, when known.
    pub fn get(&self, index: usize) -> Option<u32> {
        self.0.get(index).copied().filter(|&line| line > 0)
    }
}

/// One entry of a user's `groups:`: the name of a user group, product profile or
/// admin group, with the last day of the membership when it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// The group, profile or admin group, as written.
    pub name: Box<str>,
    /// Last day (`YYYY-MM-DD`, UTC) of the membership, as written.
    pub until: Option<Box<str>>,
    /// The line of the entry in the user's state file (0 when unknown), for plans
    /// that say which line asks for a membership. A `u32` beside the name keeps a
    /// million users' positions small.
    pub line: Line,
    /// The line of its `until:` (0 when unknown or none).
    pub until_line: Line,
}

/// How a membership is written: a plain name, or a mapping with `until`.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
enum MembershipForm {
    /// The name alone: a membership that does not end.
    Name(String),
    /// The name and the last day of the membership.
    Dated(DatedMembership),
}

/// A membership that ends: `{name: Interns, until: 2026-12-31}`.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DatedMembership {
    /// The group, profile or admin group.
    name: String,
    /// Last day (`YYYY-MM-DD`, UTC) of the membership.
    #[schemars(pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    until: String,
}

impl Serialize for Membership {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.until {
            None => serializer.serialize_str(&self.name),
            Some(until) => DatedMembership {
                name: self.name.to_string(),
                until: until.to_string(),
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Membership {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match MembershipForm::deserialize(deserializer)? {
            MembershipForm::Name(name) => Membership::from(name),
            MembershipForm::Dated(DatedMembership { name, until }) => Membership {
                name: name.into(),
                until: Some(until.into()),
                ..Membership::default()
            },
        })
    }
}

impl JsonSchema for Membership {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Membership".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        MembershipForm::json_schema(generator)
    }
}

impl From<&str> for Membership {
    fn from(name: &str) -> Self {
        Membership {
            name: name.into(),
            ..Membership::default()
        }
    }
}

impl From<String> for Membership {
    fn from(name: String) -> Self {
        Membership {
            name: name.into(),
            ..Membership::default()
        }
    }
}

impl std::fmt::Display for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl std::ops::Deref for Membership {
    type Target = str;

    /// The name: most code only needs to know which group is meant.
    fn deref(&self) -> &str {
        &self.name
    }
}

/// Identity type names accepted in YAML (for the schema).
#[derive(JsonSchema)]
#[allow(dead_code, clippy::enum_variant_names)]
enum IdentityTypeName {
    #[serde(rename = "adobeID")]
    AdobeId,
    #[serde(rename = "enterpriseID")]
    EnterpriseId,
    #[serde(rename = "federatedID")]
    FederatedId,
}

/// A user group managed by umapi.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Name: not starting with `_`, at most 255 characters.
    #[schemars(length(min = 1, max = 255), pattern(r"^[^_]"))]
    pub name: String,
    /// Description (write-only: UMAPI cannot read it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Members (emails or usernames); may also be declared on the users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The line of each of `members` in its state file (empty when unknown).
    #[serde(skip)]
    #[schemars(skip)]
    pub member_lines: Lines,
    /// Product profiles the group grants to its members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// The line of each of `profiles` in its state file (empty when unknown).
    #[serde(skip)]
    #[schemars(skip)]
    pub profile_lines: Lines,
    /// Earlier names: the group is renamed instead of deleted and re-created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previously: Vec<String>,
}

/// A product profile or admin group whose direct members umapi manages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    /// Name as it appears in the Admin Console.
    pub name: String,
    /// Direct members (emails or usernames); may also be declared on the users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The line of each of `members` in its state file (empty when unknown).
    #[serde(skip)]
    #[schemars(skip)]
    pub member_lines: Lines,
}

/// What to do with users that are in the org but not in the state files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnlistedUsers {
    /// Leave them alone.
    #[default]
    Ignore,
    /// Remove them from every managed group and profile.
    RemoveMemberships,
    /// Remove them from the org (the account is kept).
    Remove,
    /// Remove them from the org and delete the account.
    Delete,
}

/// What to do with user groups that are in the org but not in the state files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnlistedGroups {
    /// Leave them alone.
    #[default]
    Ignore,
    /// Delete them.
    Delete,
}

/// Objects umapi never touches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclusions {
    /// Regular expressions matched (case-insensitively) against email or username.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Identity types whose users are never touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<IdentityTypeName>")]
    pub types: Vec<IdentityType>,
    /// Members of these groups are never touched, nor are the groups themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// A safety limit: an absolute count (`3`), a percentage of the current total (`"5%"`), or `off`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Limit {
    /// At most this many.
    Count(u64),
    /// No limit for this class: written `off`.
    Off(Off),
    /// At most this share, written like `"5%"` (the text is checked by validation).
    Percent(String),
}

/// The word `off`, which switches a safety limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Off {
    /// Switches the limit off.
    #[serde(rename = "off")]
    Off,
}

/// Safety limits per destructive class; over a limit, the plan is blocked and
/// nothing is sent. A limit that is not written has a default: 10 % of the org's
/// users (at least 5), 25 % of managed memberships (at least 10), 10 % of user
/// groups (at least 2), and `off` for seats over licence quotas (warned about,
/// never blocked). Write `off` to switch one off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Users removed from the org or deleted, of all users in the org.
    /// Default: 10 % of the org's users, at least 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_user_removals: Option<Limit>,
    /// Memberships removed, of all memberships in managed groups.
    /// Default: 25 % of managed memberships, at least 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_membership_removals: Option<Limit>,
    /// User groups deleted, of all user groups.
    /// Default: 10 % of user groups, at least 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_group_deletions: Option<Limit>,
    /// Seats the plan takes beyond product profiles' licence quotas, summed over
    /// profiles, of the quotas of the profiles the plan adds seats to. A plan that
    /// does not add seats to a profile never counts it. Default: `off` (a warning
    /// only); write `0` to block any plan that goes over a quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seats_over_quota: Option<Limit>,
}

/// The name of a safety limit, as written under `settings.limits` and in `--allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitName {
    /// Users removed from the org or deleted.
    MaxUserRemovals,
    /// Memberships of managed groups removed.
    MaxMembershipRemovals,
    /// User groups deleted.
    MaxGroupDeletions,
    /// Seats taken beyond product profiles' licence quotas.
    MaxSeatsOverQuota,
}

impl LimitName {
    /// Every limit, in the order they are checked and shown.
    pub const ALL: [LimitName; 4] = [
        LimitName::MaxUserRemovals,
        LimitName::MaxMembershipRemovals,
        LimitName::MaxGroupDeletions,
        LimitName::MaxSeatsOverQuota,
    ];

    /// The key under `settings.limits`.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitName::MaxUserRemovals => "max_user_removals",
            LimitName::MaxMembershipRemovals => "max_membership_removals",
            LimitName::MaxGroupDeletions => "max_group_deletions",
            LimitName::MaxSeatsOverQuota => "max_seats_over_quota",
        }
    }

    /// What is counted, e.g. `users removed from the org`.
    pub fn counted(self) -> &'static str {
        match self {
            LimitName::MaxUserRemovals => "users removed from the org",
            LimitName::MaxMembershipRemovals => "memberships removed",
            LimitName::MaxGroupDeletions => "user groups deleted",
            LimitName::MaxSeatsOverQuota => "seats taken beyond licence quotas",
        }
    }

    /// What the percentage is taken of, e.g. `users in the org`.
    pub fn total_of(self) -> &'static str {
        match self {
            LimitName::MaxUserRemovals => "users in the org",
            LimitName::MaxMembershipRemovals => "memberships of managed groups",
            LimitName::MaxGroupDeletions => "user groups",
            LimitName::MaxSeatsOverQuota => "seats in the quotas of the profiles the plan adds to",
        }
    }

    /// The default percentage, when `settings.limits` does not set this limit
    /// (0 for a limit that is off by default, see [`LimitName::off_by_default`]).
    pub fn default_percent(self) -> u64 {
        match self {
            LimitName::MaxUserRemovals | LimitName::MaxGroupDeletions => 10,
            LimitName::MaxMembershipRemovals => 25,
            LimitName::MaxSeatsOverQuota => 0,
        }
    }

    /// Whether the limit blocks nothing unless written: seats over a quota are
    /// warned about by default, since blocking them could stop a plan that
    /// frees seats elsewhere.
    pub fn off_by_default(self) -> bool {
        self == LimitName::MaxSeatsOverQuota
    }

    /// The default's floor: a small org may always lose this many, so that
    /// ordinary changes in a handful of users or groups are never blocked.
    pub fn default_floor(self) -> u64 {
        match self {
            LimitName::MaxUserRemovals => 5,
            LimitName::MaxMembershipRemovals => 10,
            LimitName::MaxGroupDeletions => 2,
            LimitName::MaxSeatsOverQuota => 0,
        }
    }

    /// What the default allows of `total`: the default percentage rounded down,
    /// but at least the floor.
    pub fn default_allowance(self, total: u64) -> u64 {
        if self.off_by_default() {
            return u64::MAX;
        }
        (total.saturating_mul(self.default_percent()) / 100).max(self.default_floor())
    }

    /// The default as words, e.g. `10% (at least 5)`.
    pub fn default_setting(self) -> String {
        if self.off_by_default() {
            return "off (warn only)".to_owned();
        }
        format!(
            "{}% (at least {})",
            self.default_percent(),
            self.default_floor()
        )
    }
}

impl std::fmt::Display for LimitName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LimitName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        LimitName::ALL
            .into_iter()
            .find(|name| name.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = LimitName::ALL.iter().map(|n| n.as_str()).collect();
                format!(
                    "`{text}` is not a safety limit; the limits are {}",
                    names.join(", ")
                )
            })
    }
}

impl Limits {
    /// The limit written for `name`, if any.
    pub fn get(&self, name: LimitName) -> Option<&Limit> {
        match name {
            LimitName::MaxUserRemovals => self.max_user_removals.as_ref(),
            LimitName::MaxMembershipRemovals => self.max_membership_removals.as_ref(),
            LimitName::MaxGroupDeletions => self.max_group_deletions.as_ref(),
            LimitName::MaxSeatsOverQuota => self.max_seats_over_quota.as_ref(),
        }
    }
}

/// A one-off override of a safety limit, reviewed and given on the command line
/// as `--allow LIMIT=VALUE` (e.g. `max_user_removals=40`); recorded in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitOverride {
    /// The limit overridden.
    pub limit: LimitName,
    /// Its value for this plan: a count, a percentage or `off`.
    pub value: Limit,
}

impl std::str::FromStr for LimitOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let Some((name, value)) = text.split_once('=') else {
            return Err(format!(
                "`{text}` is not LIMIT=VALUE; write it like max_user_removals=40"
            ));
        };
        let limit: LimitName = name.trim().parse()?;
        let value = value.trim();
        let value = Limit::parse(value).ok_or_else(|| {
            format!(
                "`{value}` is not a value for {limit}; write a count like 40, \
                 a percentage from 0% to 100% like 20%, or off"
            )
        })?;
        Ok(LimitOverride { limit, value })
    }
}

impl std::fmt::Display for LimitOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.limit, self.value)
    }
}

/// Settings of the desired state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Identity type of users that do not name one (default `federatedID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<IdentityTypeName>")]
    pub default_type: Option<IdentityType>,
    /// Country for created users that do not name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[A-Z]{2}$"))]
    pub default_country: Option<String>,
    /// Policy for users in the org but not in the state files.
    #[serde(default)]
    pub unlisted_users: UnlistedUsers,
    /// Policy for user groups in the org but not in the state files.
    #[serde(default)]
    pub unlisted_groups: UnlistedGroups,
    /// Objects never touched.
    #[serde(default)]
    pub exclude: Exclusions,
    /// Safety limits.
    #[serde(default)]
    pub limits: Limits,
    /// Rules the desired state must keep: `validate` and `plan` refuse a state that
    /// breaks one.
    #[serde(default, skip_serializing_if = "Policy::is_empty")]
    pub policy: Policy,
}

/// Rules the desired state must keep, checked offline by `validate` and before
/// every plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Email domains each identity type may use; a type not listed may use any.
    #[serde(default, skip_serializing_if = "EmailDomains::is_empty")]
    pub email_domains: EmailDomains,
    /// Groups, product profiles or admin groups that must keep at least this many
    /// members (for example `_admin_Engineering: 2`), so that no plan takes the last
    /// admin away.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub min_members: std::collections::BTreeMap<String, std::num::NonZeroU64>,
    /// Product profiles (and user groups) Adobe IDs must not be in, directly or
    /// through a user group linked to the profile: personal accounts the org does
    /// not own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_adobe_ids: Vec<String>,
    /// Every declared user must be in at least one user group.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub every_user_in_a_user_group: bool,
}

impl Policy {
    /// Whether the policy has no rule.
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }
}

/// Email domains allowed per identity type (`example.com`, matched without case;
/// a subdomain is a different domain).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailDomains {
    /// Domains Federated IDs may use.
    #[serde(
        rename = "federatedID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub federated_id: Option<Vec<String>>,
    /// Domains Enterprise IDs may use.
    #[serde(
        rename = "enterpriseID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enterprise_id: Option<Vec<String>>,
    /// Domains Adobe IDs may use.
    #[serde(rename = "adobeID", default, skip_serializing_if = "Option::is_none")]
    pub adobe_id: Option<Vec<String>>,
}

impl EmailDomains {
    /// Whether no identity type is restricted.
    pub fn is_empty(&self) -> bool {
        *self == EmailDomains::default()
    }

    /// The domains `identity_type` may use; `None` when any is allowed.
    pub fn allowed(&self, identity_type: IdentityType) -> Option<&[String]> {
        match identity_type {
            IdentityType::FederatedId => self.federated_id.as_deref(),
            IdentityType::EnterpriseId => self.enterprise_id.as_deref(),
            IdentityType::AdobeId => self.adobe_id.as_deref(),
            IdentityType::Unknown => None,
        }
    }

    /// When `email` is in a domain `identity_type` may not use: that domain and the
    /// domains allowed. `None` when the email is allowed or the type unrestricted.
    pub fn refusal<'a>(
        &'a self,
        identity_type: IdentityType,
        email: &'a str,
    ) -> Option<(&'a str, &'a [String])> {
        let allowed = self.allowed(identity_type)?;
        let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
        (!allowed.iter().any(|ok| ok.eq_ignore_ascii_case(domain))).then_some((domain, allowed))
    }
}

/// Where something was written: `file:line:column` (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// The file, as given to the loader.
    pub file: std::path::PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// The merged, validated desired state of all state files.
///
/// Built by [`crate::desired::load`]; every name and identity in it has been checked,
/// so every reference resolves. What was written is kept as written (case included);
/// look-ups compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredState {
    /// Users, in file order.
    pub users: Vec<UserSpec>,
    /// User groups.
    pub groups: Vec<GroupSpec>,
    /// Managed product profiles.
    pub profiles: Vec<ProfileSpec>,
    /// Managed admin groups.
    pub admin_groups: Vec<ProfileSpec>,
    /// Settings (defaults where none were written).
    pub settings: Settings,
    /// Where each group/profile (by lower-cased name) was declared, for messages
    /// that point at the YAML.
    pub origins: std::collections::BTreeMap<String, Location>,
    /// Where the settings were written (a state file or `umapi.yaml`), when they were.
    pub settings_origin: Option<Location>,
    /// The full desired member set of every managed group, profile and admin group:
    /// lower-cased name → indices into [`DesiredState::users`], ascending, each once.
    /// It unites the users' `groups:` lists with the groups' `members:` lists.
    /// Use [`DesiredState::members_of`] rather than reading it directly; built by
    /// [`DesiredState::reindex`].
    pub members: std::collections::BTreeMap<String, Vec<usize>>,
    /// Every key a user can be named by in the state files — its email, and its
    /// username with its domain ([`UserKey::username`]: an email-shaped username is
    /// an email) — → index into [`DesiredState::users`].
    /// Use [`DesiredState::user`] or [`DesiredState::user_index`]; built by
    /// [`DesiredState::reindex`].
    pub identities: IdentityIndex,
    /// Lower-cased plain usernames (without domain) → index into
    /// [`DesiredState::users`]. A username shared by users of different domains is
    /// left out (it names no one).
    pub usernames: std::collections::BTreeMap<String, usize>,
    /// Users whose `until` has passed: no longer in [`DesiredState::users`], and
    /// removed from the org even when `unlisted_users` leaves unlisted users alone.
    /// Filled by [`crate::expiry::expire`]; empty in a state as loaded.
    pub expired_users: Vec<UserSpec>,
}

/// Every key the users can be named by ([`UserSpec::identities`]) → index into the
/// users. Only a hash of each key is kept, beside the index, sorted, with where
/// each range of leading hash bits starts: the keys are the users' own, compared
/// on look-up, so a million users' keys are not copied (a map of owned keys took
/// about 100 bytes per user, a hash map of borrowed keys about 60).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityIndex {
    /// `(hash of a key, index of its user)`, by hash, users in order within a hash.
    entries: Vec<(u64, usize)>,
    /// Where the entries whose hash starts with each `bits` bits start (and, last,
    /// the end): a look-up reads one short range.
    starts: Vec<u32>,
    bits: u32,
}

impl IdentityIndex {
    /// The index of `users`. Of users sharing a key, the first is found. At most
    /// `u32::MAX` keys.
    pub fn of<'u>(users: impl ExactSizeIterator<Item = &'u UserSpec>) -> Self {
        let mut keyed: Vec<(u64, usize)> = Vec::with_capacity(users.len());
        for (index, user) in users.enumerate() {
            keyed.extend(user.identities().map(|key| (key_hash(&key), index)));
        }
        // About one key per range.
        let bits = keyed.len().max(1).ilog2();
        let ranges = 1usize << bits;
        // Placed by range in one pass, in the users' order (a counting sort), then
        // each range, about one key long, sorted by hash: a comparison sort of a
        // million keys took most of the time of indexing them.
        let range = |hash: u64| range_of(hash, bits) as usize;
        // `starts[r + 1]` is first where range `r` starts, then where it is filled
        // up to, and so where range `r + 1` starts once every key is placed.
        let mut starts = vec![0u32; ranges + 1];
        for &(hash, _) in &keyed {
            if let Some(count) = starts.get_mut(range(hash) + 2) {
                *count += 1;
            }
        }
        for at in 1..starts.len() {
            starts[at] = starts[at].saturating_add(starts[at - 1]);
        }
        let mut entries = vec![(0, 0); keyed.len()];
        for &(hash, index) in &keyed {
            let next = &mut starts[range(hash) + 1];
            entries[*next as usize] = (hash, index);
            *next += 1;
        }
        drop(keyed);
        for range in starts.windows(2) {
            let keys = &mut entries[range[0] as usize..range[1] as usize];
            if keys.len() > 1 {
                // Stable: users with the same hash stay in their order.
                keys.sort_by_key(|&(hash, _)| hash);
            }
        }
        IdentityIndex {
            entries,
            starts,
            bits,
        }
    }

    /// The index of the first user named by `key`; `user` gives the user at an index
    /// of the users the index was made of.
    pub fn find<'u>(
        &self,
        user: impl Fn(usize) -> &'u UserSpec,
        key: &UserKeyRef<'_>,
    ) -> Option<usize> {
        let hash = key_hash(key);
        let range = usize::try_from(range_of(hash, self.bits)).ok()?;
        let (start, end) = (*self.starts.get(range)?, *self.starts.get(range + 1)?);
        self.entries[start as usize..end as usize]
            .iter()
            .filter(|&&(entry, _)| entry == hash)
            .map(|&(_, index)| index)
            .find(|&index| user(index).identities().any(|own| own == *key))
    }

    /// Each user that shares a key with an earlier user, with the first user it
    /// shares a key with (by the user's first shared key, in
    /// [`UserSpec::identities`] order); by user.
    pub fn duplicates<'u>(&self, user: impl Fn(usize) -> &'u UserSpec) -> Vec<(usize, usize)> {
        // (later user, position of the key among its identities, first user)
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        for run in self.entries.chunk_by(|a, b| a.0 == b.0) {
            // A hash shared by several keys: nearly always one user's key, written
            // again by a later user.
            for (later, &(hash, index)) in run.iter().enumerate().skip(1) {
                for (position, key) in user(index).identities().enumerate() {
                    if key_hash(&key) != hash {
                        continue;
                    }
                    let first = run[..later].iter().map(|&(_, first)| first).find(|&first| {
                        first != index && user(first).identities().any(|own| own == key)
                    });
                    if let Some(first) = first {
                        found.push((index, position, first));
                    }
                }
            }
        }
        found.sort_unstable();
        found.dedup_by_key(|&mut (later, _, _)| later);
        found
            .into_iter()
            .map(|(later, _, first)| (later, first))
            .collect()
    }
}

/// The range of leading `bits` bits of `hash`.
fn range_of(hash: u64, bits: u32) -> u64 {
    hash.checked_shr(64 - bits).unwrap_or(0)
}

fn key_hash(key: &UserKeyRef<'_>) -> u64 {
    use std::hash::BuildHasher as _;
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// What a managed name refers to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a> {
    /// A user group.
    Group(&'a GroupSpec),
    /// A product profile.
    Profile(&'a ProfileSpec),
    /// An admin group.
    AdminGroup(&'a ProfileSpec),
}

impl<'a> Target<'a> {
    /// The name as written.
    pub fn name(&self) -> &'a str {
        match self {
            Target::Group(group) => &group.name,
            Target::Profile(profile) | Target::AdminGroup(profile) => &profile.name,
        }
    }
}

impl DesiredState {
    /// Every user that should be a direct member of the managed group, profile or
    /// admin group `name` (case-insensitive), whether the membership was written on
    /// the user (`groups:`) or on the group (`members:`); in file order, each once.
    /// Empty for a name that is not managed.
    pub fn members_of(&self, name: &str) -> impl Iterator<Item = &UserSpec> + '_ {
        self.members
            .get(&name.to_lowercase())
            .into_iter()
            .flatten()
            .map(|&index| &self.users[index])
    }

    /// The declared names of every group, profile and admin group the user at
    /// `index` (into [`DesiredState::users`]) should belong to: user groups first,
    /// then profiles, then admin groups, each in declaration order.
    pub fn memberships_of(&self, index: usize) -> Vec<&str> {
        self.targets()
            .filter(|target| {
                self.members
                    .get(&target.name().to_lowercase())
                    .is_some_and(|members| members.binary_search(&index).is_ok())
            })
            .map(|target| target.name())
            .collect()
    }

    /// Every managed name: user groups, then profiles, then admin groups.
    pub fn targets(&self) -> impl Iterator<Item = Target<'_>> + '_ {
        self.groups
            .iter()
            .map(Target::Group)
            .chain(self.profiles.iter().map(Target::Profile))
            .chain(self.admin_groups.iter().map(Target::AdminGroup))
    }

    /// The managed group, profile or admin group called `name` (case-insensitive).
    pub fn target(&self, name: &str) -> Option<Target<'_>> {
        let wanted = name.to_lowercase();
        self.targets()
            .find(|target| target.name().to_lowercase() == wanted)
    }

    /// Builds [`DesiredState::members`] and [`DesiredState::identities`] from the
    /// lists. [`crate::desired::load`] does this; call it after building or changing a
    /// `DesiredState` by hand. References that name nothing are skipped (loading
    /// reports them as errors).
    pub fn reindex(&mut self) {
        self.identities = IdentityIndex::of(self.users.iter());
        self.usernames = unique_usernames(usernames_of(&self.users));
        let mut from_users: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        // Many users name the same few groups: each spelling is looked up once, and
        // the users are collected per spelling before they join the lower-cased list.
        let mut by_spelling: rustc_hash::FxHashMap<&str, Vec<usize>> =
            rustc_hash::FxHashMap::default();
        for (index, user) in self.users.iter().enumerate() {
            for membership in &user.groups {
                by_spelling.entry(&membership.name).or_default().push(index);
            }
        }
        for (name, users) in by_spelling {
            from_users
                .entry(name.to_lowercase())
                .or_default()
                .extend(users);
        }
        self.index_members(from_users);
    }

    /// Builds [`DesiredState::members`] from `from_users` (lower-cased name → the
    /// users whose `groups:` name it) and the groups' `members:`, once
    /// [`DesiredState::identities`] and [`DesiredState::usernames`] are built (they
    /// resolve the members). Names that are not managed are left out.
    pub(crate) fn index_members(&mut self, from_users: BTreeMap<String, Vec<usize>>) {
        let mut members: BTreeMap<String, Vec<usize>> = self
            .targets()
            .map(|target| (target.name().to_lowercase(), Vec::new()))
            .collect();
        for (name, users) in from_users {
            match members.get_mut(&name) {
                Some(list) if list.is_empty() => *list = users,
                Some(list) => list.extend(users),
                None => {}
            }
        }
        let listed: Vec<(String, Vec<usize>)> = self
            .targets()
            .map(|target| {
                let written = match target {
                    Target::Group(group) => &group.members,
                    Target::Profile(profile) | Target::AdminGroup(profile) => &profile.members,
                };
                let resolved = written
                    .iter()
                    .filter_map(|member| self.user_index(member))
                    .collect();
                (target.name().to_lowercase(), resolved)
            })
            .collect();
        for (name, users) in listed {
            members.entry(name).or_default().extend(users);
        }
        for list in members.values_mut() {
            list.sort_unstable();
            list.dedup();
            list.shrink_to_fit();
        }
        self.members = members;
    }

    /// The index into [`DesiredState::users`] of the user whose email, username, or
    /// username and domain (`username (domain)`) is `identity` (case-insensitive).
    pub fn user_index(&self, identity: &str) -> Option<usize> {
        UserKeyRef::from_reference(identity)
            .and_then(|key| self.identities.find(|index| &self.users[index], &key))
            .or_else(|| self.usernames.get(&identity.to_lowercase()).copied())
    }

    /// The user whose email, username, or username and domain is `identity`
    /// (case-insensitive).
    pub fn user(&self, identity: &str) -> Option<&UserSpec> {
        self.user_index(identity).map(|index| &self.users[index])
    }

    /// The user's identity type, `settings.default_type` when it names none
    /// (and `federatedID` when neither does).
    pub fn identity_type_of(&self, user: &UserSpec) -> IdentityType {
        user.identity_type
            .or(self.settings.default_type)
            .unwrap_or(IdentityType::FederatedId)
    }

    /// The country to create the user with: its own, else `settings.default_country`.
    pub fn country_of<'a>(&'a self, user: &'a UserSpec) -> Option<&'a str> {
        user.country
            .as_deref()
            .or(self.settings.default_country.as_deref())
    }

    /// Where the user was declared (the user's [`UserSpec::origin`]).
    pub fn origin_of_user(&self, user: &UserSpec) -> Option<Location> {
        user.origin.location()
    }

    /// Where the group, profile or admin group `name` was declared.
    pub fn origin_of(&self, name: &str) -> Option<&Location> {
        self.origins.get(&name.to_lowercase())
    }
}

/// Lower-cased plain usernames (without domain) → the indices of the users with
/// that username, ascending.
pub(crate) fn usernames_of<'u>(
    users: impl IntoIterator<Item = &'u UserSpec>,
) -> std::collections::BTreeMap<String, Vec<usize>> {
    let mut usernames: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (index, user) in users.into_iter().enumerate() {
        if let Some(username) = &user.username {
            usernames
                .entry(username.to_lowercase())
                .or_default()
                .push(index);
        }
    }
    usernames
}

/// The usernames that name one user each ([`DesiredState::usernames`]).
pub(crate) fn unique_usernames(
    usernames: std::collections::BTreeMap<String, Vec<usize>>,
) -> std::collections::BTreeMap<String, usize> {
    usernames
        .into_iter()
        .filter_map(|(username, users)| match users.as_slice() {
            [only] => Some((username, *only)),
            _ => None,
        })
        .collect()
}

impl UserSpec {
    /// The key UMAPI will know the user by, as [`UserKey::from_wire`] reads the
    /// account created from this declaration: its username and domain when the
    /// username is not an email, else its email (an email-shaped username stands for
    /// it only when there is none). The empty email for a user with neither.
    pub fn key(&self) -> UserKey {
        let [by_email, by_username] = UserKeyRef::aliases(
            self.email.as_deref(),
            self.username.as_deref(),
            self.domain.as_deref(),
        );
        by_username
            .or(by_email)
            .map_or_else(|| UserKey::email(""), UserKeyRef::into_owned)
    }

    /// The key plans keep the user under ([`crate::current::account_key`]): the one
    /// its account will have in a snapshot.
    pub fn account_key(&self) -> UserKey {
        crate::current::account_key(
            self.email.as_deref(),
            self.username.as_deref(),
            self.domain.as_deref(),
        )
        .map_or_else(|| UserKey::email(""), UserKeyRef::into_owned)
    }

    /// The keys the state files may name the user by: its email, and its username
    /// with its domain ([`UserKey::username`], so an email-shaped username names the
    /// user as an email would). A user is declared once per key.
    pub fn identities(&self) -> impl Iterator<Item = UserKeyRef<'_>> {
        let by_email = self.email.as_deref().map(UserKeyRef::email);
        let by_username = self
            .username
            .as_deref()
            .map(|u| UserKeyRef::username(u, self.domain.as_deref().unwrap_or_default()));
        let same = by_email.is_some() && by_email == by_username;
        by_email.into_iter().chain(by_username.filter(|_| !same))
    }

    /// The identity as written, for messages: the username (with its domain when
    /// it is not an email address), otherwise the email.
    pub fn display_identity(&self) -> String {
        match (&self.username, &self.email) {
            (Some(username), _) if username.contains('@') => username.to_string(),
            (Some(username), _) => match &self.domain {
                Some(domain) => format!("{username} ({domain})"),
                None => username.to_string(),
            },
            (None, Some(email)) => email.to_string(),
            (None, None) => "(no identity)".to_owned(),
        }
    }
}

impl Limit {
    /// How many of `total` the limit allows: the count itself, or the percentage of
    /// `total` rounded down; `u64::MAX` when it is `off`. `None` for a percentage
    /// that validation would reject.
    pub fn allowance(&self, total: u64) -> Option<u64> {
        match self {
            Limit::Count(count) => Some(*count),
            Limit::Off(_) => Some(u64::MAX),
            Limit::Percent(text) => {
                let percent = parse_percent(text)?;
                // Rounded down, so "5%" of 10 users allows none rather than one.
                Some(((total as f64) * percent / 100.0).floor() as u64)
            }
        }
    }

    /// Reads a limit as written on the command line: `3`, `5%` or `off`.
    pub fn parse(text: &str) -> Option<Limit> {
        if text == "off" {
            return Some(Limit::Off(Off::Off));
        }
        if let Ok(count) = text.parse::<u64>() {
            return Some(Limit::Count(count));
        }
        parse_percent(text).map(|_| Limit::Percent(text.to_owned()))
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Count(count) => write!(f, "{count}"),
            Limit::Off(_) => f.write_str("off"),
            Limit::Percent(text) => f.write_str(text),
        }
    }
}

/// The number in a percentage written like `"5%"` or `"2.5%"`, when it lies in 0–100.
pub fn parse_percent(text: &str) -> Option<f64> {
    let number = text.strip_suffix('%')?;
    if number.is_empty()
        || !number.chars().all(|c| c.is_ascii_digit() || c == '.')
        || number.starts_with('.')
        || number.ends_with('.')
        || number.matches('.').count() > 1
    {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    (0.0..=100.0).contains(&value).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_and_its_memberships_stay_small() {
        // A large org's state holds one user and about two memberships per account,
        // twice while the files merge: text fields and `previously` are boxed, without
        // spare capacity.
        assert_eq!(size_of::<Option<Box<str>>>(), 16);
        assert_eq!(size_of::<UserSpec>(), 184);
        assert_eq!(size_of::<Membership>(), 40);
    }

    fn user(email: Option<&str>, username: Option<&str>, domain: Option<&str>) -> UserSpec {
        UserSpec {
            email: email.map(Into::into),
            username: username.map(Into::into),
            domain: domain.map(Into::into),
            ..UserSpec::default()
        }
    }

    #[test]
    fn the_identity_index_finds_each_key_of_each_user_and_the_first_of_a_shared_key() {
        let mut users: Vec<UserSpec> = (0..2_000)
            .map(|i| user(Some(&format!("u{i}@example.com")), None, None))
            .collect();
        users.push(user(
            Some("j@example.com"),
            Some("jdoe"),
            Some("Example.com"),
        ));
        users.push(user(Some("U7@example.com"), None, None));
        let index = IdentityIndex::of(users.iter());
        let find = |key: &str| {
            index.find(
                |index| &users[index],
                &UserKeyRef::from_reference(key).unwrap(),
            )
        };
        for i in 0..2_000 {
            assert_eq!(find(&format!("U{i}@Example.com")), Some(i));
        }
        assert_eq!(find("jdoe (example.com)"), Some(2_000));
        assert_eq!(find("j@example.com"), Some(2_000));
        // Declared twice (an error when loading): the first declaration is found.
        assert_eq!(find("u7@example.com"), Some(7));
        assert_eq!(find("nobody@example.com"), None);
        assert_eq!(find("jdoe (other.com)"), None);
        // The later of two users sharing a key, with the first.
        assert_eq!(index.duplicates(|index| &users[index]), vec![(2_001, 7)]);
    }

    proptest::proptest! {
        /// The index placed by range and sorted within each range is the users' keys
        /// sorted by hash, users in order within a hash, found where they are.
        #[test]
        fn the_identity_index_holds_every_key_sorted_by_hash_in_user_order(
            users in proptest::collection::vec(
                (0u8..30, proptest::option::of(0u8..8), proptest::bool::ANY, proptest::bool::ANY),
                0..300,
            )
        ) {
            let users: Vec<UserSpec> = users
                .iter()
                .map(|&(email, username, email_shaped, upper)| {
                    let email = format!("u{email}@Example.com");
                    let username = username.map(|u| match email_shaped {
                        true => format!("u{u}@example.com"),
                        false => format!("sam{u}"),
                    });
                    let email = if upper { email.to_uppercase() } else { email };
                    user(Some(&email), username.as_deref(), Some("example.com"))
                })
                .collect();
            let index = IdentityIndex::of(users.iter());
            let mut expected: Vec<(u64, usize)> = (users.iter().enumerate())
                .flat_map(|(at, user)| user.identities().map(move |key| (key_hash(&key), at)))
                .collect();
            expected.sort_by_key(|&(hash, _)| hash);
            proptest::prop_assert_eq!(&index.entries, &expected);
            proptest::prop_assert_eq!(index.starts.len(), (1 << index.bits) + 1);
            for (range, &start) in index.starts.iter().enumerate() {
                let before = expected.partition_point(|&(hash, _)| range_of(hash, index.bits) < range as u64);
                proptest::prop_assert_eq!(start as usize, before);
            }
            for (at, user) in users.iter().enumerate() {
                for key in user.identities() {
                    let first = users.iter().position(|other| other.identities().any(|own| own == key));
                    proptest::prop_assert_eq!(index.find(|i| &users[i], &key), first);
                    proptest::prop_assert!(first <= Some(at));
                }
            }
        }
    }
}

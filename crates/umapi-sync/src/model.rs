//! The desired state as written in the YAML state files.
//!
//! These types are the single source of `state-schema.json` (generated with
//! `schemars`); the loader fills them from one or more files and the planner reads them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
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
    pub email: Option<String>,
    /// Username, for Federated IDs whose username is not their email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Domain of the username (required with `username`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Identity type; defaults to `settings.default_type`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<IdentityTypeName>")]
    pub identity_type: Option<IdentityType>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Two upper-case letters; used on create only (UMAPI cannot change a country).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// User groups, product profiles and admin groups the user belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Earlier emails or usernames: the user is renamed instead of removed and re-created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previously: Vec<String>,
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
    pub name: String,
    /// Description (write-only: UMAPI cannot read it back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Members (emails or usernames); may also be declared on the users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// Product profiles the group grants to its members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
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

/// A safety limit: an absolute count (`3`) or a percentage of the current total (`"5%"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Limit {
    /// At most this many.
    Count(u64),
    /// At most this share, written like `"5%"` (the text is checked by validation).
    Percent(String),
}

/// Safety limits per destructive class; over a limit, nothing is sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Users removed from the org or deleted, of all users in the org.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_user_removals: Option<Limit>,
    /// Memberships removed, of all memberships in managed groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_membership_removals: Option<Limit>,
    /// User groups deleted, of all user groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_group_deletions: Option<Limit>,
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
    /// Where each user (by lower-cased identity) and group/profile (by lower-cased
    /// name) was declared, for messages that point at the YAML.
    pub origins: std::collections::BTreeMap<String, Location>,
}

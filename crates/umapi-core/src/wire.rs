//! The JSON of UMAPI requests and responses, shared by the client and the sandbox.
//!
//! Field names follow the wire exactly (`lastPage`, `groupName`, `requestID`, …).
//! Readers ignore unknown fields and treat missing ones as absent, as UMAPI omits
//! fields it has no value for.

use serde::{Deserialize, Serialize};

/// Identity type of a user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IdentityType {
    /// A personal Adobe ID, owned by the user.
    #[serde(rename = "adobeID")]
    AdobeId,
    /// An Enterprise ID, owned by the org, password managed by Adobe.
    #[serde(rename = "enterpriseID")]
    EnterpriseId,
    /// A Federated ID, owned by the org, signed in through the org's identity provider.
    #[serde(rename = "federatedID")]
    FederatedId,
    /// Any type this client does not know.
    #[serde(rename = "unknown", other)]
    Unknown,
}

impl IdentityType {
    /// The name used on the wire (`adobeID`, `enterpriseID`, `federatedID`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::AdobeId => "adobeID",
            IdentityType::EnterpriseId => "enterpriseID",
            IdentityType::FederatedId => "federatedID",
            IdentityType::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for IdentityType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IdentityType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "adobeID" => Ok(IdentityType::AdobeId),
            "enterpriseID" => Ok(IdentityType::EnterpriseId),
            "federatedID" => Ok(IdentityType::FederatedId),
            other => Err(format!(
                "unknown identity type `{other}` (expected adobeID, enterpriseID or federatedID)"
            )),
        }
    }
}

/// A user as the user queries return it.
///
/// It is written as its [`UserRef`], so that a user's wire form is defined once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct User {
    /// Adobe's opaque user id.
    #[serde(default)]
    pub id: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Sign-in name (equal to the email for most accounts).
    #[serde(default)]
    pub username: Option<String>,
    /// Domain of the username.
    #[serde(default)]
    pub domain: Option<String>,
    /// First name.
    #[serde(default)]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default)]
    pub lastname: Option<String>,
    /// Two-letter country code.
    #[serde(default)]
    pub country: Option<String>,
    /// Identity type.
    #[serde(default, rename = "type")]
    pub identity_type: Option<IdentityType>,
    /// Account status (`active`, …).
    #[serde(default)]
    pub status: Option<String>,
    /// User groups, product profiles and admin groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A [`User`] as borrowed fields, for a server writing a page of users without copying
/// each one: it serializes exactly as the `User` with the same values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserRef<'a> {
    /// Adobe's opaque user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'a str>,
    /// Sign-in name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<&'a str>,
    /// Domain of the username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firstname: Option<&'a str>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastname: Option<&'a str>,
    /// Two-letter country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<&'a str>,
    /// Identity type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<IdentityType>,
    /// Account status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'a str>,
    /// Groups: borrowed, or built for this response (with inherited profiles).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub groups: std::borrow::Cow<'a, [String]>,
}

impl Serialize for User {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.borrowed().serialize(serializer)
    }
}

impl User {
    /// The user as borrowed fields.
    pub fn borrowed(&self) -> UserRef<'_> {
        UserRef {
            id: self.id.as_deref(),
            email: self.email.as_deref(),
            username: self.username.as_deref(),
            domain: self.domain.as_deref(),
            firstname: self.firstname.as_deref(),
            lastname: self.lastname.as_deref(),
            country: self.country.as_deref(),
            identity_type: self.identity_type,
            status: self.status.as_deref(),
            groups: std::borrow::Cow::Borrowed(&self.groups),
        }
    }
}

impl UserRef<'_> {
    /// The user with its own copies of the fields.
    pub fn to_user(&self) -> User {
        User {
            id: self.id.map(str::to_owned),
            email: self.email.map(str::to_owned),
            username: self.username.map(str::to_owned),
            domain: self.domain.map(str::to_owned),
            firstname: self.firstname.map(str::to_owned),
            lastname: self.lastname.map(str::to_owned),
            country: self.country.map(str::to_owned),
            identity_type: self.identity_type,
            status: self.status.map(str::to_owned),
            groups: self.groups.to_vec(),
        }
    }
}

/// Kind of a group as the groups query reports it (`type`), with Adobe's names.
///
/// A type this client does not know is kept, with its name, as [`GroupType::Unknown`];
/// such groups are read but never managed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupType {
    /// `USER_GROUP`: a user group, managed through `usergroup` actions.
    UserGroup,
    /// `PRODUCT_PROFILE`: a product profile (product configuration).
    ProductProfile,
    /// `SYSADMIN_GROUP`: the system administrators (`_org_admin`).
    SysadminGroup,
    /// `DEPLOYMENT_ADMIN_GROUP`: the deployment administrators (`_deployment_admin`).
    DeploymentAdminGroup,
    /// `SUPPORT_ADMIN_GROUP`: the support administrators (`_support_admin`).
    SupportAdminGroup,
    /// `PRODUCT_ADMIN_GROUP`: administrators of a product (`_product_admin_<product>`).
    ProductAdminGroup,
    /// `PROFILE_ADMIN_GROUP`: administrators of a product profile (`_admin_<profile>`).
    ProfileAdminGroup,
    /// `USER_ADMIN_GROUP`: administrators of a user group (`_admin_<group>`).
    UserAdminGroup,
    /// `DEVELOPER_GROUP`: developers of a product profile (`_developer_<profile>`).
    DeveloperGroup,
    /// Any other type, with the name UMAPI gave it.
    Unknown(String),
}

impl GroupType {
    /// Adobe's name of the type (`USER_GROUP`, …).
    pub fn as_str(&self) -> &str {
        match self {
            GroupType::UserGroup => "USER_GROUP",
            GroupType::ProductProfile => "PRODUCT_PROFILE",
            GroupType::SysadminGroup => "SYSADMIN_GROUP",
            GroupType::DeploymentAdminGroup => "DEPLOYMENT_ADMIN_GROUP",
            GroupType::SupportAdminGroup => "SUPPORT_ADMIN_GROUP",
            GroupType::ProductAdminGroup => "PRODUCT_ADMIN_GROUP",
            GroupType::ProfileAdminGroup => "PROFILE_ADMIN_GROUP",
            GroupType::UserAdminGroup => "USER_ADMIN_GROUP",
            GroupType::DeveloperGroup => "DEVELOPER_GROUP",
            GroupType::Unknown(name) => name,
        }
    }

    /// The type named `name` (Adobe's names; anything else is [`GroupType::Unknown`]).
    pub fn from_name(name: &str) -> GroupType {
        match name {
            "USER_GROUP" => GroupType::UserGroup,
            "PRODUCT_PROFILE" => GroupType::ProductProfile,
            "SYSADMIN_GROUP" => GroupType::SysadminGroup,
            "DEPLOYMENT_ADMIN_GROUP" => GroupType::DeploymentAdminGroup,
            "SUPPORT_ADMIN_GROUP" => GroupType::SupportAdminGroup,
            "PRODUCT_ADMIN_GROUP" => GroupType::ProductAdminGroup,
            "PROFILE_ADMIN_GROUP" => GroupType::ProfileAdminGroup,
            "USER_ADMIN_GROUP" => GroupType::UserAdminGroup,
            "DEVELOPER_GROUP" => GroupType::DeveloperGroup,
            other => GroupType::Unknown(other.to_string()),
        }
    }

    /// Whether this is one of Adobe's admin or developer group types.
    pub fn is_admin(&self) -> bool {
        !matches!(
            self,
            GroupType::UserGroup | GroupType::ProductProfile | GroupType::Unknown(_)
        )
    }
}

impl std::fmt::Display for GroupType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GroupType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GroupType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(GroupType::from_name(&name))
    }
}

/// A user group, product profile or admin group as the groups query returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Adobe's numeric group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
    /// Name of the group.
    pub group_name: String,
    /// Kind of group.
    #[serde(rename = "type")]
    pub group_type: GroupType,
    /// Number of members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u64>,
    /// Name of the admin group that administers this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_group_name: Option<String>,
    /// For `USER_ADMIN_GROUP`: the user group it grants admin rights over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_group_name: Option<String>,
    /// For `PROFILE_ADMIN_GROUP` (and Adobe's `PRODUCT_ADMIN_GROUP`/`DEVELOPER_GROUP`
    /// examples): the product profile or product it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_profile_name: Option<String>,
    /// For product profiles: the product's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// For product profiles: the licence quota, as a string (`"UNLIMITED"`, `"100"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_quota: Option<String>,
}

/// One page of `GET /users/{orgId}/{page}[/{group}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersPage {
    /// `success`.
    pub result: String,
    /// True on the last page.
    #[serde(default)]
    pub last_page: bool,
    /// The users of this page.
    #[serde(default)]
    pub users: Vec<User>,
}

/// One page of `GET /groups/{orgId}/{page}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupsPage {
    /// `success`.
    pub result: String,
    /// True on the last page.
    #[serde(default)]
    pub last_page: bool,
    /// The groups of this page.
    #[serde(default)]
    pub groups: Vec<Group>,
}

/// Body of `GET /organizations/{orgId}/users/{user}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResponse {
    /// `success`.
    pub result: String,
    /// The user.
    pub user: User,
}

/// What to do when the object to create already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IfAlreadyExists {
    /// Skip the create step silently; the following steps still run.
    #[serde(rename = "ignoreIfAlreadyExists")]
    Ignore,
    /// Update the existing object with the given fields.
    #[serde(rename = "updateIfAlreadyExists")]
    Update,
}

/// Fields of a user create step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUser {
    /// Email address (required).
    pub email: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Two-letter country code (required for Federated IDs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Conflict handling; absent means "error if it exists".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<IfAlreadyExists>,
}

/// Fields of a user update step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUser {
    /// New email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// New first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// New last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Country: UMAPI refuses to change it (`error.update.country.no_update`); kept
    /// so that such a request can be expressed and its error observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The literal string `"all"`, as in `{"remove": "all"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct All;

impl Serialize for All {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("all")
    }
}

impl<'de> Deserialize<'de> for All {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "all" {
            Ok(All)
        } else {
            Err(serde::de::Error::custom(format!(
                "expected \"all\", found {s:?}"
            )))
        }
    }
}

/// Target list of a user's `add`/`remove` step: `{"group": [...]}` or `"all"`.
///
/// Older clients name the list `product` or `usergroup`; they are read as `group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GroupList {
    /// Every group the user is in.
    All(All),
    /// The named groups.
    Groups {
        /// Group, profile or admin-group names (at most 10 per step).
        #[serde(alias = "product", alias = "usergroup", alias = "productConfiguration")]
        group: Vec<String>,
    },
}

/// Fields of `removeFromOrg`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveFromOrg {
    /// Also delete the account (only for accounts of a domain the org owns).
    #[serde(default)]
    pub delete_account: bool,
}

/// One step (command) of a user entry; each serialises as a one-key object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserStep {
    /// Create a Federated ID.
    #[serde(rename = "createFederatedID")]
    CreateFederatedId(CreateUser),
    /// Create an Enterprise ID.
    #[serde(rename = "createEnterpriseID")]
    CreateEnterpriseId(CreateUser),
    /// Add an Adobe ID to the org.
    #[serde(rename = "addAdobeID")]
    AddAdobeId(CreateUser),
    /// Update user fields.
    #[serde(rename = "update")]
    Update(UpdateUser),
    /// Add to groups or profiles.
    #[serde(rename = "add")]
    Add(GroupList),
    /// Remove from groups or profiles (or all).
    #[serde(rename = "remove")]
    Remove(GroupList),
    /// Remove from the org, optionally deleting the account; always the last step.
    #[serde(rename = "removeFromOrg")]
    RemoveFromOrg(RemoveFromOrg),
}

/// Fields of `createUserGroup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUserGroup {
    /// Name (defaults to the entry's `usergroup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Conflict handling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<IfAlreadyExists>,
}

/// Fields of `updateUserGroup`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUserGroup {
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An empty object, `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Target list of a user group's `add`/`remove` step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserGroupTargets {
    /// Every product profile (`"all"`).
    All(All),
    /// Members (emails or usernames).
    Users {
        /// At most 10 per step.
        user: Vec<String>,
    },
    /// Product profiles linked to the group.
    Profiles {
        /// At most 10 per step.
        #[serde(rename = "productConfiguration")]
        product_configuration: Vec<String>,
    },
}

/// One step of a user-group entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserGroupStep {
    /// Create the group.
    #[serde(rename = "createUserGroup")]
    Create(CreateUserGroup),
    /// Rename or re-describe the group.
    #[serde(rename = "updateUserGroup")]
    Update(UpdateUserGroup),
    /// Delete the group.
    #[serde(rename = "deleteUserGroup")]
    Delete(Empty),
    /// Add members or profiles.
    #[serde(rename = "add")]
    Add(UserGroupTargets),
    /// Remove members or profiles.
    #[serde(rename = "remove")]
    Remove(UserGroupTargets),
}

/// A user entry of an action request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    /// The user's email; or, for a Federated ID whose username is not an email, its
    /// username (with `domain`). An email-shaped value is always read as an email.
    pub user: String,
    /// Domain, for usernames that are not emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `true`: `user` names the Adobe ID even when an Enterprise or Federated ID has the
    /// same email (without it, UMAPI picks the org-owned account).
    #[serde(
        default,
        rename = "useAdobeID",
        skip_serializing_if = "Option::is_none"
    )]
    pub use_adobe_id: Option<bool>,
    /// Caller's id for the entry, echoed in errors.
    #[serde(default, rename = "requestID", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The steps, run in order.
    #[serde(rename = "do")]
    pub steps: Vec<UserStep>,
}

/// A user-group entry of an action request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGroupEntry {
    /// The user group's name.
    pub usergroup: String,
    /// Caller's id for the entry, echoed in errors.
    #[serde(default, rename = "requestID", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The steps, run in order.
    #[serde(rename = "do")]
    pub steps: Vec<UserGroupStep>,
}

/// One entry of the JSON array POSTed to `/action/{orgId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Entry {
    /// Acts on a user.
    User(UserEntry),
    /// Acts on a user group.
    UserGroup(UserGroupEntry),
}

/// One failed step in an action response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionError {
    /// 0-based position of the entry in the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// 0-based position of the step in the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The entry's `requestID`, if it had one.
    #[serde(default, rename = "requestID", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The user of a user entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The group of a user-group entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usergroup: Option<String>,
    /// Machine-readable code, e.g. `error.user.nonexistent`.
    pub error_code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
}

/// Body of the action endpoint's response (HTTP 200 even when steps failed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResponse {
    /// Entries that completed.
    #[serde(default)]
    pub completed: usize,
    /// Entries with at least one failed step.
    #[serde(default)]
    pub not_completed: usize,
    /// Entries that validated in test mode.
    #[serde(default)]
    pub completed_in_test_mode: usize,
    /// `success`, `partial`, `error`, or a request-level error code.
    pub result: String,
    /// Failed steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ActionError>,
    /// Warnings, passed through as they come.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_borrowed_user_serialises_as_the_user_and_copies_back() {
        let full = User {
            id: Some("1".into()),
            email: Some("ada@example.com".into()),
            username: Some("ada".into()),
            domain: Some("example.com".into()),
            firstname: Some("Ada".into()),
            lastname: Some("Lovelace".into()),
            country: Some("GB".into()),
            identity_type: Some(IdentityType::FederatedId),
            status: Some("active".into()),
            groups: vec!["Engineering".into(), "Default Photoshop".into()],
        };
        let sparse = User {
            email: Some("bob@example.com".into()),
            ..Default::default()
        };
        for user in [full, sparse] {
            let json = serde_json::to_string(&user.borrowed()).unwrap();
            assert_eq!(serde_json::to_string(&user).unwrap(), json);
            // What is written reads back as the same user.
            assert_eq!(serde_json::from_str::<User>(&json).unwrap(), user);
            assert_eq!(user.borrowed().to_user(), user);
        }
    }

    #[test]
    fn user_entry_serialises_to_the_documented_shape() {
        let entry = Entry::User(UserEntry {
            user: "ada@example.com".into(),
            domain: None,
            use_adobe_id: None,
            request_id: None,
            steps: vec![
                UserStep::CreateFederatedId(CreateUser {
                    email: "ada@example.com".into(),
                    country: Some("GB".into()),
                    ..Default::default()
                }),
                UserStep::Add(GroupList::Groups {
                    group: vec!["Engineering".into()],
                }),
                UserStep::Remove(GroupList::All(All)),
            ],
        });
        assert_eq!(
            serde_json::to_value(&entry).unwrap(),
            json!({"user": "ada@example.com", "do": [
                {"createFederatedID": {"email": "ada@example.com", "country": "GB"}},
                {"add": {"group": ["Engineering"]}},
                {"remove": "all"}
            ]})
        );
    }

    #[test]
    fn group_entry_round_trips() {
        let raw = json!({"usergroup": "Eng", "requestID": "r1", "do": [
            {"createUserGroup": {"description": "d", "option": "ignoreIfAlreadyExists"}},
            {"add": {"user": ["a@x.com"]}},
            {"remove": {"productConfiguration": ["P1"]}},
            {"deleteUserGroup": {}}
        ]});
        let entry: Entry = serde_json::from_value(raw.clone()).unwrap();
        assert!(matches!(entry, Entry::UserGroup(_)));
        assert_eq!(serde_json::to_value(&entry).unwrap(), raw);
    }

    #[test]
    fn legacy_list_names_are_read_as_group() {
        let step: UserStep = serde_json::from_value(json!({"add": {"product": ["P"]}})).unwrap();
        assert_eq!(
            step,
            UserStep::Add(GroupList::Groups {
                group: vec!["P".into()]
            })
        );
    }

    #[test]
    fn unknown_fields_and_types_are_tolerated() {
        let user: User = serde_json::from_value(json!({
            "email": "a@x.com", "type": "somethingNew", "tags": ["x"], "groups": ["G"]
        }))
        .unwrap();
        assert_eq!(user.identity_type, Some(IdentityType::Unknown));
        let group: Group =
            serde_json::from_value(json!({"groupName": "G", "type": "NEW_KIND", "memberCount": 3}))
                .unwrap();
        assert_eq!(group.group_type, GroupType::Unknown("NEW_KIND".into()));
        // kept as it came, so that writing it back does not invent a type
        assert_eq!(serde_json::to_value(&group).unwrap()["type"], "NEW_KIND");
        assert!(!group.group_type.is_admin());
    }

    #[test]
    fn group_types_are_adobes() {
        // group.md: "__type:__ _string_; The group type. One of: USER_GROUP,
        // PRODUCT_PROFILE, SYSADMIN_GROUP, DEPLOYMENT_ADMIN_GROUP, SUPPORT_ADMIN_GROUP,
        // PRODUCT_ADMIN_GROUP, PROFILE_ADMIN_GROUP, USER_ADMIN_GROUP, DEVELOPER_GROUP"
        let names = [
            "USER_GROUP",
            "PRODUCT_PROFILE",
            "SYSADMIN_GROUP",
            "DEPLOYMENT_ADMIN_GROUP",
            "SUPPORT_ADMIN_GROUP",
            "PRODUCT_ADMIN_GROUP",
            "PROFILE_ADMIN_GROUP",
            "USER_ADMIN_GROUP",
            "DEVELOPER_GROUP",
        ];
        for name in names {
            let t: GroupType = serde_json::from_value(json!(name)).unwrap();
            assert!(!matches!(t, GroupType::Unknown(_)), "{name}");
            assert_eq!(serde_json::to_value(&t).unwrap(), json!(name));
        }
    }

    #[test]
    fn admin_groups_name_what_they_administer() {
        // group.md: "The following field is returned for groups of type
        // `USER_ADMIN_GROUP`: userGroupName" and "for groups of type
        // `PROFILE_ADMIN_GROUP`: productProfileName".
        let groups: Vec<Group> = serde_json::from_value(json!([
            {"type": "USER_ADMIN_GROUP", "groupName": "_admin_Eng", "memberCount": 1,
             "userGroupName": "Eng"},
            {"type": "PROFILE_ADMIN_GROUP", "groupName": "_admin_All Apps", "memberCount": 0,
             "productProfileName": "All Apps"}
        ]))
        .unwrap();
        assert_eq!(groups[0].group_type, GroupType::UserAdminGroup);
        assert_eq!(groups[0].user_group_name.as_deref(), Some("Eng"));
        assert_eq!(groups[1].group_type, GroupType::ProfileAdminGroup);
        assert_eq!(groups[1].product_profile_name.as_deref(), Some("All Apps"));
    }
}

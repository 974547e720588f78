//! User and user-group actions: what to do to one target, checked on the client side
//! and turned into the wire entries of the action endpoint.
//!
//! An action collects commands (steps) in the order they are given, except that a
//! create is always sent first and a removal from the org always last. When sent,
//! lists longer than the API allows are split into more steps and step lists longer
//! than the API allows into more entries for the same target ([`Action::entries`]).
//! Clones of an action share one record of execution errors, so errors the executor
//! maps back from the server are visible on every handle the caller kept.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::wire::{
    self, All, CreateUser, CreateUserGroup, Empty, Entry, GroupList, IdentityType, IfAlreadyExists,
    RemoveFromOrg, UpdateUser, UpdateUserGroup, UserEntry, UserGroupEntry, UserGroupStep,
    UserGroupTargets, UserStep,
};

use crate::protocol::{self, Violation};
pub use crate::protocol::{
    MAX_ENTRIES_PER_REQUEST, MAX_NAMES_PER_LIST as MAX_NAMES_PER_STEP, MAX_STEPS_PER_ENTRY,
};

/// One failed command, as the server reported it, mapped back to the action it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionError {
    /// The user or user group the command was for.
    pub target: String,
    /// The command that failed; `None` when the whole request failed (then every
    /// action in it carries the error) or the server did not say which step.
    pub command: Option<Command>,
    /// The entry's `requestID`, when it had one.
    pub request_id: Option<String>,
    /// The server's error code (`error.user.nonexistent`, …), or for a request that
    /// failed as a whole the code or status it failed with.
    pub error_code: String,
    /// The server's message.
    pub message: String,
}

impl std::fmt::Display for ExecutionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.target, self.error_code)?;
        if !self.message.is_empty() {
            write!(f, " ({})", self.message)?;
        }
        if let Some(command) = &self.command {
            let json = match command {
                Command::User(step) => serde_json::to_string(step),
                Command::UserGroup(step) => serde_json::to_string(step),
            };
            if let Ok(json) = json {
                write!(f, " in command {json}")?;
            }
        }
        Ok(())
    }
}

/// A command of either kind of action, as it went on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Command {
    /// A step of a user entry.
    User(UserStep),
    /// A step of a user-group entry.
    UserGroup(UserGroupStep),
}

/// Execution errors shared between the clones of one action.
#[derive(Debug, Clone, Default)]
pub(crate) struct ErrorRecord(Arc<Mutex<Vec<ExecutionError>>>);

impl ErrorRecord {
    pub(crate) fn push(&self, error: ExecutionError) {
        self.lock().push(error);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn snapshot(&self) -> Vec<ExecutionError> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ExecutionError>> {
        // A poisoned lock only means another thread panicked while pushing; the
        // list itself is still a valid list.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Fields of a user create (`UserAction::create`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// Email; required unless the action was made with one.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Two upper-case letters; required for Federated IDs.
    pub country: Option<String>,
    /// What to do if the user exists; `None` makes an existing user an error.
    ///
    /// Requests that time out are retried, so a create whose first try did reach the
    /// server fails its retry with `error.user.already_exists` unless this is set;
    /// Adobe's Python client therefore defaults to [`IfAlreadyExists::Ignore`].
    pub on_conflict: Option<IfAlreadyExists>,
}

/// Fields of a user update (`UserAction::update`); at least one must be set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateOptions {
    /// New email.
    pub email: Option<String>,
    /// New username (not for Adobe IDs).
    pub username: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// Country: UMAPI never changes a country, so setting it is an error. It is here
    /// so that a caller porting Python code gets a clear message instead of silence.
    pub country: Option<String>,
}

/// Which groups a user leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSelection {
    /// The named user groups, product profiles or admin groups.
    Some(Vec<String>),
    /// Every group the user is in.
    All,
}

/// Which product profiles a user group gains or loses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSelection {
    /// The named product profiles.
    Some(Vec<String>),
    /// Every product profile (`"all"`).
    All,
}

fn argument(message: impl Into<String>) -> Error {
    Error::Argument(message.into())
}

fn rule(result: Result<(), Violation>) -> Result<(), Error> {
    result.map_err(|v| argument(v.message))
}

fn check_email(email: &str) -> Result<(), Error> {
    rule(protocol::check_email(email))
}

fn check_domain(domain: &str) -> Result<(), Error> {
    rule(protocol::check_domain(domain))
}

fn check_username(username: &str) -> Result<(), Error> {
    rule(protocol::check_username(username))
}

fn check_person_name(what: &str, value: &str) -> Result<(), Error> {
    rule(protocol::check_person_name(what, value))
}

fn check_country(country: &str) -> Result<(), Error> {
    rule(protocol::check_country(country))
}

fn check_group_name(name: &str) -> Result<(), Error> {
    rule(protocol::check_group_name(name))
}

fn check_user_group_name(name: &str) -> Result<(), Error> {
    rule(protocol::check_user_group_name(name))
}

fn collect_names<I, S>(names: I, what: &str) -> Result<Vec<String>, Error>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let names: Vec<String> = names.into_iter().map(Into::into).collect();
    if names.is_empty() {
        return Err(argument(format!("the list of {what} must not be empty")));
    }
    Ok(names)
}

fn check_not_org_admin(groups: &[String]) -> Result<(), Error> {
    rule(protocol::check_not_reserved(groups))
}

/// Splits a step list into chunks of at most [`MAX_STEPS_PER_ENTRY`], so that one
/// target's steps become several entries in order.
fn chunk_steps<T: Clone>(steps: &[T]) -> Vec<Vec<T>> {
    steps
        .chunks(MAX_STEPS_PER_ENTRY)
        .map(<[T]>::to_vec)
        .collect()
}

/// The commands for one user: who (identity) and what (steps).
///
/// Made with [`UserAction::with_email`] or [`UserAction::with_username`]. A problem
/// with the identity (an email without `@`, …) is reported by the first method
/// called on the action, so that construction reads like the Python client's.
/// Clones share the record of execution errors.
#[derive(Debug, Clone)]
pub struct UserAction {
    id_type: IdentityType,
    email: Option<String>,
    username: Option<String>,
    domain: Option<String>,
    request_id: Option<String>,
    identity_error: Option<String>,
    create: Option<UserStep>,
    steps: Vec<UserStep>,
    remove_from_org: Option<UserStep>,
    errors: ErrorRecord,
}

impl UserAction {
    /// A user identified by email (the usual case for every identity type).
    pub fn with_email(id_type: IdentityType, email: impl Into<String>) -> Self {
        let email = email.into();
        let identity_error = match check_email(&email) {
            Err(Error::Argument(m)) => Some(m),
            _ if id_type == IdentityType::Unknown => {
                Some("the identity type must be adobeID, enterpriseID or federatedID".to_owned())
            }
            _ => None,
        };
        Self::new(id_type, Some(email), None, None, identity_error)
    }

    /// A user identified by username and domain (Federated IDs whose username is not an
    /// email). Adobe IDs, and usernames that are email addresses, cannot be named this way:
    /// UMAPI identifies those users by email only.
    pub fn with_username(
        id_type: IdentityType,
        username: impl Into<String>,
        domain: impl Into<String>,
    ) -> Self {
        let username = username.into();
        let domain = domain.into();
        let identity_error = if id_type == IdentityType::AdobeId {
            Some(format!(
                "an Adobe ID is identified by its email, not by username `{username}`; use UserAction::with_email"
            ))
        } else if id_type == IdentityType::Unknown {
            Some("the identity type must be adobeID, enterpriseID or federatedID".to_owned())
        } else if protocol::is_email_shaped(&username) {
            // UMAPI reads an email-shaped `user` as an email: sending this username would
            // name whichever account has it as its email.
            Some(format!(
                "username `{username}` is an email address, and UMAPI never identifies a user by such a username; use UserAction::with_email with the user's email"
            ))
        } else {
            check_username(&username)
                .and_then(|()| check_domain(&domain))
                .err()
                .map(|e| e.to_string())
        };
        Self::new(id_type, None, Some(username), Some(domain), identity_error)
    }

    fn new(
        id_type: IdentityType,
        email: Option<String>,
        username: Option<String>,
        domain: Option<String>,
        identity_error: Option<String>,
    ) -> Self {
        Self {
            id_type,
            email,
            username,
            domain,
            request_id: None,
            identity_error,
            create: None,
            steps: Vec::new(),
            remove_from_org: None,
            errors: ErrorRecord::default(),
        }
    }

    /// Remembers the user's email for a later create, when the user is identified by
    /// username (`UserAction::with_username(..).and_email(..)`).
    pub fn and_email(mut self, email: impl Into<String>) -> Self {
        let email = email.into();
        if self.identity_error.is_none()
            && let Err(e) = check_email(&email)
        {
            self.identity_error = Some(e.to_string());
        }
        self.email = Some(email);
        self
    }

    /// Sets the `requestID` sent with this action's entries; the server echoes it in errors.
    pub fn set_request_id(&mut self, request_id: impl Into<String>) -> &mut Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The identity type.
    pub fn identity_type(&self) -> IdentityType {
        self.id_type
    }

    /// The user as the wire names it: the username for username-identified users, else the email.
    pub fn target(&self) -> &str {
        self.username
            .as_deref()
            .or(self.email.as_deref())
            .unwrap_or_default()
    }

    fn ready(&self) -> Result<(), Error> {
        match &self.identity_error {
            Some(message) => Err(argument(message.clone())),
            None => Ok(()),
        }
    }

    /// Creates the user (`createFederatedID`, `createEnterpriseID` or `addAdobeID`),
    /// always sent as the first step.
    pub fn create(&mut self, options: CreateOptions) -> Result<&mut Self, Error> {
        self.ready()?;
        if self.create.is_some() {
            return Err(argument(format!(
                "create was already called for user `{}`; an action creates a user at most once",
                self.target()
            )));
        }
        let email = match (&self.email, options.email) {
            (Some(known), Some(given)) if !known.eq_ignore_ascii_case(&given) => {
                return Err(argument(format!(
                    "create for `{}` names email `{given}` but the action was made with email `{known}`",
                    self.target()
                )));
            }
            (Some(known), _) => known.clone(),
            (None, Some(given)) => {
                check_email(&given)?;
                self.email = Some(given.clone());
                given
            }
            (None, None) => {
                return Err(argument(format!(
                    "creating user `{}` needs an email: pass CreateOptions {{ email: Some(..), .. }}",
                    self.target()
                )));
            }
        };
        if let Some(first) = &options.first_name {
            check_person_name("first name", first)?;
        }
        if let Some(last) = &options.last_name {
            check_person_name("last name", last)?;
        }
        if let Some(country) = &options.country {
            check_country(country)?;
        }
        let fields = CreateUser {
            email,
            firstname: options.first_name,
            lastname: options.last_name,
            country: options.country,
            option: options.on_conflict,
        };
        let step = match self.id_type {
            IdentityType::AdobeId => UserStep::AddAdobeId(fields),
            IdentityType::EnterpriseId => UserStep::CreateEnterpriseId(fields),
            IdentityType::FederatedId => {
                if fields.country.is_none() {
                    return Err(argument(format!(
                        "creating Federated ID `{}` needs a country (two upper-case letters, e.g. `US`)",
                        self.target()
                    )));
                }
                UserStep::CreateFederatedId(fields)
            }
            IdentityType::Unknown => unreachable!("rejected by ready()"),
        };
        self.create = Some(step);
        Ok(self)
    }

    /// Updates the user's email, username, first or last name (not for Adobe IDs;
    /// never the country).
    pub fn update(&mut self, options: UpdateOptions) -> Result<&mut Self, Error> {
        self.ready()?;
        if self.id_type == IdentityType::AdobeId {
            return Err(argument(format!(
                "Adobe ID `{}` belongs to its owner and cannot be updated",
                self.target()
            )));
        }
        if let Some(country) = &options.country {
            return Err(argument(format!(
                "the country of `{}` cannot be changed to `{country}`: UMAPI never updates a country",
                self.target()
            )));
        }
        if options.email.is_none()
            && options.username.is_none()
            && options.first_name.is_none()
            && options.last_name.is_none()
        {
            return Err(argument(format!(
                "update for `{}` changes nothing: set at least one of email, username, first_name, last_name",
                self.target()
            )));
        }
        if let Some(email) = &options.email {
            check_email(email)?;
        }
        if let Some(username) = &options.username {
            check_username(username)?;
        }
        if let Some(first) = &options.first_name {
            check_person_name("first name", first)?;
        }
        if let Some(last) = &options.last_name {
            check_person_name("last name", last)?;
        }
        self.steps.push(UserStep::Update(UpdateUser {
            email: options.email,
            username: options.username,
            firstname: options.first_name,
            lastname: options.last_name,
            country: None,
        }));
        Ok(self)
    }

    /// Adds the user to user groups, product profiles or admin groups.
    pub fn add_to_groups<I, S>(&mut self, groups: I) -> Result<&mut Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ready()?;
        let groups = collect_names(groups, "groups to add the user to")?;
        for group in &groups {
            check_group_name(group)?;
        }
        check_not_org_admin(&groups)?;
        self.steps
            .extend(groups.chunks(MAX_NAMES_PER_STEP).map(|chunk| {
                UserStep::Add(GroupList::Groups {
                    group: chunk.to_vec(),
                })
            }));
        Ok(self)
    }

    /// Removes the user from the named groups, or from all of them.
    pub fn remove_from_groups(&mut self, groups: GroupSelection) -> Result<&mut Self, Error> {
        self.ready()?;
        match groups {
            GroupSelection::All => self.steps.push(UserStep::Remove(GroupList::All(All))),
            GroupSelection::Some(groups) => {
                let groups = collect_names(groups, "groups to remove the user from")?;
                for group in &groups {
                    check_group_name(group)?;
                }
                check_not_org_admin(&groups)?;
                self.steps
                    .extend(groups.chunks(MAX_NAMES_PER_STEP).map(|chunk| {
                        UserStep::Remove(GroupList::Groups {
                            group: chunk.to_vec(),
                        })
                    }));
            }
        }
        Ok(self)
    }

    /// Removes the user from the org; with `delete_account` also deletes the account
    /// (only for accounts in a domain the org owns). Always sent as the last step.
    pub fn remove_from_organization(&mut self, delete_account: bool) -> Result<&mut Self, Error> {
        self.ready()?;
        self.remove_from_org = Some(UserStep::RemoveFromOrg(RemoveFromOrg { delete_account }));
        Ok(self)
    }

    /// All steps in the order they are sent: create first, removal from the org last.
    pub fn steps(&self) -> Vec<UserStep> {
        self.create
            .iter()
            .chain(self.steps.iter())
            .chain(self.remove_from_org.iter())
            .cloned()
            .collect()
    }

    /// The wire entries of this action: one per [`MAX_STEPS_PER_ENTRY`] steps, all for
    /// the same user. An action with no steps has no entries.
    pub fn entries(&self) -> Vec<Entry> {
        let (user, domain) = match (&self.username, &self.domain) {
            (Some(username), Some(domain)) if !protocol::is_email_shaped(username) => {
                (username.clone(), Some(domain.clone()))
            }
            _ => (self.email.clone().unwrap_or_default(), None),
        };
        chunk_steps(&self.steps())
            .into_iter()
            .map(|steps| {
                Entry::User(UserEntry {
                    user: user.clone(),
                    domain: domain.clone(),
                    // When an Adobe ID and an org-owned account share an email, UMAPI acts
                    // on the org-owned one unless told otherwise.
                    use_adobe_id: (self.id_type == IdentityType::AdobeId).then_some(true),
                    request_id: self.request_id.clone(),
                    steps,
                })
            })
            .collect()
    }

    /// The commands of this action that failed on the server, with the server's reasons.
    pub fn execution_errors(&self) -> Vec<ExecutionError> {
        self.errors.snapshot()
    }
}

/// The commands for one user group.
///
/// Clones share the record of execution errors.
#[derive(Debug, Clone)]
pub struct UserGroupAction {
    name: String,
    request_id: Option<String>,
    create: Option<UserGroupStep>,
    steps: Vec<UserGroupStep>,
    errors: ErrorRecord,
}

impl UserGroupAction {
    /// An action on the group `name` (at most 255 characters).
    ///
    /// Names starting with `_` are Adobe's admin groups: their members can be managed
    /// with a group action, but they cannot be created or renamed (checked by
    /// [`UserGroupAction::create`] and [`UserGroupAction::update`]).
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        check_group_name(&name)?;
        Ok(Self {
            name,
            request_id: None,
            create: None,
            steps: Vec::new(),
            errors: ErrorRecord::default(),
        })
    }

    /// Sets the `requestID` sent with this action's entries; the server echoes it in errors.
    pub fn set_request_id(&mut self, request_id: impl Into<String>) -> &mut Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The group's name.
    pub fn target(&self) -> &str {
        &self.name
    }

    /// Creates the group, always sent as the first step. `option` says what to do if
    /// it exists (the Python client's default is [`IfAlreadyExists::Ignore`]).
    pub fn create(
        &mut self,
        description: Option<String>,
        option: IfAlreadyExists,
    ) -> Result<&mut Self, Error> {
        if self.create.is_some() {
            return Err(argument(format!(
                "create was already called for user group `{}`",
                self.name
            )));
        }
        check_user_group_name(&self.name)?;
        self.create = Some(UserGroupStep::Create(CreateUserGroup {
            // The entry's `usergroup` names the group to create.
            name: None,
            description,
            option: Some(option),
        }));
        Ok(self)
    }

    /// Renames the group and/or changes its description; at least one must be given.
    pub fn update(
        &mut self,
        name: Option<String>,
        description: Option<String>,
    ) -> Result<&mut Self, Error> {
        if name.is_none() && description.is_none() {
            return Err(argument(format!(
                "update for user group `{}` changes nothing: give a new name, a new description or both",
                self.name
            )));
        }
        if let Some(name) = &name {
            check_user_group_name(name)?;
        }
        self.steps
            .push(UserGroupStep::Update(UpdateUserGroup { name, description }));
        Ok(self)
    }

    /// Deletes the group.
    pub fn delete(&mut self) -> Result<&mut Self, Error> {
        self.steps.push(UserGroupStep::Delete(Empty {}));
        Ok(self)
    }

    /// Adds users (emails or usernames) to the group.
    pub fn add_users<I, S>(&mut self, users: I) -> Result<&mut Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let users = self.checked_users(users, "users to add")?;
        self.steps
            .extend(users.chunks(MAX_NAMES_PER_STEP).map(|chunk| {
                UserGroupStep::Add(UserGroupTargets::Users {
                    user: chunk.to_vec(),
                })
            }));
        Ok(self)
    }

    /// Removes users (emails or usernames) from the group.
    pub fn remove_users<I, S>(&mut self, users: I) -> Result<&mut Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let users = self.checked_users(users, "users to remove")?;
        self.steps
            .extend(users.chunks(MAX_NAMES_PER_STEP).map(|chunk| {
                UserGroupStep::Remove(UserGroupTargets::Users {
                    user: chunk.to_vec(),
                })
            }));
        Ok(self)
    }

    fn checked_users<I, S>(&self, users: I, what: &str) -> Result<Vec<String>, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let users = collect_names(users, &format!("{what} for user group `{}`", self.name))?;
        for user in &users {
            check_username(user)?;
        }
        Ok(users)
    }

    /// Links product profiles (named, or all) to the group, so its members get them.
    pub fn add_to_products(&mut self, profiles: ProfileSelection) -> Result<&mut Self, Error> {
        match profiles {
            ProfileSelection::All => {
                self.steps
                    .push(UserGroupStep::Add(UserGroupTargets::All(All)));
            }
            ProfileSelection::Some(profiles) => {
                let profiles = self.checked_profiles(profiles, "to add")?;
                self.steps
                    .extend(profiles.chunks(MAX_NAMES_PER_STEP).map(|chunk| {
                        UserGroupStep::Add(UserGroupTargets::Profiles {
                            product_configuration: chunk.to_vec(),
                        })
                    }));
            }
        }
        Ok(self)
    }

    /// Unlinks product profiles (named, or all) from the group.
    pub fn remove_from_products(&mut self, profiles: ProfileSelection) -> Result<&mut Self, Error> {
        match profiles {
            ProfileSelection::All => {
                self.steps
                    .push(UserGroupStep::Remove(UserGroupTargets::All(All)));
            }
            ProfileSelection::Some(profiles) => {
                let profiles = self.checked_profiles(profiles, "to remove")?;
                self.steps
                    .extend(profiles.chunks(MAX_NAMES_PER_STEP).map(|chunk| {
                        UserGroupStep::Remove(UserGroupTargets::Profiles {
                            product_configuration: chunk.to_vec(),
                        })
                    }));
            }
        }
        Ok(self)
    }

    fn checked_profiles(&self, profiles: Vec<String>, what: &str) -> Result<Vec<String>, Error> {
        let profiles = collect_names(
            profiles,
            &format!("product profiles {what} for user group `{}`", self.name),
        )?;
        for profile in &profiles {
            check_group_name(profile)?;
        }
        Ok(profiles)
    }

    /// All steps in the order they are sent: create first.
    pub fn steps(&self) -> Vec<UserGroupStep> {
        self.create
            .iter()
            .chain(self.steps.iter())
            .cloned()
            .collect()
    }

    /// The wire entries of this action: one per [`MAX_STEPS_PER_ENTRY`] steps.
    pub fn entries(&self) -> Vec<Entry> {
        chunk_steps(&self.steps())
            .into_iter()
            .map(|steps| {
                Entry::UserGroup(UserGroupEntry {
                    usergroup: self.name.clone(),
                    request_id: self.request_id.clone(),
                    steps,
                })
            })
            .collect()
    }

    /// The commands of this action that failed on the server, with the server's reasons.
    pub fn execution_errors(&self) -> Vec<ExecutionError> {
        self.errors.snapshot()
    }
}

/// An action of either kind, as the executor takes it.
// A user action is bigger than a group action, but actions are few and short-lived;
// boxing would only add an allocation per action.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Action {
    /// Commands for a user.
    User(UserAction),
    /// Commands for a user group.
    UserGroup(UserGroupAction),
}

impl From<UserAction> for Action {
    fn from(action: UserAction) -> Self {
        Action::User(action)
    }
}

impl From<UserGroupAction> for Action {
    fn from(action: UserGroupAction) -> Self {
        Action::UserGroup(action)
    }
}

impl From<&UserAction> for Action {
    fn from(action: &UserAction) -> Self {
        Action::User(action.clone())
    }
}

impl From<&UserGroupAction> for Action {
    fn from(action: &UserGroupAction) -> Self {
        Action::UserGroup(action.clone())
    }
}

impl Action {
    /// The wire entries of this action (lists over 10 names split into more steps,
    /// more than 10 steps split into more entries for the same target, create first).
    pub fn entries(&self) -> Vec<Entry> {
        match self {
            Action::User(a) => a.entries(),
            Action::UserGroup(a) => a.entries(),
        }
    }

    /// The commands of this action that failed on the server.
    pub fn execution_errors(&self) -> Vec<ExecutionError> {
        self.errors().snapshot()
    }

    /// The user or user group the action is for.
    pub fn target(&self) -> &str {
        match self {
            Action::User(a) => a.target(),
            Action::UserGroup(a) => a.target(),
        }
    }

    pub(crate) fn errors(&self) -> &ErrorRecord {
        match self {
            Action::User(a) => &a.errors,
            Action::UserGroup(a) => &a.errors,
        }
    }

    pub(crate) fn request_id(&self) -> Option<&str> {
        match self {
            Action::User(a) => a.request_id.as_deref(),
            Action::UserGroup(a) => a.request_id.as_deref(),
        }
    }
}

/// The command at `step` of `entry`, for error reports.
pub(crate) fn command_at(entry: &wire::Entry, step: usize) -> Option<Command> {
    match entry {
        Entry::User(e) => e.steps.get(step).cloned().map(Command::User),
        Entry::UserGroup(e) => e.steps.get(step).cloned().map(Command::UserGroup),
    }
}

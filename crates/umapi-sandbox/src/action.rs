//! The action endpoint's semantics: a JSON array of user and user-group entries whose steps
//! change the org, with UMAPI's limits, error codes (each carrying the entry's `index` and the
//! step's `step`) and test mode.
//!
//! Entries are read from raw JSON rather than the shared wire types, so that the sandbox can be
//! as lenient as UMAPI where clients differ (legacy list names, both lists in one group step)
//! and can answer a malformed entry with the error code UMAPI gives instead of rejecting the
//! whole request.

use serde_json::{Map, Value};
use umapi_core::wire::{ActionError, ActionResponse, IdentityType};

use crate::lookup::UserIndex;
use crate::state::{
    AdminGroupRecord, GroupRef, ORG_ADMIN, OrgState, UserGroupRecord, UserRecord, same,
};

/// The limits UMAPI applies to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionLimits {
    /// Entries per request.
    pub max_entries: usize,
    /// Steps per entry.
    pub max_steps: usize,
    /// Names per list.
    pub max_list_length: usize,
}

/// A request that UMAPI rejects as a whole (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRejected {
    /// The `result` code, e.g. `error.command.malformed`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

/// What one action request did.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    /// The response body.
    pub response: ActionResponse,
    /// Whether the org changed (and must be persisted).
    pub changed: bool,
    /// Entries in the request.
    pub entries: usize,
    /// Steps in the request.
    pub steps: usize,
}

/// Runs one action request against `state`, keeping `index` (built from `state.users`) in step. `order` is the order in which entries execute
/// (a permutation of their indexes); errors always carry the entries' original indexes.
pub fn execute(
    state: &mut OrgState,
    index: &mut UserIndex,
    body: &Value,
    limits: ActionLimits,
    test_mode: bool,
    order: &[usize],
) -> Result<ActionOutcome, RequestRejected> {
    let entries = match body {
        Value::Array(a) if !a.is_empty() => a,
        Value::Array(_) => {
            return Err(RequestRejected {
                code: "error.command.malformed",
                message: "the request body is an empty JSON array".into(),
            });
        }
        _ => {
            return Err(RequestRejected {
                code: "error.command.malformed",
                message: "the request body must be a JSON array of commands".into(),
            });
        }
    };
    if entries.len() > limits.max_entries {
        return Err(RequestRejected {
            code: "error.command.malformed",
            message: format!(
                "too many commands: {} (at most {} per request)",
                entries.len(),
                limits.max_entries
            ),
        });
    }
    let steps = entries
        .iter()
        .map(|e| e.get("do").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    let mut run = Run {
        state,
        index,
        limits,
        test_mode,
        changed: false,
        warnings: Vec::new(),
    };
    let mut errors = Vec::new();
    let mut ok = 0;
    let indexes: Vec<usize> = if order.len() == entries.len() {
        order.to_vec()
    } else {
        (0..entries.len()).collect()
    };
    for index in indexes {
        let entry = &entries[index];
        match run.entry(index, entry) {
            Ok(()) => ok += 1,
            Err(e) => errors.push(e.into_wire(index, entry)),
        }
    }
    errors.sort_by_key(|e| (e.index, e.step));
    run.warnings
        .sort_by_key(|w| w.get("index").and_then(Value::as_u64));
    let failed = errors.len();
    let result = if failed == 0 {
        "success"
    } else if ok == 0 {
        "error"
    } else {
        "partial"
    };
    Ok(ActionOutcome {
        response: ActionResponse {
            completed: if test_mode { 0 } else { ok },
            not_completed: failed,
            completed_in_test_mode: if test_mode { ok } else { 0 },
            result: result.into(),
            errors,
            warnings: run.warnings,
        },
        changed: run.changed,
        entries: entries.len(),
        steps,
    })
}

/// A failed step.
#[derive(Debug)]
struct StepError {
    step: usize,
    code: &'static str,
    message: String,
}

impl StepError {
    fn into_wire(self, index: usize, entry: &Value) -> ActionError {
        let text = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
        ActionError {
            index: Some(index),
            step: Some(self.step),
            request_id: text("requestID"),
            user: text("user"),
            usergroup: text("usergroup"),
            error_code: self.code.into(),
            message: self.message,
        }
    }
}

/// Appends the names of one `add`/`remove` list (`"key": ["name", …]`) of step `at`; anything
/// but an array of non-empty strings is refused with `invalid_item_code`, as UMAPI does.
fn push_names(
    into: &mut Vec<String>,
    key: &str,
    value: &Value,
    at: usize,
    invalid_item_code: &'static str,
) -> Result<(), StepError> {
    let Some(items) = value.as_array() else {
        return Err(fail(
            at,
            "error.command.add_remove.list_not_array",
            format!("the value of `{key}` must be a JSON array"),
        ));
    };
    for item in items {
        match item.as_str() {
            Some(name) if !name.is_empty() => into.push(name.to_string()),
            _ => {
                return Err(fail(at, invalid_item_code, "lists hold non-empty strings"));
            }
        }
    }
    Ok(())
}

fn fail(step: usize, code: &'static str, message: impl Into<String>) -> StepError {
    StepError {
        step,
        code,
        message: message.into(),
    }
}

type StepResult = Result<(), StepError>;

struct Run<'a> {
    state: &'a mut OrgState,
    index: &'a mut UserIndex,
    limits: ActionLimits,
    test_mode: bool,
    changed: bool,
    warnings: Vec<Value>,
}

/// The one key of a step object and its value.
fn step_parts(step: &Value, at: usize) -> Result<(&str, &Value), StepError> {
    match step.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().expect("one key");
            Ok((k.as_str(), v))
        }
        _ => Err(fail(
            at,
            "error.command.illegal_entry",
            "each step must be a JSON object with exactly one key",
        )),
    }
}

fn optional_string<'v>(
    map: &'v Map<String, Value>,
    field: &str,
    at: usize,
) -> Result<Option<&'v str>, StepError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(fail(
            at,
            "error.command.create.string_expected",
            format!("the value of `{field}` must be a JSON string"),
        )),
    }
}

fn check_email(email: &str, at: usize) -> StepResult {
    let parts: Vec<&str> = email.split('@').collect();
    if email.chars().count() > 60
        || parts.len() != 2
        || parts[0].is_empty()
        || parts[1].is_empty()
        || email.chars().any(char::is_whitespace)
    {
        return Err(fail(
            at,
            "error.user.email.invalid",
            format!("invalid email address `{email}` (at most 60 characters, one @)"),
        ));
    }
    Ok(())
}

fn check_name_field(value: Option<&str>, field: &str, at: usize) -> StepResult {
    if let Some(v) = value
        && v.chars().count() > 250
    {
        return Err(fail(
            at,
            "error.command.string.too_long",
            format!("String too long in command for field: {field}, max length 250"),
        ));
    }
    Ok(())
}

fn check_country(country: Option<&str>, at: usize) -> StepResult {
    if let Some(c) = country
        && !(c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        return Err(fail(
            at,
            "error.country.invalid",
            format!("invalid country code `{c}` (two upper-case letters)"),
        ));
    }
    Ok(())
}

fn check_user_group_name(name: &str, at: usize) -> StepResult {
    if name.is_empty() || name.starts_with('_') || name.chars().count() > 255 {
        return Err(fail(
            at,
            "error.usergroup.name.invalid",
            format!("invalid user group name `{name}` (1 to 255 characters, not starting with _)"),
        ));
    }
    Ok(())
}

fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CreateOption {
    Error,
    Ignore,
    Update,
}

fn create_option(map: &Map<String, Value>, at: usize) -> Result<CreateOption, StepError> {
    match optional_string(map, "option", at)? {
        None | Some("errorIfAlreadyExists") => Ok(CreateOption::Error),
        Some("ignoreIfAlreadyExists") => Ok(CreateOption::Ignore),
        Some("updateIfAlreadyExists") => Ok(CreateOption::Update),
        Some(other) => Err(fail(
            at,
            "error.option.illegal",
            format!("illegal option `{other}` (ignoreIfAlreadyExists or updateIfAlreadyExists)"),
        )),
    }
}

fn is_user_create(key: &str) -> bool {
    matches!(
        key,
        "createFederatedID" | "createEnterpriseID" | "addAdobeID"
    )
}

impl Run<'_> {
    fn entry(&mut self, index: usize, entry: &Value) -> StepResult {
        let Some(obj) = entry.as_object() else {
            return Err(fail(
                0,
                "error.command.malformed",
                "each command must be a JSON object",
            ));
        };
        let steps = match obj.get("do") {
            Some(Value::Array(steps)) => steps,
            _ => {
                return Err(fail(
                    0,
                    "error.command.steps.malformed",
                    "the value of `do` must be a JSON array of steps",
                ));
            }
        };
        if steps.len() > self.limits.max_steps {
            return Err(fail(
                self.limits.max_steps,
                "error.command.add_remove.list_too_long",
                format!(
                    "too many steps: {} (at most {} per command)",
                    steps.len(),
                    self.limits.max_steps
                ),
            ));
        }
        if let Some(rid) = obj.get("requestID")
            && !rid.is_string()
        {
            return Err(fail(
                0,
                "error.command.string_expected",
                "requestID must be a string",
            ));
        }
        match (obj.get("user"), obj.get("usergroup")) {
            (Some(Value::String(user)), _) => self.user_entry(index, obj, user, steps),
            (Some(_), _) => Err(fail(
                0,
                "error.command.string_expected",
                "user must be a string",
            )),
            (None, Some(Value::String(group))) => self.group_entry(index, obj, group, steps),
            (None, Some(_)) => Err(fail(
                0,
                "error.command.string_expected",
                "usergroup must be a string",
            )),
            (None, None) => Err(fail(
                0,
                "error.command.user_usergroup.missing",
                "each command needs a `user` or a `usergroup`",
            )),
        }
    }

    // ---- user entries ----------------------------------------------------------------------

    fn user_entry(
        &mut self,
        index: usize,
        obj: &Map<String, Value>,
        user: &str,
        steps: &[Value],
    ) -> StepResult {
        let domain = match obj.get("domain") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) => Some(d.as_str()),
            Some(_) => {
                return Err(fail(
                    0,
                    "error.command.domain.string_expected",
                    "domain must be a string",
                ));
            }
        };
        if user.chars().count() > 250 {
            return Err(fail(
                0,
                "error.command.string.too_long",
                "user is longer than 250 characters",
            ));
        }
        match (user.contains('@'), domain) {
            (true, Some(_)) => {
                return Err(fail(
                    0,
                    "error.command.domain.must_be_used_with_nonemail_username",
                    "domain can only be given with a username that is not an email",
                ));
            }
            (false, None) => {
                return Err(fail(
                    0,
                    "error.command.domain.missing",
                    format!("user `{user}` is not an email: give its domain"),
                ));
            }
            _ => {}
        }
        let prefer_adobe_id = match obj.get("useAdobeID") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(fail(
                    0,
                    "error.command.boolean_expected",
                    "useAdobeID must be true or false",
                ));
            }
        };
        // The whole command is parsed before any step runs, as UMAPI does.
        for (at, step) in steps.iter().enumerate() {
            let (key, _) = step_parts(step, at)?;
            match key {
                k if is_user_create(k) => {
                    if at != 0 {
                        return Err(fail(
                            at,
                            "error.command.create.not_first",
                            "a create step must be the first step of its command",
                        ));
                    }
                }
                "removeFromOrg" => {
                    if at + 1 != steps.len() {
                        return Err(fail(
                            at,
                            "error.command.removefromorg.not_last",
                            "removeFromOrg must be the last step of its command",
                        ));
                    }
                }
                "update" | "add" | "remove" | "addRoles" | "removeRoles" => {}
                other => {
                    return Err(fail(
                        at,
                        "error.command.step.unknown",
                        format!("unknown step `{other}`"),
                    ));
                }
            }
        }
        let mut target = self
            .index
            .find(&self.state.users, user, domain, prefer_adobe_id);
        for (at, step) in steps.iter().enumerate() {
            let (key, value) = step_parts(step, at)?;
            match key {
                "createFederatedID" => {
                    target = self.create_user(
                        IdentityType::FederatedId,
                        user,
                        domain,
                        value,
                        target,
                        at,
                    )?
                }
                "createEnterpriseID" => {
                    target = self.create_user(
                        IdentityType::EnterpriseId,
                        user,
                        domain,
                        value,
                        target,
                        at,
                    )?
                }
                "addAdobeID" => {
                    target =
                        self.create_user(IdentityType::AdobeId, user, domain, value, target, at)?
                }
                "update" => self.update_user(target, user, value, at)?,
                "add" => self.user_membership(index, obj, target, user, value, at, true)?,
                "remove" => self.user_membership(index, obj, target, user, value, at, false)?,
                "addRoles" => self.user_roles(target, user, value, at, true)?,
                "removeRoles" => self.user_roles(target, user, value, at, false)?,
                "removeFromOrg" => self.remove_from_org(&mut target, value, at)?,
                _ => unreachable!("validated above"),
            }
        }
        Ok(())
    }

    fn nonexistent(&self, user: &str, at: usize) -> StepResult {
        // Test mode cannot see users that earlier steps would create, so, like UMAPI, it
        // accepts otherwise valid steps on users it does not find.
        if self.test_mode {
            Ok(())
        } else {
            Err(fail(
                at,
                "error.user.nonexistent",
                format!("User Id does not exist: {user}"),
            ))
        }
    }

    fn create_user(
        &mut self,
        kind: IdentityType,
        user: &str,
        domain: Option<&str>,
        value: &Value,
        existing: Option<usize>,
        at: usize,
    ) -> Result<Option<usize>, StepError> {
        let Some(fields) = value.as_object() else {
            return Err(fail(
                at,
                "error.command.create.object_expected",
                "the value of a create step must be a JSON object",
            ));
        };
        let Some(email) = optional_string(fields, "email", at)? else {
            return Err(fail(
                at,
                "error.user.email.invalid",
                "a create step needs an email",
            ));
        };
        check_email(email, at)?;
        let option = create_option(fields, at)?;
        let firstname = optional_string(fields, "firstname", at)?;
        let lastname = optional_string(fields, "lastname", at)?;
        let country = optional_string(fields, "country", at)?;
        check_name_field(firstname, "firstname", at)?;
        check_name_field(lastname, "lastname", at)?;
        check_country(country, at)?;
        if kind == IdentityType::FederatedId && country.is_none() {
            return Err(fail(
                at,
                "error.country.invalid",
                "country is required to create a Federated ID",
            ));
        }
        if kind != IdentityType::FederatedId && !same(user, email) {
            return Err(fail(
                at,
                "error.user.must_match_email",
                format!("user `{user}` must match the email `{email}`"),
            ));
        }
        // An Adobe ID and an org-owned account may share an email; two org-owned accounts may not.
        let existing = existing.or_else(|| {
            self.index.find(
                &self.state.users,
                email,
                None,
                kind == IdentityType::AdobeId,
            )
        });
        if let Some(i) = existing {
            let found = self.state.users[i].identity_type;
            let both_adobe = found == IdentityType::AdobeId && kind == IdentityType::AdobeId;
            let both_owned = found != IdentityType::AdobeId && kind != IdentityType::AdobeId;
            if both_owned && found != kind {
                return Err(fail(
                    at,
                    "error.user.type_mismatch",
                    format!("`{user}` already exists as {found}, not {kind}"),
                ));
            }
            if both_adobe || both_owned {
                return match option {
                    CreateOption::Error => Err(fail(
                        at,
                        "error.user.already_exists",
                        format!("User already exists: {user}"),
                    )),
                    CreateOption::Ignore => Ok(Some(i)),
                    CreateOption::Update => {
                        if !self.test_mode {
                            let u = &mut self.state.users[i];
                            if let Some(f) = firstname {
                                u.firstname = Some(f.into());
                            }
                            if let Some(l) = lastname {
                                u.lastname = Some(l.into());
                            }
                            self.changed = true;
                        }
                        Ok(Some(i))
                    }
                };
            }
        }
        if self.test_mode {
            return Ok(None);
        }
        let (username, user_domain) = if kind == IdentityType::FederatedId && !user.contains('@') {
            (
                user.to_string(),
                domain.unwrap_or(domain_of(email)).to_string(),
            )
        } else if kind == IdentityType::FederatedId {
            (user.to_string(), domain_of(user).to_string())
        } else {
            (email.to_string(), domain_of(email).to_string())
        };
        self.state.users.push(UserRecord {
            id: format!(
                "{}@AdobeID",
                uuid::Uuid::new_v4().simple().to_string().to_uppercase()
            ),
            email: email.to_string(),
            username,
            domain: user_domain,
            firstname: firstname.map(str::to_string),
            lastname: lastname.map(str::to_string),
            country: country.map(str::to_string),
            identity_type: kind,
            groups: Vec::new(),
        });
        let i = self.state.users.len() - 1;
        self.index.insert(i, &self.state.users[i]);
        self.changed = true;
        Ok(Some(i))
    }

    fn update_user(
        &mut self,
        target: Option<usize>,
        user: &str,
        value: &Value,
        at: usize,
    ) -> StepResult {
        let Some(fields) = value.as_object() else {
            return Err(fail(
                at,
                "error.command.create.object_expected",
                "the value of update must be a JSON object",
            ));
        };
        if fields.contains_key("option") {
            return Err(fail(
                at,
                "error.command.update.option.no",
                "option is allowed only in create steps",
            ));
        }
        if fields.contains_key("country") {
            return Err(fail(
                at,
                "error.update.country.no_update",
                "The country of a user cannot be updated",
            ));
        }
        let email = optional_string(fields, "email", at)?;
        let username = optional_string(fields, "username", at)?;
        let firstname = optional_string(fields, "firstname", at)?;
        let lastname = optional_string(fields, "lastname", at)?;
        if let Some(e) = email {
            check_email(e, at)?;
        }
        check_name_field(firstname, "firstname", at)?;
        check_name_field(lastname, "lastname", at)?;
        let Some(i) = target else {
            return self.nonexistent(user, at);
        };
        let current = &self.state.users[i];
        let kind = current.identity_type;
        if kind == IdentityType::AdobeId {
            return Err(fail(
                at,
                "error.update.adobeid.no",
                "The operation in the command cannot be applied to an Adobe ID",
            ));
        }
        if username.is_some() && kind != IdentityType::FederatedId {
            return Err(fail(
                at,
                "error.update.username.no",
                "The user name cannot be updated; changing the email changes the user name",
            ));
        }
        if let Some(e) = email {
            let taken = self.taken_by_another(i, e, |other| same(&other.email, e));
            if taken {
                return Err(fail(
                    at,
                    "error.user.email.name_in_use",
                    format!("the email `{e}` is already used by another user"),
                ));
            }
        }
        let new_username = match (username, email) {
            (Some(n), _) => Some(n.to_string()),
            (None, Some(e)) if same(&current.username, &current.email) => Some(e.to_string()),
            _ => None,
        };
        if let Some(n) = &new_username {
            let domain = if n.contains('@') {
                domain_of(n)
            } else {
                current.domain.as_str()
            };
            let taken = self.taken_by_another(i, n, |other| {
                same(&other.username, n) && same(&other.domain, domain)
            });
            if taken {
                return Err(fail(
                    at,
                    "error.user.name_in_use",
                    format!("the username `{n}` is already in use"),
                ));
            }
        }
        if self.test_mode {
            return Ok(());
        }
        let u = &mut self.state.users[i];
        if let Some(e) = email {
            u.email = e.to_string();
        }
        if let Some(n) = new_username {
            if n.contains('@') {
                u.domain = domain_of(&n).to_string();
            }
            u.username = n;
        }
        if let Some(f) = firstname {
            u.firstname = Some(f.to_string());
        }
        if let Some(l) = lastname {
            u.lastname = Some(l.to_string());
        }
        self.index.insert(i, &self.state.users[i]);
        self.changed = true;
        Ok(())
    }

    /// Whether an org-owned account other than user `i`, found under `name` in the
    /// index, passes `matches`: emails and usernames are unique among those accounts
    /// (an Adobe ID may share them).
    fn taken_by_another(
        &self,
        i: usize,
        name: &str,
        matches: impl Fn(&UserRecord) -> bool,
    ) -> bool {
        let users = &self.state.users;
        self.index.candidates(name).any(|j| {
            j != i
                && j < users.len()
                && users[j].identity_type != IdentityType::AdobeId
                && matches(&users[j])
        })
    }

    /// Reads the group names of a user's add/remove step, accepting every list name clients use.
    fn group_names(
        &mut self,
        index: usize,
        obj: &Map<String, Value>,
        value: &Map<String, Value>,
        at: usize,
    ) -> Result<Vec<String>, StepError> {
        let mut names = Vec::new();
        for (k, v) in value {
            match k.as_str() {
                "group" | "usergroup" | "productConfiguration" => {}
                "product" => self.warnings.push(serde_json::json!({
                    "warningCode": "warning.command.deprecated",
                    "index": index,
                    "step": at,
                    "requestID": obj.get("requestID"),
                    "user": obj.get("user"),
                    "message": "'product' command is deprecated. Please use productConfiguration.",
                })),
                other => {
                    return Err(fail(
                        at,
                        "error.command.add_remove.key.unknown",
                        format!("unknown list `{other}` (use group)"),
                    ));
                }
            }
            push_names(&mut names, k, v, at, "error.group.invalid_list")?;
        }
        if names.is_empty() {
            return Err(fail(
                at,
                "error.command.add_remove.missing_list",
                "add and remove need a non-empty `group` list",
            ));
        }
        if names.len() > self.limits.max_list_length {
            return Err(fail(
                at,
                "error.command.add_remove.list_too_long",
                format!(
                    "too many groups in one step: {} (at most {})",
                    names.len(),
                    self.limits.max_list_length
                ),
            ));
        }
        Ok(names)
    }

    /// Resolves the groups a membership step names, refusing missing, protected and
    /// read-only ones.
    fn membership_targets(&self, names: &[String], at: usize) -> Result<Vec<String>, StepError> {
        let mut resolved = Vec::with_capacity(names.len());
        for name in names {
            if name.chars().count() > 255 {
                return Err(fail(
                    at,
                    "error.command.add_remove.group_or_product_name_too_long",
                    format!("group name longer than 255 characters: {name}"),
                ));
            }
            let Some(group) = self.state.find_group(name) else {
                return Err(fail(
                    at,
                    "error.group.not_found",
                    format!("Group {name} was not found"),
                ));
            };
            let canonical = self.state.group_name(group).to_string();
            if same(&canonical, ORG_ADMIN) {
                return Err(fail(
                    at,
                    "error.group.org_admin.protected",
                    "membership of _org_admin cannot be changed through the API",
                ));
            }
            if let GroupRef::UserGroup(g) = group
                && self.state.user_groups[g].read_only
            {
                return Err(fail(
                    at,
                    "error.usergroup.readonly.membership",
                    format!("user group {canonical} is read-only (managed by a directory sync)"),
                ));
            }
            resolved.push(canonical);
        }
        Ok(resolved)
    }

    #[allow(clippy::too_many_arguments)]
    fn user_membership(
        &mut self,
        index: usize,
        obj: &Map<String, Value>,
        target: Option<usize>,
        user: &str,
        value: &Value,
        at: usize,
        add: bool,
    ) -> StepResult {
        let groups = match value {
            Value::String(s) if s == "all" => {
                if add {
                    return Err(fail(
                        at,
                        "error.command.add_remove.list",
                        "add takes a list of groups; only remove accepts \"all\"",
                    ));
                }
                None
            }
            Value::Object(map) => {
                let names = self.group_names(index, obj, map, at)?;
                Some(self.membership_targets(&names, at)?)
            }
            _ => {
                return Err(fail(
                    at,
                    "error.command.add_remove.list",
                    "add and remove take a JSON object or \"all\"",
                ));
            }
        };
        let Some(i) = target else {
            return self.nonexistent(user, at);
        };
        if self.test_mode {
            return Ok(());
        }
        let u = &mut self.state.users[i];
        let before = u.groups.len();
        match groups {
            None => {
                // "all" removes every membership except the protected system-admin role.
                u.groups.retain(|g| same(g, ORG_ADMIN));
            }
            Some(groups) if add => {
                for g in groups {
                    if !u.groups.iter().any(|x| same(x, &g)) {
                        u.groups.push(g);
                    }
                }
            }
            Some(groups) => u.groups.retain(|x| !groups.iter().any(|g| same(g, x))),
        }
        if u.groups.len() != before {
            self.changed = true;
        }
        Ok(())
    }

    /// The legacy `addRoles`/`removeRoles` steps of v2 clients: `{"admin": [groups]}` makes the
    /// user an administrator of each named user group or product profile.
    fn user_roles(
        &mut self,
        target: Option<usize>,
        user: &str,
        value: &Value,
        at: usize,
        add: bool,
    ) -> StepResult {
        let Some(map) = value.as_object() else {
            return Err(fail(
                at,
                "error.command.add_remove.list",
                "roles take a JSON object",
            ));
        };
        let mut admin_groups = Vec::new();
        for (role, list) in map {
            if role != "admin" {
                return Err(fail(
                    at,
                    "error.command.add_remove.key.unknown",
                    format!("role `{role}` is not supported by the sandbox (use admin)"),
                ));
            }
            let names: Vec<&str> = list
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if names.is_empty() {
                return Err(fail(
                    at,
                    "error.group.invalid_list",
                    "a role list must name groups",
                ));
            }
            for name in names {
                let admin = match self.state.find_group(name) {
                    Some(GroupRef::UserGroup(g)) => {
                        format!("_admin_{}", self.state.user_groups[g].name)
                    }
                    Some(GroupRef::Profile(p)) => {
                        format!("_product_admin_{}", self.state.product_profiles[p].name)
                    }
                    _ => {
                        return Err(fail(
                            at,
                            "error.group.not_found",
                            format!("Group {name} was not found"),
                        ));
                    }
                };
                admin_groups.push(admin);
            }
        }
        let Some(i) = target else {
            return self.nonexistent(user, at);
        };
        if self.test_mode {
            return Ok(());
        }
        for admin in admin_groups {
            if add && self.state.find_group(&admin).is_none() {
                let group_id = self.state.next_group_id();
                self.state.admin_groups.push(AdminGroupRecord {
                    group_id,
                    name: admin.clone(),
                    group_type: None,
                });
            }
            let u = &mut self.state.users[i];
            if add && !u.groups.iter().any(|g| same(g, &admin)) {
                u.groups.push(admin);
            } else if !add {
                u.groups.retain(|g| !same(g, &admin));
            }
        }
        self.changed = true;
        Ok(())
    }

    fn remove_from_org(
        &mut self,
        target: &mut Option<usize>,
        value: &Value,
        at: usize,
    ) -> StepResult {
        match value {
            Value::Object(m) => {
                if let Some(v) = m.get("deleteAccount")
                    && !v.is_boolean()
                {
                    return Err(fail(
                        at,
                        "error.command.boolean_expected",
                        "deleteAccount must be true or false",
                    ));
                }
            }
            Value::Null => {}
            _ => {
                return Err(fail(
                    at,
                    "error.command.create.object_expected",
                    "removeFromOrg takes a JSON object",
                ));
            }
        }
        // UMAPI reports success whether or not the user was in the org. With or without
        // deleteAccount the user leaves the org's lists, which is all the API can observe.
        if let Some(i) = target.take()
            && !self.test_mode
        {
            self.state.users.remove(i);
            self.index.remove(i);
            self.changed = true;
        }
        Ok(())
    }

    // ---- user-group entries ----------------------------------------------------------------

    fn group_entry(
        &mut self,
        _index: usize,
        _obj: &Map<String, Value>,
        name: &str,
        steps: &[Value],
    ) -> StepResult {
        for (at, step) in steps.iter().enumerate() {
            let (key, _) = step_parts(step, at)?;
            match key {
                "createUserGroup" => {
                    if at != 0 {
                        return Err(fail(
                            at,
                            "error.command.create.not_first",
                            "createUserGroup must be the first step of its command",
                        ));
                    }
                }
                "updateUserGroup" | "deleteUserGroup" | "add" | "remove" => {}
                other => {
                    return Err(fail(
                        at,
                        "error.command.step.unknown",
                        format!("unknown user-group step `{other}`"),
                    ));
                }
            }
        }
        let mut current = name.to_string();
        let mut exists_virtually = false;
        for (at, step) in steps.iter().enumerate() {
            let (key, value) = step_parts(step, at)?;
            match key {
                "createUserGroup" => {
                    exists_virtually = self.create_group(&mut current, value, at)?;
                }
                "updateUserGroup" => {
                    self.update_group(&mut current, exists_virtually, value, at)?
                }
                "deleteUserGroup" => {
                    self.delete_group(&current, exists_virtually, at)?;
                    // UMAPI performs no further steps after a deletion.
                    return Ok(());
                }
                "add" => self.group_membership(&current, exists_virtually, value, at, true)?,
                "remove" => self.group_membership(&current, exists_virtually, value, at, false)?,
                _ => unreachable!("validated above"),
            }
        }
        Ok(())
    }

    fn group_not_found(&self, name: &str, exists_virtually: bool, at: usize) -> StepResult {
        if self.test_mode || exists_virtually {
            Ok(())
        } else {
            Err(fail(
                at,
                "error.usergroup.not_found",
                format!("User group {name} was not found"),
            ))
        }
    }

    /// Returns whether the group exists only because test mode skipped its creation.
    fn create_group(
        &mut self,
        current: &mut String,
        value: &Value,
        at: usize,
    ) -> Result<bool, StepError> {
        let Some(fields) = value.as_object() else {
            return Err(fail(
                at,
                "error.command.create.object_expected",
                "createUserGroup takes a JSON object",
            ));
        };
        let option = create_option(fields, at)?;
        let name = optional_string(fields, "name", at)?
            .unwrap_or(current)
            .to_string();
        let description = optional_string(fields, "description", at)?;
        check_user_group_name(&name, at)?;
        match self.state.find_group(&name) {
            Some(GroupRef::UserGroup(g)) => match option {
                CreateOption::Error => Err(fail(
                    at,
                    "error.usergroup.already_exists",
                    format!("User group {name} already exists"),
                )),
                CreateOption::Ignore => {
                    *current = self.state.user_groups[g].name.clone();
                    Ok(false)
                }
                CreateOption::Update => {
                    *current = self.state.user_groups[g].name.clone();
                    if let Some(d) = description
                        && !self.test_mode
                    {
                        self.state.user_groups[g].description = Some(d.to_string());
                        self.changed = true;
                    }
                    Ok(false)
                }
            },
            Some(_) => Err(fail(
                at,
                "error.usergroup.already_exists",
                format!("a product profile or admin group is already named {name}"),
            )),
            None => {
                *current = name.clone();
                if self.test_mode {
                    return Ok(true);
                }
                let group_id = self.state.next_group_id();
                self.state.user_groups.push(UserGroupRecord {
                    group_id,
                    name,
                    description: description.map(str::to_string),
                    profiles: Vec::new(),
                    read_only: false,
                });
                self.changed = true;
                Ok(false)
            }
        }
    }

    fn user_group_index(&self, name: &str) -> Option<usize> {
        match self.state.find_group(name) {
            Some(GroupRef::UserGroup(g)) => Some(g),
            _ => None,
        }
    }

    fn update_group(
        &mut self,
        current: &mut String,
        virt: bool,
        value: &Value,
        at: usize,
    ) -> StepResult {
        let Some(fields) = value.as_object() else {
            return Err(fail(
                at,
                "error.command.create.object_expected",
                "updateUserGroup takes a JSON object",
            ));
        };
        let new_name = optional_string(fields, "name", at)?;
        let description = optional_string(fields, "description", at)?;
        if new_name.is_none() && description.is_none() {
            return Err(fail(
                at,
                "error.user.command.missing.arguments",
                "updateUserGroup needs a name or a description",
            ));
        }
        if let Some(n) = new_name {
            check_user_group_name(n, at)?;
        }
        let Some(g) = self.user_group_index(current) else {
            return self.group_not_found(current, virt, at);
        };
        let old = self.state.user_groups[g].name.clone();
        if self.state.user_groups[g].read_only {
            return Err(fail(
                at,
                "error.usergroup.readonly.update",
                format!("user group {old} is read-only (managed by a directory sync)"),
            ));
        }
        if let Some(n) = new_name
            && !same(n, &old)
            && self.state.find_group(n).is_some()
        {
            return Err(fail(
                at,
                "error.usergroup.already_exists",
                format!("a group named {n} already exists"),
            ));
        }
        if self.test_mode {
            return Ok(());
        }
        if let Some(d) = description {
            self.state.user_groups[g].description = Some(d.to_string());
        }
        if let Some(n) = new_name {
            self.state.user_groups[g].name = n.to_string();
            self.state.rename_memberships(&old, n);
            let old_admin = format!("_admin_{old}");
            if let Some(GroupRef::Admin(a)) = self.state.find_group(&old_admin) {
                let new_admin = format!("_admin_{n}");
                self.state.admin_groups[a].name = new_admin.clone();
                self.state.rename_memberships(&old_admin, &new_admin);
            }
            *current = n.to_string();
        }
        self.changed = true;
        Ok(())
    }

    fn delete_group(&mut self, current: &str, virt: bool, at: usize) -> StepResult {
        let Some(g) = self.user_group_index(current) else {
            return self.group_not_found(current, virt, at);
        };
        let name = self.state.user_groups[g].name.clone();
        if self.state.user_groups[g].read_only {
            return Err(fail(
                at,
                "error.usergroup.readonly.delete",
                format!("user group {name} is read-only (managed by a directory sync)"),
            ));
        }
        if self.test_mode {
            return Ok(());
        }
        self.state.user_groups.remove(g);
        self.state.drop_memberships(&name);
        let admin = format!("_admin_{name}");
        if let Some(GroupRef::Admin(a)) = self.state.find_group(&admin) {
            self.state.admin_groups.remove(a);
            self.state.drop_memberships(&admin);
        }
        self.changed = true;
        Ok(())
    }

    fn group_membership(
        &mut self,
        current: &str,
        virt: bool,
        value: &Value,
        at: usize,
        add: bool,
    ) -> StepResult {
        let max = self.limits.max_list_length;
        let mut users: Vec<String> = Vec::new();
        let mut profiles: Vec<String> = Vec::new();
        let mut all_profiles = false;
        match value {
            Value::String(s) if s == "all" => all_profiles = true,
            Value::Object(map) => {
                for (k, v) in map {
                    let list = match k.as_str() {
                        "user" => &mut users,
                        "productConfiguration" | "product" => &mut profiles,
                        other => {
                            return Err(fail(
                                at,
                                "error.command.add_remove.key.unknown",
                                format!(
                                    "unknown list `{other}` (use user or productConfiguration)"
                                ),
                            ));
                        }
                    };
                    if v.as_str() == Some("all") && k != "user" {
                        all_profiles = true;
                        continue;
                    }
                    push_names(list, k, v, at, "error.usergroup.user_list.invalid")?;
                }
            }
            _ => {
                return Err(fail(
                    at,
                    "error.command.add_remove.list",
                    "add and remove take a JSON object or \"all\"",
                ));
            }
        }
        if users.is_empty() && profiles.is_empty() && !all_profiles {
            return Err(fail(
                at,
                "error.usergroup.command.missing.arguments",
                "add and remove need a `user` or `productConfiguration` list",
            ));
        }
        if users.len() > max || profiles.len() > max {
            return Err(fail(
                at,
                "error.command.add_remove.list_too_long",
                format!("too many names in one list (at most {max})"),
            ));
        }
        for (i, u) in users.iter().enumerate() {
            if users[..i].iter().any(|x| same(x, u)) {
                return Err(fail(
                    at,
                    "error.command.add_remove.duplicate.user_list",
                    format!("user {u} is listed twice"),
                ));
            }
        }
        let mut profile_names = Vec::new();
        for p in &profiles {
            match self.state.find_group(p) {
                Some(GroupRef::Profile(i)) => {
                    profile_names.push(self.state.product_profiles[i].name.clone())
                }
                _ => {
                    return Err(fail(
                        at,
                        "error.group.not_found",
                        format!("Group {p} was not found"),
                    ));
                }
            }
        }
        if all_profiles {
            profile_names = self
                .state
                .product_profiles
                .iter()
                .map(|p| p.name.clone())
                .collect();
        }
        let group = self.state.find_group(current);
        let canonical = match group {
            None => return self.group_not_found(current, virt, at),
            Some(g) => self.state.group_name(g).to_string(),
        };
        let user_group = match group {
            Some(GroupRef::UserGroup(g)) => Some(g),
            _ => None,
        };
        // A usergroup command may also manage the members of a profile or admin group, but
        // only user groups carry profiles, and _org_admin is never managed through the API.
        if user_group.is_none() && (!profile_names.is_empty() || all_profiles) {
            return Err(fail(
                at,
                "error.usergroup.not_found",
                format!("{canonical} is not a user group"),
            ));
        }
        if !users.is_empty() {
            if same(&canonical, ORG_ADMIN) {
                return Err(fail(
                    at,
                    "error.group.org_admin.protected",
                    "membership of _org_admin cannot be changed through the API",
                ));
            }
            if let Some(g) = user_group
                && self.state.user_groups[g].read_only
            {
                return Err(fail(
                    at,
                    "error.usergroup.readonly.membership",
                    format!("user group {canonical} is read-only (managed by a directory sync)"),
                ));
            }
        }
        let mut members = Vec::with_capacity(users.len());
        for u in &users {
            match self.index.find(&self.state.users, u, None, false) {
                Some(i) => members.push(i),
                None if self.test_mode => {}
                None => {
                    return Err(fail(
                        at,
                        "error.user.not_found",
                        format!("User {u} was not found"),
                    ));
                }
            }
        }
        if self.test_mode {
            return Ok(());
        }
        for i in members {
            let groups = &mut self.state.users[i].groups;
            if add && !groups.iter().any(|g| same(g, &canonical)) {
                groups.push(canonical.clone());
            } else if !add {
                groups.retain(|g| !same(g, &canonical));
            }
        }
        if let Some(g) = user_group {
            let linked = &mut self.state.user_groups[g].profiles;
            for p in profile_names {
                if add && !linked.iter().any(|x| same(x, &p)) {
                    linked.push(p);
                } else if !add {
                    linked.retain(|x| !same(x, &p));
                }
            }
        }
        self.changed = true;
        Ok(())
    }
}

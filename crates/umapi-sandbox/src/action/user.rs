//! User entries: identifying the user as UMAPI does, and the create, update, membership,
//! role and removal steps.

use serde_json::{Map, Value};
use umapi_core::identity::{UserKey, same_identifier};
use umapi_core::protocol::{self, email_domain, is_email_shaped};
use umapi_core::wire::IdentityType;

use super::Run;
use super::validate::{
    CreateOption, StepError, StepResult, check_country, check_email, check_name_field,
    create_option, fail, is_user_create, optional_string, push_names, reserved_group, step_parts,
};
use crate::state::{AdminGroupRecord, GroupRef, UserRecord, same};

impl Run<'_> {
    pub(super) fn user_entry(
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
        if user.chars().count() > protocol::MAX_NAME_CHARS {
            return Err(fail(
                0,
                "error.command.string.too_long",
                format!(
                    "user is longer than {} characters",
                    protocol::MAX_NAME_CHARS
                ),
            ));
        }
        // ActionsCmds.md: "Federated IDs that are not email addresses, must supply the domain
        // the user belongs to in order to identify the user." An email-shaped `user` is an
        // email: "The `username` value can also be an email address, but you can never use
        // it to identify a user in requests."
        let who = match (is_email_shaped(user), domain) {
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
            (_, domain) => UserKey::from_request(user, domain).expect("domain checked above"),
        };
        // ActionsCmds.md, useAdobeID: "When true, the user ID is interpreted to refer to an
        // existing Adobe ID even if a Enterprise or Federated ID exists with the same name."
        // Without an Adobe ID of that email the org-owned account is meant: Adobe's Python
        // client sends `useAdobeID: true` for every action it makes with its default
        // identity type, adobeID.
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
        let mut target = self.index.find(&self.state.users, &who, prefer_adobe_id);
        let mut names = 0;
        for (at, step) in steps.iter().enumerate() {
            self.count_names(&mut names, step, at)?;
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
        // ErrorRef.md, error.user.must_match_email: "The user name must be a valid email
        // address and match the email field in the request. Some FederatedID organizations
        // do not have this requirement." (those whose usernames are not emails)
        if (is_email_shaped(user) || kind != IdentityType::FederatedId)
            && !same_identifier(user, email)
        {
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
                &UserKey::email(email),
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
                    // ErrorRef.md, error.user.already_in_org: "add, create: The user
                    // specified already is a member of the organization."
                    CreateOption::Error => Err(fail(
                        at,
                        "error.user.already_in_org",
                        format!("User already exists in the organization: {user}"),
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
        let (username, user_domain) = match domain {
            Some(d) if !is_email_shaped(user) => (user.to_string(), d.to_string()),
            _ => (email.to_string(), email_domain(email).to_string()),
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
            let taken = self.taken_by_another(i, self.index.with_email(e), |other| {
                same_identifier(&other.email, e)
            });
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
            let domain = if is_email_shaped(n) {
                email_domain(n)
            } else {
                current.domain.as_str()
            };
            let taken = self.taken_by_another(i, self.index.with_username(n), |other| {
                same_identifier(&other.username, n) && same_identifier(&other.domain, domain)
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
            if is_email_shaped(&n) {
                u.domain = email_domain(&n).to_string();
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

    /// Whether an org-owned account other than user `i`, among `candidates` from the
    /// index, passes `matches`: emails and usernames are unique among those accounts
    /// (an Adobe ID may share them).
    fn taken_by_another(
        &self,
        i: usize,
        mut candidates: impl Iterator<Item = usize>,
        matches: impl Fn(&UserRecord) -> bool,
    ) -> bool {
        let users = &self.state.users;
        candidates.any(|j| {
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

    /// Resolves the groups a membership step names, refusing missing, reserved and
    /// read-only ones.
    fn membership_targets(
        &self,
        names: &[String],
        at: usize,
        add: bool,
    ) -> Result<Vec<String>, StepError> {
        let mut resolved = Vec::with_capacity(names.len());
        for name in names {
            if let Err(v) = protocol::check_group_name(name) {
                return Err(fail(
                    at,
                    "error.command.add_remove.group_or_product_name_too_long",
                    v.message,
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
            if protocol::is_reserved_group(&canonical) {
                return Err(reserved_group(at, &canonical));
            }
            if let GroupRef::UserGroup(g) = group
                && self.state.user_groups[g].read_only
            {
                return Err(read_only_membership(at, &canonical, add));
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
                Some(self.membership_targets(&names, at, add)?)
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
        let read_only: Vec<String> = match groups {
            None => self
                .state
                .user_groups
                .iter()
                .filter(|g| g.read_only)
                .map(|g| g.name.clone())
                .collect(),
            Some(_) => Vec::new(),
        };
        if add
            && let Some(groups) = &groups
            && let Some(over) = self.state.over_quota(&[(Some(i), groups.clone())], &[])
        {
            return Err(super::validate::quota_exceeded(at, over));
        }
        let u = &mut self.state.users[i];
        let before = u.groups.len();
        match groups {
            None => {
                // ActionsCmds.md: "org_admin (System Admin) role can't be removed via UM
                // API"; memberships of read-only groups cannot change either.
                u.groups.retain(|g| {
                    protocol::is_reserved_group(g) || read_only.iter().any(|r| same(r, g))
                });
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
                    // ActionsCmds.md: "An administrative group for a product profile or
                    // user group is named with the prefix `_admin_` and the product-profile
                    // or user-group name."
                    Some(GroupRef::UserGroup(g)) => {
                        protocol::admin_group_for(&self.state.user_groups[g].name)
                    }
                    Some(GroupRef::Profile(p)) => {
                        protocol::admin_group_for(&self.state.product_profiles[p].name)
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
}

/// A member change of a read-only user group. The codes are those of Adobe's documented
/// answers for a user group "owned by another org and readonly":
/// `error.usergroup.readonly.add_user_not_allowed` and
/// `error.usergroup.readonly.remove_user_not_allowed`.
pub(super) fn read_only_membership(at: usize, group: &str, add: bool) -> StepError {
    if add {
        fail(
            at,
            "error.usergroup.readonly.add_user_not_allowed",
            format!("User cannot be added to group as owned by another org and readonly: {group}"),
        )
    } else {
        fail(
            at,
            "error.usergroup.readonly.remove_user_not_allowed",
            format!(
                "User cannot be removed from group as owned by another org and readonly: {group}"
            ),
        )
    }
}

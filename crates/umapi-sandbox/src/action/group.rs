//! User-group entries: create, rename, describe and delete user groups, and change their
//! members and the product profiles they carry.

use serde_json::{Map, Value};
use umapi_core::identity::UserKey;
use umapi_core::protocol;

use super::Run;
use super::user::read_only_membership;
use super::validate::{
    CreateOption, StepError, StepResult, check_user_group_name, create_option, fail,
    optional_string, push_names, reserved_group, step_parts,
};
use crate::state::{GroupRef, UserGroupRecord, same};

impl Run<'_> {
    pub(super) fn group_entry(
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
        let mut names = 0;
        for (at, step) in steps.iter().enumerate() {
            self.count_names(&mut names, step, at)?;
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
            // Adobe's documented answer to renaming a read-only user group.
            return Err(fail(
                at,
                "error.usergroup.readonly.update_not_allowed",
                format!("Usergroup is owned by another org and readonly: {old}"),
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
            let old_admin = protocol::admin_group_for(&old);
            if let Some(GroupRef::Admin(a)) = self.state.find_group(&old_admin) {
                let new_admin = protocol::admin_group_for(n);
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
            // Adobe's documented answer to deleting a read-only user group.
            return Err(fail(
                at,
                "error.usergroup.readonly.remove_not_allowed",
                format!("User group owned by another organization. Remove not allowed: {name}"),
            ));
        }
        if self.test_mode {
            return Ok(());
        }
        self.state.user_groups.remove(g);
        self.state.drop_memberships(&name);
        let admin = protocol::admin_group_for(&name);
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
            if protocol::is_reserved_group(&canonical) {
                return Err(reserved_group(at, &canonical));
            }
            if let Some(g) = user_group
                && self.state.user_groups[g].read_only
            {
                return Err(read_only_membership(at, &canonical, add));
            }
        }
        let mut members = Vec::with_capacity(users.len());
        for u in &users {
            // usergroupActionCommands.md: "Specify users by email".
            let found = UserKey::from_request(u, None)
                .and_then(|key| self.index.find(&self.state.users, &key, false));
            match found {
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
        if add {
            let gains: Vec<(Option<usize>, Vec<String>)> = members
                .iter()
                .map(|&i| (Some(i), vec![canonical.clone()]))
                .collect();
            let links: Vec<(String, Vec<String>)> = match user_group {
                Some(_) if !profile_names.is_empty() => {
                    vec![(canonical.clone(), profile_names.clone())]
                }
                _ => Vec::new(),
            };
            if let Some(over) = self.state.over_quota(&gains, &links) {
                return Err(super::validate::quota_exceeded(at, over));
            }
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

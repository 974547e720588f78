//! What happens to each user: declared users against the org, then unlisted ones.

use std::collections::HashSet;

use umapi_core::identity::same_identifier;
use umapi_core::protocol::is_email_shaped;
use umapi_core::wire::{CreateUser, GroupType, IdentityType, IfAlreadyExists, UserStep};

use crate::halves::in_halves;

use super::{
    Builder, Built, Create, Decided, Decisions, Delete, Leave, UserDecision, Wanted, difference,
    lower, new_target, target_of_current,
};
use crate::current::AccountKey;
use crate::desired::{UnlistedGroups, UnlistedUsers};
use crate::error::{Diagnostic, Error};
use crate::plan::FieldChange;
use crate::planner::change::UserTarget;

impl<'a> Builder<'a> {
    pub(super) fn decide(
        mut self,
        mut wanted: Vec<Wanted<'a>>,
        claimed: Vec<bool>,
    ) -> Result<Built, Error> {
        let desired = self.desired;
        let snapshot = self.snapshot;
        let settings = &desired.settings;

        // Per-user decisions, keyed for deterministic output.
        let decided = self.decide_wanted_users(&mut wanted);
        self.warnings.extend(decided.warnings);
        if !decided.diagnostics.is_empty() {
            return Err(Error::Invalid(decided.diagnostics));
        }
        let mut out = Decisions {
            users: decided.users,
            ..Decisions::default()
        };
        let mut managed_memberships = decided.managed_memberships;

        // Unlisted user groups (first: their admin groups go with them).
        if settings.unlisted_groups == UnlistedGroups::Delete {
            let declared: HashSet<String> = self
                .managed
                .iter()
                .filter_map(|m| m.current.as_deref().map(lower))
                .chain(self.managed.iter().map(|m| lower(&m.name)))
                .collect();
            for group in &snapshot.groups {
                let key = lower(&group.name);
                if group.group_type != GroupType::UserGroup || declared.contains(&key) {
                    continue;
                }
                if self.by_current_lower.get(&key).is_some_and(|i| i.excluded) {
                    continue;
                }
                out.deletes.push(Delete {
                    group: group.name.clone(),
                    member_count: group.member_count,
                });
            }
        }

        // Deleting a user group also deletes its admin group, so that role protects
        // no one from `unlisted_users`.
        let deleted_admin_roles: HashSet<String> = out
            .deletes
            .iter()
            .map(|delete| lower(&umapi_core::protocol::admin_group_for(&delete.group)))
            .collect();

        let expired = crate::expiry::expired_keys(desired);
        for (index, user) in snapshot.users.iter().enumerate() {
            if claimed[index] {
                continue;
            }
            if self.user_excluded(user) {
                continue;
            }
            let mut current_managed: Vec<u32> = Vec::new();
            let mut admin_roles: Vec<&str> = Vec::new();
            for group in &user.groups {
                if let Some(info) = self.group_info(group) {
                    if let Some(m) = info.managed {
                        current_managed.push(m);
                    }
                    if info.admin && !deleted_admin_roles.contains(&lower(group)) {
                        admin_roles.push(group);
                    }
                }
            }
            managed_memberships += current_managed.len() as u64;
            // The state files say this user's access ended: removed from the org
            // (the account kept) whatever the policy for unlisted users.
            let policy = if settings.unlisted_users != UnlistedUsers::Delete
                && crate::expiry::is_expired_user(
                    &expired,
                    user.email.as_deref(),
                    user.username.as_deref(),
                    user.domain.as_deref(),
                ) {
                UnlistedUsers::Remove
            } else {
                settings.unlisted_users
            };
            match policy {
                UnlistedUsers::Ignore => {}
                UnlistedUsers::RemoveMemberships => {
                    if current_managed.is_empty() {
                        continue;
                    }
                    current_managed.sort_unstable();
                    current_managed.dedup();
                    out.users.push(UserDecision {
                        key: user.unique_key(),
                        current: Some(index as u32),
                        target: target_of_current(
                            user,
                            self.shared_users.contains(&(index as u32)),
                        ),
                        removes: current_managed,
                        ..UserDecision::default()
                    });
                }
                UnlistedUsers::Remove | UnlistedUsers::Delete => {
                    if !admin_roles.is_empty() {
                        self.warnings.push(format!(
                            "{} is not declared but holds admin roles ({}); it stays in the org (declare or exclude it, or remove the roles first)",
                            user.display_target(),
                            admin_roles.join(", ")
                        ));
                        continue;
                    }
                    let mut delete = policy == UnlistedUsers::Delete;
                    if delete && user.identity_type == IdentityType::AdobeId {
                        delete = false;
                        self.warnings.push(format!(
                            "{} is an Adobe ID: it is removed from the org, but its account belongs to the user and cannot be deleted",
                            user.display_target(),
                        ));
                    }
                    out.users.push(UserDecision {
                        key: user.unique_key(),
                        current: Some(index as u32),
                        target: target_of_current(
                            user,
                            self.shared_users.contains(&(index as u32)),
                        ),
                        leave: Some(Leave {
                            delete_account: delete,
                            identity_type: user.identity_type,
                        }),
                        ..UserDecision::default()
                    });
                }
            }
        }

        Ok(self.emit(out, managed_memberships))
    }

    /// Decides the wanted users' changes, in their order. Each user's decision is
    /// its own, and at a million users deciding waits mostly on memory: the two
    /// halves are decided on two threads and joined in order.
    fn decide_wanted_users(&self, wanted: &mut [Wanted<'a>]) -> Decided {
        let (mut decided, rest) = in_halves(wanted, |part| {
            let mut out = Decided::default();
            for w in part {
                self.decide_wanted(w, &mut out);
            }
            out
        });
        decided.users.extend(rest.users);
        decided.warnings.extend(rest.warnings);
        decided.diagnostics.extend(rest.diagnostics);
        decided.managed_memberships += rest.managed_memberships;
        decided
    }

    fn decide_wanted(&self, w: &mut Wanted<'a>, out: &mut Decided) {
        let desired = self.desired;
        let snapshot = self.snapshot;
        let groups = std::mem::take(&mut w.groups);
        match w.current {
            Some(current) => {
                let user = &snapshot.users[current as usize];
                if self.user_excluded(user) {
                    if w.spec.is_some() {
                        out.warnings.push(format!(
                            "{} is declared but excluded by settings.exclude; it is not touched",
                            user.display_target()
                        ));
                    }
                    return;
                }
                // Key and target are filled in only for users with changes: most
                // users of a large org have none, and the strings are not free.
                let mut decision = UserDecision {
                    current: Some(current),
                    ..UserDecision::default()
                };
                let shown = || user.display_target();
                if let Some(spec) = w.spec {
                    if user.identity_type != IdentityType::Unknown
                        && user.identity_type != w.identity_type
                    {
                        out.warnings.push(format!(
                            "{} is declared as {} but is {} in the org; UMAPI cannot change an identity type (remove and re-create the user to change it)",
                            shown(),
                            w.identity_type, user.identity_type
                        ));
                    }
                    if let (Some(want), Some(have)) = (&spec.country, &user.country)
                        && !want.eq_ignore_ascii_case(have)
                    {
                        out.warnings.push(format!(
                            "{} is declared with country {want} but has {have} in the org; UMAPI cannot change a country",
                            shown()
                        ));
                    }
                    let mut fields = Vec::new();
                    for (field, want, have) in [
                        ("firstname", &spec.firstname, &user.firstname),
                        ("lastname", &spec.lastname, &user.lastname),
                    ] {
                        if let Some(want) = want
                            && Some(want) != have.as_ref()
                        {
                            fields.push(FieldChange {
                                field: field.into(),
                                old: have.as_deref().map(String::from),
                                new: Some(want.to_string()),
                            });
                        }
                    }
                    let mut rename = Vec::new();
                    let new_email = spec
                        .email
                        .as_deref()
                        .or_else(|| spec.username.as_deref().filter(|u| is_email_shaped(u)));
                    // The email changes only on a declared rename (`previously`), and
                    // never for case or Unicode form alone: UMAPI compares emails
                    // case-insensitively and users know their address as they typed it.
                    if w.renamed_from.is_some()
                        && let Some(new_email) = new_email
                        && !user
                            .email
                            .as_deref()
                            .is_some_and(|e| same_identifier(e, new_email))
                    {
                        rename.push(FieldChange {
                            field: "email".into(),
                            old: user.email.as_deref().map(String::from),
                            new: Some(new_email.to_owned()),
                        });
                    }
                    // A declared username is kept on every plan (it may have been changed
                    // in the Admin Console); on a rename, a username that was the email
                    // follows the email.
                    let username_is_email = || match (&user.username, &user.email) {
                        (Some(u), Some(e)) => same_identifier(u, e),
                        _ => false,
                    };
                    let new_username = match spec.username.as_deref() {
                        Some(u) => Some(u),
                        None if w.renamed_from.is_some() && username_is_email() => new_email,
                        None => None,
                    };
                    if let Some(new_username) = new_username
                        && !user
                            .username
                            .as_deref()
                            .is_some_and(|u| same_identifier(u, new_username))
                    {
                        if user.identity_type == IdentityType::EnterpriseId {
                            // UMAPI changes usernames of Federated IDs only.
                            if spec.username.is_some() {
                                out.warnings.push(format!(
                                    "{} is declared with username {new_username} but has {} in the org; UMAPI can change the username of Federated IDs only",
                                    shown(),
                                    user.username.as_deref().unwrap_or("none")
                                ));
                            }
                        } else {
                            rename.push(FieldChange {
                                field: "username".into(),
                                old: user.username.as_deref().map(String::from),
                                new: Some(new_username.to_owned()),
                            });
                        }
                    }
                    if user.identity_type == IdentityType::AdobeId
                        && !(fields.is_empty() && rename.is_empty())
                    {
                        out.warnings.push(format!(
                            "{} is an Adobe ID: its names and email belong to the user and cannot be updated through UMAPI",
                            shown()
                        ));
                        fields.clear();
                        rename.clear();
                    }
                    if !rename.is_empty() {
                        let (user_name, domain) = new_target(spec);
                        decision.after = Some(UserTarget::new(user_name, domain));
                    }
                    decision.update = fields;
                    decision.rename = rename;
                }
                // Memberships within the managed scope.
                let mut have: Vec<u32> = user
                    .groups
                    .iter()
                    .filter_map(|g| self.group_info(g).and_then(|i| i.managed))
                    .collect();
                have.sort_unstable();
                have.dedup();
                out.managed_memberships += have.len() as u64;
                decision.adds = difference(&groups, &have);
                decision.removes = difference(&have, &groups);
                if decision.is_empty() {
                    return;
                }
                decision.key = user.unique_key();
                decision.target = target_of_current(user, self.shared_users.contains(&current));
                out.users.push(decision);
            }
            None => {
                let Some(spec) = w.spec else {
                    if !groups.is_empty() {
                        out.warnings.push(format!(
                            "{} is a member of {} but is neither declared under users nor in the org; declare it under users to create it",
                            w.reference,
                            self.managed[groups[0] as usize].name
                        ));
                    }
                    return;
                };
                if self.excluded_types.contains(&w.identity_type)
                    || self.matches_pattern(spec.email.as_deref(), spec.username.as_deref())
                {
                    out.warnings.push(format!(
                        "{} is declared but excluded by settings.exclude; it is not created",
                        spec.display_identity()
                    ));
                    return;
                }
                let location = self.user_origin(spec);
                let email = spec
                    .email
                    .as_deref()
                    .or_else(|| spec.username.as_deref().filter(|u| u.contains('@')))
                    .map(String::from);
                let Some(email) = email else {
                    out.diagnostics.push(Diagnostic {
                        location,
                        message: format!(
                            "cannot create {}: it is not in the org and has no email",
                            spec.display_identity()
                        ),
                        hint: Some("add `email:` to the user".into()),
                    });
                    return;
                };
                // An Adobe ID's country belongs to its owner: only a country declared on
                // the user is sent, never the default for accounts the org creates.
                let country = match w.identity_type {
                    IdentityType::AdobeId => spec.country.as_deref().map(String::from),
                    _ => spec
                        .country
                        .as_deref()
                        .map(String::from)
                        .or_else(|| desired.settings.default_country.clone()),
                };
                // createFederatedID takes no username: a declared username that is another
                // email is set by an update step in the same entry. (A username that is
                // not an email is the entry's `user`, which the create uses.)
                let username = spec.username.as_deref().map(String::from).filter(|u| {
                    w.identity_type == IdentityType::FederatedId
                        && is_email_shaped(u)
                        && !same_identifier(u, &email)
                });
                if w.identity_type == IdentityType::FederatedId && country.is_none() {
                    out.diagnostics.push(Diagnostic {
                        location,
                        message: format!(
                            "cannot create Federated ID {}: a country is required",
                            spec.display_identity()
                        ),
                        hint: Some(
                            "add `country:` to the user, or `settings.default_country`".into(),
                        ),
                    });
                    return;
                }
                let fields = CreateUser {
                    email: email.clone(),
                    firstname: spec.firstname.as_deref().map(String::from),
                    lastname: spec.lastname.as_deref().map(String::from),
                    country: country.clone(),
                    option: Some(IfAlreadyExists::Ignore),
                };
                let step = match w.identity_type {
                    IdentityType::FederatedId => UserStep::CreateFederatedId(fields),
                    IdentityType::EnterpriseId => UserStep::CreateEnterpriseId(fields),
                    IdentityType::AdobeId => UserStep::AddAdobeId(fields),
                    IdentityType::Unknown => {
                        out.diagnostics.push(Diagnostic {
                            location,
                            message: format!(
                                "cannot create {}: unknown identity type",
                                spec.display_identity()
                            ),
                            hint: Some("use adobeID, enterpriseID or federatedID".into()),
                        });
                        return;
                    }
                };
                let (user_name, domain) = new_target(spec);
                let mut target = UserTarget::new(user_name, domain);
                // The Python client of Adobe sends useAdobeID with every Adobe ID action;
                // without it, an org-owned account with the same email would be meant.
                target.use_adobe_id = w.identity_type == IdentityType::AdobeId;
                out.users.push(UserDecision {
                    key: AccountKey {
                        user: spec.account_key(),
                        adobe_id: w.identity_type == IdentityType::AdobeId,
                    },
                    current: None,
                    target,
                    create: Some(Create {
                        step,
                        identity_type: w.identity_type,
                        email,
                        country,
                    }),
                    create_username: username,
                    adds: groups,
                    ..UserDecision::default()
                });
            }
        }
    }
}

//! `settings.policy`: rules the merged desired state must keep (allowed email
//! domains, minimum members of admin groups, profiles closed to Adobe IDs, every
//! user in a user group). Checked offline, after every other rule, so each violation
//! points at the user or group that breaks it.

use std::collections::BTreeSet;

use umapi_core::wire::IdentityType;

use super::rules::problem;
use crate::desired::{DesiredState, Location, Policy, UserSpec};
use crate::error::Diagnostic;
use crate::yaml::did_you_mean;

/// Every violation of the state's policy.
pub(crate) fn check(state: &DesiredState) -> Vec<Diagnostic> {
    let policy = &state.settings.policy;
    let mut found = Vec::new();
    check_email_domains(state, policy, &mut found);
    check_min_members(state, policy, &mut found);
    check_no_adobe_ids(state, policy, &mut found);
    if policy.every_user_in_a_user_group {
        check_every_user_in_a_group(state, &mut found);
    }
    found
}

fn user_at(state: &DesiredState, user: &UserSpec) -> Location {
    state
        .origin_of_user(user)
        .unwrap_or_else(|| settings_at(state))
}

/// Where the policy was written: its settings block.
fn settings_at(state: &DesiredState) -> Location {
    state.settings_origin.clone().unwrap_or(Location {
        file: "settings".into(),
        line: 1,
        column: 1,
    })
}

fn check_email_domains(state: &DesiredState, policy: &Policy, found: &mut Vec<Diagnostic>) {
    for user in &state.users {
        let identity_type = state.identity_type_of(user);
        let Some(email) = &user.email else { continue };
        let Some((domain, allowed)) = policy.email_domains.refusal(identity_type, email) else {
            continue;
        };
        found.push(problem(
            user_at(state, user),
            format!(
                "`{email}` is a {identity_type} user in `{domain}`, which \
                 `settings.policy.email_domains.{identity_type}` does not allow (it allows {})",
                allowed.join(", ")
            ),
            Some(&format!(
                "use an address in an allowed domain, or add `{domain}` to \
                 `settings.policy.email_domains.{identity_type}`"
            )),
        ));
    }
}

fn check_min_members(state: &DesiredState, policy: &Policy, found: &mut Vec<Diagnostic>) {
    for (name, &minimum) in &policy.min_members {
        let Some(target) = state.target(name) else {
            found.push(undeclared(state, "min_members", name));
            continue;
        };
        let members = state.members_of(name).count() as u64;
        if members < minimum.get() {
            found.push(problem(
                state
                    .origin_of(name)
                    .cloned()
                    .unwrap_or_else(|| settings_at(state)),
                format!(
                    "`{}` would have {members} member{}; `settings.policy.min_members` asks for \
                     at least {minimum}",
                    target.name(),
                    if members == 1 { "" } else { "s" }
                ),
                Some("add members, or lower the minimum if the org really needs fewer"),
            ));
        }
    }
}

fn check_no_adobe_ids(state: &DesiredState, policy: &Policy, found: &mut Vec<Diagnostic>) {
    for name in &policy.no_adobe_ids {
        let Some(target) = state.target(name) else {
            found.push(undeclared(state, "no_adobe_ids", name));
            continue;
        };
        let closed = target.name();
        // Directly, and through every user group linked to it.
        let mut routes: Vec<(Option<&str>, &UserSpec)> =
            state.members_of(closed).map(|user| (None, user)).collect();
        for group in &state.groups {
            if group
                .profiles
                .iter()
                .any(|p| p.eq_ignore_ascii_case(closed))
            {
                routes.extend(
                    state
                        .members_of(&group.name)
                        .map(|u| (Some(group.name.as_str()), u)),
                );
            }
        }
        let mut reported = BTreeSet::new();
        for (through, user) in routes {
            if state.identity_type_of(user) != IdentityType::AdobeId || !reported.insert(user.key())
            {
                continue;
            }
            let route = match through {
                Some(group) => format!(" through user group `{group}`"),
                None => String::new(),
            };
            found.push(problem(
                user_at(state, user),
                format!(
                    "`{}` is an Adobe ID and would be in `{closed}`{route}, which \
                     `settings.policy.no_adobe_ids` closes to Adobe IDs",
                    user.display_identity()
                ),
                Some("give the person an account the org owns (a Federated or Enterprise ID)"),
            ));
        }
    }
}

fn check_every_user_in_a_group(state: &DesiredState, found: &mut Vec<Diagnostic>) {
    let mut grouped = vec![false; state.users.len()];
    for group in &state.groups {
        if let Some(indices) = state.members.get(&group.name.to_lowercase()) {
            for &index in indices {
                grouped[index] = true;
            }
        }
    }
    for (user, _) in state
        .users
        .iter()
        .zip(grouped)
        .filter(|(_, grouped)| !grouped)
    {
        found.push(problem(
            user_at(state, user),
            format!("`{}` is in no user group", user.display_identity()),
            Some(
                "add the user to a user group: `settings.policy.every_user_in_a_user_group` \
                 asks that access come through groups",
            ),
        ));
    }
}

fn undeclared(state: &DesiredState, rule: &str, name: &str) -> Diagnostic {
    let names: Vec<&str> = state.targets().map(|target| target.name()).collect();
    let hint = did_you_mean(name, names.iter().copied()).unwrap_or_else(|| {
        "name a user group, product profile or admin group declared in the state files".to_owned()
    });
    problem(
        settings_at(state),
        format!("`settings.policy.{rule}` names `{name}`, which is not declared"),
        Some(&hint),
    )
}

//! Safety limits per destructive class: over a limit, the plan fails and nothing is sent.

use super::build::Built;
use crate::error::{Diagnostic, Error};
use crate::model::{DesiredState, Limit};
use crate::snapshot::Snapshot;

fn setting(limit: &Limit) -> String {
    match limit {
        Limit::Count(count) => count.to_string(),
        Limit::Percent(text) => text.clone(),
    }
}

/// A destructive class: limit name, limit, verb, noun, planned count, total.
type Class<'a> = (
    &'static str,
    &'a Option<Limit>,
    &'static str,
    &'static str,
    u64,
    u64,
);

/// Fails when a destructive class goes over its limit.
pub(crate) fn check(
    desired: &DesiredState,
    current: &Snapshot,
    built: &Built,
) -> Result<(), Error> {
    let limits = &desired.settings.limits;
    let user_groups = current
        .groups
        .iter()
        .filter(|g| g.group_type == umapi_core::wire::GroupType::UserGroup)
        .count() as u64;
    let classes: [Class<'_>; 3] = [
        (
            "max_user_removals",
            &limits.max_user_removals,
            "remove",
            "users from the org",
            built.user_removals,
            current.users.len() as u64,
        ),
        (
            "max_membership_removals",
            &limits.max_membership_removals,
            "remove",
            "memberships of managed groups",
            built.membership_removals,
            built.managed_memberships,
        ),
        (
            "max_group_deletions",
            &limits.max_group_deletions,
            "delete",
            "user groups",
            built.group_deletions,
            user_groups,
        ),
    ];
    for (name, limit, action, of_what, planned, total) in classes {
        let Some(limit) = limit else { continue };
        let Some(allowed) = limit.allowance(total) else {
            return Err(Error::Invalid(vec![Diagnostic {
                location: None,
                message: format!(
                    "settings.limits.{name}: `{}` is not a count or a percentage",
                    setting(limit)
                ),
                hint: Some("write a number like 3, or a percentage like \"5%\"".into()),
            }]));
        };
        if planned > allowed {
            return Err(Error::LimitExceeded {
                limit: name,
                setting: setting(limit),
                action,
                of_what,
                planned,
                allowed,
                total,
            });
        }
    }
    Ok(())
}

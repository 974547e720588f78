//! Safety limits per destructive class: a plan over a limit is still made and
//! shown, with what blocks it, but it is never sent.
//!
//! Each limit comes from `--allow` (an override for this plan), else from
//! `settings.limits`, else from its default (a percentage with a small floor,
//! see [`LimitName::default_allowance`]).

use super::PlanOptions;
use super::change::Decided;
use super::decide::Built;
use super::licences::Licence;
use crate::current::Snapshot;
use crate::desired::{DesiredState, LimitName};
use crate::error::{Diagnostic, Error};
use crate::plan::{Blocked, ChangeKind, LimitSource, Override};

/// How many affected objects a [`Blocked`] lists.
pub const AFFECTED_SHOWN: usize = 5;

/// The limits the plan goes over, and the overrides it was made with.
pub(crate) struct Checked {
    pub blocked: Vec<Blocked>,
    pub overrides: Vec<Override>,
}

/// Checks every destructive class against its limit.
pub(crate) fn check(
    desired: &DesiredState,
    current: &Snapshot,
    built: &Built,
    licences: &[Licence],
    options: &PlanOptions,
) -> Result<Checked, Error> {
    let user_groups = current
        .groups
        .iter()
        .filter(|g| g.group_type == umapi_core::wire::GroupType::UserGroup)
        .count() as u64;
    let mut checked = Checked {
        blocked: Vec::new(),
        overrides: Vec::new(),
    };
    for name in LimitName::ALL {
        let (affected, planned) = match name {
            LimitName::MaxSeatsOverQuota => over_quota(licences),
            _ => {
                let affected = affected(name, &built.changes.0);
                let planned = affected.len() as u64;
                (affected, planned)
            }
        };
        let total = match name {
            LimitName::MaxUserRemovals => current.users.len() as u64,
            LimitName::MaxMembershipRemovals => built.managed_memberships,
            LimitName::MaxGroupDeletions => user_groups,
            LimitName::MaxSeatsOverQuota => licences
                .iter()
                .filter(|l| l.after > l.now)
                .filter_map(|l| l.quota.and_then(crate::current::LicenseQuota::seats))
                .sum(),
        };
        let written = desired.settings.limits.get(name);
        let (setting, default_allowed) = match written {
            Some(limit) => (limit.to_string(), None),
            None => (name.default_setting(), Some(name.default_allowance(total))),
        };
        // The last --allow of a limit wins, as with repeated flags elsewhere.
        let given = options.overrides.iter().rev().find(|o| o.limit == name);
        let (source, allowed) = match (given, written) {
            (Some(given), _) => (LimitSource::Override, allowance(name, &given.value, total)?),
            (None, Some(limit)) => (LimitSource::Settings, allowance(name, limit, total)?),
            (None, None) => (LimitSource::Default, default_allowed.unwrap_or(0)),
        };
        if let Some(given) = given {
            checked.overrides.push(Override {
                limit: name,
                value: given.value.clone(),
                instead_of: setting.clone(),
                planned,
                allowed,
                total,
            });
        }
        if planned > allowed {
            let listed: Vec<String> = affected.iter().take(AFFECTED_SHOWN).cloned().collect();
            checked.blocked.push(Blocked {
                limit: name,
                setting: match given {
                    Some(given) => given.value.to_string(),
                    None => setting,
                },
                source,
                planned,
                allowed,
                total,
                more: (affected.len() - listed.len()) as u64,
                affected: listed,
            });
        }
    }
    Ok(checked)
}

fn allowance(name: LimitName, limit: &crate::desired::Limit, total: u64) -> Result<u64, Error> {
    limit.allowance(total).ok_or_else(|| {
        Error::Invalid(vec![Diagnostic {
            location: None,
            message: format!("{name}: `{limit}` is not a count, a percentage or off"),
            hint: Some("write a number like 3, a percentage like \"5%\", or off".into()),
        }])
    })
}

/// The profiles the plan takes over their quotas (`Photoshop (2 over 20)`), and
/// the seats it takes beyond them.
fn over_quota(licences: &[Licence]) -> (Vec<String>, u64) {
    let over: Vec<&Licence> = licences.iter().filter(|l| l.over_by() > 0).collect();
    let affected = over
        .iter()
        .map(|l| {
            let quota = l.quota.and_then(crate::current::LicenseQuota::seats);
            format!(
                "{} ({} over {})",
                l.profile,
                l.over_by(),
                quota.unwrap_or(0)
            )
        })
        .collect();
    (affected, over.iter().map(|l| l.over_by()).sum())
}

/// The objects a destructive class touches, in plan order: one per change.
fn affected(name: LimitName, changes: &[Decided]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|change| match (name, &change.kind) {
            (LimitName::MaxUserRemovals, ChangeKind::RemoveUser { user, .. }) => Some(user.clone()),
            (
                LimitName::MaxMembershipRemovals,
                ChangeKind::RemoveMembership { user, group, .. },
            ) => Some(format!("{user} from {group}")),
            (LimitName::MaxGroupDeletions, ChangeKind::DeleteGroup { group, .. }) => {
                Some(group.clone())
            }
            _ => None,
        })
        .collect()
}

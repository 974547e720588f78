//! The audit report: what an auditor asks about an org, answered from one read of
//! the org (live or a snapshot file) and the plan against the desired state.
//!
//! [`Audit`] is the report's content; its serde form is the JSON report, and
//! [`crate::render::audit_html`] and [`crate::render::audit_markdown`] render it for
//! people. Every figure a renderer shows comes from this value, so the page and the
//! JSON cannot disagree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use umapi_core::wire::{GroupType, IdentityType};

use crate::current::{LicenseQuota, Snapshot};
use crate::desired::Policy;
use crate::expiry::Expiring;
use crate::plan::{Blocked, ChangeKind, Plan, Summary};

mod org_policy;

pub use org_policy::PolicyFinding;

/// Version of the JSON report written by this crate.
pub const AUDIT_FORMAT_VERSION: u32 = 1;

/// An org's audit report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    /// Version of this document (`1`).
    pub format_version: u32,
    /// The org id (`…@AdobeOrg`).
    pub org_id: String,
    /// When the report was made, RFC 3339 in UTC.
    pub generated_at: String,
    /// Where the org's state was read from.
    pub source: AuditSource,
    /// The org's users.
    pub users: UserCounts,
    /// The org's groups by kind.
    pub groups: GroupCounts,
    /// Every product profile with its seats, sorted by name.
    pub profiles: Vec<ProfileSeats>,
    /// How the org differs from the desired state.
    pub drift: Drift,
    /// Users and memberships of the desired state whose `until` day falls within
    /// the report's window, soonest first.
    pub expiring: Vec<Expiring>,
    /// The window of [`Audit::expiring`], in days (`--expiring`).
    pub expiring_within_days: u32,
    /// The org as it is now, held to `settings.policy`.
    pub policy: PolicyAudit,
}

/// `settings.policy` checked against the org as it is now (direct memberships
/// only: the org's listing does not show which user groups give which profiles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAudit {
    /// The rules the policy sets, as written under `settings.policy`; empty when
    /// there is no policy.
    pub rules: Vec<String>,
    /// Every way the org breaks them.
    pub findings: Vec<PolicyFinding>,
}

/// Where the org's state in a report was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditSource {
    /// The live org, read through UMAPI when the report was made.
    LiveOrg,
    /// A snapshot file written by `umapi export --snapshot`.
    Snapshot {
        /// The file as it was named on the command line.
        file: String,
    },
}

/// The org's users, by identity type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCounts {
    /// Every active user.
    pub total: u64,
    /// Users per identity type; types with no user are left out.
    pub by_type: BTreeMap<IdentityType, u64>,
}

/// The org's groups by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCounts {
    /// User groups.
    pub user_groups: u64,
    /// Product profiles.
    pub product_profiles: u64,
    /// Admin groups (system, product, profile, user-group, support, deployment
    /// admins and developers) and groups of a type UMAPI did not document.
    pub admin_groups: u64,
}

/// A product profile's seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSeats {
    /// The profile's name.
    pub name: String,
    /// The product it licenses, when UMAPI says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Seats in use: the profile's member count as UMAPI reports it; `None` when
    /// UMAPI did not report one.
    pub used: Option<u64>,
    /// The profile's licence quota; `None` when UMAPI did not report one.
    pub quota: Option<LicenseQuota>,
    /// Whether more seats are in use than the quota allows.
    pub over_quota: bool,
}

/// How the org differs from the desired state: the plan's counted changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// True when the plan has no changes.
    pub in_sync: bool,
    /// The plan's change counts.
    pub summary: Summary,
    /// What `apply` would change, in plan order (write-only values it would send
    /// again are not drift and are left out).
    pub changes: Vec<ChangeKind>,
    /// Safety limits the plan goes over: `apply` would refuse it as it stands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<Blocked>,
}

impl ProfileSeats {
    /// Seats in use as a percentage of the quota, rounded down; `None` for an
    /// unlimited or unknown quota. A quota of 0 with seats in use is 100 %.
    pub fn percent_of_quota(&self) -> Option<u64> {
        let (Some(used), Some(LicenseQuota::Seats(quota))) = (self.used, self.quota) else {
            return None;
        };
        Some(match used.saturating_mul(100).checked_div(quota) {
            Some(percent) => percent,
            None if used == 0 => 0,
            None => 100,
        })
    }
}

impl Audit {
    /// The report on the org in `snapshot`, with `plan` (made against the same
    /// snapshot) as its drift and upcoming expiries (made with
    /// `expiring_within_days`), and `policy` (the desired state's) held against the org.
    pub fn new(
        snapshot: &Snapshot,
        plan: &Plan,
        expiring_within_days: u32,
        policy: &Policy,
        source: AuditSource,
        generated_at: jiff::Timestamp,
    ) -> Audit {
        let mut by_type = BTreeMap::new();
        for user in &snapshot.users {
            *by_type.entry(user.identity_type).or_insert(0) += 1;
        }
        let mut groups = GroupCounts {
            user_groups: 0,
            product_profiles: 0,
            admin_groups: 0,
        };
        let mut profiles = Vec::new();
        for group in &snapshot.groups {
            match group.group_type {
                GroupType::UserGroup => groups.user_groups += 1,
                GroupType::ProductProfile => {
                    groups.product_profiles += 1;
                    let over_quota = match (group.member_count, group.license_quota) {
                        (Some(used), Some(LicenseQuota::Seats(quota))) => used > quota,
                        _ => false,
                    };
                    profiles.push(ProfileSeats {
                        name: group.name.clone(),
                        product: group.product_name.clone(),
                        used: group.member_count,
                        quota: group.license_quota,
                        over_quota,
                    });
                }
                _ => groups.admin_groups += 1,
            }
        }
        let changes: Vec<ChangeKind> = plan
            .changes
            .iter()
            .filter(|change| change.kind.is_counted())
            .map(|change| change.kind.clone())
            .collect();
        Audit {
            format_version: AUDIT_FORMAT_VERSION,
            org_id: snapshot.org_id.clone(),
            generated_at: generated_at
                .round(jiff::Unit::Second)
                .unwrap_or(generated_at)
                .to_string(),
            source,
            users: UserCounts {
                total: snapshot.users.len() as u64,
                by_type,
            },
            groups,
            profiles,
            drift: Drift {
                in_sync: changes.is_empty(),
                summary: plan.summary.clone(),
                changes,
                blocked: plan.blocked.clone(),
            },
            expiring: plan.expiring.clone(),
            expiring_within_days,
            policy: PolicyAudit {
                rules: rules_of(policy),
                findings: org_policy::check(policy, snapshot),
            },
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        let mut json =
            serde_json::to_string_pretty(self).expect("an audit always serializes to JSON");
        json.push('\n');
        json
    }
}

/// The rules `policy` sets, by their names under `settings.policy`.
fn rules_of(policy: &Policy) -> Vec<String> {
    [
        ("email_domains", !policy.email_domains.is_empty()),
        ("min_members", !policy.min_members.is_empty()),
        ("no_adobe_ids", !policy.no_adobe_ids.is_empty()),
        (
            "every_user_in_a_user_group",
            policy.every_user_in_a_user_group,
        ),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(rule, _)| rule.to_owned())
    .collect()
}

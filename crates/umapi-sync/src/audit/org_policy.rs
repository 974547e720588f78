//! `settings.policy` checked against the org as it is now, for the audit report.
//!
//! `validate` and `plan` hold the desired state to the policy; this answers the
//! auditor's other question: what in the org breaks it today (an account added by
//! hand in the Admin Console, a profile given to a personal Adobe ID). The org's
//! group listing does not say which user groups are linked to which product
//! profiles, so only direct memberships count here.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use umapi_core::wire::{GroupType, IdentityType};

use crate::current::Snapshot;
use crate::desired::Policy;

/// One way the org breaks a rule of `settings.policy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFinding {
    /// The rule, as written under `settings.policy` (`email_domains`, `min_members`,
    /// `no_adobe_ids`, `every_user_in_a_user_group`).
    pub rule: String,
    /// The user (as UMAPI identifies them) or the group the finding is about.
    pub subject: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

/// Every finding of `policy` in the org in `snapshot`, rule by rule, each rule's
/// findings in the snapshot's order.
pub fn check(policy: &Policy, snapshot: &Snapshot) -> Vec<PolicyFinding> {
    let mut found = Vec::new();
    email_domains(policy, snapshot, &mut found);
    min_members(policy, snapshot, &mut found);
    no_adobe_ids(policy, snapshot, &mut found);
    if policy.every_user_in_a_user_group {
        every_user_in_a_user_group(snapshot, &mut found);
    }
    found
}

fn finding(rule: &str, subject: String, message: String) -> PolicyFinding {
    PolicyFinding {
        rule: rule.to_owned(),
        subject,
        message,
    }
}

fn email_domains(policy: &Policy, snapshot: &Snapshot, found: &mut Vec<PolicyFinding>) {
    for user in &snapshot.users {
        let Some(email) = user.email.as_deref() else {
            continue;
        };
        let Some((domain, allowed)) = policy.email_domains.refusal(user.identity_type, email)
        else {
            continue;
        };
        found.push(finding(
            "email_domains",
            user.display_target(),
            format!(
                "a {} user in `{domain}`; the policy allows {}",
                user.identity_type,
                allowed.join(", ")
            ),
        ));
    }
}

fn min_members(policy: &Policy, snapshot: &Snapshot, found: &mut Vec<PolicyFinding>) {
    for (name, &minimum) in &policy.min_members {
        let group = snapshot
            .groups
            .iter()
            .find(|group| group.name.eq_ignore_ascii_case(name));
        let Some(group) = group else {
            found.push(finding(
                "min_members",
                name.clone(),
                format!("not in the org; the policy asks for at least {minimum} members"),
            ));
            continue;
        };
        // The listing's count when UMAPI gave one; otherwise the members seen.
        let members = group.member_count.unwrap_or_else(|| {
            snapshot
                .users
                .iter()
                .filter(|user| user.groups.iter().any(|g| g.eq_ignore_ascii_case(name)))
                .count() as u64
        });
        if members < minimum.get() {
            found.push(finding(
                "min_members",
                group.name.clone(),
                format!(
                    "{members} member{} in the org; the policy asks for at least {minimum}",
                    if members == 1 { "" } else { "s" }
                ),
            ));
        }
    }
}

fn no_adobe_ids(policy: &Policy, snapshot: &Snapshot, found: &mut Vec<PolicyFinding>) {
    if policy.no_adobe_ids.is_empty() {
        return;
    }
    for user in snapshot
        .users
        .iter()
        .filter(|user| user.identity_type == IdentityType::AdobeId)
    {
        for closed in &policy.no_adobe_ids {
            if let Some(group) = user.groups.iter().find(|g| g.eq_ignore_ascii_case(closed)) {
                found.push(finding(
                    "no_adobe_ids",
                    user.display_target(),
                    format!("an Adobe ID in `{group}`, which the policy closes to Adobe IDs"),
                ));
            }
        }
    }
}

fn every_user_in_a_user_group(snapshot: &Snapshot, found: &mut Vec<PolicyFinding>) {
    let user_groups: HashSet<String> = snapshot
        .groups
        .iter()
        .filter(|group| group.group_type == GroupType::UserGroup)
        .map(|group| group.name.to_lowercase())
        .collect();
    for user in &snapshot.users {
        if !user
            .groups
            .iter()
            .any(|group| user_groups.contains(&group.to_lowercase()))
        {
            found.push(finding(
                "every_user_in_a_user_group",
                user.display_target(),
                "in no user group".to_owned(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use super::*;
    use crate::current::{SnapshotGroup, SnapshotUser};
    use crate::desired::EmailDomains;

    fn user(email: &str, identity_type: IdentityType, groups: &[&str]) -> SnapshotUser {
        SnapshotUser {
            email: Some(email.into()),
            username: Some(email.into()),
            domain: email.rsplit_once('@').map(|(_, d)| d.into()),
            identity_type,
            firstname: None,
            lastname: None,
            country: None,
            groups: groups.iter().map(|g| std::sync::Arc::from(*g)).collect(),
        }
    }

    fn group(name: &str, group_type: GroupType, member_count: Option<u64>) -> SnapshotGroup {
        SnapshotGroup {
            name: name.to_owned(),
            group_type,
            member_count,
            product_name: None,
            license_quota: None,
        }
    }

    fn org(users: Vec<SnapshotUser>, groups: Vec<SnapshotGroup>) -> Snapshot {
        Snapshot {
            org_id: "org@AdobeOrg".to_owned(),
            users,
            groups,
            ..Snapshot::default()
        }
    }

    #[test]
    fn an_org_that_keeps_the_policy_has_no_finding() {
        let policy = Policy {
            email_domains: EmailDomains {
                federated_id: Some(vec!["example.com".to_owned()]),
                ..EmailDomains::default()
            },
            min_members: [("_org_admin".to_owned(), NonZeroU64::new(1).unwrap())].into(),
            no_adobe_ids: vec!["Pro".to_owned()],
            every_user_in_a_user_group: true,
        };
        let snapshot = org(
            vec![
                user(
                    "kim@EXAMPLE.com",
                    IdentityType::FederatedId,
                    &["staff", "_org_admin"],
                ),
                user("sam@gmail.com", IdentityType::AdobeId, &["Staff"]),
            ],
            vec![
                group("_org_admin", GroupType::SysadminGroup, Some(1)),
                group("Pro", GroupType::ProductProfile, Some(0)),
                group("Staff", GroupType::UserGroup, Some(2)),
            ],
        );
        assert_eq!(check(&policy, &snapshot), Vec::new());
    }

    #[test]
    fn each_rule_finds_what_the_org_breaks() {
        let policy = Policy {
            email_domains: EmailDomains {
                federated_id: Some(vec!["example.com".to_owned()]),
                ..EmailDomains::default()
            },
            min_members: [
                ("_org_admin".to_owned(), NonZeroU64::new(2).unwrap()),
                ("Missing".to_owned(), NonZeroU64::new(1).unwrap()),
            ]
            .into(),
            no_adobe_ids: vec!["pro".to_owned()],
            every_user_in_a_user_group: true,
        };
        let snapshot = org(
            vec![
                user(
                    "kim@other.com",
                    IdentityType::FederatedId,
                    &["Staff", "_org_admin"],
                ),
                user("sam@gmail.com", IdentityType::AdobeId, &["Pro"]),
            ],
            vec![
                group("_org_admin", GroupType::SysadminGroup, None),
                group("Pro", GroupType::ProductProfile, Some(1)),
                group("Staff", GroupType::UserGroup, Some(1)),
            ],
        );
        let found: Vec<(String, String)> = check(&policy, &snapshot)
            .into_iter()
            .map(|f| (f.rule, f.subject))
            .collect();
        let expected = [
            ("email_domains", "kim@other.com"),
            ("min_members", "Missing"),
            ("min_members", "_org_admin"),
            ("no_adobe_ids", "sam@gmail.com"),
            ("every_user_in_a_user_group", "sam@gmail.com"),
        ]
        .map(|(rule, subject)| (rule.to_owned(), subject.to_owned()));
        assert_eq!(found, expected);
    }
}

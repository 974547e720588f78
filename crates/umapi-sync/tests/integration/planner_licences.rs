//! Licences in the plan: the seats it estimates for each product profile are the
//! seats the sandbox counts after running it (`OrgState::execute`, the rules that
//! answer UMAPI requests), over random orgs whose users join and leave profiles
//! directly and through user groups that carry them, are renamed, created and
//! removed from the org.

use proptest::prelude::*;
use umapi_core::wire::{GroupType, IdentityType};
use umapi_sandbox::{OrgSpec, generate};
use umapi_sync::current::{LicenseQuota, Snapshot};
use umapi_sync::desired::{
    DesiredState, GroupSpec, Limit, LimitName, LimitOverride, Limits, ProfileSpec, Settings,
    UnlistedUsers, UserSpec,
};
use umapi_sync::planner::{PlanOptions, plan};

use crate::planner_support::SandboxOrg;

/// Seats per product profile as the org lists them (`memberCount`).
fn seats(snapshot: &Snapshot) -> Vec<(String, u64)> {
    snapshot
        .groups
        .iter()
        .filter(|g| g.group_type == GroupType::ProductProfile)
        .map(|g| (g.name.clone(), g.member_count.unwrap_or(0)))
        .collect()
}

/// A random desired state for a generated org: every user group declared with the
/// profiles it carries in the org; each user's groups picked by `picks` (a bit per
/// user group and profile), some users renamed, left undeclared, or new.
fn desired_for(
    org: &SandboxOrg,
    picks: &[u16],
    renames: &[bool],
    new_users: &[u16],
    unlisted: UnlistedUsers,
) -> DesiredState {
    let state = &org.state;
    let groups: Vec<String> = state
        .user_groups
        .iter()
        .map(|g| g.name.clone())
        .chain(state.product_profiles.iter().map(|p| p.name.clone()))
        .collect();
    let chosen = |bits: u16| -> Vec<umapi_sync::desired::Membership> {
        groups
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, g)| g.clone().into())
            .collect()
    };
    let mut users = Vec::new();
    for (i, user) in state.users.iter().enumerate() {
        let Some(&bits) = picks.get(i) else {
            continue;
        };
        // Only plain Federated IDs are renamed: their username follows the email.
        let renamed = renames.get(i).copied().unwrap_or(false)
            && user.identity_type == IdentityType::FederatedId
            && user.username == user.email;
        let email = if renamed {
            format!("renamed.{}", user.email)
        } else {
            user.email.clone()
        };
        users.push(UserSpec {
            email: Some(email.into()),
            username: (user.username != user.email).then(|| user.username.as_str().into()),
            domain: (user.username != user.email).then(|| user.domain.as_str().into()),
            identity_type: Some(user.identity_type),
            firstname: user.firstname.as_deref().map(Into::into),
            lastname: user.lastname.as_deref().map(Into::into),
            country: user.country.as_deref().map(Into::into),
            groups: chosen(bits),
            previously: if renamed {
                [user.email.as_str().into()].into()
            } else {
                Box::default()
            },
            ..Default::default()
        });
    }
    for (i, &bits) in new_users.iter().enumerate() {
        users.push(UserSpec {
            email: Some(format!("new{i}@example.com").into()),
            country: Some("US".into()),
            groups: chosen(bits),
            ..Default::default()
        });
    }
    DesiredState {
        users,
        groups: state
            .user_groups
            .iter()
            .map(|g| GroupSpec {
                name: g.name.clone(),
                profiles: g.profiles.clone(),
                ..Default::default()
            })
            .collect(),
        profiles: state
            .product_profiles
            .iter()
            .map(|p| ProfileSpec {
                name: p.name.clone(),
                ..Default::default()
            })
            .collect(),
        settings: Settings {
            unlisted_users: unlisted,
            limits: Limits {
                max_user_removals: Some(Limit::Off(umapi_sync::desired::Off::Off)),
                max_membership_removals: Some(Limit::Off(umapi_sync::desired::Off::Off)),
                ..Limits::default()
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_estimate_is_what_the_sandbox_counts_after_the_plan(
        seed in 0u64..1_000,
        picks in prop::collection::vec(any::<u16>(), 0..24),
        renames in prop::collection::vec(prop::bool::weighted(0.2), 24),
        new_users in prop::collection::vec(any::<u16>(), 0..4),
        unlisted in prop_oneof![
            Just(UnlistedUsers::Ignore),
            Just(UnlistedUsers::RemoveMemberships),
            Just(UnlistedUsers::Remove),
        ],
    ) {
        let mut org = SandboxOrg {
            state: generate::org(&OrgSpec { users: 24, user_groups: 4, profiles: 3, seed }),
        };
        let before = org.to_snapshot();
        let desired = desired_for(&org, &picks, &renames, &new_users, unlisted);
        let made = plan(&desired, &before, &PlanOptions::default()).unwrap();
        let errors = org.apply(&made, seed);
        prop_assert!(errors.is_empty(), "{errors:#?}");
        let after = org.to_snapshot();

        let now = seats(&before);
        for (profile, seats_after) in seats(&after) {
            let seats_now = now.iter().find(|(p, _)| *p == profile).map(|(_, n)| *n);
            match made.licences.iter().find(|l| l.profile == profile) {
                Some(licence) => {
                    prop_assert_eq!(Some(licence.now), seats_now, "{}", profile);
                    prop_assert_eq!(licence.after, seats_after, "{}", profile);
                }
                None => prop_assert_eq!(
                    seats_now,
                    Some(seats_after),
                    "{} changed without a Licences entry",
                    profile
                ),
            }
        }
    }
}

/// The org of the quota tests: Photoshop (quota 2) held by ada directly and by bo
/// through Design, which carries it.
fn quota_org() -> (SandboxOrg, DesiredState) {
    let yaml = "
users:
  - {email: ada@example.com, firstname: A, lastname: L, country: US, groups: [Photoshop]}
  - {email: bo@example.com, firstname: B, lastname: L, country: US, groups: [Design]}
  - {email: cy@example.com, firstname: C, lastname: L, country: US, groups: [Design, Photoshop]}
  - {email: di@example.com, firstname: D, lastname: L, country: US, groups: [Design]}
groups:
  - {name: Design, profiles: [Photoshop]}
profiles:
  - {name: Photoshop}
";
    let desired = crate::planner_support::desired_from_yaml(yaml);
    let mut state: umapi_sandbox::OrgState = serde_json::from_value(serde_json::json!({
        "users": [
            {"id": "1", "email": "ada@example.com", "username": "ada@example.com", "domain": "example.com",
             "firstname": "A", "lastname": "L", "country": "US", "type": "federatedID", "groups": ["Photoshop"]},
            {"id": "2", "email": "bo@example.com", "username": "bo@example.com", "domain": "example.com",
             "firstname": "B", "lastname": "L", "country": "US", "type": "federatedID", "groups": ["Design"]}
        ],
        "user_groups": [{"group_id": 1, "name": "Design", "profiles": ["Photoshop"]}],
        "product_profiles": [{"group_id": 2, "name": "Photoshop", "product_name": "Photoshop", "license_quota": "2"}]
    }))
    .unwrap();
    state.users.sort_by(|a, b| a.email.cmp(&b.email));
    (SandboxOrg { state }, desired)
}

#[test]
fn a_plan_over_a_quota_is_warned_about_and_blocked_only_when_the_limit_says_so() {
    let (org, mut desired) = quota_org();
    let before = org.to_snapshot();
    let made = plan(&desired, &before, &PlanOptions::default()).unwrap();
    // cy holds Photoshop both ways, but takes one seat; di takes another.
    let licence = &made.licences[0];
    assert_eq!(
        (
            licence.profile.as_str(),
            licence.quota,
            licence.now,
            licence.after
        ),
        ("Photoshop", Some(LicenseQuota::Seats(2)), 2, 4)
    );
    assert_eq!(licence.over_by(), 2);
    assert!(
        made.warnings
            .iter()
            .any(|w| w.contains("Photoshop") && w.contains("quota of 2")),
        "{:?}",
        made.warnings
    );
    assert!(!made.is_blocked(), "by default a quota only warns");

    desired.settings.limits.max_seats_over_quota = Some(Limit::Count(1));
    let blocked = plan(&desired, &before, &PlanOptions::default()).unwrap();
    assert_eq!(blocked.blocked.len(), 1);
    let b = &blocked.blocked[0];
    assert_eq!(
        (b.limit, b.planned, b.allowed, b.total),
        (LimitName::MaxSeatsOverQuota, 2, 1, 2)
    );
    assert_eq!(b.affected, ["Photoshop (2 over 2)"]);

    let allowed = plan(
        &desired,
        &before,
        &PlanOptions {
            overrides: vec![LimitOverride {
                limit: LimitName::MaxSeatsOverQuota,
                value: Limit::Count(2),
            }],
            ..PlanOptions::default()
        },
    )
    .unwrap();
    assert!(!allowed.is_blocked());
    assert_eq!(allowed.overrides.len(), 1);
}

#[test]
fn a_plan_that_frees_seats_is_never_blocked_by_a_quota() {
    let (org, mut desired) = quota_org();
    let mut org = org;
    // Already over: three holders of a quota of 2.
    org.state.users[1].groups.push("Photoshop".into());
    org.state.users.push(serde_json::from_value(serde_json::json!(
        {"id": "3", "email": "cy@example.com", "username": "cy@example.com", "domain": "example.com",
         "firstname": "C", "lastname": "L", "country": "US", "type": "federatedID", "groups": ["Photoshop"]}
    )).unwrap());
    let before = org.to_snapshot();
    // ada leaves Photoshop; bo keeps it through Design (no seat freed); di is not declared.
    desired
        .users
        .retain(|u| u.email.as_deref() != Some("di@example.com"));
    desired.users[0].groups.clear();
    desired.users[1].groups = vec!["Design".into()];
    desired.settings.limits.max_seats_over_quota = Some(Limit::Count(0));
    let made = plan(&desired, &before, &PlanOptions::default()).unwrap();
    let licence = &made.licences[0];
    assert_eq!((licence.now, licence.after), (3, 2), "{:?}", made.changes);
    assert!(!made.is_blocked());
    assert!(
        made.warnings.iter().all(|w| !w.contains("quota")),
        "{:?}",
        made.warnings
    );
}

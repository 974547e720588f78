//! Property: any valid state file, written as YAML by serde_yaml, loads back as
//! exactly what was written; and the member sets unite both ways of declaring a
//! membership.

use std::collections::BTreeSet;

use proptest::prelude::*;
use umapi_core::wire::IdentityType;
use umapi_sync::desired::{
    Exclusions, GroupSpec, Limit, Limits, Membership, ProfileSpec, Settings, StateFile,
    UnlistedGroups, UnlistedUsers, UserSpec,
};

/// Free text as people write it, including characters YAML treats specially.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z '.-]{0,20}",
        // Printable text: no control or format character and no line or paragraph
        // separator, which the loader refuses in names (they are invisible).
        "[^\\p{C}\\p{Zl}\\p{Zp}]{0,20}",
        Just("null".to_owned()),
        Just("123".to_owned()),
        Just("a: b # c".to_owned()),
        Just("- x".to_owned()),
    ]
}

fn identity_type() -> impl Strategy<Value = Option<IdentityType>> {
    prop_oneof![
        Just(None),
        Just(Some(IdentityType::AdobeId)),
        Just(Some(IdentityType::EnterpriseId)),
        Just(Some(IdentityType::FederatedId)),
    ]
}

/// Flips the case of a name, to check that references ignore case.
fn recase(name: &str, upper: bool) -> String {
    if upper {
        name.to_uppercase()
    } else {
        name.to_owned()
    }
}

prop_compose! {
    fn user(index: usize)(
        local in "[a-z][a-z0-9_-]{0,8}",
        domain in "[a-z]{1,8}\\.(com|org|io)",
        identity_type in identity_type(),
        with_username in any::<bool>(),
        firstname in proptest::option::of(text()),
        lastname in proptest::option::of(text()),
        country in "[A-Z]{2}",
        renamed in any::<bool>(),
        until in proptest::option::of(day()),
    ) -> UserSpec {
        // Usernames and domains belong to Federated IDs only.
        let federated = identity_type == Some(IdentityType::FederatedId);
        let username = (federated && with_username).then(|| format!("u{local}.{index}"));
        UserSpec {
            email: Some(format!("u{local}.{index}@{domain}").into()),
            domain: username.as_ref().map(|_| domain.clone().into()),
            username: username.map(Into::into),
            identity_type,
            firstname: firstname.map(Into::into),
            lastname: lastname.map(Into::into),
            country: Some(country.into()),
            groups: Vec::new(),
            previously: if renamed { [format!("u{local}.old{index}@{domain}").into()].into() } else { Box::default() },
            until: until.map(Into::into),
            ..UserSpec::default()
        }
    }
}

/// A last day of access, as `until` is written.
fn day() -> impl Strategy<Value = String> {
    (2000u32..2100, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"))
}

fn limit() -> impl Strategy<Value = Option<Limit>> {
    proptest::option::of(prop_oneof![
        any::<u64>().prop_map(Limit::Count),
        (0u32..=100).prop_map(|p| Limit::Percent(format!("{p}%"))),
        (0u32..100, 0u32..10).prop_map(|(p, d)| Limit::Percent(format!("{p}.{d}%"))),
    ])
}

fn settings() -> impl Strategy<Value = Option<Settings>> {
    proptest::option::of(
        (
            identity_type(),
            proptest::option::of("[A-Z]{2}"),
            prop_oneof![
                Just(UnlistedUsers::Ignore),
                Just(UnlistedUsers::RemoveMemberships),
                Just(UnlistedUsers::Remove),
                Just(UnlistedUsers::Delete)
            ],
            prop_oneof![Just(UnlistedGroups::Ignore), Just(UnlistedGroups::Delete)],
            proptest::sample::subsequence(
                vec![
                    "^svc-".to_owned(),
                    "^zz[0-9]+$".to_owned(),
                    "bot@".to_owned(),
                ],
                0..=3,
            ),
            proptest::sample::subsequence(
                vec!["_org_admin".to_owned(), "Legacy Users".to_owned()],
                0..=2,
            ),
            (limit(), limit(), limit()),
        )
            .prop_map(
                |(
                    default_type,
                    default_country,
                    unlisted_users,
                    unlisted_groups,
                    users,
                    groups,
                    limits,
                )| Settings {
                    default_type,
                    default_country,
                    unlisted_users,
                    unlisted_groups,
                    exclude: Exclusions {
                        users,
                        types: Vec::new(),
                        groups,
                    },
                    limits: Limits {
                        max_user_removals: limits.0,
                        max_membership_removals: limits.1,
                        max_group_deletions: limits.2,
                        max_seats_over_quota: None,
                    },
                    // Policies are checked after loading, so they have tests of their own.
                    policy: Default::default(),
                },
            ),
    )
}

/// A valid state file: unique identities and names, every reference declared.
fn state_file() -> impl Strategy<Value = StateFile> {
    (0usize..8, 0usize..4, 0usize..4, 0usize..3)
        .prop_flat_map(|(users, groups, profiles, admins)| {
            (
                (0..users).map(user).collect::<Vec<_>>(),
                proptest::collection::vec(
                    (
                        "[A-Za-z][A-Za-z0-9 &-]{0,12}",
                        proptest::option::of(text()),
                        any::<bool>(),
                    ),
                    groups,
                ),
                proptest::collection::vec("[A-Za-z][A-Za-z0-9 -]{0,12}", profiles),
                proptest::collection::vec("[A-Za-z][A-Za-z0-9]{0,8}", admins),
                // Per membership slot (user × target): declared on the user, the group, both or neither.
                proptest::collection::vec(0u8..4, users * (groups + profiles + admins)),
                proptest::collection::vec(any::<bool>(), groups * profiles.max(1)),
                any::<bool>(),
                settings(),
            )
        })
        .prop_map(
            |(mut users, groups, profiles, admins, memberships, links, upper, settings)| {
                let mut groups: Vec<GroupSpec> = groups
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, description, renamed))| GroupSpec {
                        previously: if renamed {
                            vec![format!("{name} old{i}")]
                        } else {
                            Vec::new()
                        },
                        name: format!("{name} g{i}"),
                        description,
                        ..GroupSpec::default()
                    })
                    .collect();
                let mut profiles: Vec<ProfileSpec> = profiles
                    .into_iter()
                    .enumerate()
                    .map(|(i, name)| ProfileSpec {
                        name: format!("{name} p{i}"),
                        ..ProfileSpec::default()
                    })
                    .collect();
                let mut admins: Vec<ProfileSpec> = admins
                    .into_iter()
                    .enumerate()
                    .map(|(i, name)| ProfileSpec {
                        name: format!("_admin_{name}{i}"),
                        ..ProfileSpec::default()
                    })
                    .collect();
                for (g, group) in groups.iter_mut().enumerate() {
                    for (p, profile) in profiles.iter().enumerate() {
                        if links[g * profiles.len().max(1) + p] {
                            group.profiles.push(recase(&profile.name, upper));
                        }
                    }
                }
                let targets = groups.len() + profiles.len() + admins.len();
                for (u, user) in users.iter_mut().enumerate() {
                    let email = user.email.clone().unwrap();
                    for t in 0..targets {
                        let how = memberships[u * targets + t];
                        let (name, members) = if t < groups.len() {
                            let g = &mut groups[t];
                            (&g.name, &mut g.members)
                        } else if t < groups.len() + profiles.len() {
                            let p = &mut profiles[t - groups.len()];
                            (&p.name, &mut p.members)
                        } else {
                            let a = &mut admins[t - groups.len() - profiles.len()];
                            (&a.name, &mut a.members)
                        };
                        if how & 1 == 1 {
                            // Every other membership ends on a day, in the mapping form.
                            user.groups.push(Membership {
                                name: recase(name, upper).into(),
                                until: (u % 2 == 1)
                                    .then(|| format!("2030-0{}-1{}", 1 + t % 9, u % 10).into()),
                                ..Membership::default()
                            });
                        }
                        if how & 2 == 2 {
                            members.push(recase(&email, !upper));
                        }
                    }
                }
                let mut settings = settings;
                // Without users, a policy that removes unlisted users is refused (it
                // would empty the org): such files are not valid.
                if users.is_empty()
                    && let Some(settings) = &mut settings
                    && matches!(
                        settings.unlisted_users,
                        UnlistedUsers::Remove | UnlistedUsers::Delete
                    )
                {
                    settings.unlisted_users = UnlistedUsers::Ignore;
                }
                StateFile {
                    users,
                    groups,
                    profiles,
                    admin_groups: admins,
                    settings,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn valid_state_files_load_back_equal(file in state_file()) {
        let yaml = serde_yaml::to_string(&file).unwrap();
        let state = match umapi_sync::desired::load_str("generated.yaml", &yaml) {
            Ok(state) => state,
            Err(error) => return Err(TestCaseError::fail(format!("{error}\n---\n{yaml}"))),
        };
        prop_assert_eq!(&state.users, &file.users);
        prop_assert_eq!(&state.groups, &file.groups);
        prop_assert_eq!(&state.profiles, &file.profiles);
        prop_assert_eq!(&state.admin_groups, &file.admin_groups);
        prop_assert_eq!(&state.settings, &file.settings.clone().unwrap_or_default());

        // members_of unites `groups:` on users and `members:` on groups, ignoring case.
        for target in state.targets() {
            let name = target.name().to_lowercase();
            let listed: Vec<String> = match target {
                umapi_sync::desired::Target::Group(g) => g.members.clone(),
                umapi_sync::desired::Target::Profile(p) | umapi_sync::desired::Target::AdminGroup(p) => p.members.clone(),
            };
            let expected: BTreeSet<String> = file
                .users
                .iter()
                .filter(|u| {
                    let email = u.email.as_deref().unwrap().to_lowercase();
                    u.groups.iter().any(|g| g.to_lowercase() == name)
                        || listed.iter().any(|m| m.to_lowercase() == email)
                })
                .map(|u| u.email.as_deref().unwrap().to_owned())
                .collect();
            let actual: BTreeSet<String> = state.members_of(target.name()).map(|u| u.email.as_deref().unwrap().to_owned()).collect();
            prop_assert_eq!(actual, expected);
        }
    }
}

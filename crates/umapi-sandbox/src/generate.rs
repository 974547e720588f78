//! A deterministic generator of realistic orgs, for benchmarks, demos and tests.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use umapi_core::protocol;
use umapi_core::wire::IdentityType;

use crate::state::{AdminGroupRecord, OrgState, ProductProfileRecord, UserGroupRecord, UserRecord};

/// Size and seed of a generated org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgSpec {
    /// Number of users.
    pub users: usize,
    /// Number of user groups.
    pub user_groups: usize,
    /// Number of product profiles.
    pub profiles: usize,
    /// Seed: the same spec always gives the same org.
    pub seed: u64,
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken",
    "Radia", "Dennis", "Hedy", "Linus", "Sophie", "Tim", "Karen", "Niklaus", "Shafi", "Leslie",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "McCarthy",
    "Hamilton",
    "Thompson",
    "Perlman",
    "Ritchie",
    "Lamarr",
    "Torvalds",
    "Wilson",
    "Berners-Lee",
    "Jones",
    "Wirth",
    "Goldwasser",
    "Lamport",
];
const TEAMS: &[&str] = &[
    "Engineering",
    "Design",
    "Marketing",
    "Sales",
    "Finance",
    "Legal",
    "Support",
    "Research",
    "Operations",
    "People",
];
const PRODUCTS: &[&str] = &[
    "Creative Cloud All Apps",
    "Acrobat Pro",
    "Adobe Express",
    "Substance 3D Collection",
    "Adobe Stock",
];
const COUNTRIES: &[&str] = &["US", "GB", "DE", "FR", "JP", "CA", "AU", "IN"];

/// Generates an org of `spec.users` users, `spec.user_groups` user groups and
/// `spec.profiles` product profiles with realistic memberships: most users in one user
/// group, some in several, some with direct profile memberships; user groups carrying
/// profiles; a few admins; a mix of Federated, Enterprise and Adobe IDs; some Federated IDs
/// with usernames that are not emails. The same spec always gives the same org.
pub fn org(spec: &OrgSpec) -> OrgState {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut next_id = 1000u64;
    let mut fresh_id = || {
        next_id += 1;
        next_id
    };

    let product_profiles: Vec<ProductProfileRecord> = (0..spec.profiles)
        .map(|i| {
            let product = PRODUCTS[i % PRODUCTS.len()];
            let round = i / PRODUCTS.len();
            let name = if round == 0 {
                format!("{product} - Default")
            } else {
                format!("{product} - {}", team_name(round - 1))
            };
            ProductProfileRecord {
                group_id: fresh_id(),
                name,
                product_name: product.to_string(),
                license_quota: if i % 3 == 0 {
                    "UNLIMITED".into()
                } else {
                    (100 * (i + 1)).to_string()
                },
            }
        })
        .collect();

    let user_groups: Vec<UserGroupRecord> = (0..spec.user_groups)
        .map(|i| {
            let mut profiles = Vec::new();
            if !product_profiles.is_empty() {
                let links = rng.random_range(0..=2usize);
                for _ in 0..links {
                    let p = &product_profiles[rng.random_range(0..product_profiles.len())].name;
                    if !profiles.contains(p) {
                        profiles.push(p.clone());
                    }
                }
            }
            UserGroupRecord {
                group_id: fresh_id(),
                name: team_name(i),
                description: Some(format!("Members of {}", team_name(i))),
                profiles,
                read_only: false,
            }
        })
        .collect();

    let mut admin_groups = vec![AdminGroupRecord {
        group_id: fresh_id(),
        name: protocol::ORG_ADMIN_GROUP.into(),
        group_type: None,
    }];
    for g in user_groups.iter().take(3) {
        admin_groups.push(AdminGroupRecord {
            group_id: fresh_id(),
            name: protocol::admin_group_for(&g.name),
            group_type: None,
        });
    }
    for p in product_profiles.iter().take(2) {
        admin_groups.push(AdminGroupRecord {
            group_id: fresh_id(),
            name: protocol::admin_group_for(&p.name),
            group_type: None,
        });
    }

    let mut users = Vec::with_capacity(spec.users);
    for n in 0..spec.users {
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let last = LAST[rng.random_range(0..LAST.len())];
        let local = format!("{}.{}{}", first.to_lowercase(), last.to_lowercase(), n);
        let roll: f64 = rng.random();
        let (identity_type, domain) = if roll < 0.7 {
            (IdentityType::FederatedId, "example.com")
        } else if roll < 0.9 {
            (IdentityType::EnterpriseId, "example.org")
        } else {
            (IdentityType::AdobeId, "example.net")
        };
        let email = format!("{local}@{domain}");
        let username = if identity_type == IdentityType::FederatedId && rng.random_bool(0.05) {
            local.clone()
        } else {
            email.clone()
        };
        let mut groups: Vec<String> = Vec::new();
        let join = |name: &str, groups: &mut Vec<String>| {
            if !groups.iter().any(|g| g == name) {
                groups.push(name.to_string());
            }
        };
        if !user_groups.is_empty() {
            for chance in [0.8, 0.25, 0.05] {
                if rng.random_bool(chance) {
                    join(
                        &user_groups[rng.random_range(0..user_groups.len())].name,
                        &mut groups,
                    );
                }
            }
        }
        if !product_profiles.is_empty() && rng.random_bool(0.3) {
            join(
                &product_profiles[rng.random_range(0..product_profiles.len())].name,
                &mut groups,
            );
        }
        if n < 3 {
            join(protocol::ORG_ADMIN_GROUP, &mut groups);
        } else if n % 997 == 5 && admin_groups.len() > 1 {
            join(
                &admin_groups[1 + n % (admin_groups.len() - 1)].name,
                &mut groups,
            );
        }
        users.push(UserRecord {
            id: format!("{:024X}@AdobeID", 0xA000_0000u64 + n as u64),
            email,
            username,
            domain: domain.to_string(),
            firstname: Some(first.to_string()),
            lastname: Some(last.to_string()),
            country: Some(COUNTRIES[rng.random_range(0..COUNTRIES.len())].to_string()),
            identity_type,
            groups,
        });
    }

    OrgState {
        users,
        user_groups,
        product_profiles,
        admin_groups,
    }
}

fn team_name(i: usize) -> String {
    let base = TEAMS[i % TEAMS.len()];
    match i / TEAMS.len() {
        0 => base.to_string(),
        round => format!("{base} {}", round + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_spec_same_org_other_seed_other_org() {
        let spec = OrgSpec {
            users: 300,
            user_groups: 12,
            profiles: 7,
            seed: 42,
        };
        assert_eq!(org(&spec), org(&spec));
        assert_ne!(org(&spec), org(&OrgSpec { seed: 43, ..spec }));
    }

    #[test]
    fn generated_org_is_realistic() {
        let state = org(&OrgSpec {
            users: 2000,
            user_groups: 25,
            profiles: 12,
            seed: 7,
        });
        assert_eq!(state.users.len(), 2000);
        assert_eq!(state.user_groups.len(), 25);
        assert_eq!(state.product_profiles.len(), 12);
        let names: std::collections::HashSet<_> =
            state.user_groups.iter().map(|g| &g.name).collect();
        assert_eq!(names.len(), 25, "user group names are unique");
        let in_several = state
            .users
            .iter()
            .filter(|u| u.groups.iter().filter(|g| names.contains(g)).count() > 1)
            .count();
        assert!(in_several > 50, "{in_several} users in several groups");
        assert!(state.user_groups.iter().any(|g| !g.profiles.is_empty()));
        let admins = state
            .users
            .iter()
            .filter(|u| u.groups.iter().any(|g| g == protocol::ORG_ADMIN_GROUP))
            .count();
        assert_eq!(admins, 3);
        let non_email = state
            .users
            .iter()
            .filter(|u| !u.username.contains('@'))
            .count();
        assert!(non_email > 0);
        for t in [
            IdentityType::FederatedId,
            IdentityType::EnterpriseId,
            IdentityType::AdobeId,
        ] {
            assert!(state.users.iter().any(|u| u.identity_type == t), "{t}");
        }
        for u in &state.users {
            for g in &u.groups {
                assert!(state.find_group(g).is_some(), "{g} exists");
            }
        }
        let emails: std::collections::HashSet<_> = state.users.iter().map(|u| &u.email).collect();
        assert_eq!(emails.len(), state.users.len(), "emails are unique");
    }
}

//! An index of users by lower-cased email and username, so that action entries and single-user
//! lookups in orgs of 100,000 users do not scan the whole list. The sandbox keeps it next to
//! the org and updates it with every change the action endpoint makes.

use std::collections::HashMap;

use crate::state::{UserRecord, key, pick_user, user_matches};

/// Positions in `OrgState::users`, by lower-cased email and by lower-cased username.
#[derive(Debug, Clone, Default)]
pub struct UserIndex {
    by_name: HashMap<String, Vec<usize>>,
}

impl UserIndex {
    /// Indexes every user.
    pub fn build(users: &[UserRecord]) -> UserIndex {
        let mut index = UserIndex {
            by_name: HashMap::with_capacity(users.len() * 2),
        };
        for (i, u) in users.iter().enumerate() {
            index.insert(i, u);
        }
        index
    }

    /// Records the user at position `i` under its current email and username. Keys it no
    /// longer has may stay behind: lookups check every candidate against the record.
    pub fn insert(&mut self, i: usize, user: &UserRecord) {
        for name in [&user.email, &user.username] {
            let positions = self.by_name.entry(key(name)).or_default();
            if !positions.contains(&i) {
                positions.push(i);
            }
        }
    }

    /// Accounts for `users.remove(i)`: drops position `i` and shifts the ones after it.
    pub fn remove(&mut self, i: usize) {
        for positions in self.by_name.values_mut() {
            positions.retain(|p| *p != i);
            for p in positions.iter_mut() {
                if *p > i {
                    *p -= 1;
                }
            }
        }
        self.by_name.retain(|_, positions| !positions.is_empty());
    }

    /// Positions that may hold a user with this email or username (unverified: check the record).
    pub fn candidates(&self, name: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_name.get(&key(name)).into_iter().flatten().copied()
    }

    /// The same answer as `OrgState::find_user`, without scanning.
    pub fn find(
        &self,
        users: &[UserRecord],
        user: &str,
        domain: Option<&str>,
        prefer_adobe_id: bool,
    ) -> Option<usize> {
        let mut hits: Vec<usize> = self
            .by_name
            .get(&key(user))
            .map(|positions| {
                positions
                    .iter()
                    .copied()
                    .filter(|&i| i < users.len() && user_matches(&users[i], user, domain))
                    .collect()
            })
            .unwrap_or_default();
        hits.sort_unstable();
        hits.dedup();
        pick_user(users, hits, prefer_adobe_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{OrgSpec, org};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn index_answers_like_a_scan_through_creates_renames_and_removals() {
        let mut state = org(&OrgSpec {
            users: 400,
            user_groups: 5,
            profiles: 3,
            seed: 3,
        });
        // an Adobe ID sharing an email with an org-owned account
        let mut twin = state.users[10].clone();
        twin.identity_type = umapi_core::wire::IdentityType::AdobeId;
        twin.username = twin.email.to_uppercase();
        state.users.push(twin);
        let mut index = UserIndex::build(&state.users);
        let mut rng = StdRng::seed_from_u64(5);
        for round in 0..300 {
            match rng.random_range(0..3) {
                0 => {
                    let mut u = state.users[rng.random_range(0..state.users.len())].clone();
                    u.email = format!("new{round}@example.com");
                    u.username = if round % 2 == 0 {
                        u.email.clone()
                    } else {
                        format!("new{round}")
                    };
                    state.users.push(u);
                    index.insert(state.users.len() - 1, &state.users[state.users.len() - 1]);
                }
                1 => {
                    let i = rng.random_range(0..state.users.len());
                    state.users[i].email = format!("Renamed{round}@example.com");
                    index.insert(i, &state.users[i].clone());
                }
                _ => {
                    let i = rng.random_range(0..state.users.len());
                    state.users.remove(i);
                    index.remove(i);
                }
            }
            let probe = &state.users[rng.random_range(0..state.users.len())];
            let names = [
                probe.email.clone(),
                probe.email.to_uppercase(),
                probe.username.clone(),
                format!("renamed{round}@example.com"),
                "nobody@example.com".to_string(),
            ];
            for name in &names {
                for prefer in [false, true] {
                    assert_eq!(
                        index.find(&state.users, name, None, prefer),
                        state.find_user(name, None, prefer),
                        "{name} prefer {prefer}"
                    );
                }
                assert_eq!(
                    index.find(&state.users, name, Some(&probe.domain), false),
                    state.find_user(name, Some(&probe.domain), false)
                );
            }
        }
    }
}

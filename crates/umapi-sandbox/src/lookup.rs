//! An index of users by the keys that identify them (email, and username with domain when
//! the username is not an email) and by username, so that action entries and single-user
//! lookups in orgs of 100,000 users do not scan the whole list. The sandbox keeps it next to
//! the org and updates it with every change the action endpoint makes.

use std::collections::HashMap;

use umapi_core::identity::{UserKey, normalize};

use crate::state::{UserRecord, pick_user};

/// Positions in `OrgState::users`, by identifying key and by normalised username.
#[derive(Debug, Clone, Default)]
pub struct UserIndex {
    by_key: HashMap<UserKey, Vec<usize>>,
    by_username: HashMap<String, Vec<usize>>,
}

fn add(positions: &mut Vec<usize>, i: usize) {
    if !positions.contains(&i) {
        positions.push(i);
    }
}

fn shift(positions: &mut Vec<usize>, i: usize) {
    positions.retain(|p| *p != i);
    for p in positions.iter_mut() {
        if *p > i {
            *p -= 1;
        }
    }
}

impl UserIndex {
    /// Indexes every user.
    pub fn build(users: &[UserRecord]) -> UserIndex {
        let mut index = UserIndex {
            by_key: HashMap::with_capacity(users.len() * 2),
            by_username: HashMap::with_capacity(users.len()),
        };
        for (i, u) in users.iter().enumerate() {
            index.insert(i, u);
        }
        index
    }

    /// Records the user at position `i` under its current keys and username. Keys it no
    /// longer has may stay behind: lookups check every candidate against the record.
    pub fn insert(&mut self, i: usize, user: &UserRecord) {
        for key in user.keys() {
            add(self.by_key.entry(key).or_default(), i);
        }
        add(
            self.by_username
                .entry(normalize(&user.username))
                .or_default(),
            i,
        );
    }

    /// Accounts for `users.remove(i)`: drops position `i` and shifts the ones after it.
    pub fn remove(&mut self, i: usize) {
        for positions in self.by_key.values_mut() {
            shift(positions, i);
        }
        for positions in self.by_username.values_mut() {
            shift(positions, i);
        }
        self.by_key.retain(|_, positions| !positions.is_empty());
        self.by_username
            .retain(|_, positions| !positions.is_empty());
    }

    /// Positions that may hold a user with this email (unverified: check the record).
    pub fn with_email(&self, email: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_key
            .get(&UserKey::email(email))
            .into_iter()
            .flatten()
            .copied()
    }

    /// Positions that may hold a user with this username, email-shaped or not
    /// (unverified: check the record).
    pub fn with_username(&self, username: &str) -> impl Iterator<Item = usize> + '_ {
        self.by_username
            .get(&normalize(username))
            .into_iter()
            .flatten()
            .copied()
    }

    /// The same answer as `OrgState::find_user`, without scanning.
    pub fn find(
        &self,
        users: &[UserRecord],
        key: &UserKey,
        prefer_adobe_id: bool,
    ) -> Option<usize> {
        let mut hits: Vec<usize> = self
            .by_key
            .get(key)
            .map(|positions| {
                positions
                    .iter()
                    .copied()
                    .filter(|&i| i < users.len() && users[i].has_key(key))
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
                let keys = [
                    UserKey::from_request(name, None),
                    UserKey::from_request(name, Some(&probe.domain)),
                ];
                for key in keys.iter().flatten() {
                    for prefer in [false, true] {
                        assert_eq!(
                            index.find(&state.users, key, prefer),
                            state.find_user(key, prefer),
                            "{key} prefer {prefer}"
                        );
                    }
                }
            }
        }
    }
}

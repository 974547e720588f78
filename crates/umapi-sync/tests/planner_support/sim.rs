//! A small in-memory model of an org that executes action entries with UMAPI's
//! step semantics (design §3.3), used to check that applying a plan converges.

use umapi_core::wire::{
    Entry, GroupList, GroupType, IdentityType, IfAlreadyExists, UserEntry, UserGroupEntry,
    UserGroupStep, UserGroupTargets, UserStep,
};
use umapi_sync::plan::Plan;
use umapi_sync::snapshot::{Snapshot, SnapshotGroup, SnapshotUser};

/// The org being changed.
#[derive(Debug, Clone)]
pub struct SimOrg {
    pub snapshot: Snapshot,
    /// Profile links of user groups (lower-cased group → profiles), which no read API shows.
    pub links: std::collections::BTreeMap<String, Vec<String>>,
}

/// Limits of one request (design §3.3), checked before it runs.
pub fn check_request_limits(entries: &[Entry]) -> Result<(), String> {
    if entries.is_empty() || entries.len() > 10 {
        return Err(format!("request with {} entries", entries.len()));
    }
    for entry in entries {
        let (steps, lists): (usize, Vec<usize>) = match entry {
            Entry::User(e) => (
                e.steps.len(),
                e.steps
                    .iter()
                    .filter_map(|s| match s {
                        UserStep::Add(GroupList::Groups { group })
                        | UserStep::Remove(GroupList::Groups { group }) => Some(group.len()),
                        _ => None,
                    })
                    .collect(),
            ),
            Entry::UserGroup(e) => (
                e.steps.len(),
                e.steps
                    .iter()
                    .filter_map(|s| match s {
                        UserGroupStep::Add(UserGroupTargets::Users { user })
                        | UserGroupStep::Remove(UserGroupTargets::Users { user }) => {
                            Some(user.len())
                        }
                        UserGroupStep::Add(UserGroupTargets::Profiles {
                            product_configuration,
                        })
                        | UserGroupStep::Remove(UserGroupTargets::Profiles {
                            product_configuration,
                        }) => Some(product_configuration.len()),
                        _ => None,
                    })
                    .collect(),
            ),
        };
        if steps == 0 || steps > 10 {
            return Err(format!("entry with {steps} steps: {entry:?}"));
        }
        if let Some(n) = lists.iter().find(|&&n| n == 0 || n > 10) {
            return Err(format!("list with {n} names: {entry:?}"));
        }
    }
    Ok(())
}

fn eq(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

impl SimOrg {
    pub fn new(snapshot: Snapshot) -> Self {
        SimOrg {
            snapshot,
            links: Default::default(),
        }
    }

    /// Runs every phase of the plan in order; within a request, entries run in the
    /// order given by `shuffle_seed` (a different permutation per request).
    /// Returns every step error.
    pub fn apply(&mut self, plan: &Plan, shuffle_seed: u64) -> Vec<String> {
        let mut errors = Vec::new();
        let mut seed = shuffle_seed | 1;
        for phase in &plan.phases {
            for request in &phase.requests {
                if let Err(e) = check_request_limits(&request.entries) {
                    errors.push(e);
                    continue;
                }
                let mut order: Vec<usize> = (0..request.entries.len()).collect();
                for i in (1..order.len()).rev() {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    order.swap(i, (seed % (i as u64 + 1)) as usize);
                }
                for i in order {
                    if let Err(e) = self.run(&request.entries[i]) {
                        errors.push(e);
                    }
                }
            }
        }
        errors
    }

    /// The org as a snapshot, sorted as [`Snapshot::from_parts`] sorts.
    pub fn to_snapshot(&self) -> Snapshot {
        let mut json = Vec::new();
        self.snapshot.to_writer(&mut json).unwrap();
        Snapshot::from_reader(json.as_slice()).unwrap()
    }

    /// The account an entry names. Where an Adobe ID and an org-owned account share
    /// the email, UMAPI takes the org-owned one unless the entry says `useAdobeID`.
    fn find_user(&self, user: &str, domain: Option<&str>, use_adobe_id: bool) -> Option<usize> {
        let matches: Vec<usize> = self
            .snapshot
            .users
            .iter()
            .enumerate()
            .filter(|(_, u)| match domain {
                Some(d) => {
                    u.username.as_deref().is_some_and(|n| eq(n, user))
                        && u.domain.as_deref().is_some_and(|x| eq(x, d))
                }
                None => {
                    u.email.as_deref().is_some_and(|e| eq(e, user))
                        || u.username
                            .as_deref()
                            .is_some_and(|n| n.contains('@') && eq(n, user))
                }
            })
            .map(|(i, _)| i)
            .collect();
        let adobe = |i: &usize| self.snapshot.users[*i].identity_type == IdentityType::AdobeId;
        if use_adobe_id {
            matches.iter().copied().find(adobe)
        } else {
            matches
                .iter()
                .copied()
                .find(|i| !adobe(i))
                .or(matches.first().copied())
        }
    }

    /// The account a group's member list names: UMAPI looks the name up by email
    /// (or email-form username) and takes the org-owned account; two org-owned
    /// accounts answering to it are an error rather than a guess.
    fn find_list_member(&self, name: &str) -> Result<usize, String> {
        let org_owned = self
            .snapshot
            .users
            .iter()
            .filter(|u| u.identity_type != IdentityType::AdobeId)
            .filter(|u| {
                u.email.as_deref().is_some_and(|e| eq(e, name))
                    || u.username
                        .as_deref()
                        .is_some_and(|n| n.contains('@') && eq(n, name))
            })
            .count();
        if org_owned > 1 {
            return Err(format!("error.user.ambiguous {name}"));
        }
        self.find_user(name, None, false)
            .ok_or_else(|| format!("error.user.nonexistent {name}"))
    }

    fn find_group(&self, name: &str) -> Option<usize> {
        self.snapshot.groups.iter().position(|g| eq(&g.name, name))
    }

    fn run(&mut self, entry: &Entry) -> Result<(), String> {
        match entry {
            Entry::User(e) => self.run_user(e),
            Entry::UserGroup(e) => self.run_group(e),
        }
    }

    fn run_user(&mut self, e: &UserEntry) -> Result<(), String> {
        let mut index = self.find_user(&e.user, e.domain.as_deref(), e.use_adobe_id == Some(true));
        for step in &e.steps {
            match step {
                UserStep::CreateFederatedId(c)
                | UserStep::CreateEnterpriseId(c)
                | UserStep::AddAdobeId(c) => {
                    if index.is_some() {
                        if c.option == Some(IfAlreadyExists::Ignore) {
                            continue;
                        }
                        return Err(format!("error.user.already_exists {}", e.user));
                    }
                    let identity_type = match step {
                        UserStep::CreateFederatedId(_) => IdentityType::FederatedId,
                        UserStep::CreateEnterpriseId(_) => IdentityType::EnterpriseId,
                        _ => IdentityType::AdobeId,
                    };
                    if identity_type == IdentityType::FederatedId && c.country.is_none() {
                        return Err(format!("federated user {} without country", e.user));
                    }
                    let (username, domain) = match &e.domain {
                        Some(d) => (e.user.clone(), d.clone()),
                        None => (
                            c.email.clone(),
                            c.email.split('@').nth(1).unwrap_or("").to_string(),
                        ),
                    };
                    self.snapshot.users.push(SnapshotUser {
                        email: Some(c.email.clone()),
                        username: Some(username),
                        domain: Some(domain),
                        identity_type,
                        firstname: c.firstname.clone(),
                        lastname: c.lastname.clone(),
                        country: c.country.clone(),
                        groups: Vec::new(),
                    });
                    index = Some(self.snapshot.users.len() - 1);
                }
                UserStep::Update(u) => {
                    let i = index.ok_or_else(|| format!("error.user.nonexistent {}", e.user))?;
                    let user = &mut self.snapshot.users[i];
                    if user.identity_type == IdentityType::AdobeId {
                        return Err(format!("error.update.adobeid.no {}", e.user));
                    }
                    if u.country.is_some() {
                        return Err("error.update.country.no_update".into());
                    }
                    if let Some(v) = &u.email {
                        user.email = Some(v.clone());
                    }
                    if let Some(v) = &u.username {
                        user.username = Some(v.clone());
                    }
                    if let Some(v) = &u.firstname {
                        user.firstname = Some(v.clone());
                    }
                    if let Some(v) = &u.lastname {
                        user.lastname = Some(v.clone());
                    }
                }
                UserStep::Add(list) | UserStep::Remove(list) => {
                    let i = index.ok_or_else(|| format!("error.user.nonexistent {}", e.user))?;
                    let adding = matches!(step, UserStep::Add(_));
                    let GroupList::Groups { group } = list else {
                        return Err("the planner must never send remove all".into());
                    };
                    for name in group {
                        let g = self
                            .find_group(name)
                            .ok_or_else(|| format!("error.group.not_found {name}"))?;
                        let group = self.snapshot.groups[g].clone();
                        if group.name == "_org_admin" {
                            return Err("_org_admin cannot be assigned or removed".into());
                        }
                        let user = &mut self.snapshot.users[i];
                        user.groups.retain(|x| !eq(x, &group.name));
                        if adding {
                            user.groups.push(group.name.clone());
                        }
                    }
                }
                UserStep::RemoveFromOrg(_) => {
                    if let Some(i) = index.take() {
                        self.snapshot.users.remove(i);
                    }
                }
            }
        }
        Ok(())
    }

    fn run_group(&mut self, e: &UserGroupEntry) -> Result<(), String> {
        let mut name = e.usergroup.clone();
        for step in &e.steps {
            let index = self.find_group(&name);
            if let Some(i) = index
                && self.snapshot.groups[i].group_type != GroupType::UserGroup
            {
                return Err(format!("error.usergroup.readonly {name}"));
            }
            match step {
                UserGroupStep::Create(c) => {
                    if index.is_some() {
                        if c.option == Some(IfAlreadyExists::Ignore) {
                            continue;
                        }
                        return Err(format!("error.usergroup.already_exists {name}"));
                    }
                    if name.starts_with('_') {
                        return Err(format!("invalid group name {name}"));
                    }
                    self.snapshot.groups.push(SnapshotGroup {
                        name: c.name.clone().unwrap_or_else(|| name.clone()),
                        group_type: GroupType::UserGroup,
                        member_count: Some(0),
                        product_name: None,
                    });
                }
                UserGroupStep::Update(u) => {
                    let i = index.ok_or_else(|| format!("error.usergroup.not_found {name}"))?;
                    if let Some(new) = &u.name {
                        if self.find_group(new).is_some_and(|j| j != i) {
                            return Err(format!("error.usergroup.already_exists {new}"));
                        }
                        let old = self.snapshot.groups[i].name.clone();
                        for user in &mut self.snapshot.users {
                            for g in &mut user.groups {
                                if eq(g, &old) {
                                    *g = new.clone();
                                }
                            }
                        }
                        self.snapshot.groups[i].name = new.clone();
                        if let Some(links) = self.links.remove(&old.to_lowercase()) {
                            self.links.insert(new.to_lowercase(), links);
                        }
                        name = new.clone();
                    }
                }
                UserGroupStep::Delete(_) => {
                    let i = index.ok_or_else(|| format!("error.usergroup.not_found {name}"))?;
                    let old = self.snapshot.groups.remove(i).name;
                    for user in &mut self.snapshot.users {
                        user.groups.retain(|g| !eq(g, &old));
                    }
                }
                UserGroupStep::Add(t) | UserGroupStep::Remove(t) => {
                    let i = index.ok_or_else(|| format!("error.usergroup.not_found {name}"))?;
                    let adding = matches!(step, UserGroupStep::Add(_));
                    let group_name = self.snapshot.groups[i].name.clone();
                    match t {
                        UserGroupTargets::Users { user } => {
                            for u in user {
                                let j = self.find_list_member(u)?;
                                let groups = &mut self.snapshot.users[j].groups;
                                groups.retain(|g| !eq(g, &group_name));
                                if adding {
                                    groups.push(group_name.clone());
                                }
                            }
                        }
                        UserGroupTargets::Profiles {
                            product_configuration,
                        } => {
                            for p in product_configuration {
                                let k = self
                                    .find_group(p)
                                    .ok_or_else(|| format!("error.group.not_found {p}"))?;
                                if self.snapshot.groups[k].group_type != GroupType::ProductProfile {
                                    return Err(format!("{p} is not a product profile"));
                                }
                                let links =
                                    self.links.entry(group_name.to_lowercase()).or_default();
                                links.retain(|x| !eq(x, p));
                                if adding {
                                    links.push(p.clone());
                                }
                            }
                        }
                        UserGroupTargets::All(_) => {
                            return Err("the planner must never send all".into());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

//! Shared helpers of the planner and renderer tests: fixtures, small builders, and an
//! org that runs plans with the sandbox's own rules (`OrgState::execute`).
#![allow(dead_code)]

use std::path::Path;

use umapi_core::protocol::{MAX_ENTRIES_PER_REQUEST, MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY};
use umapi_core::wire::{
    Entry, GroupList, GroupType, IdentityType, UserGroupStep, UserGroupTargets, UserStep,
};
use umapi_sandbox::OrgState;
use umapi_sandbox::action::ExecOptions;
use umapi_sandbox::state::{AdminGroupRecord, ProductProfileRecord, UserGroupRecord, UserRecord};
use umapi_sync::current::Snapshot;
use umapi_sync::desired::{DesiredState, StateFile};
use umapi_sync::plan::Plan;

/// The fixture directory.
pub fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/planner")
}

/// A desired state from YAML text (one state file, no locations).
pub fn desired_from_yaml(yaml: &str) -> DesiredState {
    let file: StateFile = serde_yaml::from_str(yaml).expect("fixture YAML parses");
    DesiredState {
        users: file.users,
        groups: file.groups,
        profiles: file.profiles,
        admin_groups: file.admin_groups,
        settings: file.settings.unwrap_or_default(),
        ..Default::default()
    }
}

/// The fixture org and desired state.
pub fn fixture() -> (DesiredState, Snapshot) {
    let yaml = std::fs::read_to_string(fixtures().join("desired.yaml")).unwrap();
    let org = std::fs::read(fixtures().join("org.json")).unwrap();
    (
        desired_from_yaml(&yaml),
        Snapshot::from_reader(org.as_slice()).unwrap(),
    )
}

/// Limits of one request , checked before it runs.
pub fn check_request_limits(entries: &[Entry]) -> Result<(), String> {
    if entries.is_empty() || entries.len() > MAX_ENTRIES_PER_REQUEST {
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
        if steps == 0 || steps > MAX_STEPS_PER_ENTRY {
            return Err(format!("entry with {steps} steps: {entry:?}"));
        }
        if let Some(n) = lists.iter().find(|&&n| n == 0 || n > MAX_NAMES_PER_LIST) {
            return Err(format!("list with {n} names: {entry:?}"));
        }
    }
    Ok(())
}

/// An org held by the sandbox, built from a snapshot: plans run on it with the
/// sandbox's step semantics, the same code that answers UMAPI requests over HTTP.
#[derive(Debug, Clone)]
pub struct SandboxOrg {
    pub state: OrgState,
}

impl SandboxOrg {
    pub fn new(snapshot: Snapshot) -> Self {
        let users = snapshot
            .users
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                let email = u.email.map(String::from).unwrap_or_default();
                let domain = u
                    .domain
                    .map(String::from)
                    .unwrap_or_else(|| umapi_core::protocol::email_domain(&email).to_string());
                UserRecord {
                    id: format!("user-{i}"),
                    username: u
                        .username
                        .map(String::from)
                        .unwrap_or_else(|| email.clone()),
                    email,
                    domain,
                    firstname: u.firstname.map(String::from),
                    lastname: u.lastname.map(String::from),
                    country: u.country.map(String::from),
                    identity_type: match u.identity_type {
                        IdentityType::Unknown => IdentityType::FederatedId,
                        known => known,
                    },
                    groups: u.groups.iter().map(|g| g.to_string()).collect(),
                }
            })
            .collect();
        let mut state = OrgState {
            users,
            ..OrgState::default()
        };
        for (i, g) in snapshot.groups.into_iter().enumerate() {
            let group_id = 1000 + i as u64;
            match g.group_type {
                GroupType::UserGroup => state.user_groups.push(UserGroupRecord {
                    group_id,
                    name: g.name,
                    description: None,
                    profiles: Vec::new(),
                    read_only: false,
                }),
                GroupType::ProductProfile => state.product_profiles.push(ProductProfileRecord {
                    group_id,
                    name: g.name,
                    product_name: g.product_name.unwrap_or_else(|| "Product".into()),
                    license_quota: "UNLIMITED".into(),
                }),
                other => state.admin_groups.push(AdminGroupRecord {
                    group_id,
                    name: g.name,
                    group_type: Some(other),
                }),
            }
        }
        SandboxOrg { state }
    }

    /// Runs every phase of the plan in order; within a request, the sandbox runs the
    /// entries in an order shuffled from `shuffle_seed` (UMAPI does not promise request
    /// order). Returns every step error and rejected request.
    pub fn apply(&mut self, plan: &Plan, shuffle_seed: u64) -> Vec<String> {
        let mut errors = Vec::new();
        let requests = plan.phases.iter().flat_map(|p| &p.requests);
        for (n, request) in requests.enumerate() {
            if let Err(e) = check_request_limits(&request.entries) {
                errors.push(e);
                continue;
            }
            let options = ExecOptions {
                shuffle_seed: Some(shuffle_seed.wrapping_add(n as u64)),
                ..ExecOptions::default()
            };
            match self.state.execute(&request.entries, options) {
                Ok(response) => errors.extend(
                    response
                        .errors
                        .into_iter()
                        .map(|e| format!("{} {}", e.error_code, e.message)),
                ),
                Err(rejected) => errors.push(format!("{} {}", rejected.code, rejected.message)),
            }
        }
        errors
    }

    /// The org as UMAPI lists it (users with direct memberships).
    pub fn to_snapshot(&self) -> Snapshot {
        Snapshot::from_parts(
            "org@AdobeOrg",
            self.state
                .users
                .iter()
                .map(|u| OrgState::wire_user(u, Some(u.groups.clone()))),
            self.state.wire_groups(),
        )
    }

    /// The product profiles a user group grants (which no read API shows).
    pub fn links(&self, group: &str) -> Vec<String> {
        self.state
            .user_groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(group))
            .map(|g| g.profiles.clone())
            .unwrap_or_default()
    }
}

/// A Federated ID of the org (username = email, country US) in `groups`.
pub fn user(email: &str, groups: &[&str]) -> umapi_core::wire::User {
    umapi_core::wire::User {
        email: Some(email.into()),
        username: Some(email.into()),
        domain: email.split('@').nth(1).map(String::from),
        identity_type: Some(IdentityType::FederatedId),
        firstname: Some("F".into()),
        lastname: Some("L".into()),
        country: Some("US".into()),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..Default::default()
    }
}

/// A group of the org, as UMAPI lists it.
pub fn group(name: &str, group_type: GroupType) -> umapi_core::wire::Group {
    umapi_core::wire::Group {
        group_id: None,
        group_name: name.into(),
        group_type,
        member_count: None,
        admin_group_name: None,
        user_group_name: None,
        product_profile_name: None,
        product_name: None,
        license_quota: None,
    }
}

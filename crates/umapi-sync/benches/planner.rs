//! The planner's speed on large orgs, and the number of action requests it plans
//! for typical change sets against the API's lower bound and against one entry per
//! user (what Adobe's Python client and the User Sync Tool send).
//!
//! Run with `cargo bench -p umapi-sync --bench planner`. Prints two tables.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use umapi_core::wire::{Group, GroupType, IdentityType, User};
use umapi_sync::current::Snapshot;
use umapi_sync::desired::{
    DesiredState, GroupSpec, ProfileSpec, Settings, UnlistedUsers, UserSpec,
};
use umapi_sync::plan::{ChangeKind, Plan};
use umapi_sync::planner::{PlanOptions, plan};
use umapi_sync::written::{Written, WrittenGroup, description_hash, profiles_hash};

/// Adobe's documented action rate.
const RATE: u32 = 10;

fn email(i: usize) -> String {
    format!("user{i:07}@example.com")
}

fn user_group(name: String) -> Group {
    group(name, GroupType::UserGroup)
}

fn group(name: String, group_type: GroupType) -> Group {
    Group {
        group_id: None,
        group_name: name,
        group_type,
        member_count: None,
        admin_group_name: None,
        user_group_name: None,
        product_profile_name: None,
        product_name: None,
        license_quota: None,
    }
}

/// One user in 20 is a Federated ID signing in with a username that is not an
/// email, as in directory-synced orgs (the sandbox's generated orgs have 3.5%).
fn username(i: usize) -> Option<String> {
    (i % 20 == 7).then(|| format!("user{i:07}"))
}

fn wire_user(i: usize, groups: Vec<String>) -> User {
    User {
        email: Some(email(i)),
        username: Some(username(i).unwrap_or_else(|| email(i))),
        domain: Some("example.com".into()),
        firstname: Some(format!("First{i}")),
        lastname: Some(format!("Last{i}")),
        country: Some("US".into()),
        identity_type: Some(IdentityType::FederatedId),
        groups,
        ..Default::default()
    }
}

fn spec(i: usize, groups: Vec<String>) -> UserSpec {
    UserSpec {
        email: Some(email(i).into()),
        domain: username(i).map(|_| "example.com".into()),
        username: username(i).map(Into::into),
        firstname: Some(format!("First{i}").into()),
        lastname: Some(format!("Last{i}").into()),
        country: Some("US".into()),
        groups: groups.into_iter().map(Into::into).collect(),
        ..Default::default()
    }
}

fn memberships(i: usize, groups: usize) -> Vec<String> {
    let mut v: Vec<String> = [i % groups, (i * 7) % groups, (i * 13 + 1) % groups]
        .iter()
        .map(|g| format!("Group {g}"))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// An org of `users` users in three of `groups` user groups each, and the desired
/// state that matches it except for `changed` users who switch one group.
fn large(users: usize, groups: usize, changed: usize) -> (DesiredState, Snapshot) {
    let snapshot = Snapshot::from_parts(
        "BENCH@AdobeOrg",
        (0..users).map(|i| wire_user(i, memberships(i, groups))),
        (0..groups).map(|g| user_group(format!("Group {g}"))),
    );
    let desired = DesiredState {
        users: (0..users)
            .map(|i| {
                let mut m = memberships(i, groups);
                if i < changed {
                    m[0] = format!("Group {}", (i + 500) % groups);
                    m.sort();
                    m.dedup();
                }
                spec(i, m)
            })
            .collect(),
        groups: (0..groups)
            .map(|g| GroupSpec {
                name: format!("Group {g}"),
                ..Default::default()
            })
            .collect(),
        settings: Settings {
            unlisted_users: UnlistedUsers::Remove,
            ..Default::default()
        },
        ..Default::default()
    };
    (desired, snapshot)
}

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// CPU time of this process (user + system), from /proc; on a busy machine it is
/// steadier than wall time.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

/// Best wall time and best CPU time over `runs` runs.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Option<Duration>, T) {
    let mut best = Duration::MAX;
    let mut best_cpu: Option<Duration> = None;
    let mut last = None;
    for _ in 0..runs {
        let cpu = cpu_time();
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        if let (Some(before), Some(after)) = (cpu, cpu_time()) {
            let used = after.saturating_sub(before);
            best_cpu = Some(best_cpu.map_or(used, |b| b.min(used)));
        }
        last = Some(out);
    }
    (best, best_cpu, last.expect("at least one run"))
}

fn planning() {
    println!("Planning (best of runs, release build)");
    println!(
        "| {:<42} | {:>10} | {:>10} | {:>8} | {:>10} | {:>11} |",
        "case", "wall time", "CPU time", "changes", "requests", "lower bound"
    );
    println!(
        "|{:-<44}|{:->12}|{:->12}|{:->10}|{:->12}|{:->13}|",
        "", "", "", "", "", ""
    );
    for (label, users, groups, changed, runs) in [
        (
            "100,000 users, 1,000 groups, no change",
            100_000,
            1_000,
            0,
            5,
        ),
        (
            "100,000 users, 1,000 groups, 1% changed",
            100_000,
            1_000,
            1_000,
            5,
        ),
        (
            "1,000,000 users, 1,000 groups, no change",
            1_000_000,
            1_000,
            0,
            2,
        ),
    ] {
        let (desired, snapshot) = large(users, groups, changed);
        let options = PlanOptions::default();
        let (elapsed, cpu, plan) =
            time(runs, || plan(&desired, &snapshot, &options).expect("plans"));
        println!(
            "| {label:<42} | {:>8.3} s | {:>10} | {:>8} | {:>10} | {:>11} |",
            elapsed.as_secs_f64(),
            cpu.map_or_else(|| "?".to_string(), |c| format!("{:.2} s", c.as_secs_f64())),
            plan.changes.iter().filter(|c| c.kind.is_counted()).count(),
            plan.estimate.requests,
            plan.estimate.lower_bound_requests
        );
    }
    if let Some(mb) = peak_rss_mb() {
        println!("peak resident memory of the whole run: {mb} MB");
    }
    println!();
}

/// Requests Adobe's client would send: one entry per touched user (plus one per
/// touched group), ten entries per request.
fn one_entry_per_user(plan: &Plan) -> u64 {
    let mut targets = std::collections::BTreeSet::new();
    for change in &plan.changes {
        let target = match &change.kind {
            ChangeKind::CreateUser { user, .. }
            | ChangeKind::UpdateUser { user, .. }
            | ChangeKind::RenameUser { user, .. }
            | ChangeKind::AddMembership { user, .. }
            | ChangeKind::RemoveMembership { user, .. }
            | ChangeKind::RemoveUser { user, .. } => format!("user {user}"),
            ChangeKind::CreateGroup { group, .. }
            | ChangeKind::RenameGroup { group, .. }
            | ChangeKind::DeleteGroup { group, .. }
            | ChangeKind::ReassertGroup { group, .. } => format!("group {group}"),
        };
        targets.insert(target);
    }
    (targets.len() as u64).div_ceil(10)
}

/// Pacing time at Adobe's rate, as the plan estimates it (a sliding minute).
fn minutes(requests: u64) -> String {
    let pacing = umapi_core::rate::RateLimits {
        actions: Some(RATE),
        ..Default::default()
    };
    let seconds = pacing.action_pacing(requests).as_secs();
    format!("{}m{:02}s", seconds / 60, seconds % 60)
}

fn change_sets() {
    let base_users = 20_000;
    let profiles: Vec<String> = (0..12).map(|p| format!("Profile {p}")).collect();
    let org = |extra: Vec<Group>| {
        let mut groups = vec![
            user_group("Everyone".into()),
            user_group("Team A".into()),
            user_group("Team B".into()),
        ];
        groups.extend(extra);
        Snapshot::from_parts(
            "BENCH@AdobeOrg",
            (0..base_users).map(|i| wire_user(i, vec![])),
            groups,
        )
    };
    let declared_groups = || {
        ["Everyone", "Team A", "Team B"]
            .iter()
            .map(|g| GroupSpec {
                name: g.to_string(),
                ..Default::default()
            })
            .collect::<Vec<_>>()
    };
    let settings = |unlisted: UnlistedUsers| Settings {
        unlisted_users: unlisted,
        default_country: Some("US".into()),
        ..Default::default()
    };
    let mut cases: Vec<(&str, DesiredState, Snapshot)> = Vec::new();

    // 1. 10,000 existing users added to one user group.
    cases.push((
        "10,000 existing users added to one user group",
        DesiredState {
            users: (0..base_users)
                .map(|i| {
                    spec(
                        i,
                        if i < 10_000 {
                            vec!["Everyone".into()]
                        } else {
                            vec![]
                        },
                    )
                })
                .collect(),
            groups: declared_groups(),
            settings: settings(UnlistedUsers::Ignore),
            ..Default::default()
        },
        org(vec![]),
    ));
    // 2. 1,000 new users with two groups each.
    cases.push((
        "1,000 new users with two groups each",
        DesiredState {
            users: (0..base_users + 1_000)
                .map(|i| {
                    spec(
                        i,
                        if i >= base_users {
                            vec!["Team A".into(), "Team B".into()]
                        } else {
                            vec![]
                        },
                    )
                })
                .collect(),
            groups: declared_groups(),
            settings: settings(UnlistedUsers::Ignore),
            ..Default::default()
        },
        org(vec![]),
    ));
    // 3. 2,000 users each added to 12 product profiles.
    cases.push((
        "2,000 users each added to 12 product profiles",
        DesiredState {
            users: (0..base_users)
                .map(|i| spec(i, if i < 2_000 { profiles.clone() } else { vec![] }))
                .collect(),
            profiles: profiles
                .iter()
                .map(|p| ProfileSpec {
                    name: p.clone(),
                    ..ProfileSpec::default()
                })
                .collect(),
            settings: settings(UnlistedUsers::Ignore),
            ..Default::default()
        },
        org(profiles
            .iter()
            .map(|p| group(p.clone(), GroupType::ProductProfile))
            .collect()),
    ));
    // 4. 500 users removed from the org.
    cases.push((
        "500 users removed from the org",
        DesiredState {
            users: (500..base_users).map(|i| spec(i, vec![])).collect(),
            groups: declared_groups(),
            settings: settings(UnlistedUsers::Remove),
            ..Default::default()
        },
        org(vec![]),
    ));

    println!(
        "Action requests per change set (org of {base_users} users; duration at {RATE} requests/minute)"
    );
    println!(
        "| {:<46} | {:>8} | {:>8} | {:>11} | {:>9} | {:>17} | {:>9} | {:>10} |",
        "change set",
        "requests",
        "entries",
        "lower bound",
        "vs bound",
        "one entry/user",
        "fewer by",
        "duration"
    );
    println!(
        "|{:-<48}|{:->10}|{:->10}|{:->13}|{:->11}|{:->19}|{:->11}|{:->12}|",
        "", "", "", "", "", "", "", ""
    );
    for (label, desired, snapshot) in cases {
        let plan = plan(&desired, &snapshot, &PlanOptions::default()).expect("plans");
        let e = &plan.estimate;
        let naive = one_entry_per_user(&plan);
        let over = if e.lower_bound_requests == 0 {
            0.0
        } else {
            (e.requests as f64 / e.lower_bound_requests as f64 - 1.0) * 100.0
        };
        println!(
            "| {label:<46} | {:>8} | {:>8} | {:>11} | {:>8.1}% | {:>6} ({:>8}) | {:>8.1}x | {:>10} |",
            e.requests,
            e.entries,
            e.lower_bound_requests,
            over,
            naive,
            minutes(naive),
            naive as f64 / e.requests.max(1) as f64,
            minutes(e.requests),
        );
    }
    println!();
}

/// Building a snapshot from listings (what `Snapshot::read` does after the pages
/// arrive): users in reverse key order with unsorted memberships, as a server may list them.
/// The first column is not "case", so `bench/suite.py` does not read these rows as planning.
fn snapshot_building() {
    println!("Snapshot building (best of runs, release build)");
    println!(
        "| {:<42} | {:>10} | {:>10} |",
        "listing", "wall time", "CPU time"
    );
    println!("|{:-<44}|{:->12}|{:->12}|", "", "", "");
    for (label, users, runs) in [
        ("100,000 users, 3 of 1,000 groups each", 100_000, 5),
        ("1,000,000 users, 3 of 1,000 groups each", 1_000_000, 2),
    ] {
        let listing: Vec<User> = (0..users)
            .rev()
            .map(|i| {
                let mut groups = memberships(i, 1_000);
                groups.reverse();
                wire_user(i, groups)
            })
            .collect();
        let mut best = (Duration::MAX, None::<Duration>);
        for _ in 0..runs {
            let mut input = Some(listing.clone());
            let (elapsed, cpu, snapshot) = time(1, || {
                let users = input.take().unwrap_or_default();
                Snapshot::from_parts("BENCH@AdobeOrg", users, Vec::<Group>::new())
            });
            assert_eq!(snapshot.users.len(), users);
            best.0 = best.0.min(elapsed);
            best.1 = match (best.1, cpu) {
                (Some(b), Some(c)) => Some(b.min(c)),
                (b, c) => b.or(c),
            };
            drop(snapshot);
        }
        println!(
            "| {label:<42} | {:>8.3} s | {:>10} |",
            best.0.as_secs_f64(),
            best.1
                .map_or_else(|| "?".to_string(), |c| format!("{:.2} s", c.as_secs_f64())),
        );
    }
    println!();
}

/// Action requests for 1,000 declared user groups with a description and a profile
/// link each: write-only values are sent only when they differ from the record of
/// what umapi last wrote (or with `--reassert`).
fn write_only_values() {
    const GROUPS: usize = 1_000;
    let profile = "All Apps".to_string();
    let description = |g: usize| format!("Team {g}");
    let mut groups: Vec<Group> = (0..GROUPS)
        .map(|g| user_group(format!("Group {g}")))
        .collect();
    groups.push(group(profile.clone(), GroupType::ProductProfile));
    let snapshot = Snapshot::from_parts("BENCH@AdobeOrg", std::iter::empty(), groups);
    let desired = |changed: Option<usize>| DesiredState {
        groups: (0..GROUPS)
            .map(|g| GroupSpec {
                name: format!("Group {g}"),
                description: Some(if changed == Some(g) {
                    format!("Team {g}, renamed")
                } else {
                    description(g)
                }),
                profiles: vec![profile.clone()],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut written = Written::default();
    written.orgs.insert(
        "BENCH@AdobeOrg".into(),
        (0..GROUPS)
            .map(|g| {
                let entry = WrittenGroup {
                    description: Some(description_hash(&description(g))),
                    profiles: Some(profiles_hash(std::slice::from_ref(&profile))),
                };
                (format!("group {g}"), entry)
            })
            .collect(),
    );
    println!("Write-only values of {GROUPS} declared user groups (action requests planned)");
    println!("| {:<44} | {:>10} |", "case", "requests");
    println!("|{:-<46}|{:->12}|", "", "");
    let cases: [(&str, Option<usize>, bool, bool); 4] = [
        ("converged, record present", None, true, false),
        ("one description changed", Some(7), true, false),
        ("record lost (everything sent once)", None, false, false),
        ("--reassert", None, true, true),
    ];
    for (name, changed, with_record, reassert) in cases {
        let options = PlanOptions {
            pacing: umapi_core::rate::RateLimits {
                actions: Some(RATE),
                ..Default::default()
            },
            written: if with_record {
                written.clone()
            } else {
                Written::default()
            },
            reassert,
            ..PlanOptions::default()
        };
        let plan = plan(&desired(changed), &snapshot, &options).expect("plan");
        println!("| {name:<44} | {:>10} |", plan.estimate.requests);
    }
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    write_only_values();
    change_sets();
    snapshot_building();
    planning();
}

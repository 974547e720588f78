//! Loading a large desired state: 100,000 users and 1,000 user groups in one file,
//! and the same split over 100 files in a folder. Prints time and peak memory.
//!
//! Run with `cargo bench -p umapi-sync --bench state_load`.
#![allow(clippy::print_stdout)]

use std::fmt::Write as _;
use std::time::Instant;

const USERS: usize = 100_000;
const GROUPS: usize = 1_000;

/// Users with three memberships each, groups with descriptions; deterministic.
fn state_yaml(first_user: usize, users: usize, with_groups: bool) -> String {
    let mut text = String::with_capacity(users * 160);
    text.push_str("users:\n");
    for i in first_user..first_user + users {
        let _ = write!(
            text,
            "  - email: user{i}@example.com\n    firstname: First{i}\n    lastname: Last{i}\n    \
             country: US\n    groups: [\"Group {}\", \"Group {}\", \"Group {}\"]\n",
            i % GROUPS,
            (i + 333) % GROUPS,
            (i + 666) % GROUPS
        );
    }
    if with_groups {
        text.push_str("groups:\n");
        for g in 0..GROUPS {
            let _ = write!(
                text,
                "  - name: Group {g}\n    description: Team number {g}\n"
            );
        }
    }
    text
}

/// A memory figure of this process from /proc (Linux only): `VmHWM` is the peak
/// resident size so far, `VmRSS` the current one.
fn memory_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time (user + system, all threads) this process has used so far, in seconds,
/// from /proc (Linux only). Unlike wall time, it hardly changes when other programs
/// share the cores.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): utime and stime are the
    // 12th and 13th, in clock ticks of 1/100 s.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// " (0.85 s CPU)", or nothing where /proc is missing.
fn cpu_since(start: Option<f64>) -> String {
    match (start, cpu_seconds()) {
        (Some(start), Some(now)) => format!(" ({:.2} s CPU)", now - start),
        _ => String::new(),
    }
}

fn main() {
    let folder = tempfile::tempdir().expect("temporary folder");

    let one = folder.path().join("one.yaml");
    let text = state_yaml(0, USERS, true);
    std::fs::write(&one, &text).expect("write state");
    drop(text);
    let before = memory_mib("VmRSS:");
    let cpu = cpu_seconds();
    let started = Instant::now();
    let state = umapi_sync::desired::load(std::slice::from_ref(&one)).expect("valid state");
    let elapsed = started.elapsed();
    let cpu = cpu_since(cpu);
    let text_len = std::fs::metadata(&one).map(|m| m.len()).unwrap_or(0);
    println!(
        "one file:   {} users, {} groups, {:.1} MiB of YAML loaded and validated in {:.2} s{cpu} ({:.0} users/s)",
        state.users.len(),
        state.groups.len(),
        text_len as f64 / 1_048_576.0,
        elapsed.as_secs_f64(),
        state.users.len() as f64 / elapsed.as_secs_f64()
    );
    if let (Some(before), Some(peak), Some(after)) =
        (before, memory_mib("VmHWM:"), memory_mib("VmRSS:"))
    {
        println!(
            "memory: {before:.0} MiB before loading, peak {peak:.0} MiB while loading, \
             {after:.0} MiB holding the loaded state"
        );
    }
    drop(state);

    let split = folder.path().join("split");
    std::fs::create_dir(&split).expect("folder");
    let per_file = USERS / 100;
    for file in 0..100 {
        let text = state_yaml(file * per_file, per_file, file == 0);
        std::fs::write(split.join(format!("users-{file:03}.yaml")), text).expect("write state");
    }
    let cpu = cpu_seconds();
    let started = Instant::now();
    let state = umapi_sync::desired::load(&[split]).expect("valid state");
    let elapsed = started.elapsed();
    let cpu = cpu_since(cpu);
    println!(
        "100 files:  {} users, {} groups loaded and validated in {:.2} s{cpu}",
        state.users.len(),
        state.groups.len(),
        elapsed.as_secs_f64()
    );
    let started = Instant::now();
    let members: usize = state
        .groups
        .iter()
        .map(|g| state.members_of(&g.name).count())
        .sum();
    println!(
        "members_of over every group: {members} memberships in {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
}

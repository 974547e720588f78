//! How fast and how lean the client reads a large org: every user of a generated
//! 100,000-user org (USERS=N to change), paged from the in-process sandbox over
//! loopback HTTP, once streamed and once collected. Prints figures; asserts only
//! that every user came back.
//!
//! `cargo bench -p umapi-core --bench read_large_org`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use futures::TryStreamExt;
use umapi_core::{RateLimits, UsersQuery};
use umapi_sandbox::{OrgSpec, Sandbox, SandboxConfig, generate};

/// Resident memory of this process, and its high-water mark, in MiB (Linux only).
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::main]
async fn main() {
    let users: usize = std::env::var("USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let org = generate::org(&OrgSpec {
        users,
        user_groups: 200,
        profiles: 50,
        seed: 1,
    });
    let sandbox = Sandbox::start(SandboxConfig::default(), org).await.unwrap();
    let conn = sandbox
        .connection_builder()
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    // Warm up: token and connection.
    conn.groups().collect_all().await.unwrap();
    let (rss_before, _) = memory_mib();

    let started = Instant::now();
    let mut stream = conn.users(UsersQuery::all());
    let mut streamed = 0usize;
    while stream.try_next().await.unwrap().is_some() {
        streamed += 1;
    }
    let stream_time = started.elapsed();
    let pages = stream.stats().pages_fetched;
    assert_eq!(streamed, users);

    let started = Instant::now();
    let collected = conn.users(UsersQuery::all()).collect_all().await.unwrap();
    let collect_time = started.elapsed();
    let (rss_after, peak) = memory_mib();
    assert_eq!(collected.len(), users);

    println!("read_large_org: {users} users in {pages} pages from the in-process sandbox");
    println!(
        "  streamed:  {:>8.0} ms  ({:.0} users/s)",
        stream_time.as_secs_f64() * 1e3,
        users as f64 / stream_time.as_secs_f64()
    );
    println!(
        "  collected: {:>8.0} ms  ({:.0} users/s)",
        collect_time.as_secs_f64() * 1e3,
        users as f64 / collect_time.as_secs_f64()
    );
    println!(
        "  memory: {rss_before:.0} MiB before reading (sandbox state included), {rss_after:.0} MiB holding every user, peak {peak:.0} MiB"
    );
    println!(
        "  requests: {} ({} retries)",
        conn.stats().requests,
        conn.stats().retries
    );
    drop(collected);
    sandbox.shutdown().await;
}

//! Pacing under network jitter: applies 300 new users (30 action requests) against a sandbox
//! that enforces Adobe's limits and delays every action request in transit by a random
//! time, and prints the 429s the sandbox answered and how long the apply took.
//!
//! `cargo bench -p umapi-sync --bench pacing -- [TIME_SCALE [JITTER_MS [MARGIN_MS]]]`;
//! defaults: time scale 1 (Adobe's real minute, about 2 minutes of waiting), jitter up to
//! 500 ms, the client's default margin. Times are in Adobe's time; the sandbox and the
//! client both divide them by the time scale. No retries: a throttled request fails.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use umapi_core::{RateLimits, RetryPolicy};
use umapi_sandbox::{
    EndpointClass, Fault, FaultPlan, OrgState, RandomFault, RateLimitConfig, Sandbox, SandboxConfig,
};
use umapi_sync::apply::{ApplyOptions, apply};
use umapi_sync::current::Snapshot;
use umapi_sync::planner::{PlanOptions, plan};

fn arg<T: std::str::FromStr>(index: usize) -> Option<T> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .nth(index)
        .and_then(|a| a.parse().ok())
}

#[tokio::main]
async fn main() {
    let time_scale: f64 = arg(0).unwrap_or(1.0);
    let jitter_ms: u64 = arg(1).unwrap_or(500);
    let limits = RateLimits::default();
    let margin = arg::<u64>(2).map_or(limits.margin, Duration::from_millis);

    let config = SandboxConfig {
        rate_limits: Some(RateLimitConfig::default()),
        time_scale,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config, OrgState::default())
        .await
        .expect("sandbox starts");
    let pacing = RateLimits { margin, ..limits }.time_scaled(time_scale);
    let conn = sandbox
        .connection_builder()
        .rate_limits(pacing.clone())
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("connection");
    let snapshot = Snapshot::read(&conn, |_| {}).await.expect("read org");
    let mut yaml = String::from("settings:\n  default_country: US\nusers:\n");
    for i in 0..300 {
        yaml.push_str(&format!("  - email: user{i:03}@example.com\n"));
    }
    let desired = umapi_sync::desired::load_str("users.yaml", &yaml).expect("valid state");
    let plan = plan(&desired, &snapshot, &PlanOptions::default()).expect("plan");
    sandbox.set_faults(FaultPlan {
        random: vec![RandomFault {
            endpoint: Some(EndpointClass::Action),
            probability: 1.0,
            fault: Fault::Jitter { max_ms: jitter_ms },
        }],
        ..FaultPlan::default()
    });
    println!(
        "{} action requests, Adobe's limits at time scale {time_scale}, jitter up to {jitter_ms} ms, \
         margin {margin:?} (estimated pacing {:?})",
        plan.request_count(),
        pacing.action_pacing(plan.request_count() as u64),
    );
    let started = Instant::now();
    let report = apply(&conn, &plan, ApplyOptions::default(), |_| {}).await;
    let elapsed = started.elapsed();
    let counters = sandbox.counters();
    println!(
        "429s: {}; failed changes: {}; apply took {elapsed:.2?}",
        counters.rate_limited, report.failed
    );
}

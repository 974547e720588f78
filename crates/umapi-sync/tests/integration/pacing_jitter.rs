//! A 30-request apply at Adobe's action limit, against a sandbox that enforces that limit
//! and delays each action request in transit by a random time: the pacing margin keeps
//! every request under the limit as the server counts it, on arrival.
//!
//! Adobe's throttling page (`docs/en/throttle.md` of adobe-apiplatform/umapi-documentation):
//! "Limits apply to the number of calls that an individual client can make within a time
//! interval" — "/action | 10 requests per minute" — "When the access limit is reached,
//! further calls fail with [...] 429 Too Many Requests – You are being rate limited".
//!
//! The sandbox runs the minute `TIME_SCALE` times faster and scales the jitter alike; the
//! client scales its window and margin by the same factor, so the run is Adobe's in
//! miniature: 500 ms of jitter against a 3 s margin.

use std::time::Duration;

use umapi_core::{Connection, RateLimits, RetryPolicy};
use umapi_sandbox::{
    EndpointClass, Fault, FaultPlan, OrgState, RandomFault, RateLimitConfig, Sandbox, SandboxConfig,
};
use umapi_sync::apply::{ApplyOptions, apply};
use umapi_sync::current::Snapshot;
use umapi_sync::planner::{PlanOptions, plan};

const TIME_SCALE: f64 = 30.0;
const JITTER_MS: u64 = 500;

/// 300 new users: 30 action requests of 10 entries.
fn three_hundred_new_users() -> String {
    let mut yaml = String::from("settings:\n  default_country: US\nusers:\n");
    for i in 0..300 {
        yaml.push_str(&format!("  - email: user{i:03}@example.com\n"));
    }
    yaml
}

/// Applies the 300 users with this pacing margin (in Adobe's time) and no retries, so
/// that a request the server throttles fails; returns the sandbox's 429 count and
/// whether the apply succeeded.
async fn apply_with_jitter(margin: Duration, seed: u64) -> (u64, bool) {
    let config = SandboxConfig {
        rate_limits: Some(RateLimitConfig::default()),
        time_scale: TIME_SCALE,
        seed,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config, OrgState::default())
        .await
        .expect("sandbox starts");
    let conn: Connection = sandbox
        .connection_builder()
        .rate_limits(
            RateLimits {
                margin,
                ..RateLimits::default()
            }
            .time_scaled(TIME_SCALE),
        )
        .retry_policy(RetryPolicy::never())
        .build()
        .expect("connection");
    let snapshot = Snapshot::read(&conn, |_| {}).await.expect("read org");
    let desired = umapi_sync::desired::load_str("users.yaml", &three_hundred_new_users())
        .expect("valid state");
    let plan = plan(&desired, &snapshot, &PlanOptions::default()).expect("plan");
    assert_eq!(plan.request_count(), 30);

    sandbox.set_faults(FaultPlan {
        random: vec![RandomFault {
            endpoint: Some(EndpointClass::Action),
            probability: 1.0,
            fault: Fault::Jitter { max_ms: JITTER_MS },
        }],
        ..FaultPlan::default()
    });
    let report = apply(&conn, &plan, ApplyOptions::default(), |_| {}).await;
    let counters = sandbox.counters();
    assert_eq!(
        counters.by_endpoint.get("action"),
        Some(&30),
        "{counters:?}"
    );
    assert_eq!(
        counters.faults_injected, 30,
        "every action request was delayed"
    );
    (counters.rate_limited, report.is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_margin_absorbs_half_a_second_of_jitter() {
    let margin = RateLimits::default().margin;
    assert!(margin >= Duration::from_millis(JITTER_MS));
    let (throttled, success) = apply_with_jitter(margin, 1).await;
    assert_eq!(throttled, 0, "429s with a {margin:?} margin");
    assert!(success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_margin_the_same_jitter_draws_429s() {
    let (throttled, success) = apply_with_jitter(Duration::ZERO, 1).await;
    assert!(throttled > 0, "no 429 without a margin");
    assert!(!success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_sandbox_of_umapi_yaml_and_the_client_share_the_scaled_minute() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("umapi.yaml");
    let config = umapi_sync::config::Config::from_text(
        &path,
        "connection: {kind: sandbox, rate_limits: adobe, time_scale: 60}\n",
    )
    .expect("valid config");
    let connected = config
        .connect(false, "test", |_| None)
        .await
        .expect("connects");
    let sandbox = connected.sandbox.expect("the embedded sandbox");
    let conn = connected.client;

    let options = config.plan_options();
    let snapshot = Snapshot::read(&conn, |_| {}).await.expect("read org");
    let desired = umapi_sync::desired::load_str("users.yaml", &three_hundred_new_users())
        .expect("valid state");
    let plan = plan(&desired, &snapshot, &options).expect("plan");
    assert_eq!(plan.request_count(), 30);
    // Two waits of a scaled minute (1 s) and margin (50 ms).
    assert!(
        (plan.estimate.duration_seconds - 2.1).abs() < 1e-9,
        "{:?}",
        plan.estimate
    );

    let report = apply(&conn, &plan, ApplyOptions::default(), |_| {}).await;
    assert!(report.is_success());
    let counters = sandbox.counters();
    assert_eq!(counters.rate_limited, 0, "{counters:?}");
    assert_eq!(counters.action_requests, 30, "{counters:?}");
    let arrivals: Vec<u64> = sandbox
        .request_log()
        .iter()
        .filter(|entry| entry.endpoint == EndpointClass::Action)
        .map(|entry| entry.at_ms)
        .collect();
    for (i, at) in arrivals.iter().enumerate().skip(10) {
        assert!(*at >= arrivals[i - 10] + 1000, "{arrivals:?}");
    }
    assert!(folder.path().join("sandbox-state.json").exists());
}

//! Rehearsing Adobe's rate limits: the sandbox (embedded, or `umapi sandbox` as its own
//! process) enforces them with a time scale, umapi paces in the same scaled minute, and a
//! 30-request apply finishes in scaled time without a single 429.
//!
//! Adobe's throttling page (`docs/en/throttle.md` of adobe-apiplatform/umapi-documentation):
//! "/action | 10 requests per minute", "/users | 25 requests per minute", "/groups | 5
//! requests per minute"; "When the access limit is reached, further calls fail with [...]
//! 429 Too Many Requests".

use std::time::{Duration, Instant};

use crate::common::{Project, RemoteOrg, code, stderr, stdout};
use umapi_sandbox::{EndpointClass, RateLimitConfig, SandboxConfig};

/// 300 new users in an empty org: 30 action requests of 10 entries.
fn three_hundred_new_users() -> String {
    let mut yaml = String::from(
        "settings:\n  default_country: US\n  limits:\n    max_user_removals: 0\nusers:\n",
    );
    for i in 0..300 {
        yaml.push_str(&format!("  - email: user{i:03}@example.com\n"));
    }
    yaml
}

#[test]
fn an_apply_against_the_embedded_sandbox_at_adobe_limits_takes_scaled_time() {
    let project = Project::example("quickstart");
    project.write(
        "umapi.yaml",
        "connection:\n  kind: sandbox\n  rate_limits: adobe\n  time_scale: 60\nstate: [users.yaml]\n",
    );
    project.write("users.yaml", &three_hundred_new_users());

    let plan = project.run(&["plan"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    let estimate = stdout(&plan)
        .lines()
        .find(|line| line.contains("action requests"))
        .unwrap_or_default()
        .to_owned();
    // Three batches of ten, a scaled minute and margin (1.05 s) apart.
    insta::assert_snapshot!(estimate, @"30 action requests (300 entries) in 1 phase (lower bound 30), about 2 s of waiting at 10 requests per minute.");

    let started = Instant::now();
    let apply = project.run(&["-v", "apply", "--auto-approve"]);
    let elapsed = started.elapsed();
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    // At Adobe's real minute the pacing alone would take over two minutes.
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    let log = stderr(&apply);
    let requests = log
        .lines()
        .find(|line| line.contains("UMAPI requests:"))
        .unwrap_or_else(|| panic!("no request count in\n{log}"));
    assert!(
        requests.contains("(30 action), 0 answered 429"),
        "{requests}"
    );

    let again = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&again), 0, "{}", stdout(&again));
}

#[test]
fn the_sandbox_counts_no_429_when_umapi_paces_in_its_scaled_minute() {
    let remote = RemoteOrg::quickstart_with(SandboxConfig {
        rate_limits: Some(RateLimitConfig::default()),
        time_scale: 60.0,
        ..SandboxConfig::default()
    });
    let sandbox = remote.sandbox();
    let config = remote.project.read("umapi.yaml");
    let limits_at = config
        .find("  rate_limits:")
        .expect("rate_limits in umapi.yaml");
    // Adobe's limits (the defaults), in the sandbox's minute.
    remote.project.write(
        "umapi.yaml",
        &format!(
            "{}  rate_limits: {{time_scale: 60}}\nstate: [users.yaml]\n",
            &config[..limits_at]
        ),
    );
    remote.project.write(
        "users.yaml",
        &three_hundred_new_users().replace(
            "limits:\n",
            "unlisted_users: ignore\n  unlisted_groups: ignore\n  limits:\n",
        ),
    );

    let apply = remote.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));

    let counters = sandbox.counters();
    assert_eq!(counters.rate_limited, 0, "{counters:?}");
    assert_eq!(counters.action_requests, 30, "{counters:?}");
    // The pacing held as the sandbox saw it: each action request arrived at least a
    // scaled minute (one second) after the one ten requests earlier.
    let arrivals: Vec<u64> = sandbox
        .request_log()
        .iter()
        .filter(|entry| entry.endpoint == EndpointClass::Action)
        .map(|entry| entry.at_ms)
        .collect();
    assert_eq!(arrivals.len(), 30);
    for (i, at) in arrivals.iter().enumerate().skip(10) {
        assert!(*at >= arrivals[i - 10] + 1000, "{arrivals:?}");
    }
}

#[test]
fn umapi_sandbox_prints_the_line_that_makes_umapi_pace_in_its_minute() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_umapi"))
        .args(["sandbox", "--rate-limits", "adobe", "--time-scale", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sandbox");
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        let last = line.starts_with("admin API");
        lines.push(line);
        if last {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let at = lines
        .iter()
        .position(|line| line.starts_with("rate_limits:"))
        .unwrap_or_else(|| panic!("no rate_limits line in {lines:#?}"));
    insta::assert_snapshot!(lines[at..at + 2].join("\n"), @r"
    rate_limits: {time_scale: 60}
      (the sandbox answers 429 beyond Adobe's 25 user, 5 group and 10 action requests per minute, and its minute lasts 1s; write this line under `connection:` in umapi.yaml so that umapi paces in the sandbox's time)
    ");

    let refused = Command::new(env!("CARGO_BIN_EXE_umapi"))
        .args(["sandbox", "--rate-limits", "adobe", "--time-scale", "0"])
        .output()
        .expect("run");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("expected a number greater than 0"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

//! An org that cannot be reached: the client's retries are shown on stderr
//! at the default verbosity, so a run that waits is not silent, and the
//! `retry:` block of `umapi.yaml` bounds how long it waits.
//!
//! With the default policy the run would retry for about a minute, so that test
//! reads stderr until the first retry line appears and then stops the process.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::Project;

const SECRET: &str = "unreachable-test-secret-5f2c";

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// The quickstart project with an oauth connection to a closed loopback port
/// (`extra` is appended to the `connection:` block), and its base URL.
fn unreachable_project(extra: &str) -> (Project, String) {
    let project = Project::example("quickstart");
    let base = format!("http://127.0.0.1:{}", closed_port());
    project.write(
        "umapi.yaml",
        &format!(
            "connection:\n  kind: oauth\n  org_id: \"0123456789ABCDEF01234567@AdobeOrg\"\n  \
             client_id: unreachable-client\n  ims_host: {base}\n  \
             umapi_endpoint: {base}/v2/usermanagement\n{extra}"
        ),
    );
    (project, base)
}

/// `umapi plan` in `project`, at the default verbosity, with the secret set.
fn plan_command(project: &Project) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_umapi"));
    command
        .current_dir(project.path())
        .env_remove("RUST_LOG")
        .env("UMAPI_CLIENT_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .args(["-c", "umapi.yaml", "plan"])
        .stdin(Stdio::null());
    command
}

#[test]
fn a_refused_connection_is_retried_visibly_at_the_default_level() {
    let (project, _) = unreachable_project("");
    let mut child = plan_command(&project)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start umapi");
    let stderr = child.stderr.take().expect("stderr");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut seen = Vec::new();
    let retry_line = loop {
        match lines.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains("retrying in") => break Some(line),
            Ok(line) => seen.push(line),
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();

    let line = retry_line.unwrap_or_else(|| panic!("no retry line on stderr; saw {seen:#?}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("(attempt 2 of 6)"), "{line}");
    assert!(
        line.contains("cannot connect") && line.contains("refused"),
        "{line}"
    );
    assert!(!line.contains(SECRET), "{line}");
    assert!(
        seen.iter().all(|earlier| !earlier.contains(SECRET)),
        "{seen:#?}"
    );
}

#[test]
fn the_retry_block_bounds_the_attempts_and_the_run_fails_soon() {
    let (project, base) =
        unreachable_project("  retry: {max_attempts: 2, initial_backoff_seconds: 0}\n");
    let started = Instant::now();
    let output = plan_command(&project).output().expect("run umapi");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // One retry whose wait is only the client's jitter (at most 1 s); the
    // default policy would take about a minute.
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
    let error = stderr
        .lines()
        .skip_while(|line| !line.starts_with("error:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(error.contains("unavailable after 2 attempts"), "{stderr}");
    // The token exchange comes first: the error blames the identity service, not UMAPI.
    assert!(
        error.contains("the identity service at"),
        "the failing service is not named: {stderr}"
    );
    assert!(error.contains(&base), "the endpoint is not named: {stderr}");
    assert!(error.contains("refused"), "{stderr}");
    assert_eq!(
        stderr.matches("retrying in").count(),
        1,
        "one retry expected: {stderr}"
    );
    assert!(stderr.contains("(attempt 2 of 2)"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
    assert!(!stdout.contains(SECRET), "{stdout}");
}

#[test]
fn a_host_name_that_does_not_resolve_fails_at_once_and_is_named() {
    // `.invalid` is reserved never to resolve: the resolver answers without the network.
    let project = Project::example("quickstart");
    project.write(
        "umapi.yaml",
        "connection:\n  kind: oauth\n  org_id: \"0123456789ABCDEF01234567@AdobeOrg\"\n  \
         client_id: unreachable-client\n  ims_host: https://no-such-host.invalid\n",
    );
    let started = Instant::now();
    let output = plan_command(&project).output().expect("run umapi");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // The default policy would retry for about a minute.
    assert!(took < Duration::from_secs(3), "took {took:?}: {stderr}");
    assert!(
        stderr.contains("the host name `no-such-host.invalid` did not resolve"),
        "{stderr}"
    );
    assert!(!stderr.contains("retrying in"), "{stderr}");
    assert!(!stderr.contains(SECRET), "{stderr}");
}

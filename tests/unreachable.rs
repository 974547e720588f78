//! An org that cannot be reached: the client's retries are shown on stderr
//! at the default verbosity, so a run that waits is not silent.
//!
//! `umapi.yaml` has no retry policy setting, so the run would retry for about
//! a minute with the default policy; the test reads stderr until the first
//! retry line appears and then stops the process.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::Project;

const SECRET: &str = "unreachable-test-secret-5f2c";

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[test]
fn a_refused_connection_is_retried_visibly_at_the_default_level() {
    let project = Project::example("quickstart");
    let base = format!("http://127.0.0.1:{}", closed_port());
    project.write(
        "umapi.yaml",
        &format!(
            "connection:\n  kind: oauth\n  org_id: \"0123456789ABCDEF01234567@AdobeOrg\"\n  \
             client_id: unreachable-client\n  ims_host: {base}\n  \
             umapi_endpoint: {base}/v2/usermanagement\n"
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_umapi"))
        .current_dir(project.path())
        .env_remove("RUST_LOG")
        .env("UMAPI_CLIENT_SECRET", SECRET)
        .env("NO_COLOR", "1")
        .args(["-c", "umapi.yaml", "plan"])
        .stdin(Stdio::null())
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

//! `apply` at a terminal: the confirmation prompt and the progress bar. A
//! pseudo-terminal comes from util-linux `script`; where it is missing the
//! tests say so and do nothing.
#![allow(clippy::print_stderr)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::Project;

/// Runs `umapi <args>` in a pseudo-terminal, typing `input`.
fn in_terminal(project: &Project, args: &str, input: &str) -> Option<Output> {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists());
    let Some(script) = script else {
        eprintln!("util-linux `script` not found: terminal tests skipped");
        return None;
    };
    let command = format!(
        "{} -c {} --color never {args}",
        env!("CARGO_BIN_EXE_umapi"),
        project.file("umapi.yaml").display()
    );
    let mut child = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("type");
    Some(child.wait_with_output().expect("run"))
}

#[test]
fn answering_yes_applies_with_a_progress_bar() {
    let project = Project::example("quickstart");
    let Some(output) = in_terminal(&project, "apply", "yes\n") else {
        return;
    };
    let seen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{seen}");
    assert!(
        seen.contains("Do you want to perform these actions?"),
        "{seen}"
    );
    assert!(seen.contains("/7 requests"), "a progress bar: {seen}");
    assert!(
        seen.contains("Apply complete! 18 changes applied"),
        "{seen}"
    );
    assert!(!project.org_is_unchanged());
}

#[test]
fn any_other_answer_cancels_and_changes_nothing() {
    let project = Project::example("quickstart");
    let Some(output) = in_terminal(&project, "apply", "y\n") else {
        return;
    };
    let seen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{seen}");
    assert!(
        seen.contains("apply cancelled; nothing was changed"),
        "{seen}"
    );
    assert!(project.org_is_unchanged());
}

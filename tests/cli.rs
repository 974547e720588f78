//! The command line itself: help texts and flags.

mod common;

use assert_cmd::Command;

fn help(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_umapi"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .expect("run");
    assert!(output.status.success());
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&["--help"]));
    for command in ["plan", "apply", "export", "validate", "sandbox"] {
        insta::assert_snapshot!(format!("help_{command}"), help(&[command, "--help"]));
    }
}

#[test]
fn json_and_format_conflict() {
    let output = Command::new(env!("CARGO_BIN_EXE_umapi"))
        .args(["plan", "--json", "--format", "markdown"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
}

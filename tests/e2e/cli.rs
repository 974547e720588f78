//! The command line itself: help texts and flags.

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
    for command in [
        "plan",
        "apply",
        "export",
        "validate",
        "sandbox",
        "show",
        "why",
        "schema",
        "completions",
        "man",
    ] {
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

/// Every subcommand, as the command line defines it (from `--help`'s list).
fn subcommands() -> Vec<String> {
    let top = help(&["--help"]);
    let list = &top[top.find("Commands:").expect("a command list")..];
    let list = &list[..list.find("\n\n").unwrap_or(list.len())];
    let names: Vec<String> = list
        .lines()
        .skip(1)
        // Wrapped descriptions are indented further than the names.
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 9, "{names:?}");
    names
}

#[test]
fn bash_completion_offers_every_subcommand() {
    let script = help(&["completions", "bash"]);
    assert!(script.contains("complete -F _umapi"), "{script}");
    for command in subcommands() {
        assert!(
            script.contains(&format!("umapi,{command})")),
            "`{command}` missing from the bash completion"
        );
    }
    for shell in ["zsh", "fish", "powershell"] {
        let script = help(&["completions", shell]);
        assert!(
            script.contains("plan") && script.contains("show"),
            "{shell}"
        );
    }
}

#[test]
fn man_page_lists_every_subcommand() {
    let page = help(&["man"]);
    assert!(page.contains(".TH umapi 1"), "roff: {page}");
    for command in subcommands() {
        assert!(
            page.contains(&format!("umapi\\-{command}(1)")),
            "`{command}` missing from the man page:\n{page}"
        );
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_umapi"))
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(output.status.success());
    for command in subcommands() {
        let page = std::fs::read_to_string(dir.path().join(format!("umapi-{command}.1")))
            .unwrap_or_else(|e| panic!("umapi-{command}.1: {e}"));
        assert!(page.contains(".TH umapi-"), "{page}");
    }
}

#[test]
fn schema_prints_the_checked_in_schemas_without_a_config() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (kind, file) in [
        (None, "state-schema.json"),
        (Some("state"), "state-schema.json"),
        (Some("config"), "config-schema.json"),
    ] {
        let mut args = vec!["-c", "/nonexistent/umapi.yaml", "schema"];
        args.extend(kind);
        let printed = help(&args);
        let checked_in = std::fs::read_to_string(root.join(file)).expect("schema file");
        assert_eq!(printed, checked_in, "umapi schema {kind:?}");
    }
}

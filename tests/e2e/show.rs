//! `umapi show`: a plan saved by `plan -o` against the quick start's embedded
//! sandbox, rendered again with no configuration, no sandbox and no credentials.

use crate::common::{Project, code, stderr, stdout};

/// `umapi show <args>` in the project's folder, naming the configuration file the
/// plan was made with (`show` never reads it; the tests remove it first).
fn show(project: &Project, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_umapi"))
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .env_remove("UMAPI_CLIENT_SECRET")
        .arg("-c")
        .arg(project.file("umapi.yaml"))
        .arg("show")
        .args(args)
        .output()
        .expect("run umapi")
}

#[test]
fn a_saved_plan_renders_offline_in_every_format() {
    let project = Project::example("quickstart");
    let planned = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&planned), 0, "{}", stderr(&planned));
    let markdown = project.run(&["plan", "--format", "markdown"]);
    assert_eq!(code(&markdown), 0, "{}", stderr(&markdown));
    // Nothing but the plan file is left: no config, no seed, no sandbox state.
    for file in ["umapi.yaml", "seed-org.json"] {
        std::fs::remove_file(project.file(file)).expect("remove");
    }
    std::fs::remove_dir_all(project.file("state")).expect("remove state");
    let _ = std::fs::remove_file(project.file("sandbox-state.json"));

    let text = show(&project, &["plan.json"]);
    assert_eq!(code(&text), 0, "{}", stderr(&text));
    assert!(stderr(&text).is_empty(), "{}", stderr(&text));
    assert_eq!(
        stdout(&text),
        stdout(&planned),
        "show prints what plan printed"
    );
    insta::assert_snapshot!("show_text", stdout(&text));

    let md = show(&project, &["plan.json", "--format", "markdown"]);
    assert_eq!(code(&md), 0, "{}", stderr(&md));
    assert_eq!(stdout(&md), stdout(&markdown));
    insta::assert_snapshot!("show_markdown", project.redact(&stdout(&md)));

    let json = show(&project, &["plan.json", "--format", "json"]);
    assert_eq!(code(&json), 0, "{}", stderr(&json));
    assert_eq!(
        stdout(&json).trim_end(),
        project.read("plan.json").trim_end(),
        "the JSON is the saved document itself"
    );
}

#[test]
fn a_broken_or_foreign_plan_file_is_a_clear_error() {
    let project = Project::example("quickstart");
    let cases = [
        (
            "truncated",
            "{\"format_version\": 1, \"org_id\": \"X@AdobeOrg\",\n",
        ),
        (
            "newer",
            "{\"format_version\": 99, \"org_id\": \"X@AdobeOrg\"}",
        ),
        ("not_a_plan", "users:\n  - email: a@example.com\n"),
    ];
    for (name, contents) in cases {
        project.write("plan.json", contents);
        let output = show(&project, &["plan.json"]);
        assert_eq!(code(&output), 1, "{name}");
        assert!(stdout(&output).is_empty(), "{name}: nothing on stdout");
        insta::assert_snapshot!(format!("show_error_{name}"), stderr(&output));
    }
    let missing = show(&project, &["missing.json"]);
    assert_eq!(code(&missing), 1);
    assert!(
        stderr(&missing).contains("could not open the plan file `missing.json`"),
        "{}",
        stderr(&missing)
    );
}

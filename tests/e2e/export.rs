//! `umapi export`: replacing state files with `--force`, the `state:` lines to write
//! after `--out DIR`, and hints that carry the `-c FILE` the command was run with.

use crate::common::{Project, code, stderr, stdout};

/// `umapi ARGS` run in the project folder without `-c`: the default `umapi.yaml`.
fn run_default_config(project: &Project, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_umapi"))
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .expect("run umapi")
}

#[test]
fn force_replaces_the_state_files_and_removes_those_it_does_not_write() {
    let project = Project::example("quickstart");
    project.write("state/extra/contractors.yaml", "users: []\n");

    let refused = project.run(&["export"]);
    assert_eq!(code(&refused), 1);
    insta::assert_snapshot!("export_refused", project.redact(&stderr(&refused)));

    let forced = project.run(&["export", "--force"]);
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    insta::assert_snapshot!("export_forced", project.redact(&stderr(&forced)));
    assert!(!project.file("state/extra/contractors.yaml").exists());
    assert!(
        project
            .read("state/users.yaml")
            .starts_with("# yaml-language-server: $schema=./state-schema.json\n")
    );

    let plan = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}\n{}", stdout(&plan), stderr(&plan));
}

#[test]
fn export_out_says_which_state_lines_to_write_and_they_work() {
    let project = Project::example("quickstart");
    let export = run_default_config(&project, &["export", "--out", "exported"]);
    assert_eq!(code(&export), 0, "{}", stderr(&export));
    insta::assert_snapshot!(project.redact(&stderr(&export)), @r"
    Exported the org to exported. To plan with these files, write in umapi.yaml:

      state:
        - exported

    Then `umapi plan` shows no changes.
    ");

    // Following the hint: the exported files plan back to no changes.
    let config = project.read("umapi.yaml");
    let (before, _) = config.split_once("state:").expect("state: in umapi.yaml");
    project.write("umapi.yaml", &format!("{before}state:\n  - exported\n"));
    let plan = run_default_config(&project, &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}\n{}", stdout(&plan), stderr(&plan));
}

#[test]
fn hints_carry_the_configuration_file_that_was_named() {
    let project = Project::example("quickstart");
    // `Project::umapi` passes `-c [PROJECT]/umapi.yaml`.
    let export = project.run(&["export", "--out", "elsewhere"]);
    assert_eq!(code(&export), 0, "{}", stderr(&export));
    insta::assert_snapshot!(project.redact(&stderr(&export)), @r"
    Exported the org to elsewhere. To plan with these files, write in [PROJECT]/umapi.yaml:

      state:
        - elsewhere

    Then `umapi -c [PROJECT]/umapi.yaml plan` shows no changes.
    ");

    let plan = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    insta::assert_snapshot!(project.redact(&stderr(&plan)), @"Saved the plan to plan.json. Apply exactly this plan with: umapi -c [PROJECT]/umapi.yaml apply plan.json");

    let snapshot = project.run(&["export", "--snapshot", "org.json"]);
    assert_eq!(code(&snapshot), 0, "{}", stderr(&snapshot));
    assert!(
        stderr(&snapshot).contains("`umapi -c "),
        "{}",
        stderr(&snapshot)
    );
}

//! What umapi writes (plans, reports, snapshots, exported state) never replaces
//! what it reads: `umapi.yaml`, the state files and folders, the sandbox's seed
//! and state files, the plan being applied. Outputs are written atomically and
//! readable by their owner only.

use crate::common::{Project, code, stderr};

/// Runs `args` in `project`, expects exit 1 and a refusal naming `target`, and
/// returns stderr.
fn refused(project: &Project, args: &[&str], target: &str) -> String {
    let output = project.run(args);
    let err = stderr(&output);
    assert_eq!(code(&output), 1, "{args:?}: {err}");
    assert!(
        err.contains("refusing to write") && err.contains(&format!("to `{target}`")),
        "{args:?}: {err}"
    );
    assert!(err.contains("hint:"), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// The project's files that umapi reads, with their contents.
fn inputs(project: &Project) -> Vec<(String, String)> {
    [
        "umapi.yaml",
        "seed-org.json",
        "state/users.yaml",
        "state/groups.yaml",
        "state/settings.yaml",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), project.read(name)))
    .collect()
}

fn assert_unchanged(project: &Project, before: &[(String, String)]) {
    for (name, contents) in before {
        assert_eq!(&project.read(name), contents, "{name} was changed");
    }
}

/// Leftover temporary files of an atomic write, in `folder`.
fn temp_files(folder: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .expect("read dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with(".umapi-"))
        .collect()
}

#[test]
fn plan_onto_a_state_file_or_the_configuration_is_refused() {
    let project = Project::example("quickstart");
    let before = inputs(&project);

    let err = refused(
        &project,
        &["plan", "-o", "state/users.yaml"],
        "state/users.yaml",
    );
    assert!(err.contains("the state folder"), "{err}");
    assert!(err.contains("umapi plan -o plan.json"), "{err}");

    let err = refused(&project, &["plan", "-o", "umapi.yaml"], "umapi.yaml");
    assert!(err.contains("overwrite the configuration file"), "{err}");

    // A path that only reaches the input through `..` is the same input.
    refused(
        &project,
        &["plan", "-o", "state/../umapi.yaml"],
        "state/../umapi.yaml",
    );
    assert_unchanged(&project, &before);
    assert!(project.org_is_unchanged());
}

#[test]
fn export_snapshot_onto_an_input_is_refused_before_reading_the_org() {
    let project = Project::example("quickstart");
    let before = inputs(&project);

    let err = refused(
        &project,
        &["export", "--snapshot", "state/groups.yaml"],
        "state/groups.yaml",
    );
    assert!(err.contains("--snapshot org-snapshot.json"), "{err}");
    let err = refused(
        &project,
        &["export", "--snapshot", "seed-org.json"],
        "seed-org.json",
    );
    assert!(err.contains("the sandbox seed file"), "{err}");
    let err = refused(
        &project,
        &["export", "--snapshot", "sandbox-state.json"],
        "sandbox-state.json",
    );
    assert!(err.contains("the sandbox state file"), "{err}");
    assert_unchanged(&project, &before);
    assert!(
        !project.file("sandbox-state.json").exists(),
        "the sandbox was not even started"
    );
}

#[test]
fn apply_refuses_a_report_onto_the_plan_it_applies_and_changes_nothing() {
    let project = Project::example("quickstart");
    let planned = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&planned), 0, "{}", stderr(&planned));
    let plan = project.read("plan.json");

    let err = refused(
        &project,
        &["apply", "plan.json", "--report", "plan.json"],
        "plan.json",
    );
    assert!(err.contains("the plan file being applied"), "{err}");
    assert_eq!(project.read("plan.json"), plan);
    assert!(project.org_is_unchanged(), "nothing was applied");
}

#[cfg(unix)]
#[test]
fn a_symlink_onto_an_input_is_refused() {
    let project = Project::example("quickstart");
    let before = inputs(&project);
    std::os::unix::fs::symlink("state/users.yaml", project.file("plan.json")).expect("symlink");
    let err = refused(&project, &["plan", "-o", "plan.json"], "plan.json");
    assert!(err.contains("leads to"), "{err}");
    assert!(
        std::fs::symlink_metadata(project.file("plan.json"))
            .expect("link")
            .file_type()
            .is_symlink()
    );

    // A new file under a symlinked folder lands in the folder it leads to.
    std::os::unix::fs::symlink("state", project.file("out")).expect("symlink");
    refused(&project, &["plan", "-o", "out/new.json"], "out/new.json");
    assert!(!project.file("state/new.json").exists());

    // A dangling symlink is followed to where a write would create the file.
    std::os::unix::fs::symlink("state/new.yaml", project.file("dangling.json")).expect("symlink");
    refused(&project, &["plan", "-o", "dangling.json"], "dangling.json");
    assert!(!project.file("state/new.yaml").exists());
    assert_unchanged(&project, &before);
}

#[cfg(unix)]
#[test]
fn a_saved_plan_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let project = Project::example("quickstart");
    let output = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mode = std::fs::metadata(project.file("plan.json"))
        .expect("plan")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");

    let output = project.run(&["export", "--snapshot", "snapshot.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mode = std::fs::metadata(project.file("snapshot.json"))
        .expect("snapshot")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[cfg(unix)]
#[test]
fn an_existing_output_is_replaced_atomically() {
    use std::os::unix::fs::MetadataExt;

    let project = Project::example("quickstart");
    project.write("plan.json", "an old plan\n");
    // A second name for the old file: a write in place would change it too,
    // a rename leaves it alone.
    std::fs::hard_link(project.file("plan.json"), project.file("old-plan.json")).expect("link");
    let old_inode = std::fs::metadata(project.file("plan.json"))
        .expect("old")
        .ino();

    let output = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let new_inode = std::fs::metadata(project.file("plan.json"))
        .expect("new")
        .ino();
    assert_ne!(new_inode, old_inode, "the file was replaced, not rewritten");
    assert_eq!(project.read("old-plan.json"), "an old plan\n");
    let plan: serde_json::Value =
        serde_json::from_str(&project.read("plan.json")).expect("a whole JSON plan");
    assert!(plan["changes"].is_array(), "{plan}");
    assert_eq!(temp_files(project.path()), Vec::<String>::new());

    // The plan written through a symlink to a file outside the inputs replaces
    // the file the link leads to, and the link stays.
    std::fs::create_dir(project.file("plans")).expect("dir");
    std::os::unix::fs::symlink("plans/latest.json", project.file("latest.json")).expect("link");
    let output = project.run(&["plan", "-o", "latest.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(project.read("plans/latest.json"), project.read("plan.json"));
    assert!(
        std::fs::symlink_metadata(project.file("latest.json"))
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(temp_files(&project.file("plans")), Vec::<String>::new());
}

#[test]
fn export_still_fills_an_empty_state_folder() {
    let project = Project::example("quickstart");
    for name in ["users.yaml", "groups.yaml", "settings.yaml"] {
        std::fs::remove_file(project.file(&format!("state/{name}"))).expect("remove");
    }
    let output = project.run(&["export"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(project.file("state/users.yaml").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(project.file("state/users.yaml"))
            .expect("users")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let plan = project.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
}

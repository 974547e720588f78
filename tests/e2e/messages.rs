//! The messages users read around a plan: test mode, stale saved plans,
//! copy-paste hints, "did you mean" for unknown names, change counts.

use crate::common::{Project, code, stderr, stdout};

#[test]
fn test_mode_says_so_in_the_header_and_the_summary_and_names_what_it_could_not_validate() {
    let project = Project::example("quickstart");
    let output = project.run(&["apply", "--auto-approve", "--test-only"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let out = stdout(&output);
    let header = out.lines().next().expect("a header");
    let summary = &out[out.find("\nTest mode").expect("test-mode summary")..];
    insta::assert_snapshot!("test_mode_header", header);
    insta::assert_snapshot!("test_mode_summary", summary);
    for contradiction in ["Apply complete", "applied", "sent to"] {
        assert!(
            !summary.contains(contradiction),
            "test mode changes nothing, yet: {summary}"
        );
    }
    assert!(project.org_is_unchanged());
}

/// The org as the embedded sandbox will serve it next: the seed, edited.
fn edit_org(project: &Project, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut org: serde_json::Value =
        serde_json::from_str(&project.read("seed-org.json")).expect("seed is JSON");
    edit(&mut org);
    project.write("sandbox-state.json", &org.to_string());
}

#[test]
fn a_stale_plan_names_users_and_groups_as_they_are_spelt() {
    let project = Project::example("quickstart");
    let saved = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    // Someone creates Interns in the Admin Console and makes Radia an admin of
    // Engineering: both are changes the plan was going to make, but not all of them.
    edit_org(&project, |org| {
        org["user_groups"]
            .as_array_mut()
            .expect("user groups")
            .push(serde_json::json!({"group_id": 4109999, "name": "Interns", "profiles": []}));
        let radia = org["users"]
            .as_array_mut()
            .expect("users")
            .iter_mut()
            .find(|u| u["email"] == "radia.perlman@example.com")
            .expect("radia");
        radia["groups"]
            .as_array_mut()
            .expect("groups")
            .push("_admin_Engineering".into());
    });
    let output = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&output), 1);
    insta::assert_snapshot!("stale_plan", project.redact(&stderr(&output)));
}

#[test]
fn a_saved_plan_whose_changes_are_all_in_the_org_is_already_applied() {
    let project = Project::example("quickstart");
    let saved = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    let applied = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));

    let output = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(!err.contains("stale"), "{err}");
    insta::assert_snapshot!("already_applied", project.redact(&err));
}

/// `umapi -c CONFIG ARGS` run from the project folder, `CONFIG` as given.
fn run_with_config(project: &Project, config: &str, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_umapi"))
        .current_dir(project.path())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .args(["-c", config])
        .args(args)
        .output()
        .expect("run umapi")
}

#[test]
fn copy_paste_hints_carry_the_configuration_they_were_given() {
    let project = Project::example("quickstart");
    // The same project under a configuration name that needs quoting.
    project.write("eu org.yaml", &project.read("umapi.yaml"));
    let settings = project
        .read("state/settings.yaml")
        .replace("max_user_removals: \"10%\"", "max_user_removals: 1");
    project.write("state/settings.yaml", &settings);

    let plan = run_with_config(&project, "eu org.yaml", &["plan"]);
    assert_eq!(code(&plan), 1, "the plan is blocked: {}", stdout(&plan));
    let hints: Vec<String> = stdout(&plan)
        .lines()
        .chain(stderr(&plan).lines())
        .filter(|line| line.contains("--allow"))
        .map(str::to_owned)
        .collect();
    insta::assert_snapshot!("blocked_hints", hints.join("\n"));

    let saved = run_with_config(
        &project,
        "eu org.yaml",
        &["plan", "--allow", "max_user_removals=2", "-o", "plan.json"],
    );
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    let allow_again = run_with_config(
        &project,
        "eu org.yaml",
        &["apply", "plan.json", "--allow", "max_user_removals=3"],
    );
    assert_eq!(code(&allow_again), 1);
    insta::assert_snapshot!("allow_on_a_saved_plan_hint", stderr(&allow_again));

    let no_terminal = run_with_config(&project, "eu org.yaml", &["apply"]);
    assert_eq!(code(&no_terminal), 1);
    insta::assert_snapshot!("no_terminal_hint", stderr(&no_terminal));
}

#[test]
fn a_profile_or_admin_group_missing_from_the_org_gets_a_did_you_mean_from_the_org() {
    let project = Project::example("quickstart");
    // Misspelt everywhere, consistently: the state files agree, the org does not.
    for file in ["state/groups.yaml", "state/users.yaml"] {
        let text = project
            .read(file)
            .replace("Express - Marketing", "Express - Marketting")
            .replace("_admin_Engineering", "_admin_Enginering");
        project.write(file, &text);
    }
    let output = project.run(&["plan"]);
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    insta::assert_snapshot!("missing_in_the_org", project.redact(&stderr(&output)));
}

#[test]
fn a_user_renamed_and_updated_is_one_change_in_the_counts() {
    let project = Project::example("quickstart");
    let json = project.run(&["plan", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("plan JSON");
    let kates: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["user"] == "kate.bell@example.com")
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(
        kates,
        ["rename_user", "update_user"],
        "two changes for Kate"
    );
    // Bob updated, Kate renamed and updated, Sales renamed: three objects.
    assert_eq!(plan["summary"]["to_change"], 3);
    assert_eq!(plan["summary"]["users_updated"], 2);
    assert_eq!(plan["summary"]["users_renamed"], 1);

    let apply = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    let out = stdout(&apply);
    let counts: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("Plan: ") || l.starts_with("Apply complete!"))
        .collect();
    insta::assert_snapshot!("counts", counts.join("\n"));
}

#[test]
fn plan_json_carries_every_documented_field_and_a_plan_without_the_empty_ones_still_applies() {
    let project = Project::example("quickstart");
    let saved = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    let mut plan: serde_json::Value =
        serde_json::from_str(&project.read("plan.json")).expect("plan JSON");
    let fields: Vec<&str> = plan
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    let estimate: Vec<&str> = plan["estimate"]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    insta::assert_snapshot!(
        "plan_fields",
        format!("{}\nestimate: {}", fields.join(", "), estimate.join(", "))
    );
    for empty in ["warnings", "blocked", "overrides"] {
        assert_eq!(plan[empty], serde_json::json!([]), "{empty} is empty here");
    }
    assert_eq!(plan["reassert"], false);
    assert_eq!(
        plan["estimate"]["action_requests_per_minute"],
        serde_json::Value::Null
    );

    // The shape of plans written before: empty fields left out.
    let object = plan.as_object_mut().expect("an object");
    for empty in ["warnings", "blocked", "overrides", "reassert"] {
        object.remove(empty);
    }
    plan["estimate"]
        .as_object_mut()
        .expect("an object")
        .remove("action_requests_per_minute");
    project.write("plan.json", &plan.to_string());
    let apply = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    assert!(!project.org_is_unchanged(), "the plan was applied");
}

#[test]
fn validate_reports_every_file_in_one_pass_without_cascades() {
    let project = Project::example("quickstart");
    // A syntax error in the file that declares the users…
    let users = project.read("state/users.yaml").replacen(
        "groups: [Engineering, \"All Apps - Engineering\"]",
        "groups: [Engineering, \"All Apps - Engineering\"",
        1,
    );
    project.write("state/users.yaml", &users);
    // …a shape error in another file…
    project.write("state/extra.yaml", "groups:\n  - nmae: Oops\n");
    // …and, in files that parse, a problem across them: Design declared twice.
    let settings = project.read("state/settings.yaml");
    project.write(
        "state/settings.yaml",
        &format!("{settings}\ngroups:\n  - name: Design\n"),
    );
    let output = project.run(&["validate"]);
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    let err = project.redact(&stderr(&output));
    // Members of groups.yaml are users of the broken users.yaml: no error of their own.
    assert!(!err.contains("is not a declared user"), "{err}");
    insta::assert_snapshot!("validate_one_pass", err);
}

//! Bad input gets a clear error on stderr and exit 1, never a panic.

use crate::common::{Project, code, stderr, stdout};

fn failure(project: &Project, args: &[&str]) -> String {
    let output = project.run(args);
    assert_eq!(
        code(&output),
        1,
        "stdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).is_empty(),
        "nothing on stdout: {}",
        stdout(&output)
    );
    let err = stderr(&output);
    assert!(!err.contains("panicked"), "{err}");
    project.redact(&err)
}

#[test]
fn broken_yaml_names_the_file_line_and_column() {
    let project = Project::example("quickstart");
    project.write(
        "state/extra.yaml",
        "users:\n  - email: x@example.com\n    groups: [Engineering\n",
    );
    insta::assert_snapshot!("broken_yaml", failure(&project, &["validate"]));
    // plan and apply stop at the same place, before any network.
    assert_eq!(
        failure(&project, &["plan"]),
        failure(&project, &["validate"])
    );
}

#[test]
fn a_misspelt_key_gets_a_suggestion() {
    let project = Project::example("quickstart");
    project.write(
        "state/extra.yaml",
        "users:\n  - email: x@example.com\n    firstnme: X\n",
    );
    insta::assert_snapshot!("misspelt_key", failure(&project, &["validate"]));
}

#[test]
fn a_secret_in_the_config_file_is_refused() {
    let project = Project::example("quickstart");
    project.write(
        "umapi.yaml",
        "connection:\n  kind: oauth\n  org_id: \"ABC@AdobeOrg\"\n  client_id: abc\n  client_secret: s3cr3t-value\n",
    );
    let err = failure(&project, &["validate"]);
    assert!(
        !err.contains("s3cr3t-value"),
        "the value itself is not repeated"
    );
    insta::assert_snapshot!("secret_in_config", err);
}

#[test]
fn a_missing_config_file_says_how_to_name_one() {
    let project = Project::example("quickstart");
    std::fs::remove_file(project.file("umapi.yaml")).expect("remove");
    insta::assert_snapshot!("missing_config", failure(&project, &["plan"]));
}

#[test]
fn a_plan_file_that_is_not_a_plan_is_refused() {
    let project = Project::example("quickstart");
    project.write("plan.json", "{\"format_version\": 1, \"org_id\": 3}");
    let err = failure(&project, &["apply", "plan.json"]);
    assert!(
        err.contains("could not read the plan file `plan.json`"),
        "{err}"
    );
    project.write("plan.json", "{\"format_version\": 99}");
    let err = failure(&project, &["apply", "plan.json"]);
    assert!(err.contains("format_version 99 is not supported"), "{err}");
    assert!(project.org_is_unchanged());
}

#[test]
fn an_undeclared_group_is_a_validation_error() {
    let project = Project::example("quickstart");
    let users = project
        .read("state/users.yaml")
        .replace("groups: [Interns]", "groups: [Internz]");
    project.write("state/users.yaml", &users);
    insta::assert_snapshot!("undeclared_group", failure(&project, &["validate"]));
}

#[test]
fn a_plain_http_endpoint_off_this_machine_is_refused() {
    let project = Project::example("quickstart");
    project.write(
        "umapi.yaml",
        "connection:\n  kind: oauth\n  org_id: \"ABC@AdobeOrg\"\n  client_id: abc\n  \
         ims_host: http://ims.example.test\n  umapi_endpoint: https://umapi.example.test/v2\n",
    );
    let err = failure(&project, &["validate"]);
    assert!(
        err.contains("[PROJECT]/umapi.yaml:5:13: `http://ims.example.test` is not HTTPS"),
        "{err}"
    );
    assert!(err.contains("hint: use an https:// URL"), "{err}");
    // plan stops at the same place, before the secret is even read.
    assert_eq!(failure(&project, &["plan"]), err);
}

#[test]
fn a_jwt_connection_gets_one_retirement_warning() {
    let project = Project::example("quickstart");
    project.write(
        "umapi.yaml",
        "connection:\n  kind: jwt\n  org_id: \"ABC@AdobeOrg\"\n  client_id: abc\n  \
         technical_account_id: t@techacct.adobe.com\n",
    );
    let validated = project.run(&["validate"]);
    assert_eq!(code(&validated), 0, "{}", stderr(&validated));
    let snapshot = project.run(&["plan", "--snapshot", "missing-snapshot.json"]);
    for output in [&validated, &snapshot] {
        let err = stderr(output);
        assert_eq!(err.matches("kind: jwt").count(), 1, "{err}");
        assert!(err.contains("WARN"), "{err}");
        assert!(err.contains("retired"), "{err}");
        assert!(err.contains("`kind: oauth`"), "{err}");
        assert!(stdout(output).lines().all(|line| !line.contains("jwt")));
    }
    // An oauth connection says nothing of the kind.
    let oauth = Project::example("quickstart");
    let output = oauth.run(&["validate"]);
    assert!(!stderr(&output).contains("jwt"), "{}", stderr(&output));
}

#[test]
fn emails_that_differ_only_in_unicode_form_are_one_user() {
    // "é" written precomposed (NFC) in one file and as "e" + a combining acute accent
    // (NFD) in another: the same address, so a duplicate naming both places.
    let project = Project::example("quickstart");
    project.write(
        "state/nfc.yaml",
        "users:\n  - email: \"ren\u{e9}@example.com\"\n    country: FR\n",
    );
    project.write(
        "state/nfd.yaml",
        "users:\n  - email: \"rene\u{301}@example.com\"\n    country: FR\n",
    );
    let err = failure(&project, &["validate"]);
    assert!(err.contains("nfc.yaml:2:"), "{err}");
    assert!(err.contains("nfd.yaml:2:"), "{err}");
}

/// GitHub Actions reads workflow commands from stdout and shows each `::error` on the
/// file and line it names, relative to the checkout (the working directory).
#[test]
fn problems_become_github_annotations_on_request() {
    let project = Project::example("quickstart");
    let users = project
        .read("state/users.yaml")
        .replace("groups: [Interns]", "groups: [Internz]");
    project.write("state/users.yaml", &users);
    let annotation = "::error file=state/users.yaml,line=172,col=14,title=umapi::\
                      `Internz` is not a declared user group, product profile or admin group\
                      %0Ahint: did you mean `Interns`?\n";
    for args in [
        &["validate", "--format", "github"][..],
        &["--error-format", "github", "plan"][..],
    ] {
        let output = project.run(args);
        assert_eq!(code(&output), 1, "{args:?}");
        assert_eq!(stdout(&output), annotation, "{args:?}");
        assert!(
            stderr(&output).contains("error: "),
            "the usual message stays on stderr"
        );
    }
    let plain = project.run(&["validate"]);
    assert!(stdout(&plain).is_empty(), "annotations only on request");
}

#[test]
fn a_state_that_breaks_its_policy_is_refused_before_any_plan() {
    let project = Project::example("quickstart");
    let settings = project.read("state/settings.yaml");
    let policy = "  policy:\n    email_domains:\n      federatedID: [example.com]\n    \
                  min_members:\n      _admin_Engineering: 1\n    \
                  every_user_in_a_user_group: true\n";
    project.write("state/settings.yaml", &format!("{settings}{policy}"));
    let err = failure(&project, &["validate"]);
    assert_eq!(
        err,
        "error: [PROJECT]/state/users.yaml:120:5: `leo.burnett@example.com` is in no user group\n  \
         hint: add the user to a user group: `settings.policy.every_user_in_a_user_group` asks \
         that access come through groups\n"
    );
    assert_eq!(
        failure(&project, &["plan"]),
        err,
        "plan stops at the same place"
    );
    assert!(project.org_is_unchanged());
    // Kept, the rest of the policy lets the plan through.
    let kept = policy.replace(
        "every_user_in_a_user_group: true",
        "every_user_in_a_user_group: false",
    );
    project.write("state/settings.yaml", &format!("{settings}{kept}"));
    let plan = project.run(&["plan"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
}

//! `until` end to end on the quick start: the binary compares it with the day in
//! `UMAPI_TODAY`, lists access that ends soon, and removes what has ended.

use crate::common::{Project, code, stderr, stdout};

/// The quick start, applied, with unlisted users left alone; then Omar's
/// membership of Interns ends on 2026-06-30 and Mia's access on 2026-07-10.
fn project() -> Project {
    let project = Project::example("quickstart");
    let settings = project
        .read("state/settings.yaml")
        .replace("unlisted_users: remove", "unlisted_users: ignore");
    project.write("state/settings.yaml", &settings);
    let applied = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&applied), 0, "stderr: {}", stderr(&applied));
    let users = project
        .read("state/users.yaml")
        .replace(
            "    country: EG\n    groups: [Interns]",
            "    country: EG\n    groups:\n      - name: Interns\n        until: 2026-06-30",
        )
        .replace(
            "    country: SG\n    groups: [Design]",
            "    country: SG\n    until: 2026-07-10\n    groups: [Design]",
        );
    project.write("state/users.yaml", &users);
    project
}

fn on(project: &Project, day: &str, args: &[&str]) -> std::process::Output {
    project
        .umapi(args)
        .env("UMAPI_TODAY", day)
        .output()
        .expect("run umapi")
}

#[test]
fn access_ends_the_day_after_until_and_is_listed_before() {
    let project = project();

    // On Omar's last day nothing changes; both ends are listed.
    let last_day = on(&project, "2026-06-30", &["plan", "--json"]);
    assert_eq!(code(&last_day), 0, "stderr: {}", stderr(&last_day));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&last_day)).unwrap();
    assert_eq!(plan["changes"].as_array().unwrap().len(), 0, "{plan:#}");
    let expiring = plan["expiring"].as_array().unwrap();
    assert_eq!(expiring.len(), 2, "{plan:#}");
    assert_eq!(expiring[0]["user"], "omar.haddad@example.com");
    assert_eq!(expiring[0]["group"], "Interns");
    assert_eq!(expiring[0]["days_left"], 0);
    assert_eq!(expiring[1]["user"], "mia.wong@example.com");
    assert!(expiring[1]["group"].is_null());

    // `--expiring 0` switches the list off; the field is still there.
    let off = on(
        &project,
        "2026-06-30",
        &["plan", "--json", "--expiring", "0"],
    );
    let plan: serde_json::Value = serde_json::from_str(&stdout(&off)).unwrap();
    assert_eq!(plan["expiring"], serde_json::json!([]));

    // The day after Mia's last day: Omar leaves Interns, Mia leaves the org
    // (although unlisted users are ignored), and nothing else changes.
    let after = on(&project, "2026-07-11", &["apply", "--auto-approve"]);
    assert_eq!(code(&after), 0, "stderr: {}", stderr(&after));
    let out = stdout(&after);
    assert!(
        out.contains("Plan: 0 to add, 0 to change, 2 to remove."),
        "{out}"
    );
    assert!(out.contains(r#"- "omar.haddad@example.com","#), "{out}");
    let state = project.read("sandbox-state.json");
    assert!(!state.contains("mia.wong@example.com"), "Mia left the org");

    let again = on(&project, "2026-07-11", &["plan", "--detailed-exitcode"]);
    assert_eq!(code(&again), 0, "{}", stdout(&again));
}

#[test]
fn validate_lists_what_ends_soon() {
    let project = project();
    let listed = on(&project, "2026-06-28", &["validate", "--expiring", "14d"]);
    assert_eq!(code(&listed), 0, "stderr: {}", stderr(&listed));
    let out = stdout(&listed);
    assert!(
        out.contains("omar.haddad@example.com leaves Interns after 2026-06-30 (2 days left)"),
        "{out}"
    );
    assert!(
        out.contains("mia.wong@example.com leaves the org after 2026-07-10 (12 days left)"),
        "{out}"
    );
}

#[test]
fn a_bad_day_is_an_error_with_its_place_or_its_form() {
    let project = project();
    let bad = on(&project, "10/07/2026", &["plan"]);
    assert_eq!(code(&bad), 1);
    assert!(stderr(&bad).contains("UMAPI_TODAY"), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("YYYY-MM-DD"), "{}", stderr(&bad));

    let users = project
        .read("state/users.yaml")
        .replace("until: 2026-07-10", "until: 2026-07-32");
    project.write("state/users.yaml", &users);
    let invalid = project.run(&["validate"]);
    assert_eq!(code(&invalid), 1);
    let err = stderr(&invalid);
    let line = users
        .lines()
        .position(|line| line.contains("2026-07-32"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!(
            "users.yaml:{line}:12: `until: 2026-07-32` is not a date"
        )),
        "{err}"
    );
    assert!(err.contains("YYYY-MM-DD"), "{err}");
}

//! Provenance in plans (every change names the state-file lines that ask for it)
//! and `umapi why USER` (where a user's access comes from), on the quick start.

use crate::common::{Project, code, stderr, stdout};

/// The quick start with a user whose access ended (`until` on the user) and a
/// membership that ended (`until` on a `groups:` entry), planned on 2026-03-01.
fn with_expiries() -> Project {
    let project = Project::example("quickstart");
    let users = project
        .read("state/users.yaml")
        .replace(
            "  - email: tim.berners-lee@example.com\n",
            "  - email: tim.berners-lee@example.com\n    until: 2026-01-31\n",
        )
        .replace(
            "    country: US\n    groups: [Engineering]\n  # New: created",
            "    country: US\n    groups: [{name: Engineering, until: 2026-02-01}]\n  # New: created",
        );
    project.write("state/users.yaml", &users);
    project
}

fn plan(project: &Project, format: &str) -> String {
    let output = project
        .umapi(&["plan", "--format", format])
        .env("UMAPI_TODAY", "2026-03-01")
        .output()
        .expect("run umapi");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn every_change_in_the_json_plan_names_its_sources() {
    let project = with_expiries();
    let plan: serde_json::Value = serde_json::from_str(&plan(&project, "json")).unwrap();
    let lines: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            let field = |name: &str| change[name].as_str().unwrap_or("").to_owned();
            format!(
                "{} {} {} <- {} {}",
                field("kind"),
                field("user"),
                field("group"),
                change["sources"],
                field("until"),
            )
        })
        .collect();
    insta::assert_snapshot!("plan_json_sources", lines.join("\n"));
}

#[test]
fn the_markdown_plan_links_each_change_to_its_line() {
    let project = with_expiries();
    let markdown = plan(&project, "markdown");
    insta::assert_snapshot!("plan_markdown", project.redact(&markdown));
}

fn why(project: &Project, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["why"];
    all.extend_from_slice(args);
    let output = project
        .umapi(&all)
        .env("UMAPI_TODAY", "2026-03-01")
        .output()
        .expect("run umapi");
    (code(&output), stdout(&output), stderr(&output))
}

#[test]
fn why_offline_shows_each_membership_and_its_line() {
    let project = Project::example("quickstart");
    // Nina is in Engineering by her `groups:`, and in "All Apps - Engineering"
    // both by her `groups:` and through Engineering, which is linked to it.
    let (status, out, err) = why(&project, &["NINA.PATEL@example.com"]);
    assert_eq!(status, 0, "{err}");
    insta::assert_snapshot!("why_offline", out);
    // Mia is in "Acrobat Pro - Everyone" by the profile's `members:`.
    let (status, out, err) = why(&project, &["mia.wong@example.com", "--format", "json"]);
    assert_eq!(status, 0, "{err}");
    insta::assert_snapshot!("why_offline_json", out);
    assert!(project.org_is_unchanged(), "offline: the org is not read");
}

#[test]
fn why_gives_nothing_through_a_user_group_whose_membership_ended() {
    let project = with_expiries();
    // Radia's Engineering membership ended on 2026-02-01; Engineering is linked to
    // "All Apps - Engineering", which she therefore no longer gets through it.
    let (status, out, err) = why(&project, &["radia.perlman@example.com", "--format", "json"]);
    assert_eq!(status, 0, "{err}");
    let why: serde_json::Value = serde_json::from_str(&out).unwrap();
    let memberships = why["declared"]["memberships"].as_array().unwrap();
    let engineering = memberships
        .iter()
        .find(|m| m["group"] == "Engineering")
        .expect("the ended membership is still listed");
    assert_eq!(engineering["until"]["passed"], true);
    assert!(
        memberships
            .iter()
            .all(|m| m["group"] != "All Apps - Engineering"),
        "{out}"
    );
    // Before the day, the profile comes through the group.
    let output = project
        .umapi(&["why", "radia.perlman@example.com", "--format", "json"])
        .env("UMAPI_TODAY", "2026-01-15")
        .output()
        .unwrap();
    assert!(stdout(&output).contains("All Apps - Engineering"));
}

#[test]
fn why_finds_a_user_by_an_earlier_name() {
    let project = Project::example("quickstart");
    let (status, out, err) = why(&project, &["kate.smith@example.com"]);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.starts_with("kate.bell@example.com (federatedID) is declared at state/users.yaml:"),
        "{out}"
    );
    assert!(
        out.contains("`kate.smith@example.com`, an earlier name"),
        "{out}"
    );
}

#[test]
fn why_an_unknown_user_suggests_a_declared_one() {
    let project = Project::example("quickstart");
    let (status, out, err) = why(&project, &["nina.patl@example.com"]);
    assert_eq!(status, 1, "an unknown user is an error");
    insta::assert_snapshot!("why_unknown", out);
    insta::assert_snapshot!("why_unknown_error", err);
}

#[test]
fn why_live_shows_the_org_and_what_a_plan_would_change() {
    let project = with_expiries();
    // The embedded sandbox of the quick start is the live org.
    let (status, out, err) = why(&project, &["radia.perlman@example.com", "--live"]);
    assert_eq!(status, 0, "{err}");
    insta::assert_snapshot!("why_live", out);
    let (status, out, err) = why(&project, &["nina.patel@example.com", "--live"]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("In the org: no such user."), "{out}");
    assert!(
        out.contains("create user nina.patel@example.com (federatedID)  # state/users.yaml:76"),
        "{out}"
    );
    assert!(project.org_is_unchanged(), "why never changes the org");
}

#[test]
fn why_with_a_snapshot_file_reads_no_org() {
    let project = with_expiries();
    let exported = project.run(&["export", "--snapshot", "org.json"]);
    assert_eq!(code(&exported), 0, "{}", stderr(&exported));
    let (status, out, err) = why(
        &project,
        &["tim.berners-lee@example.com", "--snapshot", "org.json"],
    );
    assert_eq!(status, 0, "{err}");
    insta::assert_snapshot!("why_snapshot", out);
    // A user only the org has is known too: the plan removes it (unlisted_users: remove).
    let (status, out, err) = why(
        &project,
        &["carl.contractor@example.com", "--snapshot", "org.json"],
    );
    assert_eq!(status, 0, "{err}");
    insta::assert_snapshot!("why_snapshot_unlisted", out);
}

//! Licences end to end on the quick start, with the Photoshop profile's quota cut to
//! the 6 seats it uses: the plan (which adds Mia to Design, whose members hold the
//! profile) shows the seats now and after and warns; `max_seats_over_quota` blocks
//! it until `--allow`; applied anyway, the sandbox refuses the add and the apply
//! summary says what failed, why, and what to do.

use crate::common::{Project, code, stderr, stdout};
use serde_json::Value;

/// The quick start with `Photoshop - Design` limited to 6 seats.
fn project() -> Project {
    let project = Project::example("quickstart");
    let seed = project
        .read("seed-org.json")
        .replace("\"license_quota\": \"20\"", "\"license_quota\": \"6\"");
    project.write("seed-org.json", &seed);
    project
}

fn set_limit(project: &Project, line: &str) {
    let settings = project.read("state/settings.yaml").replace(
        "    max_group_deletions: 2\n",
        &format!("    max_group_deletions: 2\n    {line}\n"),
    );
    project.write("state/settings.yaml", &settings);
}

/// The lines of the text plan's Licences block.
fn licences_block(text: &str) -> String {
    text.lines()
        .skip_while(|l| !l.starts_with("Licences"))
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_plan_shows_seats_now_and_after_and_warns_over_the_quota() {
    let project = project();
    let out = project.run(&["plan"]);
    assert_eq!(
        code(&out),
        0,
        "a quota only warns by default: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    insta::assert_snapshot!("licences_block", licences_block(&text));
    assert!(
        text.contains("! product profile Photoshop - Design: this plan takes it to 7 seats, over its licence quota of 6 (6 used now)"),
        "{text}"
    );

    let json = project.run(&["plan", "--json"]);
    let plan: Value = serde_json::from_str(&stdout(&json)).unwrap();
    let photoshop = plan["licences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["profile"] == "Photoshop - Design")
        .cloned()
        .unwrap();
    assert_eq!(
        photoshop,
        serde_json::json!({"profile": "Photoshop - Design", "quota": 6, "now": 6, "after": 7})
    );

    let markdown = stdout(&project.run(&["plan", "--format", "markdown"]));
    assert!(
        markdown.contains("| Photoshop - Design | 6 | 7 | 6 | OVER QUOTA by 1 |"),
        "{markdown}"
    );
}

#[test]
fn the_quota_limit_blocks_the_plan_until_allowed() {
    let project = project();
    set_limit(&project, "max_seats_over_quota: 0");
    let out = project.run(&["plan"]);
    assert_eq!(code(&out), 1, "blocked plans exit 1: {}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("BLOCKED: this plan goes over a safety limit"),
        "{text}"
    );
    assert!(
        text.contains("max_seats_over_quota = 0, set in settings.limits: 1 seats taken beyond licence quotas, 0 allowed"),
        "{text}"
    );
    assert!(
        text.contains("affected: Photoshop - Design (1 over 6)"),
        "{text}"
    );
    assert!(text.contains("--allow max_seats_over_quota=1"), "{text}");
    let applied = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&applied), 1);
    assert!(project.org_is_unchanged(), "a blocked plan sends nothing");

    let allowed = project.run(&["plan", "--json", "--allow", "max_seats_over_quota=1"]);
    assert_eq!(code(&allowed), 0, "{}", stderr(&allowed));
    let plan: Value = serde_json::from_str(&stdout(&allowed)).unwrap();
    assert_eq!(plan["blocked"], serde_json::json!([]));
    assert_eq!(plan["overrides"][0]["limit"], "max_seats_over_quota");
}

#[test]
fn adds_the_org_refuses_for_want_of_a_licence_are_reported_with_what_to_do() {
    let project = project();
    let out = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    let failed: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("License quota exceeded"))
        .collect();
    // Mia's memberships travel in one step, which the org refuses whole: her
    // (unlimited) Acrobat add fails with it, and says why.
    assert_eq!(failed.len(), 2, "{all}");
    insta::assert_snapshot!("refused_adds", failed.join("\n"));
    // Everything else was applied: planning again leaves only the refused step.
    let again = project.run(&["plan", "--json"]);
    let plan: Value = serde_json::from_str(&stdout(&again)).unwrap();
    let left: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] != "reassert_group")
        .map(|c| {
            format!(
                "{} {} {}",
                c["kind"].as_str().unwrap(),
                c["user"].as_str().unwrap(),
                c["group"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        left,
        [
            "add_membership mia.wong@example.com Design",
            "add_membership mia.wong@example.com Acrobat Pro - Everyone"
        ],
        "{left:?}"
    );
}

#[test]
fn a_saved_plan_still_applies_when_others_change_a_profiles_seats() {
    let project = Project::example("quickstart");
    let saved = project.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&saved), 0, "{}", stderr(&saved));
    // Meanwhile the org's administrator (excluded from umapi) takes a Photoshop seat.
    // The embedded sandbox keeps its org in sandbox-state.json once it has run.
    let org_file = "sandbox-state.json";
    let mut org: Value = serde_json::from_str(&project.read(org_file)).unwrap();
    let admin = org["users"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["email"] == "it.admin@example.com")
        .unwrap();
    admin["groups"]
        .as_array_mut()
        .unwrap()
        .push("Photoshop - Design".into());
    project.write(org_file, &serde_json::to_string_pretty(&org).unwrap());
    let replanned: Value =
        serde_json::from_str(&stdout(&project.run(&["plan", "--json"]))).unwrap();
    let saved: Value = serde_json::from_str(&project.read("plan.json")).unwrap();
    assert_ne!(replanned["licences"], saved["licences"], "the seats moved");

    let applied = project.run(&["apply", "plan.json"]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));
}

//! Snapshot tests of the renderings of the fixture plan, which has every kind of change.

use umapi_sync::plan::Plan;
use umapi_sync::planner::{PlanOptions, plan};
use umapi_sync::render;

fn fixture_plan() -> Plan {
    let (desired, org) = crate::planner_support::fixture();
    plan(&desired, &org, &PlanOptions::default()).unwrap()
}

#[test]
fn text_plan_of_the_fixture_org() {
    insta::assert_snapshot!(render::text(&fixture_plan(), false));
}

#[test]
fn markdown_plan_of_the_fixture_org() {
    insta::assert_snapshot!(render::markdown(&fixture_plan()));
}

#[test]
fn json_plan_of_the_fixture_org() {
    insta::assert_snapshot!(fixture_plan().to_json());
}

#[test]
fn colour_appears_only_when_asked() {
    let plan = fixture_plan();
    assert!(!render::text(&plan, false).contains('\x1b'));
    let coloured = render::text(&plan, true);
    assert!(coloured.contains("\x1b[32m+\x1b[0m"), "{coloured}");
    assert!(coloured.contains("\x1b[31m-\x1b[0m"));
    // The same text once the escapes are removed.
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&coloured, "");
    assert_eq!(stripped, render::text(&plan, false));
}

#[test]
fn an_org_matching_its_configuration_says_so() {
    let (_, org) = crate::planner_support::fixture();
    let desired = crate::planner_support::desired_from_yaml("settings: {unlisted_users: ignore}\n");
    let plan = plan(&desired, &org, &PlanOptions::default()).unwrap();
    assert!(!plan.has_changes());
    insta::assert_snapshot!(render::text(&plan, false), @"No changes. The organization matches the configuration.");
    assert!(
        render::markdown(&plan).contains("No changes. The organization matches the configuration.")
    );
}

#[test]
fn markdown_stays_under_the_comment_limit_and_says_it_was_cut() {
    let users: Vec<umapi_core::wire::User> = (0..20_000)
        .map(|i| umapi_core::wire::User {
            email: Some(format!("someone.with.a.long.name{i:05}@example.com")),
            identity_type: Some(umapi_core::wire::IdentityType::FederatedId),
            groups: vec!["Old".into()],
            ..Default::default()
        })
        .collect();
    let group = |name: &str| umapi_core::wire::Group {
        group_id: None,
        group_name: name.into(),
        group_type: umapi_core::wire::GroupType::UserGroup,
        member_count: None,
        admin_group_name: None,
        user_group_name: None,
        product_profile_name: None,
        product_name: None,
        license_quota: None,
    };
    let org =
        umapi_sync::current::Snapshot::from_parts("O", users, vec![group("Old"), group("New")]);
    let mut yaml = String::from("groups: [{name: New}, {name: Old}]\nusers:\n");
    for i in 0..20_000 {
        yaml.push_str(&format!(
            "  - {{email: someone.with.a.long.name{i:05}@example.com, groups: [New]}}\n"
        ));
    }
    let desired = crate::planner_support::desired_from_yaml(&yaml);
    let plan = plan(&desired, &org, &PlanOptions::default()).unwrap();
    assert_eq!(plan.summary.memberships_removed, 20_000);
    let md = render::markdown(&plan);
    assert!(md.len() < 65_536, "{} characters", md.len());
    // Moving every member is over the default membership limit: the BLOCKED
    // section is in the head, which is never cut.
    assert!(md.starts_with("### umapi plan (BLOCKED): 20000 to add, 0 to change, 20000 to remove"));
    assert!(md.contains("**BLOCKED: this plan goes over a safety limit"));
    assert!(md.contains("[!CAUTION]"));
    assert!(md.contains("… truncated:"), "no truncation note");
    assert!(
        md.trim_end().ends_with("</details>"),
        "the details block is closed"
    );
}

#[test]
fn names_cannot_break_the_markdown() {
    let org = umapi_sync::current::Snapshot::from_parts(
        "O",
        vec![umapi_core::wire::User {
            email: Some("x@example.com".into()),
            identity_type: Some(umapi_core::wire::IdentityType::FederatedId),
            groups: vec!["Evil ``` </details> <b>|".into()],
            ..Default::default()
        }],
        vec![umapi_core::wire::Group {
            group_id: None,
            group_name: "Evil ``` </details> <b>|".into(),
            group_type: umapi_core::wire::GroupType::UserGroup,
            member_count: None,
            admin_group_name: None,
            user_group_name: None,
            product_profile_name: None,
            product_name: None,
            license_quota: None,
        }],
    );
    let desired = crate::planner_support::desired_from_yaml(
        "groups: [{name: \"Evil ``` </details> <b>|\"}]\nusers: [{email: x@example.com}]\n",
    );
    let md = render::markdown(&plan(&desired, &org, &PlanOptions::default()).unwrap());
    // One code block, whose fence the name cannot close early …
    assert_eq!(md.matches("```").count(), 2, "{md}");
    // … and no raw HTML from names outside it (inside, CommonMark shows it literally).
    let outside = &md[..md.find("```diff").unwrap()];
    assert!(
        !outside.contains("<b>") && !outside.contains("</details>"),
        "{md}"
    );
    assert!(md.trim_end().ends_with("</details>"));
}

//! Licence quotas: the sandbox refuses an add that would take a product profile over its
//! quota, counting a user who holds the profile through a user group once, as the
//! profile's `memberCount` does.
//!
//! Adobe documents no error code for it. ErrorRef.md lists, for an add that fails,
//! "error.internal.add — add — Operation failed for unknown reason."; the sandbox answers
//! with that code and a message that names the profile and its quota.

use serde_json::{Value, json};
use umapi_sandbox::OrgState;

use crate::support::{App, ORG, small_org, user};

/// The small org with quotas: Photoshop (held by grace directly) 2 seats, All Apps (held
/// by ada and edsger through Engineering) 2 seats.
fn org() -> OrgState {
    let mut state = small_org();
    for p in &mut state.product_profiles {
        p.license_quota = "2".into();
    }
    state
}

async fn app() -> App {
    App::in_order(org()).await
}

fn errors(body: &Value) -> Vec<(u64, String, String)> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["errorCode"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn member_count(app: &App, profile: &str) -> u64 {
    let body = app.get(&format!("/groups/{ORG}/0")).await.json();
    body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["groupName"] == profile)
        .and_then(|g| g["memberCount"].as_u64())
        .unwrap()
}

#[tokio::test]
async fn a_profile_counts_members_through_user_groups_once() {
    let app = app().await;
    // userCountDescription.md: "The number of users assigned to a configuration."
    assert_eq!(member_count(&app, "All Apps - Default").await, 2);
    // ada already holds All Apps through Engineering: a direct membership is no new seat.
    let r = app
        .action(json!([{"user": "ada@example.com", "do": [{"add": {"group": ["All Apps - Default"]}}]}]))
        .await;
    assert_eq!(r.json()["result"], "success", "{}", r.text);
    assert_eq!(member_count(&app, "All Apps - Default").await, 2);
}

#[tokio::test]
async fn adds_over_the_quota_are_refused_and_change_nothing() {
    let app = app().await;
    let r = app
        .action(json!([
            // Photoshop: 1 of 2 used, so one more fits…
            {"user": "barbara@example.com", "do": [{"add": {"group": ["Photoshop - Default"]}}]},
            // …and the next does not.
            {"user": "alan@example.net", "do": [{"add": {"group": ["Photoshop - Default", "Design"]}}]},
            // All Apps is full: joining a group that carries it takes a seat.
            {"usergroup": "Engineering", "do": [{"add": {"user": ["grace@example.com"]}}]},
            {"user": "barbara@example.com", "do": [{"add": {"group": ["Engineering"]}}]},
            // Linking a full profile to a group with members who lack it.
            {"usergroup": "Design", "do": [{"add": {"productConfiguration": ["All Apps - Default"]}}]}
        ]))
        .await;
    let body = r.json();
    assert_eq!(body["result"], "partial", "{}", r.text);
    let errors = errors(&body);
    let indexes: Vec<u64> = errors.iter().map(|e| e.0).collect();
    assert_eq!(indexes, [1, 2, 3, 4], "{errors:?}");
    for (_, code, message) in &errors {
        assert_eq!(code, "error.internal.add");
        assert!(message.contains("quota is 2"), "{message}");
    }
    assert!(errors[0].2.contains("Photoshop - Default"), "{errors:?}");
    assert!(errors[1].2.contains("All Apps - Default"), "{errors:?}");

    let state = app.shared.state();
    assert!(
        user(&state, "alan@example.net").unwrap().groups.is_empty(),
        "the refused step added nothing"
    );
    assert!(
        !user(&state, "grace@example.com")
            .unwrap()
            .groups
            .contains(&"Engineering".to_string())
    );
    assert!(
        state
            .user_groups
            .iter()
            .find(|g| g.name == "Design")
            .unwrap()
            .profiles
            .is_empty()
    );
    drop(state);
    assert_eq!(member_count(&app, "Photoshop - Default").await, 2);
    assert_eq!(member_count(&app, "All Apps - Default").await, 2);
}

#[tokio::test]
async fn a_freed_seat_can_be_taken_and_removals_are_never_refused() {
    let app = app().await;
    let r = app
        .action(json!([
            {"usergroup": "Engineering", "do": [{"remove": {"user": ["edsger@example.com"]}}]},
            {"user": "grace@example.com", "do": [{"add": {"group": ["Engineering"]}}]}
        ]))
        .await;
    assert_eq!(r.json()["result"], "success", "{}", r.text);
    assert_eq!(member_count(&app, "All Apps - Default").await, 2);
}

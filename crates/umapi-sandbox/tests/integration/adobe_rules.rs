//! Protocol tests of the rules Adobe documents for identifying users, read-only user
//! groups, group types and the paging of groups: literal JSON in, raw bodies out, and the
//! same rules through the library's `OrgState::execute`.

use crate::support::{App, ORG, small_org, user};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use umapi_core::wire::Entry;
use umapi_sandbox::{ExecOptions, OrgState, SandboxConfig};

fn codes(body: &Value) -> Vec<(u64, String)> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["index"].as_u64().unwrap(),
                        e["errorCode"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The small org plus a Federated ID whose username is another email, an Adobe ID and a
/// Federated ID sharing one email, and a user whose email is written in Unicode NFC.
fn org() -> OrgState {
    let mut state = small_org();
    let extra: Vec<umapi_sandbox::state::UserRecord> = serde_json::from_value(json!([
        {"id": "U6", "email": "kim@example.com", "username": "k.lee@example.com",
         "domain": "example.com", "country": "KR", "type": "federatedID", "groups": []},
        {"id": "U7", "email": "twin@example.com", "username": "twin@example.com",
         "domain": "example.com", "type": "adobeID", "groups": []},
        {"id": "U8", "email": "twin@example.com", "username": "twin@example.com",
         "domain": "example.com", "country": "US", "type": "federatedID", "groups": []},
        {"id": "U9", "email": "ren\u{e9}@example.com", "username": "ren\u{e9}@example.com",
         "domain": "example.com", "country": "FR", "type": "federatedID", "groups": []}
    ]))
    .unwrap();
    state.users.extend(extra);
    state
}

async fn app() -> App {
    App::in_order(org()).await
}

fn groups_of(state: &OrgState, id: &str) -> Vec<String> {
    state
        .users
        .iter()
        .find(|u| u.id == id)
        .unwrap()
        .groups
        .clone()
}

#[tokio::test]
async fn an_email_shaped_username_never_identifies_a_user() {
    // ActionsCmds.md: "For Federated IDs, you can update the `username` field for users
    // whose email address is in your domain. The `username` value can also be an email
    // address, but you can never use it to identify a user in requests."
    let app = app().await;
    let r = app
        .action(json!([
            {"user": "k.lee@example.com", "do": [{"add": {"group": ["Design"]}}]},
            {"user": "kim@example.com", "do": [{"add": {"group": ["Engineering"]}}]}
        ]))
        .await;
    let body = r.json();
    assert_eq!(codes(&body), [(0, "error.user.nonexistent".to_string())]);
    assert_eq!(groups_of(&app.shared.state(), "U6"), ["Engineering"]);
    // The single-user lookup follows the same rule.
    let by_username = app
        .get(&format!("/organizations/{ORG}/users/k.lee@example.com"))
        .await;
    assert_eq!(by_username.status, StatusCode::NOT_FOUND);
    let by_email = app
        .get(&format!("/organizations/{ORG}/users/KIM@example.com"))
        .await;
    assert_eq!(by_email.json()["user"]["id"], "U6");
}

#[tokio::test]
async fn a_username_that_is_not_an_email_identifies_a_user_with_its_domain() {
    // ActionsCmds.md: "Federated IDs that are not email addresses, must supply the domain
    // the user belongs to in order to identify the user."
    let app = app().await;
    let r = app
        .action(json!([
            {"user": "Edsger", "domain": "EXAMPLE.com", "do": [{"add": {"group": ["Design"]}}]},
            {"user": "edsger", "domain": "example.org", "do": [{"add": {"group": ["Design"]}}]},
            {"user": "edsger@example.com", "do": [{"remove": {"group": ["Synced"]}}]}
        ]))
        .await;
    // The third entry names edsger by email: found, but Synced is read-only.
    assert_eq!(
        codes(&r.json()),
        [
            (1, "error.user.nonexistent".to_string()),
            (
                2,
                "error.usergroup.readonly.remove_user_not_allowed".to_string()
            )
        ]
    );
    assert_eq!(
        groups_of(&app.shared.state(), "U4"),
        ["Engineering", "Synced", "Design"]
    );
    // getUser.md: "For username-Federated users, this should be the username."
    let found = app
        .get(&format!(
            "/organizations/{ORG}/users/edsger?domain=example.com"
        ))
        .await;
    assert_eq!(found.json()["user"]["email"], "edsger@example.com");
}

#[tokio::test]
async fn emails_match_case_insensitively_and_across_unicode_normal_forms() {
    // getUser.md: "In both cases the parameter is case-insensitive."
    let app = app().await;
    let decomposed = "RENE\u{301}@example.com";
    let r = app
        .action(json!([{"user": decomposed, "do": [{"add": {"group": ["Design"]}}]}]))
        .await;
    assert_eq!(r.json()["result"], "success", "{}", r.text);
    assert_eq!(groups_of(&app.shared.state(), "U9"), ["Design"]);
    // Creating the same address in the other normal form is creating an existing user.
    let r = app
        .action(json!([{"user": decomposed, "do": [
            {"createFederatedID": {"email": decomposed, "country": "FR"}}]}]))
        .await;
    assert_eq!(
        codes(&r.json()),
        [(0, "error.user.already_in_org".to_string())]
    );
}

#[tokio::test]
async fn use_adobe_id_picks_the_adobe_id_that_shares_an_email() {
    // ActionsCmds.md, useAdobeID: "When true, the user ID is interpreted to refer to an
    // existing Adobe ID even if a Enterprise or Federated ID exists with the same name."
    let app = app().await;
    let r = app
        .action(json!([
            {"user": "twin@example.com", "useAdobeID": true, "do": [{"add": {"group": ["Design"]}}]},
            {"user": "twin@example.com", "do": [{"add": {"group": ["Engineering"]}}]},
            // Adobe's Python client sends useAdobeID for its default identity type: with no
            // Adobe ID of that email, the org-owned account is meant.
            {"user": "barbara@example.com", "useAdobeID": true, "do": [{"add": {"group": ["Design"]}}]},
            {"user": "twin@example.com", "useAdobeID": "yes", "do": []}
        ]))
        .await;
    assert_eq!(
        codes(&r.json()),
        [(3, "error.command.boolean_expected".to_string())]
    );
    let state = app.shared.state();
    assert_eq!(groups_of(&state, "U7"), ["Design"]);
    assert_eq!(groups_of(&state, "U8"), ["Engineering"]);
    assert_eq!(
        user(&state, "barbara@example.com").unwrap().groups,
        ["Design"]
    );
    // getUser.md: "For AdobeID users this would be `AdobeID`."
    let adobe = app
        .get(&format!(
            "/organizations/{ORG}/users/twin@example.com?domain=AdobeID"
        ))
        .await;
    assert_eq!(adobe.json()["user"]["id"], "U7");
    let owned = app
        .get(&format!("/organizations/{ORG}/users/twin@example.com"))
        .await;
    assert_eq!(owned.json()["user"]["id"], "U8");
}

#[tokio::test]
async fn read_only_user_groups_refuse_every_member_change() {
    // Adobe's documented answers for a group "owned by another org and readonly":
    // "error.usergroup.readonly.add_user_not_allowed",
    // "error.usergroup.readonly.remove_user_not_allowed",
    // "error.usergroup.readonly.update_not_allowed" and
    // "error.usergroup.readonly.remove_not_allowed".
    let app = app().await;
    let r = app
        .action(json!([
            {"usergroup": "Synced", "do": [{"add": {"user": ["ada@example.com"]}}]},
            {"usergroup": "Synced", "do": [{"remove": {"user": ["edsger@example.com"]}}]},
            {"usergroup": "Synced", "do": [{"updateUserGroup": {"description": "d"}}]},
            {"usergroup": "Synced", "do": [{"deleteUserGroup": {}}]},
            {"user": "ada@example.com", "do": [{"add": {"group": ["synced"]}}]},
            {"user": "edsger@example.com", "do": [{"remove": {"group": ["Synced"]}}]},
            // Product profiles of a read-only group still change: only members are synced.
            {"usergroup": "Synced", "do": [{"add": {"productConfiguration": ["Photoshop - Default"]}}]},
            {"user": "edsger@example.com", "do": [{"remove": "all"}]}
        ]))
        .await;
    assert_eq!(
        codes(&r.json()),
        [
            (
                0,
                "error.usergroup.readonly.add_user_not_allowed".to_string()
            ),
            (
                1,
                "error.usergroup.readonly.remove_user_not_allowed".to_string()
            ),
            (2, "error.usergroup.readonly.update_not_allowed".to_string()),
            (3, "error.usergroup.readonly.remove_not_allowed".to_string()),
            (
                4,
                "error.usergroup.readonly.add_user_not_allowed".to_string()
            ),
            (
                5,
                "error.usergroup.readonly.remove_user_not_allowed".to_string()
            ),
        ]
    );
    let state = app.shared.state();
    assert_eq!(
        groups_of(&state, "U4"),
        ["Synced"],
        "remove all keeps read-only memberships"
    );
    assert!(!groups_of(&state, "U1").contains(&"Synced".to_string()));
}

#[tokio::test]
async fn groups_carry_adobes_types_and_what_admin_groups_administer() {
    // group.md: "__type:__ _string_; The group type. One of: USER_GROUP, PRODUCT_PROFILE,
    // SYSADMIN_GROUP, DEPLOYMENT_ADMIN_GROUP, SUPPORT_ADMIN_GROUP, PRODUCT_ADMIN_GROUP,
    // PROFILE_ADMIN_GROUP, USER_ADMIN_GROUP, DEVELOPER_GROUP"; "userGroupName" is returned
    // for `USER_ADMIN_GROUP` and "productProfileName" for `PROFILE_ADMIN_GROUP`.
    let mut state = org();
    for (id, name) in [
        (33, "_admin_All Apps - Default"),
        (34, "_product_admin_Photoshop"),
        (35, "_developer_All Apps - Default"),
        (36, "_support_admin"),
        (37, "_deployment_admin"),
    ] {
        state
            .admin_groups
            .push(serde_json::from_value(json!({"group_id": id, "name": name})).unwrap());
    }
    let app = App::new(SandboxConfig::default(), state).await;
    let body = app.get(&format!("/groups/{ORG}/0")).await.json();
    let by_name = |name: &str| {
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["groupName"] == name)
            .unwrap_or_else(|| panic!("{name} listed"))
            .clone()
    };
    let typed = |name: &str| by_name(name)["type"].as_str().unwrap().to_string();
    assert_eq!(typed("Engineering"), "USER_GROUP");
    assert_eq!(typed("All Apps - Default"), "PRODUCT_PROFILE");
    assert_eq!(typed("_org_admin"), "SYSADMIN_GROUP");
    assert_eq!(typed("_support_admin"), "SUPPORT_ADMIN_GROUP");
    assert_eq!(typed("_deployment_admin"), "DEPLOYMENT_ADMIN_GROUP");
    assert_eq!(typed("_product_admin_Photoshop"), "PRODUCT_ADMIN_GROUP");
    assert_eq!(typed("_developer_All Apps - Default"), "DEVELOPER_GROUP");
    let user_admin = by_name("_admin_Engineering");
    assert_eq!(user_admin["type"], "USER_ADMIN_GROUP");
    assert_eq!(user_admin["userGroupName"], "Engineering");
    let profile_admin = by_name("_admin_All Apps - Default");
    assert_eq!(profile_admin["type"], "PROFILE_ADMIN_GROUP");
    assert_eq!(profile_admin["productProfileName"], "All Apps - Default");
    // group.md, adminGroupName: "The name is in the format `_admin_user-group-name` or
    // `_admin_product-profile-name`."
    assert_eq!(
        by_name("Engineering")["adminGroupName"],
        "_admin_Engineering"
    );
    assert_eq!(
        by_name("All Apps - Default")["adminGroupName"],
        "_admin_All Apps - Default"
    );
}

#[tokio::test]
async fn a_groups_page_past_the_end_is_not_found_with_last_page() {
    // group.md, "Response to request for an out-of-bounds page number" (a 200 OK example):
    // {"lastPage": true, "result": "Not found"}
    let app = App::new(
        SandboxConfig {
            group_page_size: 4,
            ..Default::default()
        },
        small_org(),
    )
    .await;
    let last = app.get(&format!("/groups/{ORG}/1")).await;
    assert_eq!(last.json()["lastPage"], true);
    assert_eq!(last.json()["result"], "success");
    let past = app.get(&format!("/groups/{ORG}/2")).await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(
        past.json(),
        json!({"lastPage": true, "result": "Not found"})
    );
}

#[tokio::test]
async fn the_library_runs_the_same_rules_as_the_endpoint() {
    let entries = json!([
        {"user": "k.lee@example.com", "do": [{"add": {"group": ["Design"]}}]},
        {"user": "kim@example.com", "do": [{"add": {"group": ["Design"]}}]},
        {"usergroup": "Synced", "do": [{"add": {"user": ["kim@example.com"]}}]},
        {"user": "new@example.com", "do": [{"createEnterpriseID": {"email": "new@example.com"}}]}
    ]);
    let app = app().await;
    let over_http = app.action(entries.clone()).await.json();
    let typed: Vec<Entry> = serde_json::from_value(entries).unwrap();
    let mut state = org();
    let response = state.execute(&typed, ExecOptions::default()).unwrap();
    assert_eq!(serde_json::to_value(&response).unwrap(), over_http);
    assert_eq!(over_http["result"], "partial", "{over_http}");
    // Only the generated ids of created users may differ.
    let mut http_state = app.shared.state();
    for u in state.users.iter_mut().chain(http_state.users.iter_mut()) {
        if u.email == "new@example.com" {
            u.id.clear();
        }
    }
    assert_eq!(state, http_state);

    // Test mode changes nothing; too many entries reject the whole request.
    let before = state.clone();
    let test_only = ExecOptions {
        test_only: true,
        ..Default::default()
    };
    let response = state.execute(&typed, test_only).unwrap();
    assert_eq!(response.completed, 0);
    assert_eq!(state, before);
    let eleven: Vec<Entry> = (0..11).map(|_| typed[1].clone()).collect();
    let rejected = state.execute(&eleven, ExecOptions::default()).unwrap_err();
    assert_eq!(rejected.code, "error.command.malformed");
}

#[tokio::test]
async fn a_shuffle_seed_gives_a_reproducible_order() {
    // ActionsCmds.md: "the order of execution of commands is not always guaranteed."
    let entries: Vec<Entry> = serde_json::from_value(json!([
        {"usergroup": "Late", "do": [{"createUserGroup": {}}]},
        {"usergroup": "Late", "do": [{"add": {"user": ["ada@example.com"]}}]}
    ]))
    .unwrap();
    let outcomes: Vec<(String, String)> = (0..8)
        .map(|seed| {
            let mut state = org();
            let options = ExecOptions {
                shuffle_seed: Some(seed),
                ..Default::default()
            };
            let first = state.execute(&entries, options).unwrap().result;
            let mut again = org();
            let second = again.execute(&entries, options).unwrap().result;
            assert_eq!(first, second, "seed {seed}");
            (first, second)
        })
        .collect();
    let results: std::collections::BTreeSet<_> = outcomes.into_iter().map(|o| o.0).collect();
    assert_eq!(
        results,
        ["partial".to_string(), "success".to_string()].into(),
        "some seeds run the add before the create"
    );
}

#[tokio::test]
async fn the_admin_api_refuses_other_hosts_and_web_origins() {
    let app = App::small().await;
    let post = |headers: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            app.send(Method::POST, "/_sandbox/reset", &headers, Body::empty())
                .await
        }
    };
    assert_eq!(
        post(vec![("host", "127.0.0.1:4000")]).await.status,
        StatusCode::OK
    );
    for refused in [
        vec![("host", "attacker.example:4000")],
        vec![
            ("host", "127.0.0.1:4000"),
            ("origin", "https://attacker.example"),
        ],
        vec![("host", "localhost:4000"), ("sec-fetch-site", "cross-site")],
    ] {
        let r = post(refused.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{refused:?}");
        assert!(r.json()["message"].as_str().unwrap().contains("admin API"));
    }
}

#[tokio::test]
async fn two_sandboxes_cannot_share_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let first = App::small().await;
    first.shared.persist_to(&path).unwrap();
    let second = App::small().await;
    let err = second.shared.persist_to(&path).unwrap_err();
    assert!(
        matches!(err, umapi_sandbox::Error::StateFileLocked { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("in use by another sandbox"),
        "{err}"
    );
    // The holder keeps writing; once it is gone the file is free again.
    first.shared.persist_to(&path).unwrap();
    drop(first);
    second.shared.persist_to(&path).unwrap();
}

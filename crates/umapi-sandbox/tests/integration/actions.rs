//! Protocol tests of `POST /action/{orgId}`: literal JSON entries, raw response bodies, and the
//! org state they leave behind.

use crate::support::{App, CLIENT, ORG, small_org, user};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use umapi_sandbox::SandboxConfig;

fn errors(body: &Value) -> Vec<(u64, u64, String)> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["index"].as_u64().unwrap(),
                        e["step"].as_u64().unwrap(),
                        e["errorCode"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_each_identity_type_with_memberships() {
    let app = App::small().await;
    let r = app
        .action(json!([
            {"user": "new.fed@example.com", "requestID": "r1", "do": [
                {"createFederatedID": {"email": "new.fed@example.com", "firstname": "New", "lastname": "Fed", "country": "DE"}},
                {"add": {"group": ["Design", "Photoshop - Default"]}}
            ]},
            {"user": "nonemail", "domain": "example.com", "do": [
                {"createFederatedID": {"email": "non.email@example.com", "country": "US"}}
            ]},
            {"user": "new.ent@example.org", "do": [{"createEnterpriseID": {"email": "new.ent@example.org"}}]},
            {"user": "new.adobe@example.net", "useAdobeID": true, "do": [{"addAdobeID": {"email": "new.adobe@example.net"}}]}
        ]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        json!({"completed": 4, "notCompleted": 0, "completedInTestMode": 0, "result": "success"})
    );
    let state = app.shared.state();
    let fed = user(&state, "new.fed@example.com").unwrap();
    assert_eq!(fed.identity_type.as_str(), "federatedID");
    assert_eq!(fed.country.as_deref(), Some("DE"));
    assert_eq!(fed.groups, ["Design", "Photoshop - Default"]);
    let non_email = user(&state, "non.email@example.com").unwrap();
    assert_eq!(
        (non_email.username.as_str(), non_email.domain.as_str()),
        ("nonemail", "example.com")
    );
    assert_eq!(
        user(&state, "new.ent@example.org")
            .unwrap()
            .identity_type
            .as_str(),
        "enterpriseID"
    );
    assert_eq!(
        user(&state, "new.adobe@example.net")
            .unwrap()
            .identity_type
            .as_str(),
        "adobeID"
    );
    // and the queries see them
    let listed = app
        .get(&format!(
            "/organizations/{ORG}/users/nonemail?domain=example.com"
        ))
        .await;
    assert_eq!(listed.json()["user"]["email"], "non.email@example.com");
}

#[tokio::test]
async fn create_options_decide_what_an_existing_user_means() {
    // ErrorRef.md: "error.user.already_in_org: add, create: The user specified already is a
    // member of the organization."
    let app = App::small().await;
    let r = app
        .action(json!([
            {"user": "ada@example.com", "requestID": "plain", "do": [
                {"createFederatedID": {"email": "ada@example.com", "country": "GB"}}]},
            {"user": "ada@example.com", "do": [
                {"createFederatedID": {"email": "ada@example.com", "country": "GB", "firstname": "Nope", "option": "ignoreIfAlreadyExists"}},
                {"add": {"group": ["Design"]}}]},
            {"user": "grace@example.com", "do": [
                {"createEnterpriseID": {"email": "grace@example.com", "firstname": "Amazing", "option": "updateIfAlreadyExists"}}]},
            {"user": "edsger@example.com", "do": [
                {"createEnterpriseID": {"email": "edsger@example.com"}}]},
            {"user": "x@example.com", "do": [{"createFederatedID": {"email": "x@example.com", "option": "sometimes"}}]},
            {"user": "y@example.com", "do": [{"createFederatedID": {"email": "y@example.com"}}]}
        ]))
        .await;
    let body = r.json();
    assert_eq!(body["result"], "partial");
    assert_eq!(
        (body["completed"].as_u64(), body["notCompleted"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(
        errors(&body),
        [
            (0, 0, "error.user.already_in_org".into()),
            (3, 0, "error.user.type_mismatch".into()),
            (4, 0, "error.option.illegal".into()),
            (5, 0, "error.country.invalid".into()),
        ]
    );
    assert_eq!(body["errors"][0]["requestID"], "plain");
    assert_eq!(body["errors"][0]["user"], "ada@example.com");
    let state = app.shared.state();
    let ada = user(&state, "ada@example.com").unwrap();
    assert_eq!(
        ada.firstname.as_deref(),
        Some("Ada"),
        "ignore does not update"
    );
    assert!(
        ada.groups.contains(&"Design".to_string()),
        "steps after an ignored create run"
    );
    assert_eq!(
        user(&state, "grace@example.com")
            .unwrap()
            .firstname
            .as_deref(),
        Some("Amazing")
    );
}

#[tokio::test]
async fn update_renames_and_refuses_what_umapi_refuses() {
    let app = App::small().await;
    let r = app
        .action(json!([
            {"user": "grace@example.com", "do": [{"update": {"email": "grace.h@example.com", "lastname": "Murray Hopper"}}]},
            {"user": "edsger", "domain": "example.com", "do": [{"update": {"username": "ewd"}}]},
            {"user": "ada@example.com", "do": [{"update": {"country": "FR"}}]},
            {"user": "alan@example.net", "do": [{"update": {"firstname": "Alan"}}]},
            {"user": "barbara@example.com", "do": [{"update": {"email": "ada@example.com"}}]},
            {"user": "ghost@example.com", "do": [{"update": {"firstname": "Boo"}}]}
        ]))
        .await;
    let body = r.json();
    assert_eq!(
        errors(&body),
        [
            (2, 0, "error.update.country.no_update".into()),
            (3, 0, "error.update.adobeid.no".into()),
            (4, 0, "error.user.email.name_in_use".into()),
            (5, 0, "error.user.nonexistent".into()),
        ]
    );
    let state = app.shared.state();
    assert!(user(&state, "grace@example.com").is_none());
    let grace = user(&state, "grace.h@example.com").unwrap();
    assert_eq!(
        grace.username, "grace.h@example.com",
        "an Enterprise ID's username follows its email"
    );
    assert_eq!(grace.lastname.as_deref(), Some("Murray Hopper"));
    assert_eq!(user(&state, "edsger@example.com").unwrap().username, "ewd");
}

#[tokio::test]
async fn memberships_add_remove_all_and_legacy_list_names() {
    let app = App::small().await;
    let r = app
        .action(json!([
            {"user": "barbara@example.com", "do": [
                {"add": {"product": ["Photoshop - Default"]}},
                {"add": {"usergroup": ["design"]}},
                {"add": {"productConfiguration": ["All Apps - Default"]}},
                {"remove": {"group": ["Photoshop - Default"]}}
            ]},
            {"user": "ada@example.com", "do": [{"remove": "all"}]}
        ]))
        .await;
    let body = r.json();
    assert_eq!(body["result"], "success", "{body}");
    assert_eq!(
        body["warnings"][0]["warningCode"],
        "warning.command.deprecated"
    );
    assert_eq!(
        (
            body["warnings"][0]["index"].as_u64(),
            body["warnings"][0]["step"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let state = app.shared.state();
    assert_eq!(
        user(&state, "barbara@example.com").unwrap().groups,
        ["Design", "All Apps - Default"]
    );
    assert_eq!(
        user(&state, "ada@example.com").unwrap().groups,
        ["_org_admin"],
        "remove all keeps _org_admin"
    );
}

#[tokio::test]
async fn membership_errors_name_entry_and_step() {
    // ActionsCmds.md: "Please note that you cannot assign or remove the administrative role
    // `_org_admin`"; ErrorRef.md has no code of its own for it, so it is
    // "error.command.illegal_entry: A command operation is not legal." A read-only group
    // answers as Adobe documents: "errorCode": "error.usergroup.readonly.add_user_not_allowed".
    let app = App::small().await;
    let eleven: Vec<String> = (0..11).map(|i| format!("G{i}")).collect();
    let r = app
        .action(json!([
            {"user": "barbara@example.com", "do": [{"add": {"group": ["Design"]}}, {"add": {"group": ["No Such Group"]}}]},
            {"user": "barbara@example.com", "do": [{"add": {"group": ["_org_admin"]}}]},
            {"user": "ada@example.com", "do": [{"remove": {"group": ["_org_admin"]}}]},
            {"user": "barbara@example.com", "do": [{"add": {"group": ["Synced"]}}]},
            {"user": "barbara@example.com", "do": [{"add": {"group": eleven}}]},
            {"user": "barbara@example.com", "do": [{"add": {"groups": ["Design"]}}]},
            {"user": "ghost@example.com", "do": [{"add": {"group": ["Design"]}}]}
        ]))
        .await;
    let body = r.json();
    assert_eq!(
        errors(&body),
        [
            (0, 1, "error.group.not_found".into()),
            (1, 0, "error.command.illegal_entry".into()),
            (2, 0, "error.command.illegal_entry".into()),
            (3, 0, "error.usergroup.readonly.add_user_not_allowed".into()),
            (4, 0, "error.command.add_remove.list_too_long".into()),
            (5, 0, "error.command.add_remove.key.unknown".into()),
            (6, 0, "error.user.nonexistent".into()),
        ]
    );
    assert_eq!(body["result"], "error");
    let state = app.shared.state();
    assert_eq!(
        user(&state, "barbara@example.com").unwrap().groups,
        ["Design"],
        "the step before the failure ran"
    );
    assert!(
        user(&state, "ada@example.com")
            .unwrap()
            .groups
            .contains(&"_org_admin".to_string())
    );
}

#[tokio::test]
async fn remove_from_org_with_and_without_deleting_and_always_success() {
    let app = App::small().await;
    let r = app
        .action(json!([
            {"user": "ada@example.com", "do": [{"removeFromOrg": {"deleteAccount": false}}]},
            {"user": "grace@example.com", "do": [{"removeFromOrg": {"deleteAccount": true}}]},
            {"user": "ghost@example.com", "do": [{"removeFromOrg": {}}]},
            {"user": "barbara@example.com", "do": [{"removeFromOrg": {}}, {"add": {"group": ["Design"]}}]}
        ]))
        .await;
    let body = r.json();
    assert_eq!(
        errors(&body),
        [(3, 0, "error.command.removefromorg.not_last".into())]
    );
    assert_eq!(body["completed"], 3);
    let state = app.shared.state();
    assert!(user(&state, "ada@example.com").is_none());
    assert!(user(&state, "grace@example.com").is_none());
    assert!(
        user(&state, "barbara@example.com").is_some(),
        "a rejected command changes nothing"
    );
}

#[tokio::test]
async fn user_group_create_rename_describe_members_profiles_delete() {
    let app = App::small().await;
    let r = app
        .action(json!([
            {"usergroup": "Research", "requestID": "g1", "do": [
                {"createUserGroup": {"description": "Thinkers", "option": "ignoreIfAlreadyExists"}},
                {"add": {"user": ["barbara@example.com", "alan@example.net"], "productConfiguration": ["Photoshop - Default"]}},
                {"remove": {"user": ["alan@example.net"]}}
            ]},
            {"usergroup": "Engineering", "do": [
                {"updateUserGroup": {"name": "Software Engineering", "description": "Shippers"}},
                {"remove": {"productConfiguration": ["All Apps - Default"]}}
            ]},
            {"usergroup": "Design", "do": [{"deleteUserGroup": {}}]}
        ]))
        .await;
    assert_eq!(r.json()["result"], "success", "{}", r.text);
    let state = app.shared.state();
    let research = state
        .user_groups
        .iter()
        .find(|g| g.name == "Research")
        .unwrap();
    assert_eq!(research.description.as_deref(), Some("Thinkers"));
    assert_eq!(research.profiles, ["Photoshop - Default"]);
    assert_eq!(
        user(&state, "barbara@example.com").unwrap().groups,
        ["Research"]
    );
    assert!(user(&state, "alan@example.net").unwrap().groups.is_empty());
    let eng = state.user_groups.iter().find(|g| g.group_id == 11).unwrap();
    assert_eq!(
        (eng.name.as_str(), eng.description.as_deref()),
        ("Software Engineering", Some("Shippers"))
    );
    assert!(eng.profiles.is_empty());
    assert!(
        user(&state, "ada@example.com")
            .unwrap()
            .groups
            .contains(&"Software Engineering".to_string())
    );
    assert!(
        state
            .admin_groups
            .iter()
            .any(|a| a.name == "_admin_Software Engineering")
    );
    assert!(!state.user_groups.iter().any(|g| g.name == "Design"));
    assert!(
        !user(&state, "grace@example.com")
            .unwrap()
            .groups
            .contains(&"Design".to_string())
    );
    // the inheritance is visible through directOnly=false
    let members = app
        .get(&format!(
            "/users/{ORG}/0/Photoshop%20-%20Default?directOnly=false"
        ))
        .await
        .json();
    let emails: Vec<_> = members["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].clone())
        .collect();
    assert!(emails.contains(&json!("barbara@example.com")), "{emails:?}");
}

#[tokio::test]
async fn user_group_errors_name_entry_and_step() {
    // Adobe documents a read-only group's rename as "error.usergroup.readonly.update_not_allowed"
    // and its deletion as "error.usergroup.readonly.remove_not_allowed". A user group name
    // starting with `_` has no code of its own in ErrorRef.md: "error.command.illegal_entry:
    // A command operation is not legal."
    let app = App::small().await;
    let r = app
        .action(json!([
            {"usergroup": "Design", "do": [{"createUserGroup": {}}]},
            {"usergroup": "_secret", "do": [{"createUserGroup": {"option": "ignoreIfAlreadyExists"}}]},
            {"usergroup": "Nope", "do": [{"add": {"user": ["ada@example.com"]}}]},
            {"usergroup": "Synced", "do": [{"updateUserGroup": {"name": "Renamed"}}]},
            {"usergroup": "Synced", "do": [{"deleteUserGroup": {}}]},
            {"usergroup": "Design", "do": [{"updateUserGroup": {}}]},
            {"usergroup": "Design", "do": [{"updateUserGroup": {"name": "Engineering"}}]},
            {"usergroup": "Design", "do": [{"add": {"user": ["ghost@example.com"]}}]},
            {"usergroup": "Design", "do": [{"add": {"productConfiguration": ["No Profile"]}}]},
            {"usergroup": "Design", "do": [{"add": {"user": []}}, {"createUserGroup": {}}]}
        ]))
        .await;
    assert_eq!(
        errors(&r.json()),
        [
            (0, 0, "error.usergroup.already_exists".into()),
            (1, 0, "error.command.illegal_entry".into()),
            (2, 0, "error.usergroup.not_found".into()),
            (3, 0, "error.usergroup.readonly.update_not_allowed".into()),
            (4, 0, "error.usergroup.readonly.remove_not_allowed".into()),
            (5, 0, "error.user.command.missing.arguments".into()),
            (6, 0, "error.usergroup.already_exists".into()),
            (7, 0, "error.user.not_found".into()),
            (8, 0, "error.group.not_found".into()),
            (9, 1, "error.command.create.not_first".into()),
        ]
    );
    assert_eq!(app.shared.state(), small_org(), "nothing changed");
}

#[tokio::test]
async fn malformed_entries_and_limits() {
    let app = App::small().await;
    let steps: Vec<Value> = (0..11)
        .map(|_| json!({"add": {"group": ["Design"]}}))
        .collect();
    let r = app
        .action(json!([
            {"do": []},
            {"user": "barbara@example.com", "do": steps},
            {"user": "barbara@example.com", "do": [{"fly": {}}]},
            {"user": "barbara", "do": [{"add": {"group": ["Design"]}}]},
            {"user": "barbara@example.com", "domain": "example.com", "do": []},
            {"user": "barbara@example.com", "do": [{"add": {"group": ["Design"]}}, {"createFederatedID": {"email": "barbara@example.com", "country": "US"}}]},
            {"user": "barbara@example.com", "do": {"add": {}}},
            {"user": "barbara@example.com", "do": [{"add": {"group": "Design"}}]}
        ]))
        .await;
    assert_eq!(
        errors(&r.json()),
        [
            (0, 0, "error.command.user_usergroup.missing".into()),
            (1, 10, "error.command.add_remove.list_too_long".into()),
            (2, 0, "error.command.step.unknown".into()),
            (3, 0, "error.command.domain.missing".into()),
            (
                4,
                0,
                "error.command.domain.must_be_used_with_nonemail_username".into()
            ),
            (5, 1, "error.command.create.not_first".into()),
            (6, 0, "error.command.steps.malformed".into()),
            (7, 0, "error.command.add_remove.list_not_array".into()),
        ]
    );
    // request-level rejections
    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({"user": "ada@example.com", "do": []}))
        .collect();
    let r = app.action(json!(eleven)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["result"], "error.command.malformed");
    assert_eq!(app.action(json!([])).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.action(json!({"user": "x"})).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = app.action_at("/action/WRONG@AdobeOrg", json!([])).await;
    assert_eq!(r.json()["result"], "error.organization.invalid_id");
}

#[tokio::test]
async fn list_length_limit_is_configurable() {
    let app = App::new(
        SandboxConfig {
            max_list_length: 2,
            shuffle_entries: false,
            ..Default::default()
        },
        small_org(),
    )
    .await;
    let r = app
        .action(json!([{"user": "barbara@example.com", "do": [{"add": {"group": ["Design", "Engineering", "Photoshop - Default"]}}]}]))
        .await;
    assert_eq!(
        errors(&r.json()),
        [(0, 0, "error.command.add_remove.list_too_long".into())]
    );
}

#[tokio::test]
async fn test_mode_validates_without_committing() {
    let app = App::small().await;
    let r = app
        .action_at(
            &format!("/action/{ORG}?testOnly=true"),
            json!([
                {"user": "brand.new@example.com", "do": [
                    {"createFederatedID": {"email": "brand.new@example.com", "country": "US"}},
                    {"add": {"group": ["Design"]}}]},
                {"user": "ghost@example.com", "do": [{"update": {"firstname": "Boo"}}]},
                {"user": "barbara@example.com", "do": [{"add": {"group": ["No Such Group"]}}]},
                {"usergroup": "Fresh", "do": [{"createUserGroup": {}}, {"add": {"user": ["ada@example.com"]}}]},
                {"user": "ada@example.com", "do": [{"removeFromOrg": {"deleteAccount": true}}]}
            ]),
        )
        .await;
    let body = r.json();
    assert_eq!(body["completed"], 0);
    assert_eq!(body["completedInTestMode"], 4);
    assert_eq!(body["notCompleted"], 1);
    assert_eq!(errors(&body), [(2, 0, "error.group.not_found".into())]);
    assert_eq!(app.shared.state(), small_org(), "test mode commits nothing");
    assert_eq!(app.shared.counters().test_mode_requests, 1);
}

#[tokio::test]
async fn request_id_header_is_echoed() {
    let app = App::small().await;
    let auth = format!("Bearer {}", app.token);
    let r = app
        .send(
            Method::POST,
            &format!("/v2/usermanagement/action/{ORG}"),
            &[
                ("authorization", &auth),
                ("x-api-key", CLIENT),
                ("x-request-id", "req-42"),
            ],
            json!([{"user": "ada@example.com", "do": []}]).to_string(),
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("req-42"));
    let log = app.shared.request_log();
    assert_eq!(log.last().unwrap().request_id.as_deref(), Some("req-42"));
}

#[tokio::test]
async fn entries_run_in_a_seeded_shuffled_order() {
    let order_for = |seed: u64| async move {
        let app = App::new(
            SandboxConfig {
                seed,
                ..Default::default()
            },
            small_org(),
        )
        .await;
        let entries: Vec<Value> = (0..10)
            .map(|i| json!({"usergroup": format!("Order {i}"), "do": [{"createUserGroup": {}}]}))
            .collect();
        assert_eq!(app.action(json!(entries)).await.json()["completed"], 10);
        app.shared
            .state()
            .user_groups
            .iter()
            .skip(3)
            .map(|g| g.name.clone())
            .collect::<Vec<_>>()
    };
    let first = order_for(1).await;
    let sorted: Vec<String> = (0..10).map(|i| format!("Order {i}")).collect();
    assert_ne!(first, sorted, "entries were not shuffled");
    assert_eq!(
        first,
        order_for(1).await,
        "the same seed gives the same order"
    );
    let mut same_set = first.clone();
    same_set.sort();
    assert_eq!(same_set, sorted);
}

#[tokio::test]
async fn an_entry_that_relies_on_an_earlier_entry_can_fail() {
    // A group created by one entry and filled by another: under shuffling some seed runs the
    // second entry first, which is exactly what clients must not rely on.
    let mut saw_failure = false;
    for seed in 0..8 {
        let app = App::new(
            SandboxConfig {
                seed,
                ..Default::default()
            },
            small_org(),
        )
        .await;
        let r = app
            .action(json!([
                {"usergroup": "Later", "do": [{"createUserGroup": {}}]},
                {"usergroup": "Later", "do": [{"add": {"user": ["ada@example.com"]}}]}
            ]))
            .await;
        saw_failure |= r.json()["result"] == "partial";
    }
    assert!(saw_failure);
}

//! Protocol tests of the query endpoints: raw paths in, raw JSON and headers out.

use crate::support::{App, ORG, small_org};
use axum::http::StatusCode;
use serde_json::json;
use umapi_sandbox::SandboxConfig;

async fn paged_app() -> App {
    let config = SandboxConfig {
        user_page_size: 2,
        group_page_size: 3,
        ..Default::default()
    };
    App::new(config, small_org()).await
}

#[tokio::test]
async fn users_are_paged_with_headers_and_past_the_end_repeats_the_last_page() {
    let app = paged_app().await;
    let mut emails = Vec::new();
    for page in 0..3 {
        let r = app.get(&format!("/users/{ORG}/{page}")).await;
        assert_eq!(r.status, StatusCode::OK);
        let body = r.json();
        assert_eq!(body["result"], "success");
        assert_eq!(body["lastPage"], json!(page == 2));
        assert_eq!(r.header("x-total-count"), Some("5"));
        assert_eq!(r.header("x-page-count"), Some("3"));
        assert_eq!(r.header("x-current-page"), Some(page.to_string().as_str()));
        let users = body["users"].as_array().unwrap();
        assert_eq!(
            r.header("x-page-size"),
            Some(users.len().to_string().as_str())
        );
        emails.extend(
            users
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(
        emails,
        [
            "ada@example.com",
            "grace@example.com",
            "alan@example.net",
            "edsger@example.com",
            "barbara@example.com"
        ]
    );
    let past = app.get(&format!("/users/{ORG}/17")).await;
    assert_eq!(past.header("x-current-page"), Some("2"));
    assert_eq!(past.json()["lastPage"], true);
    assert_eq!(past.json()["users"][0]["email"], "barbara@example.com");
}

#[tokio::test]
async fn user_objects_have_the_wire_fields_and_omit_missing_ones() {
    let app = App::small().await;
    let body = app.get(&format!("/users/{ORG}/0")).await.json();
    let ada = &body["users"][0];
    assert_eq!(
        ada,
        &json!({"id": "U1", "email": "ada@example.com", "username": "ada@example.com", "domain": "example.com",
                "firstname": "Ada", "lastname": "Lovelace", "country": "GB", "type": "federatedID",
                "status": "active", "groups": ["Engineering", "_org_admin"]})
    );
    let alan = &body["users"][2];
    assert!(
        alan.get("firstname").is_none() && alan.get("groups").is_none(),
        "{alan}"
    );
}

#[tokio::test]
async fn direct_only_hides_profiles_inherited_through_user_groups() {
    let app = App::small().await;
    // Python's urlencode sends booleans as True/False.
    for (query, inherited) in [
        ("", false),
        ("?directOnly=true", false),
        ("?directOnly=False", true),
        ("?directOnly=false", true),
    ] {
        let body = app.get(&format!("/users/{ORG}/0{query}")).await.json();
        let groups = body["users"][0]["groups"].as_array().unwrap().clone();
        assert_eq!(
            groups.contains(&json!("All Apps - Default")),
            inherited,
            "{query}: {groups:?}"
        );
    }
    // Members of a profile: only direct members unless directOnly=false.
    let direct = app
        .get(&format!("/users/{ORG}/0/All%20Apps%20-%20Default"))
        .await
        .json();
    assert_eq!(direct["users"], json!([]));
    let all = app
        .get(&format!(
            "/users/{ORG}/0/All%20Apps%20-%20Default?directOnly=false"
        ))
        .await
        .json();
    let emails: Vec<_> = all["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].clone())
        .collect();
    assert_eq!(
        emails,
        [json!("ada@example.com"), json!("edsger@example.com")]
    );
    assert_eq!(all["groupName"], "All Apps - Default");
}

#[tokio::test]
async fn group_members_exclude_groups_and_domain_filters() {
    let app = App::small().await;
    let r = app
        .get(&format!("/users/{ORG}/0/engineering?excludeGroups=true"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let users = r.json()["users"].as_array().unwrap().clone();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| u.get("groups").is_none()), "{users:?}");
    let by_domain = app
        .get(&format!("/users/{ORG}/0?domain=example.net"))
        .await
        .json();
    assert_eq!(by_domain["users"].as_array().unwrap().len(), 1);
    assert_eq!(by_domain["users"][0]["email"], "alan@example.net");
}

#[tokio::test]
async fn unknown_group_and_unknown_user_are_404_like_umapi() {
    let app = App::small().await;
    let r = app.get(&format!("/users/{ORG}/0/Nope")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["result"], "error.group.not_found");
    let r = app
        .get(&format!("/organizations/{ORG}/users/nobody@example.com"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/no/such/endpoint").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/users/OTHER@AdobeOrg/0").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["result"], "error.organization.invalid_id");
}

#[tokio::test]
async fn one_user_by_email_or_by_username_and_domain() {
    let app = App::small().await;
    let r = app
        .get(&format!("/organizations/{ORG}/users/GRACE@example.com"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["result"], "success");
    assert_eq!(body["user"]["email"], "grace@example.com");
    assert_eq!(body["user"]["type"], "enterpriseID");
    let r = app
        .get(&format!(
            "/organizations/{ORG}/users/edsger?domain=example.com"
        ))
        .await;
    assert_eq!(r.json()["user"]["email"], "edsger@example.com");
}

#[tokio::test]
async fn groups_list_user_groups_profiles_and_admin_groups_with_counts() {
    let app = paged_app().await;
    let first = app.get(&format!("/groups/{ORG}/0")).await;
    assert_eq!(first.header("x-total-count"), Some("7"));
    assert_eq!(first.header("x-page-count"), Some("3"));
    let mut groups = Vec::new();
    for page in 0..3 {
        let body = app.get(&format!("/groups/{ORG}/{page}")).await.json();
        assert_eq!(body["lastPage"], json!(page == 2));
        groups.extend(body["groups"].as_array().unwrap().clone());
    }
    assert_eq!(groups.len(), 7);
    assert_eq!(
        groups[0],
        json!({"groupId": 11, "groupName": "Engineering", "type": "USER_GROUP", "memberCount": 2,
               "adminGroupName": "_admin_Engineering"})
    );
    let photoshop = groups
        .iter()
        .find(|g| g["groupName"] == "Photoshop - Default")
        .unwrap();
    assert_eq!(photoshop["type"], "PRODUCT_PROFILE");
    assert_eq!(photoshop["licenseQuota"], "50");
    assert_eq!(photoshop["productName"], "Photoshop");
    assert_eq!(photoshop["memberCount"], 1);
    let org_admin = groups
        .iter()
        .find(|g| g["groupName"] == "_org_admin")
        .unwrap();
    // group.md: "__type:__ _string_; The group type. One of: … SYSADMIN_GROUP …"
    assert_eq!(org_admin["type"], "SYSADMIN_GROUP");
    let eng_admin = groups
        .iter()
        .find(|g| g["groupName"] == "_admin_Engineering")
        .unwrap();
    assert_eq!(eng_admin["type"], "USER_ADMIN_GROUP");
}

#[tokio::test]
async fn members_count_whatever_case_their_membership_is_spelled_in() {
    let mut state = small_org();
    // edsger's membership spelled in lower case, barbara's in upper case: still Engineering,
    // and still the All Apps profile it carries.
    state.users[3].groups = vec!["engineering".into()];
    state.users[4].groups = vec!["ENGINEERING".into()];
    let app = App::new(SandboxConfig::default(), state).await;
    let body = app.get(&format!("/groups/{ORG}/0")).await.json();
    let count = |name: &str| {
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["groupName"] == name)
            .map(|g| g["memberCount"].clone())
            .unwrap()
    };
    assert_eq!(count("Engineering"), 3);
    assert_eq!(count("All Apps - Default"), 3);
    assert_eq!(count("Synced"), 0);
}

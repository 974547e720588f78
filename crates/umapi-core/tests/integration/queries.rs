//! Paged queries, one-user look-ups and groups against a mock UMAPI.

use crate::common::*;
use futures::TryStreamExt;
use serde_json::json;
use umapi_core::{Error, UsersQuery, wire::GroupType};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

fn users_page(emails: &[&str], last_page: bool) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "result": "success", "lastPage": last_page,
        "users": emails.iter().map(|e| user(e)).collect::<Vec<_>>()
    }))
}

#[tokio::test]
async fn users_are_read_page_by_page_until_last_page() {
    let server = server().await;
    for (page, emails, last) in [
        (0, vec!["a@x.com", "b@x.com"], false),
        (1, vec!["c@x.com", "d@x.com"], false),
        (2, vec!["e@x.com"], true),
    ] {
        Mock::given(method("GET"))
            .and(path(umapi(&format!("users/{ORG}/{page}"))))
            .respond_with(
                users_page(&emails, last)
                    .insert_header("X-Total-Count", "5")
                    .insert_header("X-Page-Count", "3")
                    .insert_header("X-Current-Page", page.to_string())
                    .insert_header("X-Page-Size", "2"),
            )
            .expect(2)
            .mount(&server)
            .await;
    }
    let conn = connection(&server);
    let mut users = conn.users(UsersQuery::all());
    let first = users.try_next().await.unwrap().unwrap();
    assert_eq!(first.email.as_deref(), Some("a@x.com"));
    assert_eq!(users.stats().pages_fetched, 1, "pages are fetched lazily");
    let rest = users.try_collect::<Vec<_>>().await.unwrap();
    let emails: Vec<_> = rest.iter().filter_map(|u| u.email.clone()).collect();
    assert_eq!(emails, ["b@x.com", "c@x.com", "d@x.com", "e@x.com"]);

    let mut users = conn.users(UsersQuery::all());
    while users.try_next().await.unwrap().is_some() {}
    let stats = users.stats();
    assert_eq!(stats.total_count, Some(5));
    assert_eq!(stats.page_count, Some(3));
    assert_eq!(stats.current_page, Some(2));
    assert_eq!(stats.page_size, Some(2));
    assert_eq!(stats.pages_fetched, 3);
}

#[tokio::test]
async fn a_server_that_repeats_the_last_page_does_not_loop_forever() {
    let server = server().await;
    // No lastPage flag and no headers: past the end, the last page comes again.
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/0"))))
        .respond_with(users_page(&["a@x.com"], false))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/1"))))
        .respond_with(users_page(&["b@x.com"], false))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/2"))))
        .respond_with(users_page(&["b@x.com"], false))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server);
    let users = conn.users(UsersQuery::all()).collect_all().await.unwrap();
    let emails: Vec<_> = users.iter().filter_map(|u| u.email.clone()).collect();
    assert_eq!(
        emails,
        ["a@x.com", "b@x.com"],
        "the repeated page is not yielded twice"
    );
}

#[tokio::test]
async fn a_page_that_reports_another_page_number_is_past_the_end() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("groups/{ORG}/0"))))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Current-Page", "0")
                .set_body_json(json!({"result": "success", "lastPage": false, "groups": [
                    {"groupName": "G", "type": "USER_GROUP", "memberCount": 2}
                ]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("groups/{ORG}/1"))))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Current-Page", "0")
                .set_body_json(json!({"result": "success", "lastPage": false, "groups": [
                    {"groupName": "G", "type": "USER_GROUP", "memberCount": 2}
                ]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let groups = connection(&server).groups().collect_all().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].group_type, GroupType::UserGroup);
}

#[tokio::test]
async fn a_groups_page_past_the_end_ends_the_listing() {
    // group.md, "Response to request for an out-of-bounds page number" (a 200 OK example):
    // {"lastPage": true, "result": "Not found"}
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("groups/{ORG}/0"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"result": "success", "lastPage": false, "groups": [
                {"groupName": "G", "type": "USER_GROUP", "memberCount": 2},
                {"groupName": "_admin_G", "type": "USER_ADMIN_GROUP", "memberCount": 1,
                 "userGroupName": "G"}
            ]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("groups/{ORG}/1"))))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"lastPage": true, "result": "Not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let groups = connection(&server).groups().collect_all().await.unwrap();
    let names: Vec<_> = groups.iter().map(|g| g.group_name.as_str()).collect();
    assert_eq!(names, ["G", "_admin_G"]);
    assert_eq!(groups[1].group_type, GroupType::UserAdminGroup);
    assert_eq!(groups[1].user_group_name.as_deref(), Some("G"));
}

#[tokio::test]
async fn not_found_without_last_page_is_an_error() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("groups/{ORG}/0"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "Not found"})))
        .mount(&server)
        .await;
    let err = connection(&server)
        .groups()
        .collect_all()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Not found"), "{err}");
}

#[tokio::test]
async fn not_found_means_empty() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/0/No%20Such%20Group"))))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "result": "error.group.not_found", "message": "Group not found"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!(
            "organizations/{ORG}/users/nobody@x.com"
        ))))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server);
    let members = conn
        .users(UsersQuery::all().in_group("No Such Group"))
        .collect_all()
        .await
        .unwrap();
    assert!(members.is_empty());
    assert_eq!(conn.user("nobody@x.com", None).await.unwrap(), None);
}

#[tokio::test]
async fn query_options_become_path_and_parameters() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/0/All%20Apps"))))
        .and(query_param("directOnly", "false"))
        .and(query_param("domain", "example.com"))
        .and(query_param("excludeGroups", "true"))
        .respond_with(users_page(&["a@x.com"], true))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server);
    let users = conn
        .users(
            UsersQuery::all()
                .in_group("All Apps")
                .in_domain("example.com")
                .direct_only(false)
                .exclude_groups(true),
        )
        .collect_all()
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn one_user_by_email_and_by_username_with_domain() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("organizations/{ORG}/users/jruser@example.com"))))
        .and(header("x-api-key", CLIENT_ID))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "success",
            "user": {"email": "jruser@example.com", "firstname": "J", "lastname": "R", "type": "enterpriseID"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("organizations/{ORG}/users/jdoe"))))
        .and(query_param("domain", "example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "success", "user": {"username": "jdoe", "domain": "example.com"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server);
    let user = conn
        .user("jruser@example.com", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.lastname.as_deref(), Some("R"));
    let user = conn
        .user("jdoe", Some("example.com"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.username.as_deref(), Some("jdoe"));
}

#[tokio::test]
async fn every_call_carries_a_fresh_request_id_and_a_user_agent() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(users_page(&["a@x.com"], true))
        .mount(&server)
        .await;
    let conn = builder(&server).user_agent("umapi-test/9").build().unwrap();
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let umapi: Vec<_> = requests
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .collect();
    assert_eq!(umapi.len(), 2);
    let ids: Vec<_> = umapi
        .iter()
        .map(|r| {
            r.headers
                .get("x-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert!(
        umapi
            .iter()
            .all(|r| r.headers.get("user-agent").unwrap() == "umapi-test/9")
    );
}

#[tokio::test]
async fn errors_end_the_stream_after_being_yielded() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/0"))))
        .respond_with(users_page(&["a@x.com"], false))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/1"))))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .expect(2)
        .mount(&server)
        .await;
    let conn = connection(&server);
    let mut users = conn.users(UsersQuery::all());
    assert!(users.try_next().await.unwrap().is_some());
    assert!(matches!(users.try_next().await, Err(Error::Server { .. })));
    assert!(users.try_next().await.unwrap().is_none());
    assert!(matches!(
        conn.users(UsersQuery::all()).collect_all().await,
        Err(Error::Server { .. })
    ));
}

/// Pages requested so far (`users/{ORG}/{page}` paths), in order of arrival.
async fn requested_user_pages(server: &wiremock::MockServer) -> Vec<String> {
    let prefix = umapi(&format!("users/{ORG}/"));
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.url.path().strip_prefix(&prefix).map(String::from))
        .collect()
}

#[tokio::test]
async fn the_next_page_is_requested_while_the_current_one_is_consumed() {
    let server = server().await;
    for (page, emails, last) in [
        (0, vec!["a@x.com", "b@x.com"], false),
        (1, vec!["c@x.com"], false),
        (2, vec!["d@x.com"], true),
    ] {
        Mock::given(method("GET"))
            .and(path(umapi(&format!("users/{ORG}/{page}"))))
            .respond_with(users_page(&emails, last))
            .expect(1)
            .mount(&server)
            .await;
    }
    let conn = connection(&server);
    let mut users = conn.users(UsersQuery::all());
    assert!(
        requested_user_pages(&server).await.is_empty(),
        "nothing before the first poll"
    );
    let first = users.try_next().await.unwrap().unwrap();
    assert_eq!(first.email.as_deref(), Some("a@x.com"));
    // Without polling the stream again, page 1 gets requested (page 2 does not).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while requested_user_pages(&server).await.len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(requested_user_pages(&server).await, ["0", "1"]);
    assert_eq!(
        users.stats().pages_fetched,
        1,
        "a page counts once it is taken in"
    );
    let rest = users.try_collect::<Vec<_>>().await.unwrap();
    let emails: Vec<_> = rest.iter().filter_map(|u| u.email.clone()).collect();
    assert_eq!(emails, ["b@x.com", "c@x.com", "d@x.com"]);
    // Nothing is read ahead past the last page.
    assert_eq!(requested_user_pages(&server).await, ["0", "1", "2"]);
}

#[tokio::test]
async fn last_page_in_the_body_wins_over_headers_that_promise_more() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/0"))))
        .respond_with(
            users_page(&["a@x.com"], true)
                .insert_header("X-Page-Count", "3")
                .insert_header("X-Current-Page", "0"),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Requested ahead on the headers' word at most; never yielded.
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/1"))))
        .respond_with(users_page(&["b@x.com"], false))
        .mount(&server)
        .await;
    let users = connection(&server)
        .users(UsersQuery::all())
        .collect_all()
        .await
        .unwrap();
    let emails: Vec<_> = users.iter().filter_map(|u| u.email.clone()).collect();
    assert_eq!(emails, ["a@x.com"]);
    let pages = requested_user_pages(&server).await;
    assert!(!pages.contains(&"2".to_string()), "{pages:?}");
}

#[tokio::test]
async fn a_stream_dropped_early_leaves_at_most_one_page_behind() {
    let server = server().await;
    for page in 0..3 {
        Mock::given(method("GET"))
            .and(path(umapi(&format!("users/{ORG}/{page}"))))
            .respond_with(
                users_page(&["a@x.com", "b@x.com"], false)
                    .set_delay(std::time::Duration::from_millis(50)),
            )
            .mount(&server)
            .await;
    }
    let conn = connection(&server);
    let mut users = conn.users(UsersQuery::all());
    users.try_next().await.unwrap().unwrap();
    drop(users);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let pages = requested_user_pages(&server).await;
    assert!(pages == ["0"] || pages == ["0", "1"], "{pages:?}");
}

#[tokio::test]
async fn an_error_read_ahead_comes_after_every_item_before_it() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/0"))))
        .respond_with(users_page(&["a@x.com", "b@x.com", "c@x.com"], false))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(umapi(&format!("users/{ORG}/1"))))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let mut users = connection(&server).users(UsersQuery::all());
    let mut seen = Vec::new();
    let error = loop {
        match users.try_next().await {
            Ok(Some(user)) => seen.push(user.email.unwrap()),
            Ok(None) => panic!("the error was not yielded"),
            Err(e) => break e,
        }
    };
    assert_eq!(seen, ["a@x.com", "b@x.com", "c@x.com"]);
    assert!(
        matches!(error, Error::Server { status: 500, .. }),
        "{error}"
    );
    assert!(users.try_next().await.unwrap().is_none());
}

#[test]
fn handles_can_move_between_tasks() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    fn stream<T: futures::Stream + Send + Unpin + 'static>() {}
    shareable::<umapi_core::Connection>();
    shareable::<umapi_core::Action>();
    stream::<umapi_core::Paged<umapi_core::wire::User>>();
    stream::<umapi_core::Paged<umapi_core::wire::Group>>();
}

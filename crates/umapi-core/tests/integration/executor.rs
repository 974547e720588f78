//! The batching executor: request counts, queueing, and server errors mapped back
//! to the actions (also across split actions and failed batches).

use crate::common::*;
use serde_json::{Value, json};
use umapi_core::{
    Action, Command, CreateOptions, Error, ExecutionCounts, IdentityType, UserAction,
    UserGroupAction, wire::UserStep,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn success() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "completed": 1, "notCompleted": 0, "completedInTestMode": 0, "result": "success"
    }))
}

async fn mount_action(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(umapi(&format!("action/{ORG}"))))
        .respond_with(response)
        .mount(server)
        .await;
}

/// The JSON bodies of the action requests the server received, in order.
async fn action_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().contains("/action/"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

fn user_adding(n: usize) -> UserAction {
    let mut action = UserAction::with_email(IdentityType::FederatedId, format!("u{n}@example.com"));
    action.add_to_groups(["G"]).unwrap();
    action
}

#[tokio::test]
async fn eleven_actions_take_two_requests() {
    let server = server().await;
    mount_action(&server, success()).await;
    let conn = connection(&server);
    let actions: Vec<UserAction> = (0..11).map(user_adding).collect();
    let counts = conn.execute_multiple(actions.clone(), true).await.unwrap();
    assert_eq!(
        counts,
        ExecutionCounts {
            queued: 0,
            sent: 11,
            succeeded: 11
        }
    );
    let bodies = action_bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0].as_array().unwrap().len(), 10);
    assert_eq!(bodies[1].as_array().unwrap().len(), 1);
    // The body is exactly the actions' entries, in order.
    let expected: Vec<Value> = actions
        .iter()
        .flat_map(|a| Action::from(a).entries())
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    let sent: Vec<Value> = bodies
        .iter()
        .flat_map(|b| b.as_array().unwrap().clone())
        .collect();
    assert_eq!(sent, expected);
    assert_eq!(
        bodies[1],
        json!([{"user": "u10@example.com", "do": [{"add": {"group": ["G"]}}]}])
    );
}

#[tokio::test]
async fn execute_single_queues_until_a_batch_is_full() {
    let server = server().await;
    mount_action(&server, success()).await;
    let conn = connection(&server);
    for n in 0..9 {
        let counts = conn.execute_single(user_adding(n), false).await.unwrap();
        assert_eq!(
            counts,
            ExecutionCounts {
                queued: n + 1,
                sent: 0,
                succeeded: 0
            }
        );
    }
    assert!(
        action_bodies(&server).await.is_empty(),
        "nothing sent before 10"
    );
    let counts = conn.execute_single(user_adding(9), false).await.unwrap();
    assert_eq!(
        counts,
        ExecutionCounts {
            queued: 0,
            sent: 10,
            succeeded: 10
        }
    );
    assert_eq!(action_bodies(&server).await.len(), 1);

    conn.execute_single(user_adding(10), false).await.unwrap();
    let counts = conn.execute_single(user_adding(11), true).await.unwrap();
    assert_eq!(
        counts,
        ExecutionCounts {
            queued: 0,
            sent: 2,
            succeeded: 2
        }
    );

    let counts = conn
        .execute_multiple([user_adding(12), user_adding(13)], false)
        .await
        .unwrap();
    assert_eq!(
        counts,
        ExecutionCounts {
            queued: 2,
            sent: 0,
            succeeded: 0
        }
    );
    let counts = conn.execute_queued().await.unwrap();
    assert_eq!(
        counts,
        ExecutionCounts {
            queued: 0,
            sent: 2,
            succeeded: 2
        }
    );
    assert_eq!(action_bodies(&server).await.len(), 3);
}

#[tokio::test]
async fn step_errors_map_back_to_the_action_and_command_across_split_entries() {
    let server = server().await;
    // Entry 2 of the request is the third entry of the split action; its step 5 is
    // the add of G24. Entry 3 is the group action.
    mount_action(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "completed": 2, "notCompleted": 2, "completedInTestMode": 0, "result": "partial",
            "errors": [
                {"index": 2, "step": 5, "user": "big@example.com",
                 "errorCode": "error.group.not_found", "message": "Group G24 was not found"},
                {"index": 3, "step": 0, "usergroup": "Eng", "requestID": "grp-1",
                 "errorCode": "error.usergroup.already_exists", "message": "exists"}
            ]
        })),
    )
    .await;
    let conn = connection(&server);
    let mut big = UserAction::with_email(IdentityType::EnterpriseId, "big@example.com");
    big.create(CreateOptions::default()).unwrap();
    for n in 0..25 {
        big.add_to_groups([format!("G{n:02}")]).unwrap();
    }
    let mut group = UserGroupAction::new("Eng").unwrap();
    group
        .set_request_id("grp-1")
        .create(None, umapi_core::IfAlreadyExists::Update)
        .unwrap();
    let fine = user_adding(1);
    let kept_handle = big.clone();
    let error = conn
        .execute_multiple(
            [
                Action::from(big),
                Action::from(group.clone()),
                Action::from(fine.clone()),
            ],
            true,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Batch { sent: 3, failed: 2 }),
        "{error:?}"
    );

    let errors = kept_handle.execution_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].target, "big@example.com");
    assert_eq!(errors[0].error_code, "error.group.not_found");
    assert_eq!(errors[0].message, "Group G24 was not found");
    assert_eq!(
        errors[0].command,
        Some(Command::User(UserStep::Add(
            umapi_core::wire::GroupList::Groups {
                group: vec!["G24".into()]
            }
        )))
    );
    let errors = group.execution_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].request_id.as_deref(), Some("grp-1"));
    assert!(matches!(errors[0].command, Some(Command::UserGroup(_))));
    assert!(fine.execution_errors().is_empty());
}

#[tokio::test]
async fn a_failed_batch_does_not_stop_the_others_and_all_failures_come_at_the_end() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("internal"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_action(&server, success()).await;
    let conn = connection(&server);
    let actions: Vec<UserAction> = (0..12).map(user_adding).collect();
    let error = conn
        .execute_multiple(actions.clone(), true)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Batch {
                sent: 12,
                failed: 10
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        action_bodies(&server).await.len(),
        2,
        "the second batch was still sent"
    );
    for action in &actions[..10] {
        let errors = action.execution_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].error_code, "error.server.http_500");
        assert!(errors[0].command.is_none());
    }
    assert!(
        actions[10..]
            .iter()
            .all(|a| a.execution_errors().is_empty())
    );
}

#[tokio::test]
async fn a_request_level_rejection_is_recorded_on_every_action() {
    let server = server().await;
    mount_action(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "completed": 0, "notCompleted": 2, "completedInTestMode": 0,
            "result": "error.command.malformed"
        })),
    )
    .await;
    let conn = connection(&server);
    let actions = [user_adding(0), user_adding(1)];
    let error = conn
        .execute_multiple(actions.clone(), true)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Batch { sent: 2, failed: 2 }));
    for action in &actions {
        assert_eq!(
            action.execution_errors()[0].error_code,
            "error.command.malformed"
        );
    }
}

#[tokio::test]
async fn execute_batch_sends_exactly_one_request_or_refuses() {
    let server = server().await;
    mount_action(&server, success()).await;
    let conn = connection(&server);
    let three: Vec<Action> = (0..3).map(|n| user_adding(n).into()).collect();
    let counts = conn.execute_batch(&three).await.unwrap();
    assert_eq!(
        counts,
        ExecutionCounts {
            queued: 0,
            sent: 3,
            succeeded: 3
        }
    );
    assert_eq!(action_bodies(&server).await.len(), 1);

    let eleven: Vec<Action> = (0..11).map(|n| user_adding(n).into()).collect();
    let error = conn.execute_batch(&eleven).await.unwrap_err();
    assert!(matches!(error, Error::Argument(m) if m.contains("11 entries")));
    assert_eq!(action_bodies(&server).await.len(), 1, "nothing sent");
}

#[tokio::test]
async fn test_mode_sends_test_only() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(umapi(&format!("action/{ORG}"))))
        .and(query_param("testOnly", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "completed": 0, "notCompleted": 0, "completedInTestMode": 1, "result": "success"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let conn = builder(&server).test_mode(true).build().unwrap();
    let counts = conn.execute_single(user_adding(0), true).await.unwrap();
    assert_eq!(counts.succeeded, 1);
}

#[tokio::test]
async fn post_actions_returns_the_raw_response_and_checks_the_limit() {
    let server = server().await;
    mount_action(&server, success()).await;
    let conn = connection(&server);
    let entries = Action::from(user_adding(0)).entries();
    let response = conn.post_actions(&entries).await.unwrap();
    assert_eq!(response.result, "success");
    let too_many: Vec<_> = (0..11)
        .flat_map(|n| Action::from(user_adding(n)).entries())
        .collect();
    assert!(matches!(
        conn.post_actions(&too_many).await,
        Err(Error::Argument(_))
    ));
    assert_eq!(conn.stats().action_requests, 1);
}

#[tokio::test]
async fn an_auth_failure_stops_the_executor() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v2"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
        .mount(&server)
        .await;
    let conn = connection(&server);
    let actions: Vec<UserAction> = (0..15).map(user_adding).collect();
    let error = conn
        .execute_multiple(actions.clone(), true)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Auth { .. }), "{error:?}");
    assert_eq!(actions[0].execution_errors()[0].error_code, "error.auth");
    assert_eq!(
        conn.execute_queued().await.unwrap_err().to_string(),
        error.to_string()
    );
}

//! The sandbox over real sockets: HTTP and HTTPS, dropped connections, truncated bodies, the
//! admin API, persistence and the absence of secrets in what it records.

use crate::support::{CLIENT, ORG, SECRET, small_org};
use reqwest::StatusCode;
use serde_json::{Value, json};
use umapi_sandbox::{
    EndpointClass, Fault, FaultPlan, OrgState, Sandbox, SandboxConfig, SandboxHandle, ScriptedFault,
};

async fn token(client: &reqwest::Client, sandbox: &SandboxHandle) -> String {
    let r = client
        .post(format!("{}/ims/token/v2/", sandbox.ims_host()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret().expose()),
            ("scope", "openid,AdobeID,user_management_sdk"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn users_page(
    client: &reqwest::Client,
    sandbox: &SandboxHandle,
    token: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .get(format!(
            "{}/users/{}/0",
            sandbox.umapi_endpoint(),
            sandbox.org_id()
        ))
        .bearer_auth(token)
        .header("x-api-key", CLIENT)
        .send()
        .await
}

#[tokio::test]
async fn serves_on_loopback_with_the_documented_defaults() {
    let sandbox = Sandbox::start(SandboxConfig::default(), small_org())
        .await
        .unwrap();
    assert!(sandbox.addr().ip().is_loopback());
    assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        sandbox.umapi_endpoint(),
        format!("{}/v2/usermanagement", sandbox.base_url())
    );
    assert_eq!(sandbox.org_id(), ORG);
    assert_eq!(sandbox.client_secret().expose(), SECRET);
    assert_eq!(format!("{:?}", sandbox.client_secret()), "[redacted]");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_and_truncated_body_reach_the_client_as_transport_errors() {
    let sandbox = Sandbox::start(SandboxConfig::default(), small_org())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let token = token(&client, &sandbox).await;
    sandbox.set_faults(FaultPlan {
        script: vec![
            ScriptedFault {
                endpoint: Some(EndpointClass::Users),
                fault: Fault::Truncated,
            },
            ScriptedFault {
                endpoint: Some(EndpointClass::Users),
                fault: Fault::Drop,
            },
        ]
        .into(),
        random: vec![],
    });
    let truncated = users_page(&client, &sandbox, &token).await.unwrap();
    assert_eq!(truncated.status(), StatusCode::OK);
    assert!(truncated.bytes().await.is_err(), "the body stops halfway");
    let dropped = users_page(&client, &sandbox, &token).await;
    assert!(
        dropped.is_err(),
        "a dropped connection is an error, got {dropped:?}"
    );
    let ok = users_page(&client, &sandbox, &token).await.unwrap();
    assert_eq!(
        ok.json::<Value>().await.unwrap()["users"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let statuses: Vec<u16> = sandbox
        .request_log()
        .iter()
        .filter(|e| e.endpoint == EndpointClass::Users)
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, [200, 0, 200]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn https_with_a_certificate_written_for_clients_to_trust() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("sandbox-ca.pem");
    let config = SandboxConfig {
        tls: true,
        ca_cert_path: Some(cert.clone()),
        ..Default::default()
    };
    let sandbox = Sandbox::start(config, small_org()).await.unwrap();
    assert!(sandbox.base_url().starts_with("https://127.0.0.1:"));
    assert_eq!(sandbox.ca_cert_path(), Some(cert.as_path()));
    let pem = std::fs::read(&cert).unwrap();
    let trusted = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let token = token(&trusted, &sandbox).await;
    assert_eq!(
        users_page(&trusted, &sandbox, &token)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // also by name
    let by_name = sandbox.base_url().replace("127.0.0.1", "localhost");
    let r = trusted
        .get(format!("{by_name}/_sandbox/counters"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(true)
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{}/_sandbox/counters", sandbox.base_url()))
            .send()
            .await
            .is_err()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn admin_api_counters_log_state_and_reset() {
    let sandbox = Sandbox::start(SandboxConfig::default(), small_org())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let admin = |p: &str| format!("{}/_sandbox/{p}", sandbox.base_url());
    let token = token(&client, &sandbox).await;
    let r = client
        .post(format!("{}/action/{ORG}", sandbox.umapi_endpoint()))
        .bearer_auth(&token)
        .header("x-api-key", CLIENT)
        .header("x-request-id", "abc-1")
        .json(&json!([
            {"user": "barbara@example.com", "do": [{"add": {"group": ["Design"]}}, {"add": {"group": ["Nope"]}}]},
            {"usergroup": "Fresh", "do": [{"createUserGroup": {}}]}
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-1");
    let counters: Value = client
        .get(admin("counters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["action_requests"], 1);
    assert_eq!(counters["action_entries"], 2);
    assert_eq!(counters["action_steps"], 3);
    assert_eq!(counters["action_errors"], 1);
    assert_eq!(counters["tokens_issued"], 1);
    assert_eq!(counters["by_endpoint"]["token"], 1);
    assert_eq!(counters["by_endpoint"]["action"], 1);
    let log: Value = client
        .get(admin("requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = log.as_array().unwrap().last().unwrap();
    assert_eq!(last["endpoint"], "action");
    assert_eq!(last["request_id"], "abc-1");
    assert_eq!(last["status"], 200);

    let state: OrgState = client
        .get(admin("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state.user_groups.iter().any(|g| g.name == "Fresh"));
    let mut replaced = small_org();
    replaced.users.truncate(1);
    let r = client
        .put(admin("state"))
        .json(&replaced)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sandbox.state(), replaced);
    let bad = client
        .put(admin("state"))
        .body("{\"users\": 3}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let r = client.post(admin("reset")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sandbox.state(), small_org());
    assert_eq!(sandbox.counters().requests, 0);
    // tokens survive a reset
    assert_eq!(
        users_page(&client, &sandbox, &token)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let r = client.post(admin("expire-tokens")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        users_page(&client, &sandbox, &token)
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn committed_changes_are_persisted_atomically_and_test_mode_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.json");
    let sandbox = Sandbox::start(SandboxConfig::default(), small_org())
        .await
        .unwrap();
    sandbox.persist_to(&file).unwrap();
    assert_eq!(OrgState::load(&file).unwrap(), small_org());
    let client = reqwest::Client::new();
    let token = token(&client, &sandbox).await;
    let post = |test: bool| {
        let url = format!(
            "{}/action/{ORG}{}",
            sandbox.umapi_endpoint(),
            if test { "?testOnly=true" } else { "" }
        );
        client
            .post(url)
            .bearer_auth(&token)
            .header("x-api-key", CLIENT)
            .json(&json!([{"user": "ada@example.com", "do": [{"removeFromOrg": {"deleteAccount": true}}]}]))
            .send()
    };
    post(true).await.unwrap();
    assert_eq!(OrgState::load(&file).unwrap(), small_org());
    post(false).await.unwrap();
    let saved = OrgState::load(&file).unwrap();
    assert_eq!(saved.users.len(), 4);
    assert_eq!(saved, sandbox.state());
    assert_eq!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                !name.to_string_lossy().ends_with(".lock")
            })
            .count(),
        1,
        "no temporary files left beside the state file and its lock"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn secrets_and_tokens_never_appear_in_the_log_or_counters() {
    let sandbox = Sandbox::start(SandboxConfig::default(), small_org())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let token = token(&client, &sandbox).await;
    users_page(&client, &sandbox, &token).await.unwrap();
    let log = serde_json::to_string(&sandbox.request_log()).unwrap();
    let counters = serde_json::to_string(&sandbox.counters()).unwrap();
    let debug = format!("{sandbox:?} {:?}", sandbox.shared());
    for text in [&log, &counters, &debug] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains(&token), "{text}");
    }
    sandbox.shutdown().await;
}

//! Token exchange (OAuth and JWT), the token cache and the 401 refresh.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::common::*;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding};
use serde_json::json;
use umapi_core::{Connection, Error, JwtCredentials, RateLimits, RetryPolicy, Secret, UsersQuery};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TECH_ACCOUNT: &str = "ABCDEF0123456789@techacct.adobe.com";
const JWT_SECRET: &str = "jwt-client-secret-Pq4Lm2";

fn users_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "result": "success", "lastPage": true, "users": [user("a@x.com")]
    }))
}

fn form(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap()
}

async fn token_requests(server: &MockServer) -> Vec<HashMap<String, String>> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/ims/"))
        .map(|r| form(&r.body))
        .collect()
}

#[tokio::test]
async fn oauth_posts_client_credentials_and_uses_the_token() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(users_ok())
        .expect(2)
        .mount(&server)
        .await;
    let conn = connection(&server);
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    let tokens = token_requests(&server).await;
    assert_eq!(tokens.len(), 1, "a day-long token is fetched once");
    let expected: HashMap<String, String> = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("scope", "openid,AdobeID,user_management_sdk"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(tokens[0], expected);
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_before_use() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": TOKEN, "token_type": "bearer", "expires_in": 1
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(users_ok())
        .mount(&server)
        .await;
    let conn = connection(&server);
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(token_requests(&server).await.len(), 1, "still fresh");
    // A 1 s token is refreshed 100 ms before it expires.
    tokio::time::sleep(Duration::from_millis(950)).await;
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(
        token_requests(&server).await.len(),
        2,
        "refreshed ahead of expiry"
    );
    assert_eq!(conn.stats().token_requests, 2);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once() {
    let server = MockServer::start().await;
    for token in ["token-one", "token-two", "token-three"] {
        Mock::given(method("POST"))
            .and(path("/ims/token/v2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token, "token_type": "bearer", "expires_in": 86_400
            })))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer token-one"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer token-two"))
        .respond_with(users_ok())
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server);
    assert_eq!(
        conn.users(UsersQuery::all())
            .collect_all()
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_second_401_is_an_error_not_a_loop() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error_code": "401013", "message": "Oauth token is not valid"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let conn = connection(&server);
    let error = conn.user("a@x.com", None).await.unwrap_err();
    assert!(
        matches!(&error, Error::Request { status: 401, message, .. } if message.contains("401013")),
        "{error:?}"
    );
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn rejected_credentials_are_an_auth_error_without_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v2"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_client", "error_description": "invalid client_secret parameter"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server);
    let error = conn.user("a@x.com", None).await.unwrap_err();
    assert!(
        matches!(&error, Error::Auth { status: Some(400), message } if message.contains("invalid_client")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_flaky_identity_service_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ims/token/v2"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_token(&server).await;
    Mock::given(method("GET"))
        .respond_with(users_ok())
        .mount(&server)
        .await;
    let conn = connection(&server);
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(conn.stats().token_requests, 2);
}

struct KeyPair {
    private_pem: String,
    public_pem: String,
}

/// One key pair for all tests of this file, made at test time (key generation is
/// the slow part; 1024 bits keeps it well under a second in debug builds).
fn key_pair() -> &'static KeyPair {
    static KEY: std::sync::OnceLock<KeyPair> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        KeyPair {
            private_pem: private.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
            public_pem: private
                .to_public_key()
                .to_pkcs1_pem(LineEnding::LF)
                .unwrap(),
        }
    })
}

fn jwt_connection(server: &MockServer, key: &KeyPair) -> Connection {
    Connection::builder(ORG)
        .jwt(JwtCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(JWT_SECRET),
            technical_account_id: TECH_ACCOUNT.into(),
            private_key_pem: Secret::new(key.private_pem.clone()),
        })
        .umapi_endpoint(format!("{}/v2/usermanagement", server.uri()))
        .ims_host(server.uri())
        .retry_policy(RetryPolicy::no_delay())
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap()
}

#[tokio::test]
async fn jwt_exchange_sends_a_signed_jwt_with_exactly_the_documented_claims() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/ims/exchange/jwt/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "access_token": TOKEN, "expires_in": 86_400_000
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(users_ok())
        .mount(&server)
        .await;
    let key = key_pair();
    let conn = jwt_connection(&server, key);
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    conn.users(UsersQuery::all()).collect_all().await.unwrap();

    let requests = token_requests(&server).await;
    assert_eq!(
        requests.len(),
        1,
        "expires_in is milliseconds: a day, not 27 years or 0"
    );
    let request = &requests[0];
    assert_eq!(request["client_id"], CLIENT_ID);
    assert_eq!(request["client_secret"], JWT_SECRET);
    let keys: BTreeSet<_> = request.keys().cloned().collect();
    assert_eq!(
        keys,
        ["client_id", "client_secret", "jwt_token"]
            .map(String::from)
            .into()
    );

    let host = server.uri().trim_start_matches("http://").to_owned();
    let audience = format!("https://{host}/c/{CLIENT_ID}");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[audience.as_str()]);
    validation.set_issuer(&[ORG]);
    let decoded = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
        &request["jwt_token"],
        &jsonwebtoken::DecodingKey::from_rsa_pem(key.public_pem.as_bytes()).unwrap(),
        &validation,
    )
    .expect("the JWT verifies with the public key");
    let claims = decoded.claims;
    let metascope = format!("https://{host}/s/ent_user_sdk");
    let names: BTreeSet<_> = claims.keys().cloned().collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "exp".to_owned(),
            "iss".into(),
            "sub".into(),
            "aud".into(),
            metascope.clone()
        ])
    );
    assert_eq!(claims["sub"], TECH_ACCOUNT);
    assert_eq!(claims[&metascope], true);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let exp = claims["exp"].as_u64().unwrap();
    assert!(
        exp >= now + 86_400 - 60 && exp <= now + 86_400 + 60,
        "exp {exp}, now {now}"
    );
}

#[tokio::test]
async fn jwt_lifetimes_are_milliseconds() {
    let server = MockServer::start().await;
    // 300 ms: read as seconds this would be 5 minutes and never refreshed here.
    Mock::given(method("POST"))
        .and(path("/ims/exchange/jwt/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "access_token": TOKEN, "expires_in": 300
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(users_ok())
        .mount(&server)
        .await;
    let key = key_pair();
    let conn = jwt_connection(&server, key);
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(token_requests(&server).await.len(), 2);
}

#[tokio::test]
async fn a_bad_private_key_is_a_config_error_that_does_not_show_the_key() {
    let server = server().await;
    let conn = Connection::builder(ORG)
        .jwt(JwtCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: Secret::new(JWT_SECRET),
            technical_account_id: TECH_ACCOUNT.into(),
            private_key_pem: Secret::new(
                "-----BEGIN RSA PRIVATE KEY-----\nbm90LWEta2V5\n-----END RSA PRIVATE KEY-----\n",
            ),
        })
        .umapi_endpoint(format!("{}/v2/usermanagement", server.uri()))
        .ims_host(server.uri())
        .build()
        .unwrap();
    let error = conn.user("a@x.com", None).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    assert!(
        text.contains("private key") && !text.contains("bm90LWEta2V5"),
        "{text}"
    );
}

#[test]
fn builder_rejects_incomplete_or_bad_configuration() {
    let no_credentials = Connection::builder(ORG).build().unwrap_err();
    assert!(
        no_credentials.to_string().contains(".oauth("),
        "{no_credentials}"
    );
    let bad_url = Connection::builder(ORG)
        .oauth(CLIENT_ID, Secret::new(CLIENT_SECRET))
        .umapi_endpoint("usermanagement.adobe.io")
        .build()
        .unwrap_err();
    assert!(matches!(bad_url, Error::Config(m) if m.contains("UMAPI endpoint")));
    let missing_bundle = Connection::builder(ORG)
        .oauth(CLIENT_ID, Secret::new(CLIENT_SECRET))
        .ca_bundle("/nonexistent/ca.pem")
        .build()
        .unwrap_err();
    assert!(matches!(missing_bundle, Error::Config(m) if m.contains("/nonexistent/ca.pem")));
    let empty_org = Connection::builder(" ")
        .oauth(CLIENT_ID, Secret::new(CLIENT_SECRET))
        .build()
        .unwrap_err();
    assert!(matches!(empty_org, Error::Config(_)));
}

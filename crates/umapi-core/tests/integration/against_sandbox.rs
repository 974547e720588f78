//! The client against the real sandbox over HTTP: paging, splitting and batching as
//! a server that enforces UMAPI's limits sees them, error mapping with the server's
//! own indexes, injected faults, JWT, TLS and test mode.

use std::collections::BTreeSet;
use std::time::Duration;

use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::EncodePublicKey;
use umapi_core::wire::GroupType;
use umapi_core::{
    Action, Command, Connection, CreateOptions, Error, GroupSelection, IdentityType,
    IfAlreadyExists, JwtCredentials, RateLimits, RetryPolicy, Secret, UserAction, UserGroupAction,
    UsersQuery,
};
use umapi_sandbox::{
    EndpointClass, Fault, FaultPlan, JwtConfig, OrgSpec, Sandbox, SandboxConfig, SandboxHandle,
    ScriptedFault, generate,
};

const SPEC: OrgSpec = OrgSpec {
    users: 50,
    user_groups: 6,
    profiles: 4,
    seed: 11,
};

fn small_pages() -> SandboxConfig {
    SandboxConfig {
        user_page_size: 7,
        group_page_size: 4,
        ..SandboxConfig::default()
    }
}

async fn sandbox(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config, generate::org(&SPEC)).await.unwrap()
}

fn connect(sandbox: &SandboxHandle) -> Connection {
    sandbox
        .connection_builder()
        .retry_policy(RetryPolicy::no_delay())
        .rate_limits(RateLimits::unlimited())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_user_and_group_is_read_once_across_pages() {
    let sandbox = sandbox(small_pages()).await;
    let conn = connect(&sandbox);
    let mut users = conn.users(UsersQuery::all());
    let mut emails = Vec::new();
    while let Some(user) = futures::TryStreamExt::try_next(&mut users).await.unwrap() {
        emails.push(user.email.unwrap().to_lowercase());
    }
    let expected: BTreeSet<String> = sandbox
        .state()
        .users
        .iter()
        .map(|u| u.email.to_lowercase())
        .collect();
    assert_eq!(emails.len(), expected.len(), "no user twice");
    assert_eq!(emails.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(users.stats().pages_fetched, 50_u64.div_ceil(7));
    assert_eq!(users.stats().total_count, Some(50));

    let groups = conn.groups().collect_all().await.unwrap();
    let names: BTreeSet<_> = groups.iter().map(|g| g.group_name.clone()).collect();
    assert_eq!(names.len(), groups.len());
    let state = sandbox.state();
    for group in &state.user_groups {
        assert!(names.contains(&group.name), "{} missing", group.name);
    }
    // Members of each user group, read through the group query, match its count.
    for group in groups
        .iter()
        .filter(|g| g.group_type == GroupType::UserGroup)
    {
        let members = conn
            .users(UsersQuery::all().in_group(&group.group_name))
            .collect_all()
            .await
            .unwrap();
        assert_eq!(
            Some(members.len() as u64),
            group.member_count,
            "{}",
            group.group_name
        );
    }
    let someone = &state.users[3];
    let found = conn.user(&someone.email, None).await.unwrap().unwrap();
    assert_eq!(found.email.as_deref(), Some(someone.email.as_str()));
    assert_eq!(
        conn.user("nobody@nowhere.example", None).await.unwrap(),
        None
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_groups_page_that_vanished_ends_the_listing() {
    // group.md answers a page past the end with {"lastPage": true, "result": "Not found"}.
    // Page 1 is asked for while page 0 is read (the headers promise it); the sandbox holds
    // that request back while the org shrinks to one page of groups.
    let sandbox = sandbox(small_pages()).await;
    sandbox.set_faults(FaultPlan {
        script: [
            ScriptedFault {
                endpoint: Some(EndpointClass::Groups),
                fault: Fault::Pass,
            },
            ScriptedFault {
                endpoint: Some(EndpointClass::Groups),
                fault: Fault::Delay { ms: 300 },
            },
        ]
        .into(),
        ..FaultPlan::default()
    });
    let conn = connect(&sandbox);
    let mut groups = conn.groups();
    let first = futures::TryStreamExt::try_next(&mut groups)
        .await
        .unwrap()
        .unwrap();
    let mut state = sandbox.state();
    state.user_groups.truncate(1);
    state.product_profiles.clear();
    state.admin_groups.clear();
    sandbox.set_state(state).unwrap();
    let rest: Vec<_> = futures::TryStreamExt::try_collect(groups).await.unwrap();
    assert_eq!(1 + rest.len(), small_pages().group_page_size, "page 0 only");
    assert_eq!(first.group_type, GroupType::UserGroup);
    let past_the_end = sandbox
        .request_log()
        .into_iter()
        .filter(|r| r.endpoint == EndpointClass::Groups)
        .count();
    assert_eq!(
        past_the_end, 2,
        "page 1 was asked for and ended the listing"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn split_lists_steps_and_batches_pass_a_server_that_enforces_the_limits() -> Result<(), Error>
{
    let sandbox = sandbox(SandboxConfig::default()).await;
    let conn = connect(&sandbox);
    let state = sandbox.state();
    let emails: Vec<String> = state
        .users
        .iter()
        .take(25)
        .map(|u| u.email.clone())
        .collect();

    // 25 members: three `add` steps of at most 10 names.
    let mut group = UserGroupAction::new("Split Test")?;
    group
        .create(Some("made by the test".into()), IfAlreadyExists::Ignore)?
        .add_users(&emails)?;
    // 26 steps for one user: three entries.
    let profile = &state.product_profiles[0].name;
    let mut busy = UserAction::with_email(IdentityType::FederatedId, state.users[30].email.clone());
    for _ in 0..13 {
        busy.add_to_groups([profile.as_str()])?
            .remove_from_groups(GroupSelection::Some(vec![profile.clone()]))?;
    }
    // 11 more one-entry actions: with the 4 entries above, 15 entries = 2 requests.
    let singles: Vec<Action> = state.users[31..42]
        .iter()
        .map(|u| {
            let mut a = UserAction::with_email(IdentityType::FederatedId, u.email.clone());
            a.add_to_groups([profile.as_str()]).unwrap();
            Action::from(a)
        })
        .collect();
    let mut all = vec![Action::from(group.clone()), Action::from(busy.clone())];
    all.extend(singles);
    let counts = conn.execute_multiple(all, true).await.unwrap();
    assert_eq!((counts.sent, counts.succeeded), (13, 13));
    assert_eq!(conn.stats().action_requests, 2);
    assert_eq!(sandbox.counters().action_entries, 1 + 3 + 11);

    let members = conn
        .users(UsersQuery::all().in_group("Split Test"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(members.len(), 25);
    sandbox.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_servers_errors_land_on_the_right_action_and_command() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let conn = connect(&sandbox);
    let state = sandbox.state();
    let mut actions = Vec::new();
    for (i, user) in state.users.iter().take(9).enumerate() {
        let mut action = UserAction::with_email(IdentityType::FederatedId, user.email.clone());
        action
            .add_to_groups([state.user_groups[0].name.as_str()])
            .unwrap();
        if i == 4 {
            action.add_to_groups(["No Such Group"]).unwrap();
        }
        actions.push(action);
    }
    let mut missing = UserAction::with_email(IdentityType::EnterpriseId, "ghost@nowhere.example");
    missing
        .update(umapi_core::UpdateOptions {
            first_name: Some("Casper".into()),
            ..Default::default()
        })
        .unwrap();
    actions.push(missing.clone());
    let error = conn
        .execute_multiple(actions.clone(), true)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Batch {
                sent: 10,
                failed: 2
            }
        ),
        "{error:?}"
    );
    for (i, action) in actions.iter().enumerate().take(9) {
        let errors = action.execution_errors();
        if i == 4 {
            assert_eq!(errors.len(), 1, "{errors:?}");
            let Some(Command::User(step)) = &errors[0].command else {
                panic!("{errors:?}")
            };
            assert!(
                serde_json::to_string(step)
                    .unwrap()
                    .contains("No Such Group")
            );
            assert_eq!(errors[0].target, state.users[4].email);
        } else {
            assert!(errors.is_empty(), "{i}: {errors:?}");
        }
    }
    let errors = missing.execution_errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].target, "ghost@nowhere.example");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_faults_are_survived() {
    let sandbox = sandbox(small_pages()).await;
    let fault = |endpoint, fault| ScriptedFault {
        endpoint: Some(endpoint),
        fault,
    };
    sandbox.set_faults(FaultPlan {
        script: [
            fault(
                EndpointClass::Users,
                Fault::Status {
                    status: 429,
                    body: None,
                    retry_after: Some("1".into()),
                },
            ),
            fault(EndpointClass::Users, Fault::Drop),
            fault(EndpointClass::Users, Fault::Truncated),
            fault(
                EndpointClass::Users,
                Fault::Status {
                    status: 503,
                    body: None,
                    retry_after: None,
                },
            ),
            fault(EndpointClass::Users, Fault::Delay { ms: 800 }),
            fault(EndpointClass::Users, Fault::ExpireToken),
        ]
        .into(),
        random: Vec::new(),
    });
    let conn = sandbox
        .connection_builder()
        .retry_policy(RetryPolicy::no_delay())
        .rate_limits(RateLimits::unlimited())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let users = conn.users(UsersQuery::all()).collect_all().await.unwrap();
    assert_eq!(users.len(), 50);
    let stats = conn.stats();
    // Five transient failures, then the 401 of the expired token: six re-sends.
    assert_eq!(stats.retries, 6, "{stats:?}");
    assert_eq!(stats.throttled, 1);
    // Retry-After 1 s, then back-offs of 4, 8, 16 and 32 s plus up to 1 s jitter each.
    let intended = stats.retry_wait_intended;
    assert!(
        intended >= Duration::from_secs(61) && intended <= Duration::from_secs(65),
        "{stats:?}"
    );
    assert_eq!(
        stats.token_requests, 2,
        "the expired token was replaced once"
    );
    // What the server saw (a request the client gave up on while it was delayed is
    // not in the server's counters).
    let counters = sandbox.counters();
    for status in [0, 401, 429, 503] {
        assert_eq!(counters.by_status.get(&status), Some(&1), "{counters:?}");
    }
    assert_eq!(counters.tokens_issued, 2);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_jwt_exchange_is_accepted_by_the_sandbox() {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let technical_account_id = "0123456789ABCDEF@techacct.adobe.com".to_owned();
    let sandbox = sandbox(SandboxConfig {
        jwt: Some(JwtConfig {
            technical_account_id: technical_account_id.clone(),
            public_key_pem: key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        }),
        ..SandboxConfig::default()
    })
    .await;
    let conn = Connection::builder(sandbox.org_id())
        .jwt(JwtCredentials {
            client_id: sandbox.client_id().to_owned(),
            client_secret: sandbox.client_secret(),
            technical_account_id,
            private_key_pem: Secret::new(key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string()),
        })
        .umapi_endpoint(sandbox.umapi_endpoint())
        .ims_host(sandbox.ims_host())
        .retry_policy(RetryPolicy::no_delay())
        .rate_limits(RateLimits::unlimited())
        .build()
        .unwrap();
    assert_eq!(
        conn.users(UsersQuery::all())
            .collect_all()
            .await
            .unwrap()
            .len(),
        50
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn tls_is_verified_unless_a_ca_bundle_is_given_or_checks_are_off() {
    let sandbox = sandbox(SandboxConfig {
        tls: true,
        ..SandboxConfig::default()
    })
    .await;
    assert!(sandbox.base_url().starts_with("https://"));
    let builder = || {
        Connection::builder(sandbox.org_id())
            .oauth(sandbox.client_id(), sandbox.client_secret())
            .umapi_endpoint(sandbox.umapi_endpoint())
            .ims_host(sandbox.ims_host())
            .retry_policy(RetryPolicy::no_delay())
            .rate_limits(RateLimits::unlimited())
    };

    let untrusted = builder().build().unwrap();
    let error = untrusted.user("a@x.com", None).await.unwrap_err();
    assert!(
        matches!(&error, Error::Auth { message, .. } if message.contains("TLS") && message.contains("ca_bundle")),
        "{error:?}"
    );
    assert_eq!(
        untrusted.stats().token_requests,
        1,
        "a certificate problem is not retried"
    );

    let with_bundle = builder()
        .ca_bundle(sandbox.ca_cert_path().unwrap())
        .build()
        .unwrap();
    assert!(!with_bundle.groups().collect_all().await.unwrap().is_empty());

    let unchecked = builder().danger_accept_invalid_certs(true).build().unwrap();
    assert!(
        unchecked
            .user(&sandbox.state().users[0].email, None)
            .await
            .unwrap()
            .is_some()
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn test_mode_changes_nothing() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let before = sandbox.state();
    let conn = sandbox
        .connection_builder()
        .rate_limits(RateLimits::unlimited())
        .test_mode(true)
        .build()
        .unwrap();
    let mut group = UserGroupAction::new("Only A Test").unwrap();
    group.create(None, IfAlreadyExists::Ignore).unwrap();
    let mut user = UserAction::with_email(IdentityType::FederatedId, before.users[0].email.clone());
    user.update(umapi_core::UpdateOptions {
        last_name: Some("Changed".into()),
        ..Default::default()
    })
    .unwrap();
    let mut new_user = UserAction::with_email(IdentityType::EnterpriseId, "new.person@example.com");
    new_user
        .create(CreateOptions {
            on_conflict: Some(IfAlreadyExists::Ignore),
            ..Default::default()
        })
        .unwrap();
    let counts = conn
        .execute_multiple([Action::from(group), user.into(), new_user.into()], true)
        .await
        .unwrap();
    assert_eq!((counts.sent, counts.succeeded), (3, 3));
    assert_eq!(sandbox.state(), before);
    assert_eq!(sandbox.counters().test_mode_requests, 1);
    sandbox.shutdown().await;
}

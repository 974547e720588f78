//! The binary against a sandbox reached like a real org: an `oauth`
//! connection over HTTP, with the sandbox's counters, state and fault
//! injection in the test's hands.

use crate::common::{RemoteOrg, code, stderr, stdout};
use umapi_sandbox::observe::EndpointClass;
use umapi_sandbox::{Fault, FaultPlan, ScriptedFault};

#[test]
fn a_plan_made_stale_by_a_change_in_the_org_is_refused() {
    let org = RemoteOrg::quickstart();
    let plan = org.run(&["plan", "-o", "plan.json"]);
    assert_eq!(code(&plan), 0, "stderr: {}", stderr(&plan));

    // Someone renames Bob in the Admin Console after the plan was reviewed.
    let mut state = org.sandbox().state();
    let bob = state
        .users
        .iter_mut()
        .find(|u| u.email == "bob.ross@example.com")
        .expect("bob");
    bob.firstname = Some("Bobby".into());
    org.sandbox().set_state(state).expect("set state");
    let actions_before = org.sandbox().counters().action_requests;

    let apply = org.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 1);
    let err = stderr(&apply);
    assert!(err.contains("is stale"), "{err}");
    assert!(
        err.contains(
            "user bob.ross@example.com: firstname was \"Bob\" when planned, now \"Bobby\""
        ),
        "{err}"
    );
    assert_eq!(
        org.sandbox().counters().action_requests,
        actions_before,
        "nothing was sent"
    );
}

#[test]
fn a_fresh_saved_plan_applies_over_http() {
    let org = RemoteOrg::quickstart();
    assert_eq!(code(&org.run(&["plan", "-o", "plan.json"])), 0);
    let apply = org.run(&["apply", "plan.json"]);
    assert_eq!(code(&apply), 0, "stderr: {}", stderr(&apply));
    let counters = org.sandbox().counters();
    assert_eq!(
        counters.action_requests, 7,
        "the planned number of requests"
    );
    let plan = org.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}", stdout(&plan));
}

#[test]
fn a_plan_over_a_safety_limit_is_shown_blocked_exits_1_and_sends_nothing() {
    let org = RemoteOrg::quickstart();
    let settings = org
        .project
        .read("state/settings.yaml")
        .replace("max_user_removals: \"10%\"", "max_user_removals: 1");
    org.project.write("state/settings.yaml", &settings);

    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let output = org.run(args);
        assert_eq!(code(&output), 1, "{args:?}");
        let err = stderr(&output);
        assert!(err.contains("the plan is BLOCKED"), "{err}");
        assert!(
            err.contains("max_user_removals (2 planned, 1 allowed)"),
            "{err}"
        );
        assert!(err.contains("nothing was sent"), "{err}");
        assert!(err.contains("--allow max_user_removals=2"), "{err}");
        let out = stdout(&output);
        assert!(
            out.contains("will be removed from the org"),
            "the plan is shown: {out}"
        );
        assert!(
            out.contains("max_user_removals = 1, set in settings.limits: 2 users removed"),
            "{out}"
        );
    }
    let counters = org.sandbox().counters();
    assert_eq!(
        counters.action_requests, 0,
        "no action request reached the org"
    );
}

#[test]
fn a_partial_failure_exits_1_lists_the_failed_commands_and_runs_the_rest() {
    let org = RemoteOrg::quickstart();
    // The first action request (group creates and updates) fails as a whole;
    // 500 is not retried.
    org.sandbox().set_faults(FaultPlan {
        script: [ScriptedFault {
            endpoint: Some(EndpointClass::Action),
            fault: Fault::Status {
                status: 500,
                body: None,
                retry_after: None,
            },
        }]
        .into(),
        random: Vec::new(),
    });

    let output = org.run(&["apply", "--auto-approve", "--report", "report.json"]);
    assert_eq!(code(&output), 1);
    let out = stdout(&output);
    assert!(out.contains("Apply finished with errors"), "{out}");
    assert!(out.contains("Failed commands:"), "{out}");
    assert!(
        out.contains("create user group Interns: request_failed"),
        "{out}"
    );
    assert!(
        out.contains("rename user group Sales to Sales and Partnerships"),
        "{out}"
    );
    assert!(
        stderr(&output).contains("changes failed"),
        "{}",
        stderr(&output)
    );

    // The other phases still ran: the new users exist.
    let state = org.sandbox().state();
    assert!(
        state
            .users
            .iter()
            .any(|u| u.email == "nina.patel@example.com")
    );
    assert_eq!(org.sandbox().counters().faults_injected, 1);

    let report: serde_json::Value =
        serde_json::from_str(&org.project.read("report.json")).expect("report");
    assert_eq!(report["success"], false);
    let failed: Vec<&str> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["what"].as_str().expect("what"))
        .collect();
    assert!(failed.contains(&"create user group Interns"), "{failed:?}");

    // A re-run converges: only what failed (and what depended on it) is left.
    let rerun = org.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&rerun), 0, "{}\n{}", stdout(&rerun), stderr(&rerun));
    let plan = org.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}", stdout(&plan));
}

#[test]
fn bad_credentials_give_a_clear_error() {
    let org = RemoteOrg::quickstart();
    let output = org
        .umapi(&["plan"])
        .env("UMAPI_CLIENT_SECRET", "not-the-secret")
        .output()
        .expect("run");
    assert_eq!(code(&output), 1);
    assert!(stdout(&output).is_empty());
    insta::assert_snapshot!("bad_credentials", org.redact(&stderr(&output)));
}

#[test]
fn a_missing_secret_is_named() {
    let org = RemoteOrg::quickstart();
    let output = org.project.run(&["plan"]);
    assert_eq!(code(&output), 1);
    insta::assert_snapshot!("missing_secret", org.redact(&stderr(&output)));
}

#[test]
fn at_the_highest_verbosity_no_secret_appears() {
    let org = RemoteOrg::quickstart();
    for args in [
        &["-vvv", "plan", "-o", "plan.json"][..],
        &["-vvv", "apply", "--auto-approve"][..],
    ] {
        let output = org.run(args);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            stderr(&output).contains("TRACE umapi_core"),
            "-vvv logs the client's requests: {all}"
        );
        assert!(
            !all.contains(crate::common::SANDBOX_SECRET),
            "the client secret leaked"
        );
        assert!(!all.to_lowercase().contains("bearer "), "a token leaked");
        assert!(!all.contains("access_token"), "a token leaked");
    }
    let plan = org.project.read("plan.json");
    assert!(!plan.contains(crate::common::SANDBOX_SECRET));
}

#[test]
fn a_jwt_connection_signs_in_and_never_shows_the_private_key() {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};

    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("key");
    let technical_account_id = "0123456789ABCDEF@techacct.adobe.com";
    let org = RemoteOrg::quickstart_with(umapi_sandbox::SandboxConfig {
        jwt: Some(umapi_sandbox::JwtConfig {
            technical_account_id: technical_account_id.to_owned(),
            public_key_pem: key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("pem"),
        }),
        ..umapi_sandbox::SandboxConfig::default()
    });
    let pem = key.to_pkcs1_pem(LineEnding::LF).expect("pem").to_string();
    org.project.write("private.key", &pem);
    let config = org
        .project
        .read("umapi.yaml")
        .replace("kind: oauth", "kind: jwt")
        .replace(
            "  client_id:",
            &format!("  technical_account_id: \"{technical_account_id}\"\n  client_id:"),
        );
    org.project.write("umapi.yaml", &config);

    let output = org
        .umapi(&["-vvv", "apply", "--auto-approve"])
        .env("UMAPI_PRIVATE_KEY_FILE", org.project.file("private.key"))
        .output()
        .expect("run");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).contains("Apply complete!"));
    let all = format!("{}{}", stdout(&output), stderr(&output));
    let key_body: String = pem.lines().nth(1).expect("a key line").to_owned();
    assert!(!all.contains(&key_body), "the private key leaked");
    assert!(
        !all.contains(crate::common::SANDBOX_SECRET),
        "the client secret leaked"
    );

    let missing = org.run(&["plan"]);
    assert_eq!(code(&missing), 1);
    assert!(
        stderr(&missing).contains("UMAPI_PRIVATE_KEY"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn tls_is_verified_and_an_extra_ca_bundle_is_trusted() {
    let org = RemoteOrg::quickstart_with(umapi_sandbox::SandboxConfig {
        tls: true,
        ..umapi_sandbox::SandboxConfig::default()
    });
    assert!(org.sandbox().base_url().starts_with("https://"));
    let trusted = org.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&trusted), 2, "{}", stderr(&trusted));

    let config = org.project.read("umapi.yaml");
    let untrusted: String = config
        .lines()
        .filter(|line| !line.contains("ca_bundle"))
        .map(|line| format!("{line}\n"))
        .collect();
    org.project.write("umapi.yaml", &untrusted);
    let refused = org.run(&["plan"]);
    assert_eq!(code(&refused), 1);
    let err = stderr(&refused);
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert!(
        !err.contains("UMAPI_CLIENT_SECRET"),
        "a TLS failure is not blamed on credentials: {err}"
    );
    assert_eq!(org.sandbox().counters().action_requests, 0);
}

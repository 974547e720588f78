//! Adobe's own Python client, unchanged, against the sandbox over HTTPS: `umapi-client==3.0.1`
//! with OAuth and `umapi-client==2.22` with the JWT exchange. Each test installs its client
//! from PyPI into a virtualenv under the target dir (reused when present), runs a script from
//! `tests/python/`, and checks both what the script saw and the state the sandbox ended in.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{small_org, user};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use umapi_sandbox::{EndpointClass, JwtConfig, Sandbox, SandboxConfig, SandboxHandle};

const TECH_ACCT: &str = "0123456789ABCDEF@techacct.adobe.com";

/// The Python of a virtualenv holding `umapi-client==version`, created on first use.
fn venv_python(version: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("python-compat")
        .join(format!("umapi-client-{version}"));
    let python = dir.join("bin").join("python");
    let installed = Command::new(&python)
        .args(["-c", "import umapi_client; print(umapi_client.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if installed.as_deref() == Some(version) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let venv = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&dir)
        .output();
    match venv {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "`python3 -m venv {}` failed; the compatibility test needs Python 3 with the venv module:\n{}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "cannot run python3 ({e}); the compatibility test needs Python 3 with the venv module"
        ),
    }
    let pip = Command::new(dir.join("bin").join("pip"))
        .args([
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
        ])
        .arg(format!("umapi-client=={version}"))
        .output()
        .expect("pip of the new virtualenv runs");
    assert!(
        pip.status.success(),
        "pip could not install umapi-client=={version} from PyPI (is PyPI reachable from this machine?):\n{}",
        String::from_utf8_lossy(&pip.stderr)
    );
    python
}

async fn run_script(
    python: PathBuf,
    script: &str,
    sandbox: &SandboxHandle,
    extra: &[(&str, String)],
) -> Value {
    let ca = sandbox.ca_cert_path().expect("TLS is on").to_path_buf();
    let ims_host = sandbox
        .base_url()
        .trim_start_matches("https://")
        .to_string();
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/python")
            .join(script),
    )
    .env("ORG_ID", sandbox.org_id())
    .env("CLIENT_ID", sandbox.client_id())
    .env("CLIENT_SECRET", sandbox.client_secret().expose())
    .env("IMS_HOST", ims_host)
    .env("UMAPI_ENDPOINT", sandbox.umapi_endpoint())
    .env("CA_BUNDLE", &ca)
    .env("REQUESTS_CA_BUNDLE", &ca)
    .env("NO_PROXY", "127.0.0.1,localhost")
    .env_remove("HTTPS_PROXY")
    .env_remove("https_proxy")
    .env_remove("UMAPI_MOCK");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let output = cmd.output().await.expect("the venv's python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{script} failed:\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}

/// A TLS sandbox whose CA file is its own: the tests run in parallel in one process, and a
/// shared file would let one test trust the other's certificate.
fn tls_config(client: &str) -> SandboxConfig {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-compat");
    std::fs::create_dir_all(&dir).unwrap();
    SandboxConfig {
        tls: true,
        ca_cert_path: Some(dir.join(format!("ca-{}-{client}.pem", std::process::id()))),
        user_page_size: 2,
        group_page_size: 2,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adobe_python_client_3_with_oauth() {
    let python = tokio::task::spawn_blocking(|| venv_python("3.0.1"))
        .await
        .unwrap();
    let sandbox = Sandbox::start(tls_config("v3"), small_org()).await.unwrap();
    let out = run_script(python, "compat_v3.py", &sandbox, &[]).await;

    assert_eq!(out["version"], "3.0.1");
    assert_eq!(
        out["users"],
        json!([
            "ada@example.com",
            "grace@example.com",
            "alan@example.net",
            "edsger@example.com",
            "barbara@example.com"
        ])
    );
    assert_eq!(
        out["user_stats"],
        json!([5, 3, 1, 2]),
        "total, pages, size of the last page, its number"
    );
    assert_eq!(out["pages_fetched"], 3);
    assert_eq!(
        out["ada"],
        json!({"type": "federatedID", "groups": ["Engineering", "_org_admin"], "country": "GB"})
    );
    assert_eq!(out["edsger_by_username"], "edsger@example.com");
    assert_eq!(out["missing_user"], json!({}));
    assert_eq!(out["groups"].as_array().unwrap().len(), 7);
    assert!(
        out["groups"]
            .as_array()
            .unwrap()
            .contains(&json!(["Photoshop - Default", "PRODUCT_PROFILE"]))
    );
    assert_eq!(
        out["engineering"],
        json!(["ada@example.com", "edsger@example.com"])
    );
    assert_eq!(out["all_apps_direct"], json!([]));
    assert_eq!(
        out["all_apps_inherited"],
        json!(["ada@example.com", "edsger@example.com"])
    );
    assert_eq!(out["missing_group_members"], json!([]));

    assert_eq!(out["batch1"], json!([0, 3, 2]), "queued, sent, completed");
    assert_eq!(out["good_errors"], json!([]));
    let bad = &out["bad_errors"][0];
    assert_eq!(bad["errorCode"], "error.group.not_found");
    assert_eq!(bad["command"], json!({"add": {"group": ["No Such Group"]}}));
    assert_eq!(bad["target"]["user"], "barbara@example.com");
    assert_eq!(out["batch2"], json!([0, 3, 3]));
    assert_eq!(out["batch2_errors"], json!([]));
    assert_eq!(
        out["research_members"],
        json!(["barbara@example.com", "py.new@example.com"])
    );
    assert!(
        !out["users_after"]
            .as_array()
            .unwrap()
            .contains(&json!("alan@example.net"))
    );

    let state = sandbox.state();
    let new = user(&state, "py.new@example.com").expect("created");
    assert_eq!(new.identity_type.as_str(), "federatedID");
    assert_eq!(new.country.as_deref(), Some("US"));
    assert_eq!(
        new.groups,
        ["Visual Design", "Photoshop - Default", "Research"]
    );
    assert_eq!(
        user(&state, "grace@example.com").unwrap().groups,
        ["Photoshop - Default", "Engineering"]
    );
    let research = state
        .user_groups
        .iter()
        .find(|g| g.name == "Research")
        .unwrap();
    assert_eq!(
        (research.description.as_deref(), research.profiles.clone()),
        (Some("Thinkers"), vec!["All Apps - Default".to_string()])
    );
    let renamed = state.user_groups.iter().find(|g| g.group_id == 12).unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.description.as_deref()),
        ("Visual Design", Some("Pixels"))
    );
    assert!(user(&state, "alan@example.net").is_none());
    let counters = sandbox.counters();
    assert_eq!(
        counters.by_endpoint["token"], 1,
        "one token for the whole run"
    );
    assert_eq!(counters.action_requests, 2);
    let umapi_calls: Vec<_> = sandbox
        .request_log()
        .into_iter()
        .filter(|e| e.endpoint != EndpointClass::Token)
        .collect();
    assert!(umapi_calls.len() > 10);
    assert!(
        umapi_calls.iter().all(|e| e.request_id.is_some()),
        "the client sends X-Request-Id"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adobe_python_client_2_with_jwt() {
    let python = tokio::task::spawn_blocking(|| venv_python("2.22"))
        .await
        .unwrap();
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("private.key");
    std::fs::write(
        &key_file,
        key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    let config = SandboxConfig {
        jwt: Some(JwtConfig {
            technical_account_id: TECH_ACCT.into(),
            public_key_pem: key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        }),
        ..tls_config("v2")
    };
    let sandbox = Sandbox::start(config, small_org()).await.unwrap();
    let extra = [
        ("TECH_ACCT", TECH_ACCT.to_string()),
        ("PRIVATE_KEY_FILE", key_file.display().to_string()),
    ];
    let out = run_script(python, "compat_v2.py", &sandbox, &extra).await;

    assert_eq!(out["version"], "2.22");
    assert_eq!(out["users"].as_array().unwrap().len(), 5);
    assert_eq!(out["user_stats"], json!([5, 3, 1, 2]));
    assert_eq!(out["grace"], "enterpriseID");
    assert_eq!(out["missing_user"], json!({}));
    assert_eq!(out["groups"].as_array().unwrap().len(), 7);
    assert_eq!(out["design"], json!(["grace@example.com"]));
    assert_eq!(out["batch1"], json!([0, 3, 2]));
    assert_eq!(
        out["adobe_errors"],
        json!([{"errorCode": "error.update.adobeid.no", "command": {"update": {"firstname": "Alan"}}}])
    );
    assert_eq!(out["batch2"], json!([0, 2, 2]));
    assert_eq!(out["batch2_errors"], json!([]));
    assert_eq!(out["research_members"], json!(["py2.new@example.com"]));

    let state = sandbox.state();
    let new = user(&state, "py2.new@example.com").expect("created");
    assert_eq!(new.groups, ["Photoshop - Default", "Research 2"]);
    assert_eq!(
        user(&state, "barbara@example.com").unwrap().groups,
        ["Engineering"],
        "Design was deleted"
    );
    assert!(!state.user_groups.iter().any(|g| g.name == "Design"));
    let research = state
        .user_groups
        .iter()
        .find(|g| g.name == "Research 2")
        .unwrap();
    assert_eq!(research.profiles, ["All Apps - Default"]);
    let c = sandbox.counters();
    assert_eq!(c.by_endpoint["token"], 1);
    assert_eq!(
        c.by_endpoint_status["token"][&200], 1,
        "the JWT exchange succeeded"
    );
    sandbox.shutdown().await;
}

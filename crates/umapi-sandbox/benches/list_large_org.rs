//! How fast the sandbox lists a 100,000-user org: every page over HTTP on loopback, the way
//! a client reads it. Prints figures; asserts only that every user came back.
//!
//! `cargo bench -p umapi-sandbox --bench list_large_org` (USERS=N to change the size).
#![allow(clippy::print_stdout)]

use std::time::Instant;

use umapi_core::wire::UsersPage;
use umapi_sandbox::{Sandbox, SandboxConfig, generate};

async fn list_all(
    client: &reqwest::Client,
    base: &str,
    org: &str,
    token: &str,
    client_id: &str,
    query: &str,
) -> (usize, usize, u64) {
    let (mut users, mut pages, mut bytes) = (0usize, 0usize, 0u64);
    for page in 0.. {
        let body = client
            .get(format!("{base}/users/{org}/{page}{query}"))
            .bearer_auth(token)
            .header("x-api-key", client_id)
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("body");
        bytes += body.len() as u64;
        let parsed: UsersPage = serde_json::from_slice(&body).expect("a users page");
        users += parsed.users.len();
        pages += 1;
        if parsed.last_page {
            break;
        }
    }
    (users, pages, bytes)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    let org = generate::org(&generate::OrgSpec {
        users: n,
        user_groups: 200,
        profiles: 40,
        seed: 1,
    });
    println!(
        "generate {n} users, 200 user groups, 40 profiles: {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let sandbox = Sandbox::start(SandboxConfig::default(), org)
        .await
        .expect("sandbox starts");
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .post(format!("{}/ims/token/v2", sandbox.ims_host()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret().expose()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();

    for (label, query) in [
        ("directOnly=true ", ""),
        ("directOnly=false", "?directOnly=false"),
        ("excludeGroups   ", "?excludeGroups=true"),
    ] {
        let mut best = f64::MAX;
        let mut last = (0, 0, 0);
        for _ in 0..3 {
            let t = Instant::now();
            last = list_all(
                &client,
                &sandbox.umapi_endpoint(),
                sandbox.org_id(),
                &token,
                sandbox.client_id(),
                query,
            )
            .await;
            best = best.min(t.elapsed().as_secs_f64());
        }
        let (users, pages, bytes) = last;
        assert_eq!(users, n, "every user listed");
        println!(
            "list all users, {label}: {users} users in {pages} pages, {:.1} MB, best of 3: {:.3} s ({:.0} users/s, {:.1} ms/page)",
            bytes as f64 / 1e6,
            best,
            users as f64 / best,
            best * 1000.0 / pages as f64
        );
    }

    let group = "Engineering";
    let t2 = Instant::now();
    let mut in_group = 0;
    for page in 0.. {
        let body: UsersPage = client
            .get(format!(
                "{}/users/{}/{page}/{group}",
                sandbox.umapi_endpoint(),
                sandbox.org_id()
            ))
            .bearer_auth(&token)
            .header("x-api-key", sandbox.client_id())
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("page");
        in_group += body.users.len();
        if body.last_page {
            break;
        }
    }
    println!(
        "list members of one user group: {in_group} users in {:.3} s",
        t2.elapsed().as_secs_f64()
    );
    // Action throughput: 10 entries per request, each adding or removing one membership.
    let emails: Vec<String> = sandbox
        .state()
        .users
        .iter()
        .take(1000)
        .map(|u| u.email.clone())
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    for persist in [false, true] {
        if persist {
            sandbox
                .persist_to(dir.path().join("org.json"))
                .expect("persist");
        }
        let requests = if persist { 10 } else { 100 };
        let t = Instant::now();
        for r in 0..requests {
            let entries: Vec<serde_json::Value> = (0..10)
                .map(|i| {
                    let step = if r % 2 == 0 { "add" } else { "remove" };
                    // odd requests undo the even ones, so every request changes the org
                    serde_json::json!({"user": emails[((r / 2) * 10 + i) % emails.len()], "do": [{step: {"group": ["Design"]}}]})
                })
                .collect();
            let resp: serde_json::Value = client
                .post(format!(
                    "{}/action/{}",
                    sandbox.umapi_endpoint(),
                    sandbox.org_id()
                ))
                .bearer_auth(&token)
                .header("x-api-key", sandbox.client_id())
                .json(&entries)
                .send()
                .await
                .expect("action")
                .json()
                .await
                .expect("action JSON");
            assert_eq!(resp["result"], "success", "{resp}");
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "action requests (10 entries) on a {n}-user org, state file {}: {requests} in {secs:.3} s ({:.1} ms/request)",
            if persist { "on " } else { "off" },
            secs * 1000.0 / requests as f64
        );
        if persist {
            let size = std::fs::metadata(dir.path().join("org.json"))
                .expect("state file")
                .len();
            println!(
                "state file: {:.1} MB, rewritten after every request",
                size as f64 / 1e6
            );
        }
    }

    let c = sandbox.counters();
    println!("requests served: {}", c.requests);
    sandbox.shutdown().await;
}

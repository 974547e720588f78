//! `umapi sandbox` as its own process, used by `umapi` through an `oauth`
//! connection, as any UMAPI client would use it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::{Project, SANDBOX_SECRET, code, stderr, stdout};

/// A running `umapi sandbox`, killed on drop.
struct SandboxProcess {
    child: Child,
    umapi_endpoint: String,
    ims_host: String,
}

impl SandboxProcess {
    fn start(project: &Project) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_umapi"))
            .current_dir(project.path())
            .args(["sandbox", "--state", "org.json", "--seed", "seed-org.json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sandbox");
        let stdout = child.stdout.take().expect("stdout");
        let (mut umapi_endpoint, mut ims_host) = (String::new(), String::new());
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            if let Some(value) = line.strip_prefix("umapi_endpoint: ") {
                umapi_endpoint = value.to_owned();
            }
            if let Some(value) = line.strip_prefix("ims_host: ") {
                ims_host = value.to_owned();
            }
            if line.starts_with("admin API") {
                break;
            }
        }
        assert!(!umapi_endpoint.is_empty() && !ims_host.is_empty());
        Self {
            child,
            umapi_endpoint,
            ims_host,
        }
    }

    fn configure(&self, project: &Project) {
        project.write(
            "umapi.yaml",
            &format!(
                "connection:\n  kind: oauth\n  org_id: \"SANDBOX0000000000000000@AdobeOrg\"\n  \
                 client_id: sandbox-client-id\n  ims_host: {}\n  umapi_endpoint: {}\n  \
                 rate_limits: {{users_per_minute: 100000, groups_per_minute: 100000, actions_per_minute: 100000}}\n",
                self.ims_host, self.umapi_endpoint
            ),
        );
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_standalone_sandbox_serves_umapi_and_keeps_its_state() {
    let project = Project::example("quickstart");
    let run = |args: &[&str]| {
        project
            .umapi(args)
            .env("UMAPI_CLIENT_SECRET", SANDBOX_SECRET)
            .output()
            .expect("run")
    };

    let sandbox = SandboxProcess::start(&project);
    sandbox.configure(&project);
    let apply = run(&["apply", "--auto-approve"]);
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    drop(sandbox);

    // A new sandbox process starts from the state the first one wrote.
    let sandbox = SandboxProcess::start(&project);
    sandbox.configure(&project);
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code(&plan), 0, "{}\n{}", stdout(&plan), stderr(&plan));
    assert!(stdout(&plan).contains("No changes."));
}

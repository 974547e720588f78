//! The audit report as one self-contained HTML page: inline CSS, no script, no
//! external asset, readable on screen and on paper.
//!
//! Every figure is written as `<data value="…" data-key="…">`, where the key is the
//! figure's path in the JSON report (`users.total`, `profiles.3.used`), so a test or
//! a script can check the page against the JSON.

use std::fmt::Write as _;

use super::blocks::{Attr, Block, Sym, blocks_of};
use super::{DRIFT_BLOCKS_SHOWN, POLICY_FINDINGS_SHOWN};
use crate::audit::{Audit, AuditSource, ProfileSeats};
use crate::current::LicenseQuota;

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5f6368; --line: #d9dce1;
  --add: #1a7f37; --remove: #cf222e; --change: #9a6700; --bar: #2f6feb; --over: #cf222e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
  max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
.meta { color: var(--muted); margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .6rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; }
.card data { display: block; font-size: 1.5rem; font-weight: 600; }
.card span { color: var(--muted); font-size: .85rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.share { display: flex; align-items: center; gap: .5rem; white-space: nowrap; }
.bar { flex: 1; height: .8rem; background: #eef0f3; border-radius: 3px; min-width: 8rem; overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--bar); }
.over .bar span { background: var(--over); }
.over td { color: var(--over); }
.note { color: var(--muted); }
.ok { color: var(--add); font-weight: 600; }
.warn { color: var(--remove); font-weight: 600; }
.block { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem; margin: .5rem 0; break-inside: avoid; }
.block h3 { font-size: 1rem; margin: .2rem 0; font-family: ui-monospace, monospace; }
.block p { margin: .2rem 0; color: var(--muted); }
.block ul { margin: .2rem 0; padding-left: 1.2rem; list-style: none; font-family: ui-monospace, monospace; }
.add { color: var(--add); } .remove { color: var(--remove); } .change { color: var(--change); }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  .bar, .bar span { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  h2 { break-after: avoid; }
}
"#;

/// The report as a complete HTML document.
pub fn audit_html(audit: &Audit) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let org = escape(&audit.org_id);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>umapi audit report: {org}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Audit report: {org}</h1>\n<p class=\"meta\">Made {} from {}.</p>\n",
        escape(&audit.generated_at),
        match &audit.source {
            AuditSource::LiveOrg => "the live org".to_owned(),
            AuditSource::Snapshot { file } =>
                format!("the snapshot file <code>{}</code>", escape(file)),
        }
    );
    summary(&mut out, audit);
    seats(&mut out, audit);
    identity_types(&mut out, audit);
    policy(&mut out, audit);
    expiring(&mut out, audit);
    drift(&mut out, audit);
    out.push_str("</body>\n</html>\n");
    out
}

fn summary(out: &mut String, audit: &Audit) {
    out.push_str("<h2>Summary</h2>\n<div class=\"cards\">\n");
    for (key, value, label) in [
        ("users.total", audit.users.total, "users"),
        (
            "groups.user_groups",
            audit.groups.user_groups,
            "user groups",
        ),
        (
            "groups.product_profiles",
            audit.groups.product_profiles,
            "product profiles",
        ),
        (
            "groups.admin_groups",
            audit.groups.admin_groups,
            "admin groups",
        ),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"card\">{}<span>{label}</span></div>",
            figure(key, value)
        );
    }
    for (key, value, label) in [
        (
            "drift.changes.length",
            audit.drift.changes.len(),
            "changes to reach the desired state",
        ),
        (
            "policy.findings.length",
            audit.policy.findings.len(),
            "policy findings",
        ),
        ("expiring.length", audit.expiring.len(), "expiring soon"),
    ] {
        let _ = writeln!(
            out,
            "<div class=\"card\">{}<span>{label}</span></div>",
            figure(key, value as u64)
        );
    }
    out.push_str("</div>\n");
}

fn seats(out: &mut String, audit: &Audit) {
    out.push_str("<h2>Seats per product profile</h2>\n");
    if audit.profiles.is_empty() {
        out.push_str("<p class=\"note\">The org has no product profiles.</p>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">Seats in use are the member counts UMAPI reports for each profile.</p>\n\
         <table>\n<thead><tr><th>Profile</th><th>Product</th><th class=\"num\">Used</th>\
         <th class=\"num\">Quota</th><th>Use of quota</th></tr></thead>\n<tbody>\n",
    );
    for (index, profile) in audit.profiles.iter().enumerate() {
        let used = profile.used.map_or_else(
            || "unknown".to_owned(),
            |n| figure(&format!("profiles.{index}.used"), n),
        );
        let quota = match profile.quota {
            Some(LicenseQuota::Seats(n)) => figure(&format!("profiles.{index}.quota"), n),
            Some(LicenseQuota::Unlimited) => "unlimited".to_owned(),
            None => "unknown".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td class=\"num\">{used}</td><td class=\"num\">{quota}</td><td>{}</td></tr>",
            if profile.over_quota {
                " class=\"over\""
            } else {
                ""
            },
            escape(&profile.name),
            escape(profile.product.as_deref().unwrap_or("")),
            quota_bar(profile),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// A bar of the quota in use, with its percentage; nothing for an unlimited or
/// unknown quota.
fn quota_bar(profile: &ProfileSeats) -> String {
    let Some(percent) = profile.percent_of_quota() else {
        return String::new();
    };
    format!(
        "<div class=\"share\"><div class=\"bar\" role=\"img\" aria-label=\"{percent}% of the quota\">\
         <span style=\"width: {}%\"></span></div> {percent}%{}</div>",
        percent.min(100),
        if profile.over_quota {
            " <strong>over quota</strong>"
        } else {
            ""
        }
    )
}

fn identity_types(out: &mut String, audit: &Audit) {
    out.push_str("<h2>Users per identity type</h2>\n");
    if audit.users.by_type.is_empty() {
        out.push_str("<p class=\"note\">The org has no users.</p>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>Identity type</th><th class=\"num\">Users</th><th>Share</th></tr></thead>\n<tbody>\n",
    );
    let total = audit.users.total.max(1);
    for (identity_type, &count) in &audit.users.by_type {
        let name = identity_type.as_str();
        let percent = count * 100 / total;
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td><div class=\"bar\" role=\"img\" aria-label=\"{percent}% of users\">\
             <span style=\"width: {percent}%\"></span></div></td></tr>",
            escape(name),
            figure(&format!("users.by_type.{name}"), count),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn policy(out: &mut String, audit: &Audit) {
    out.push_str("<h2>Policy</h2>\n");
    let policy = &audit.policy;
    if policy.rules.is_empty() {
        out.push_str(
            "<p class=\"note\">The state files set no <code>settings.policy</code>.</p>\n",
        );
        return;
    }
    let rules: Vec<String> = policy
        .rules
        .iter()
        .map(|rule| format!("<code>{}</code>", escape(rule)))
        .collect();
    if policy.findings.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"ok\">The org keeps every rule ({}).</p>",
            rules.join(", ")
        );
        return;
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">The org as it is now, held to the rules ({}); direct memberships only.</p>\n\
         <table>\n<thead><tr><th>Rule</th><th>User or group</th><th>Finding</th></tr></thead>\n<tbody>",
        rules.join(", ")
    );
    for finding in policy.findings.iter().take(POLICY_FINDINGS_SHOWN) {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&finding.rule),
            escape(&finding.subject),
            escape(&finding.message)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    if policy.findings.len() > POLICY_FINDINGS_SHOWN {
        let _ = writeln!(
            out,
            "<p class=\"note\">… and {} more; the JSON report (<code>--format json</code>) lists every finding.</p>",
            policy.findings.len() - POLICY_FINDINGS_SHOWN
        );
    }
}

fn expiring(out: &mut String, audit: &Audit) {
    let _ = writeln!(
        out,
        "<h2>Expiring within {} days</h2>",
        figure(
            "expiring_within_days",
            u64::from(audit.expiring_within_days)
        )
    );
    if audit.expiring.is_empty() {
        out.push_str("<p class=\"note\">No user or membership ends within the window.</p>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>User</th><th>Leaves</th><th>Last day</th>\
         <th class=\"num\">Days left</th></tr></thead>\n<tbody>\n",
    );
    for (index, expiring) in audit.expiring.iter().enumerate() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            escape(&expiring.user),
            escape(expiring.group.as_deref().unwrap_or("the org")),
            escape(&expiring.until),
            figure(
                &format!("expiring.{index}.days_left"),
                u64::try_from(expiring.days_left).unwrap_or(0)
            ),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn drift(out: &mut String, audit: &Audit) {
    out.push_str("<h2>Drift from the desired state</h2>\n");
    let drift = &audit.drift;
    if drift.in_sync {
        out.push_str("<p class=\"ok\">The org matches the desired state.</p>\n");
        return;
    }
    let s = &drift.summary;
    let _ = writeln!(
        out,
        "<p>Applying the desired state would add {}, change {} and remove {}.</p>",
        figure("drift.summary.to_add", s.to_add),
        figure("drift.summary.to_change", s.to_change),
        figure("drift.summary.to_remove", s.to_remove),
    );
    for blocked in &drift.blocked {
        let _ = writeln!(
            out,
            "<p class=\"warn\">Blocked by the safety limit {}: {} planned, {} allowed.</p>",
            escape(&blocked.setting),
            blocked.planned,
            blocked.allowed
        );
    }
    let blocks = blocks_of(&drift.changes);
    for block in blocks.iter().take(DRIFT_BLOCKS_SHOWN) {
        block_html(out, block);
    }
    if blocks.len() > DRIFT_BLOCKS_SHOWN {
        let _ = writeln!(
            out,
            "<p class=\"note\">… and {} more objects; the JSON report (<code>--format json</code>) lists every change.</p>",
            blocks.len() - DRIFT_BLOCKS_SHOWN
        );
    }
}

fn block_html(out: &mut String, block: &Block) {
    let _ = write!(
        out,
        "<div class=\"block\">\n<h3 class=\"{}\">{} {}</h3>\n<p>{}</p>\n<ul>\n",
        class(block.sym),
        block.sym.char(),
        escape(&block.header),
        escape(block.comment.trim_start_matches("# ")),
    );
    for attr in &block.attrs {
        match attr {
            Attr::Value { sym, name, value } => line(out, *sym, &format!("{name} = {value}")),
            Attr::Changed { name, old, new } => {
                line(out, Sym::Change, &format!("{name} = {old} -> {new}"))
            }
            Attr::List { name, items, .. } => {
                for (sym, item, _) in items {
                    line(out, *sym, &format!("{name}: {item}"));
                }
            }
        }
    }
    out.push_str("</ul>\n</div>\n");
}

fn line(out: &mut String, sym: Sym, text: &str) {
    let _ = writeln!(
        out,
        "<li class=\"{}\">{} {}</li>",
        class(sym),
        sym.char(),
        escape(text)
    );
}

fn class(sym: Sym) -> &'static str {
    match sym {
        Sym::Add => "add",
        Sym::Change => "change",
        Sym::Remove => "remove",
    }
}

/// A figure the page shows, tagged with its path in the JSON report.
fn figure(key: &str, value: u64) -> String {
    format!(
        "<data value=\"{value}\" data-key=\"{}\">{value}</data>",
        escape(key)
    )
}

/// Names come from YAML and the org: none may open an element or an attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn names_cannot_open_markup() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}

//! The audit report in Markdown, for a wiki page, an issue or a job summary.

use std::fmt::Write as _;

use super::blocks::blocks_of;
use super::markdown::{diff_lines, escape};
use super::{DRIFT_BLOCKS_SHOWN, POLICY_FINDINGS_SHOWN};
use crate::audit::{Audit, AuditSource};
use crate::current::LicenseQuota;

/// The report as Markdown.
pub fn audit_markdown(audit: &Audit) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Audit report: {}\n", escape(&audit.org_id));
    let source = match &audit.source {
        AuditSource::LiveOrg => "the live org".to_owned(),
        AuditSource::Snapshot { file } => format!("the snapshot file `{}`", escape(file)),
    };
    let _ = writeln!(out, "Made {} from {source}.\n", audit.generated_at);

    let _ = writeln!(out, "## Summary\n\n| | count |\n|---|---:|");
    for (label, count) in [
        ("Users", audit.users.total),
        ("User groups", audit.groups.user_groups),
        ("Product profiles", audit.groups.product_profiles),
        ("Admin groups", audit.groups.admin_groups),
        (
            "Changes to reach the desired state",
            audit.drift.changes.len() as u64,
        ),
        ("Policy findings", audit.policy.findings.len() as u64),
        ("Expiring soon", audit.expiring.len() as u64),
    ] {
        let _ = writeln!(out, "| {label} | {count} |");
    }

    let _ = writeln!(out, "\n## Seats per product profile\n");
    if audit.profiles.is_empty() {
        let _ = writeln!(out, "The org has no product profiles.");
    } else {
        let _ = writeln!(
            out,
            "Seats in use are the member counts UMAPI reports for each profile.\n\n\
             | Profile | Product | Used | Quota | Use of quota |\n|---|---|---:|---:|---|"
        );
        for profile in &audit.profiles {
            let used = profile.used.map_or("unknown".to_owned(), |n| n.to_string());
            let quota = match profile.quota {
                Some(LicenseQuota::Seats(quota)) => quota.to_string(),
                Some(LicenseQuota::Unlimited) => "unlimited".to_owned(),
                None => "unknown".to_owned(),
            };
            let share = profile.percent_of_quota().map_or(String::new(), |percent| {
                let over = if profile.over_quota {
                    " **over quota**"
                } else {
                    ""
                };
                format!("{percent}%{over}")
            });
            let _ = writeln!(
                out,
                "| {} | {} | {used} | {quota} | {share} |",
                escape(&profile.name),
                escape(profile.product.as_deref().unwrap_or(""))
            );
        }
    }

    let _ = writeln!(out, "\n## Users per identity type\n");
    if audit.users.by_type.is_empty() {
        let _ = writeln!(out, "The org has no users.");
    } else {
        let _ = writeln!(out, "| Identity type | Users |\n|---|---:|");
        for (identity_type, count) in &audit.users.by_type {
            let name = identity_type.as_str();
            let _ = writeln!(out, "| {name} | {count} |");
        }
    }

    policy(&mut out, audit);
    expiring(&mut out, audit);

    let _ = writeln!(out, "\n## Drift from the desired state\n");
    let drift = &audit.drift;
    if drift.in_sync {
        let _ = writeln!(out, "The org matches the desired state.");
        return out;
    }
    let s = &drift.summary;
    let _ = writeln!(
        out,
        "Applying the desired state would add {}, change {} and remove {}.\n",
        s.to_add, s.to_change, s.to_remove
    );
    for blocked in &drift.blocked {
        let _ = writeln!(
            out,
            "**Blocked by the safety limit `{}`:** {} planned, {} allowed.\n",
            escape(&blocked.setting),
            blocked.planned,
            blocked.allowed
        );
    }
    let blocks = blocks_of(&drift.changes);
    let mut lines = Vec::new();
    for block in blocks.iter().take(DRIFT_BLOCKS_SHOWN) {
        diff_lines(block, &mut lines);
    }
    let _ = writeln!(out, "```diff");
    for line in lines {
        let _ = writeln!(out, "{}", line.replace("```", "'''"));
    }
    let _ = writeln!(out, "```");
    if blocks.len() > DRIFT_BLOCKS_SHOWN {
        let _ = writeln!(
            out,
            "\n… and {} more objects; the JSON report (`--format json`) lists every change.",
            blocks.len() - DRIFT_BLOCKS_SHOWN
        );
    }
    out
}

fn policy(out: &mut String, audit: &Audit) {
    let _ = writeln!(out, "\n## Policy\n");
    let policy = &audit.policy;
    if policy.rules.is_empty() {
        let _ = writeln!(out, "The state files set no `settings.policy`.");
        return;
    }
    let rules: Vec<String> = policy.rules.iter().map(|r| format!("`{r}`")).collect();
    if policy.findings.is_empty() {
        let _ = writeln!(out, "The org keeps every rule ({}).", rules.join(", "));
        return;
    }
    let _ = writeln!(
        out,
        "The org as it is now, held to the rules ({}); direct memberships only.\n\n\
         | Rule | User or group | Finding |\n|---|---|---|",
        rules.join(", ")
    );
    for finding in policy.findings.iter().take(POLICY_FINDINGS_SHOWN) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            finding.rule,
            escape(&finding.subject),
            escape(&finding.message)
        );
    }
    if policy.findings.len() > POLICY_FINDINGS_SHOWN {
        let _ = writeln!(
            out,
            "\n… and {} more; the JSON report (`--format json`) lists every finding.",
            policy.findings.len() - POLICY_FINDINGS_SHOWN
        );
    }
}

fn expiring(out: &mut String, audit: &Audit) {
    let _ = writeln!(
        out,
        "\n## Expiring within {} days\n",
        audit.expiring_within_days
    );
    if audit.expiring.is_empty() {
        let _ = writeln!(out, "No user or membership ends within the window.");
        return;
    }
    let _ = writeln!(
        out,
        "| User | Leaves | Last day | Days left |\n|---|---|---|---:|"
    );
    for expiring in &audit.expiring {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            escape(&expiring.user),
            escape(expiring.group.as_deref().unwrap_or("the org")),
            expiring.until,
            expiring.days_left
        );
    }
}

//! The audit report in Markdown, for a wiki page, an issue or a job summary.

use std::fmt::Write as _;

use super::DRIFT_BLOCKS_SHOWN;
use super::blocks::blocks_of;
use super::markdown::{diff_lines, escape};
use crate::audit::{Audit, AuditSource};
use crate::snapshot::LicenseQuota;

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

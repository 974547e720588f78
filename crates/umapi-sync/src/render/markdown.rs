//! Markdown rendering of a plan for a pull-request comment: summary first,
//! destructive changes called out, details collapsed, always under GitHub's
//! 65,536-character comment limit.

use std::fmt::Write as _;

use super::blocks::{Attr, Block, Note, Sym, blocks};
use super::text::{blocked_lines, estimate_line, override_lines};
use crate::plan::Plan;

/// The rendering never exceeds this many characters (GitHub's comment limit is 65,536).
pub const MARKDOWN_LIMIT: usize = 65_000;

/// Destructive lines listed before the details are cut after this many.
const DESTRUCTIVE_LINES: usize = 50;

/// `  # state/users.yaml#L12` after a line of the diff, when the note says anything.
fn trailing(note: &Note) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!("  # {}", note.text(true))
    }
}

pub(super) fn diff_lines(block: &Block, out: &mut Vec<String>) {
    out.push(format!(
        "{} {}{}",
        block.sym.char(),
        block.header,
        trailing(&block.note)
    ));
    for attr in &block.attrs {
        match attr {
            Attr::Value { sym, name, value } => {
                out.push(format!("{}     {name} = {value}", sym.char()))
            }
            Attr::Changed { name, old, new } => out.push(format!("!     {name} = {old} -> {new}")),
            Attr::List { name, items, .. } => {
                for (sym, item, note) in items {
                    out.push(format!(
                        "{}     {name}: {item}{}",
                        sym.char(),
                        trailing(note)
                    ));
                }
            }
        }
    }
}

/// ` (until 2026-01-31 passed, state/users.yaml#L9)` after a line of prose.
fn why(note: &Note) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!(" ({})", escape(&note.text(true)))
    }
}

/// Keeps names (which come from YAML and the org) from breaking the Markdown:
/// inline code, tables and HTML.
pub(super) fn escape(s: &str) -> String {
    s.replace('`', "'")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders the plan as a pull-request comment.
pub fn markdown(plan: &Plan) -> String {
    markdown_for(plan, None, "umapi")
}

/// Renders the plan as a pull-request comment whose header names the org and, when
/// given, the configuration file it was planned with: a repository that manages
/// several orgs (or one org with several configurations) gets one comment for each,
/// and a reader can tell them apart. Hints run umapi as `umapi` (e.g.
/// `umapi -c orgs/eu.yaml`).
pub fn markdown_for(plan: &Plan, config: Option<&str>, umapi: &str) -> String {
    let mut head = String::new();
    let s = &plan.summary;
    let origin = match config {
        Some(config) => format!(
            "Org `{}`, configuration `{}`\n",
            escape(&plan.org_id),
            escape(config)
        ),
        None => format!("Org `{}`\n", escape(&plan.org_id)),
    };
    let partial = match plan.partial_note() {
        Some(note) => format!("> [!IMPORTANT]\n> **{}**\n\n", escape(&note)),
        None => String::new(),
    };
    if !plan.has_changes() {
        let _ = writeln!(
            head,
            "### umapi plan{}: no changes\n",
            if plan.targets.is_empty() {
                ""
            } else {
                " (PARTIAL)"
            }
        );
        let _ = writeln!(head, "{origin}");
        head.push_str(&partial);
        let _ = writeln!(
            head,
            "{}\n",
            if plan.targets.is_empty() {
                "No changes. The organization matches the configuration."
            } else {
                "No changes for the targets of this PARTIAL plan."
            }
        );
    } else {
        let _ = writeln!(
            head,
            "### umapi plan{}{}: {} to add, {} to change, {} to remove\n",
            if plan.targets.is_empty() {
                ""
            } else {
                " (PARTIAL)"
            },
            if plan.is_blocked() { " (BLOCKED)" } else { "" },
            s.to_add,
            s.to_change,
            s.to_remove
        );
        let _ = writeln!(head, "{origin}");
        head.push_str(&partial);
        if plan.is_blocked() {
            let _ = writeln!(
                head,
                "> [!CAUTION]\n> **BLOCKED: this plan goes over a safety limit; nothing will be sent.**"
            );
            for line in blocked_lines(plan, umapi) {
                let indent = if line.starts_with(' ') { "  " } else { "" };
                let _ = writeln!(head, "> {indent}- {}", escape(line.trim_start()));
            }
            head.push('\n');
        }
        let _ = writeln!(head, "| | count |\n|---|---:|");
        let rows: [(&str, u64); 11] = [
            ("User groups created", s.groups_created),
            ("User groups renamed", s.groups_renamed),
            ("User groups deleted", s.groups_deleted),
            ("Users created", s.users_created),
            ("Users updated", s.users_updated),
            ("Users renamed", s.users_renamed),
            ("Users removed from the org", s.users_removed),
            ("Users deleted", s.users_deleted),
            ("Memberships added", s.memberships_added),
            ("Memberships removed", s.memberships_removed),
            ("Write-only fields sent", s.reasserted),
        ];
        for (label, count) in rows {
            if count > 0 {
                let _ = writeln!(head, "| {label} | {count} |");
            }
        }
        let _ = writeln!(head, "\n{}\n", escape(&estimate_line(plan)));
    }

    let all = blocks(plan);
    let destructive: Vec<String> = all
        .iter()
        .filter(|b| b.destructive)
        .flat_map(|b| {
            let mut lines = Vec::new();
            if b.sym == Sym::Remove {
                lines.push(format!("- {}{}", escape(&b.comment), why(&b.note)));
            } else {
                for attr in &b.attrs {
                    if let Attr::List { items, .. } = attr {
                        for (sym, item, note) in items {
                            if *sym == Sym::Remove {
                                lines.push(format!(
                                    "- remove {item} from {}{}",
                                    escape(&b.header),
                                    why(note)
                                ));
                            }
                        }
                    }
                }
            }
            lines
        })
        .collect();
    if !destructive.is_empty() {
        let _ = writeln!(
            head,
            "> [!CAUTION]\n> **Destructive changes ({}):**",
            destructive.len()
        );
        for line in destructive.iter().take(DESTRUCTIVE_LINES) {
            let _ = writeln!(head, "> {line}");
        }
        if destructive.len() > DESTRUCTIVE_LINES {
            let _ = writeln!(
                head,
                "> - … and {} more (see the details below)",
                destructive.len() - DESTRUCTIVE_LINES
            );
        }
        head.push('\n');
    }
    if !plan.overrides.is_empty() {
        let _ = writeln!(
            head,
            "> [!WARNING]\n> **Safety limits overridden for this plan (`--allow`):**"
        );
        for line in override_lines(plan) {
            let _ = writeln!(head, "> - {}", escape(&line));
        }
        head.push('\n');
    }
    let warnings: Vec<String> = plan.warnings.iter().map(|w| escape(w)).collect();
    callout(&mut head, "WARNING", "Not changed by this plan", &warnings);
    let expiring: Vec<String> = plan
        .expiring
        .iter()
        .map(|e| escape(&e.to_string()))
        .collect();
    callout(&mut head, "NOTE", "Access ending soon", &expiring);
    if !plan.licences.is_empty() {
        let _ = writeln!(
            head,
            "**Licences** (seats used now → after this plan, of the quota):\n\n\
             | Product profile | Now | After | Quota | |\n|---|---:|---:|---:|---|"
        );
        for licence in &plan.licences {
            let _ = writeln!(
                head,
                "| {} | {} | {} | {} | {} |",
                escape(&licence.profile),
                licence.now,
                licence.after,
                super::licences::quota_text(licence),
                super::licences::note(licence).unwrap_or_default()
            );
        }
        head.push('\n');
    }

    let mut tail = String::new();
    if !plan.not_verifiable.is_empty() {
        let _ = writeln!(
            tail,
            "<details><summary>Not verifiable through the API ({})</summary>\n",
            plan.not_verifiable.len()
        );
        for item in &plan.not_verifiable {
            let _ = writeln!(
                tail,
                "- user group `{}`: {} = `{}`",
                escape(&item.group),
                item.field,
                escape(&item.value)
            );
        }
        let _ = writeln!(
            tail,
            "\nUMAPI cannot read these back: they are sent on create and when they change.\n\n</details>"
        );
    }

    let mut details = String::new();
    if !all.is_empty() {
        let mut lines = Vec::new();
        for block in &all {
            diff_lines(block, &mut lines);
        }
        // A name holding a code fence must not end the code block early.
        for line in &mut lines {
            if line.contains("```") {
                *line = line.replace("```", "'''");
            }
        }
        let open = format!(
            "<details><summary>All changes ({} objects)</summary>\n\n```diff\n",
            all.len()
        );
        let close = "```\n\n</details>\n\n";
        let note_room = 200;
        let budget = MARKDOWN_LIMIT
            .saturating_sub(head.len() + tail.len() + open.len() + close.len() + note_room);
        let mut body = String::new();
        let mut shown = 0;
        for line in &lines {
            if body.len() + line.len() + 1 > budget {
                break;
            }
            body.push_str(line);
            body.push('\n');
            shown += 1;
        }
        details.push_str(&open);
        details.push_str(&body);
        if shown < lines.len() {
            let _ = writeln!(
                details,
                "… truncated: {} more lines. The full plan is in the job log and the JSON plan.",
                lines.len() - shown
            );
        }
        details.push_str(close);
    }

    let mut out = head;
    out.push_str(&details);
    out.push_str(&tail);
    if out.len() > MARKDOWN_LIMIT {
        // Only the head can still be too long (huge warnings); cut it at a line.
        let mut cut = MARKDOWN_LIMIT - 100;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = out[..cut].rfind('\n').unwrap_or(cut);
        out.truncate(cut);
        out.push_str("\n\n… truncated to fit a comment.\n");
    }
    out
}

/// A GitHub callout (`> [!KIND]`) titled with the count, listing the first
/// [`DESTRUCTIVE_LINES`] lines; nothing when there are none.
fn callout(out: &mut String, kind: &str, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "> [!{kind}]\n> **{title} ({}):**", lines.len());
    for line in lines.iter().take(DESTRUCTIVE_LINES) {
        let _ = writeln!(out, "> - {line}");
    }
    if lines.len() > DESTRUCTIVE_LINES {
        let _ = writeln!(out, "> - … and {} more", lines.len() - DESTRUCTIVE_LINES);
    }
    out.push('\n');
}

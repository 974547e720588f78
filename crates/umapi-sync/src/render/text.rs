//! Terraform-like text rendering of a plan.

use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

use super::blocks::{Attr, Block, Note, Sym, blocks, quote};
use crate::plan::{ChangeKind, LimitSource, Plan};

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const UNDERLINE: &str = "\x1b[4m";
const DIM: &str = "\x1b[2m";

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn sym(&self, sym: Sym) -> String {
        let code = match sym {
            Sym::Add => GREEN,
            Sym::Change => YELLOW,
            Sym::Remove => RED,
        };
        self.paint(code, &sym.char().to_string())
    }

    /// `old -> new`, with the changed characters underlined when colouring.
    fn changed(&self, old: &str, new: &str) -> String {
        if !self.color {
            return format!("{old} -> {new}");
        }
        let diff = TextDiff::from_chars(old, new);
        let (mut left, mut right) = (String::new(), String::new());
        for change in diff.iter_all_changes() {
            let value = change.value();
            match change.tag() {
                ChangeTag::Equal => {
                    left.push_str(value);
                    right.push_str(value);
                }
                ChangeTag::Delete => left.push_str(&format!("{RED}{UNDERLINE}{value}{RESET}")),
                ChangeTag::Insert => right.push_str(&format!("{GREEN}{UNDERLINE}{value}{RESET}")),
            }
        }
        format!("{left} -> {right}")
    }
}

/// Where a change comes from, as a trailing comment: short, and dim when
/// colouring, so the plan reads as before and the line is there to follow.
fn write_note(out: &mut String, note: &Note, style: &Style) {
    if !note.is_empty() {
        let _ = write!(
            out,
            "  {}",
            style.paint(DIM, &format!("# {}", note.text(false)))
        );
    }
}

fn write_block(out: &mut String, block: &Block, style: &Style) {
    let _ = writeln!(
        out,
        "  {}",
        style.paint(BOLD, &format!("# {}", block.comment))
    );
    let _ = write!(out, "  {} {} {{", style.sym(block.sym), block.header);
    write_note(out, &block.note, style);
    out.push('\n');
    let width = block
        .attrs
        .iter()
        .map(|a| match a {
            Attr::Value { name, .. } | Attr::List { name, .. } => name.len(),
            Attr::Changed { name, .. } => name.len(),
        })
        .max()
        .unwrap_or(0);
    for attr in &block.attrs {
        match attr {
            Attr::Value { sym, name, value } => {
                let _ = writeln!(out, "      {} {name:<width$} = {value}", style.sym(*sym));
            }
            Attr::Changed { name, old, new } => {
                let _ = writeln!(
                    out,
                    "      {} {name:<width$} = {}",
                    style.sym(Sym::Change),
                    style.changed(old, new)
                );
            }
            Attr::List { sym, name, items } => {
                let _ = writeln!(out, "      {} {name:<width$} = [", style.sym(*sym));
                for (item_sym, item, note) in items {
                    let _ = write!(out, "          {} {item},", style.sym(*item_sym));
                    write_note(out, note, style);
                    out.push('\n');
                }
                let _ = writeln!(out, "        ]");
            }
        }
    }
    let _ = writeln!(out, "    }}");
}

/// The summary line: `Plan: X to add, Y to change, Z to remove.`
pub(crate) fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    format!(
        "Plan: {} to add, {} to change, {} to remove.",
        s.to_add, s.to_change, s.to_remove
    )
}

/// The request estimate in one sentence.
/// The summary's reminder that a partial plan leaves the rest of the drift.
pub(crate) fn partial_line(plan: &Plan) -> String {
    format!("PARTIAL plan, limited to {}.", plan.target_list())
}

pub(crate) fn estimate_line(plan: &Plan) -> String {
    let e = &plan.estimate;
    let phases = plan.phases.len();
    let rate = match e.action_requests_per_minute {
        Some(rate) if e.duration_seconds > 0.0 => format!(
            ", about {} of waiting at {rate} requests per minute",
            format_duration(e.duration_seconds)
        ),
        Some(rate) => format!(", no waiting at {rate} requests per minute"),
        None => String::new(),
    };
    format!(
        "{} action request{} ({} entries) in {phases} phase{} (lower bound {}){rate}.",
        e.requests,
        if e.requests == 1 { "" } else { "s" },
        e.entries,
        if phases == 1 { "" } else { "s" },
        e.lower_bound_requests,
    )
}

/// Seconds as `42 s`, `6 min 30 s` or `2 h 5 min`.
pub(crate) fn format_duration(seconds: f64) -> String {
    let total = seconds.round() as u64;
    match total {
        t if t < 60 => format!("{t} s"),
        t if t < 3600 => {
            if t % 60 == 0 {
                format!("{} min", t / 60)
            } else {
                format!("{} min {} s", t / 60, t % 60)
            }
        }
        t => format!("{} h {} min", t / 3600, (t % 3600) / 60),
    }
}

/// The safety limits the plan goes over, and how to go ahead, as lines (without
/// the heading): shared by the text and Markdown renderings. `umapi` is the
/// command the hint runs (`umapi`, or `umapi -c FILE`), ready to paste.
pub(crate) fn blocked_lines(plan: &Plan, umapi: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for blocked in &plan.blocked {
        let source = match blocked.source {
            LimitSource::Default => "the default",
            LimitSource::Settings => "set in settings.limits",
            LimitSource::Override => "given with --allow",
        };
        lines.push(format!(
            "{} = {}, {source}: {} {}, {} allowed (of {} {})",
            blocked.limit,
            blocked.setting,
            blocked.planned,
            blocked.limit.counted(),
            blocked.allowed,
            blocked.total,
            blocked.limit.total_of(),
        ));
        let mut affected = blocked.affected.join(", ");
        if blocked.more > 0 {
            affected.push_str(&format!(", … and {} more", blocked.more));
        }
        lines.push(format!("  affected: {affected}"));
    }
    let allow: Vec<String> = plan
        .blocked
        .iter()
        .map(|b| format!("--allow {}={}", b.limit, b.planned))
        .collect();
    lines.push(
        "If this is intended, raise the limit under settings.limits in the state files, \
         or override it for this plan once it is reviewed:"
            .to_owned(),
    );
    lines.push(format!(
        "  {umapi} plan {}  (the same on apply)",
        allow.join(" ")
    ));
    lines
}

/// The overrides the plan was made with, one line each.
pub(crate) fn override_lines(plan: &Plan) -> Vec<String> {
    plan.overrides
        .iter()
        .map(|o| {
            format!(
                "{} = {} instead of {}: {} {}, {} allowed (of {} {})",
                o.limit,
                o.value,
                o.instead_of,
                o.planned,
                o.limit.counted(),
                if o.allowed == u64::MAX {
                    "any number".to_owned()
                } else {
                    o.allowed.to_string()
                },
                o.total,
                o.limit.total_of(),
            )
        })
        .collect()
}

/// Renders the plan like Terraform. ANSI colour only when `color` is true.
pub fn text(plan: &Plan, color: bool) -> String {
    text_for(plan, color, "umapi")
}

/// [`text`], with hints that run umapi as `umapi` (e.g. `umapi -c orgs/eu.yaml`),
/// so that they work when pasted.
pub fn text_for(plan: &Plan, color: bool, umapi: &str) -> String {
    render(
        plan,
        color,
        "umapi will perform the following actions:",
        umapi,
    )
}

/// [`text_for`] for `apply --test-only`: the header says that the actions are only
/// validated, so that nobody reads the plan as changes about to happen.
pub fn text_test_mode(plan: &Plan, color: bool, umapi: &str) -> String {
    let style = Style { color };
    let header = format!(
        "{} umapi will send the following actions with testOnly: the server validates \
         them and nothing is changed.",
        style.paint(BOLD, "TEST MODE (--test-only):")
    );
    render(plan, color, &header, umapi)
}

fn render(plan: &Plan, color: bool, header: &str, umapi: &str) -> String {
    let style = Style { color };
    let mut out = String::new();
    let partial = plan.partial_note();
    if let Some(note) = &partial {
        let _ = writeln!(out, "{}\n", style.paint(YELLOW, note));
    }
    if plan.has_changes() {
        let _ = writeln!(out, "{header}\n");
        for block in blocks(plan) {
            write_block(&mut out, &block, &style);
            out.push('\n');
        }
    }
    if !plan.licences.is_empty() {
        let _ = writeln!(
            out,
            "Licences (seats used now -> after this plan, of the quota):"
        );
        for line in super::licences::licence_lines(plan) {
            let line = if line.contains("OVER QUOTA") {
                style.paint(YELLOW, &line)
            } else {
                line
            };
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style.paint(YELLOW, "Warnings (not changed by this plan):")
        );
        for warning in &plan.warnings {
            let _ = writeln!(out, "  ! {warning}");
        }
        out.push('\n');
    }
    if !plan.not_verifiable.is_empty() {
        let reasserted = plan
            .changes
            .iter()
            .any(|c| matches!(c.kind, ChangeKind::ReassertGroup { .. }));
        let _ = writeln!(
            out,
            "Not verifiable through the API (set on create{}):",
            if reasserted {
                ", and when they change"
            } else {
                ""
            }
        );
        for item in &plan.not_verifiable {
            let _ = writeln!(
                out,
                "  user_group {}: {} = {}",
                quote(&item.group),
                item.field,
                quote(&item.value)
            );
        }
        out.push('\n');
    }
    if !plan.expiring.is_empty() {
        let _ = writeln!(out, "Access ending soon (`until` in the state files):");
        for entry in &plan.expiring {
            let _ = writeln!(out, "  - {entry}");
        }
        out.push('\n');
    }
    if !plan.overrides.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style.paint(YELLOW, "Safety limits overridden for this plan (--allow):")
        );
        for line in override_lines(plan) {
            let _ = writeln!(out, "  ! {line}");
        }
        out.push('\n');
    }
    if plan.has_changes() {
        let _ = writeln!(out, "{}", style.paint(BOLD, &summary_line(plan)));
        if !plan.targets.is_empty() {
            let _ = writeln!(out, "{}", style.paint(YELLOW, &partial_line(plan)));
        }
        let _ = writeln!(out, "{}", estimate_line(plan));
        if plan.is_blocked() {
            let _ = writeln!(
                out,
                "\n{}",
                style.paint(
                    RED,
                    "BLOCKED: this plan goes over a safety limit; nothing will be sent."
                )
            );
            for line in blocked_lines(plan, umapi) {
                let _ = writeln!(out, "  {line}");
            }
        }
    } else if !plan.targets.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            style.paint(GREEN, "No changes for the targets of this PARTIAL plan.")
        );
    } else {
        let _ = writeln!(
            out,
            "{}",
            style.paint(
                GREEN,
                "No changes. The organization matches the configuration."
            )
        );
    }
    out
}

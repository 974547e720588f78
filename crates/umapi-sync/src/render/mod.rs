//! Human renderings of a [`Plan`]: Terraform-like text for terminals and job logs,
//! and Markdown for a pull-request comment (the JSON rendering is the plan's own
//! serde form, see [`Plan::to_writer`]); the end of an apply (the summary and the
//! `--report` JSON); and the audit report, as an HTML page and as Markdown.
//!
//! The plan and audit renderers show the same per-object blocks: one per user group, product
//! profile, admin group and user the plan touches, with `+` for what is added, `~` for
//! what changes in place and `-` for what is removed.

mod apply_summary;
mod audit_html;
mod audit_markdown;
mod blocks;
mod licences;
mod markdown;
mod text;
mod why;

pub use apply_summary::{
    REPORT_FORMAT_VERSION, apply_report_json, apply_summary, describe, failure_line,
};
pub use audit_html::audit_html;
pub use audit_markdown::audit_markdown;
pub use markdown::{MARKDOWN_LIMIT, markdown, markdown_for};
pub use text::{text, text_for, text_test_mode};
pub use why::why_text;

/// The audit report renderings show the drift of this many objects (users and
/// groups) at most; the JSON report always has every change.
pub const DRIFT_BLOCKS_SHOWN: usize = 500;

/// The audit report renderings list this many policy findings at most (an org
/// without a user-group habit can have thousands); the JSON report has every one.
pub const POLICY_FINDINGS_SHOWN: usize = 500;

#[cfg(doc)]
use crate::plan::Plan;

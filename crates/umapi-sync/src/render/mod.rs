//! Human renderings of a [`Plan`]: Terraform-like text for terminals and job logs,
//! and Markdown for a pull-request comment. (The JSON rendering is the plan's own
//! serde form, see [`Plan::to_writer`].)
//!
//! Both renderers show the same per-object blocks: one per user group, product
//! profile, admin group and user the plan touches, with `+` for what is added, `~` for
//! what changes in place and `-` for what is removed.

mod blocks;
mod markdown;
mod text;

pub use markdown::{MARKDOWN_LIMIT, markdown, markdown_for};
pub use text::text;

#[cfg(doc)]
use crate::plan::Plan;

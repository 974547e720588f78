//! List user groups and product profiles (the usage document's `GroupsQuery`).
//!
//! `cargo run --example list_groups`. Re-running a query is just calling
//! `conn.groups()` again: each call starts from page 0.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/connect.rs"]
mod support;

use futures::TryStreamExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let example = support::connect().await?;
    let conn = &example.conn;

    let mut groups = conn.groups();
    while let Some(group) = groups.try_next().await? {
        println!(
            "{:<40} {:?} members={}",
            group.group_name,
            group.group_type,
            group
                .member_count
                .map_or_else(|| "?".to_owned(), |n| n.to_string())
        );
    }

    if let Some(sandbox) = example.sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}

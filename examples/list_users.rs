//! List users: the first five, then a count of all (the usage document's
//! "Get a List of Users").
//!
//! `cargo run --example list_users` (see `examples/support/connect.rs` for the
//! environment variables; without them it runs against an in-process sandbox).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/connect.rs"]
mod support;

use futures::TryStreamExt;
use umapi_core::UsersQuery;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let example = support::connect().await?;
    let conn = &example.conn;

    // The stream fetches pages as they are read: this reads only the first page.
    let mut users = conn.users(UsersQuery::all());
    let mut shown = 0;
    while shown < 5 {
        let Some(user) = users.try_next().await? else {
            break;
        };
        println!(
            "User {shown} email: {}",
            user.email.as_deref().unwrap_or("(none)")
        );
        shown += 1;
    }
    // A fresh query, read to the end.
    let all = conn.users(UsersQuery::all()).collect_all().await?;
    println!("{} users in the org", all.len());
    if let Some(total) = users.stats().total_count {
        println!("(the server reports {total} in total)");
    }

    if let Some(sandbox) = example.sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}

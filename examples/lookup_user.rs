//! Look one user up by email (the usage document's `UserQuery`).
//!
//! `cargo run --example lookup_user -- jruser@example.com`; without an argument it
//! looks up the first user of the org.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/connect.rs"]
mod support;

use futures::TryStreamExt;
use umapi_core::UsersQuery;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let example = support::connect().await?;
    let conn = &example.conn;

    let email = match std::env::args().nth(1) {
        Some(email) => email,
        None => conn
            .users(UsersQuery::all())
            .try_next()
            .await?
            .and_then(|user| user.email)
            .unwrap_or_else(|| "jruser@example.com".to_owned()),
    };
    match conn.user(&email, None).await? {
        Some(user) => println!(
            "{}, {}",
            user.lastname.unwrap_or_default(),
            user.firstname.unwrap_or_default()
        ),
        None => println!("no user {email} in the org"),
    }

    if let Some(sandbox) = example.sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}

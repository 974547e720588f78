//! Create a user group, fill it, link profiles, rename it, empty it and delete it
//! (the usage document's "Performing Operations on User Groups").
//!
//! `cargo run --example group_actions`. Against a real org set `UMAPI_TEST_MODE=1`
//! first: the server then validates everything and changes nothing.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/connect.rs"]
mod support;

use futures::{StreamExt, TryStreamExt};
use umapi_core::wire::GroupType;
use umapi_core::{Error, IfAlreadyExists, ProfileSelection, UserGroupAction, UsersQuery};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let example = support::connect().await?;
    let conn = &example.conn;

    // Members and a profile to use: the org's own when it has some.
    let members: Vec<String> = conn
        .users(UsersQuery::all())
        .try_filter_map(|u| async move { Ok(u.email) })
        .take(2)
        .try_collect()
        .await?;
    let members = if members.is_empty() {
        vec![
            "user1@example.com".to_owned(),
            "user2@example.com".to_owned(),
        ]
    } else {
        members
    };
    let profile = conn
        .groups()
        .try_filter(|g| std::future::ready(g.group_type == GroupType::ProductProfile))
        .try_next()
        .await?
        .map_or_else(
            || "Default All Apps plan - 100 GB configuration".to_owned(),
            |g| g.group_name,
        );

    // Create a group and add users to it, in one action.
    let mut group = UserGroupAction::new("New User Group")?;
    group
        .create(Some("A new user group".into()), IfAlreadyExists::Update)?
        .add_users(&members)?
        .add_to_products(ProfileSelection::Some(vec![profile.clone()]))?;
    let counts = conn.execute_single(group.clone(), true).await;
    println!("create: {counts:?}");

    // Rename it and change its description.
    let mut rename = UserGroupAction::new("New User Group")?;
    rename.update(
        Some("Employees and Contractors".into()),
        Some("Full-time Employees and Contractors".into()),
    )?;
    println!(
        "update: {:?}",
        conn.execute_single(rename.clone(), true).await
    );

    // Take the users and the profile away again, then delete the group.
    let mut cleanup = UserGroupAction::new("Employees and Contractors")?;
    cleanup
        .remove_users(&members)?
        .remove_from_products(ProfileSelection::Some(vec![profile]))?
        .delete()?;
    let result = conn.execute_single(cleanup.clone(), true).await;
    println!("cleanup: {result:?}");

    for action in [&group, &rename, &cleanup] {
        for error in action.execution_errors() {
            println!("failed: {error}");
        }
    }
    if let Err(error) = result
        && !matches!(error, Error::Batch { .. })
    {
        return Err(error.into());
    }

    if let Some(sandbox) = example.sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}

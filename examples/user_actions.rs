//! Create and change users, then submit them (the usage document's "Performing
//! Operations on Users": specify the user, specify the commands, submit).
//!
//! `cargo run --example user_actions`. Against a real org set `UMAPI_TEST_MODE=1`
//! first: the server then validates everything and changes nothing.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/connect.rs"]
mod support;

use umapi_core::wire::GroupType;
use umapi_core::{
    Action, CreateOptions, Error, ExecutionCounts, GroupSelection, IdentityType, IfAlreadyExists,
    UpdateOptions, UserAction,
};

/// Prints what an execute call did; failures of single commands are not fatal here.
fn report(what: &str, result: Result<ExecutionCounts, Error>) -> anyhow::Result<()> {
    match result {
        Ok(counts) => println!(
            "{what}: queued={} sent={} succeeded={}",
            counts.queued, counts.sent, counts.succeeded
        ),
        Err(Error::Batch { sent, failed }) => {
            println!("{what}: sent={sent} succeeded={}", sent - failed)
        }
        Err(other) => return Err(other.into()),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let example = support::connect().await?;
    let conn = &example.conn;

    // Group names to use: the org's own when it has some, else the document's.
    let groups = conn.groups().collect_all().await?;
    let name_of = |kind: GroupType, fallback: &str| {
        groups
            .iter()
            .find(|g| g.group_type == kind)
            .map_or_else(|| fallback.to_owned(), |g| g.group_name.clone())
    };
    let profile = name_of(GroupType::ProductProfile, "Photoshop");
    let user_group = name_of(GroupType::UserGroup, "CC All Apps");

    // Step 1: specify the users.
    let mut user1 = UserAction::with_email(IdentityType::AdobeId, "user@isp.net");
    let mut user2 = UserAction::with_email(IdentityType::EnterpriseId, "user@company.com");
    let mut user3 = UserAction::with_username(
        IdentityType::FederatedId,
        "user347",
        "division.conglomerate.com",
    );
    let mut user4 = UserAction::with_username(
        IdentityType::FederatedId,
        "user348",
        "division.conglomerate.com",
    )
    .and_email("john.r.user@conglomerate.com");

    // Step 2: specify the commands.
    user1.create(CreateOptions::default())?;
    user2.create(CreateOptions {
        first_name: Some("Geoffrey".into()),
        last_name: Some("Giraffe".into()),
        ..Default::default()
    })?;
    user3.create(CreateOptions {
        email: Some("jane.doe@conglomerate.com".into()),
        country: Some("US".into()),
        ..Default::default()
    })?;
    user4.create(CreateOptions {
        first_name: Some("John".into()),
        last_name: Some("User".into()),
        country: Some("US".into()),
        on_conflict: Some(IfAlreadyExists::Update),
        ..Default::default()
    })?;

    // Step 3: submit. execute_single queues until a batch of 10 is full;
    // execute_multiple with `immediate` sends everything queued.
    report(
        "queued user1",
        conn.execute_single(user1.clone(), false).await,
    )?;
    report(
        "sent the creates",
        conn.execute_multiple([user2.clone(), user3.clone(), user4.clone()], true)
            .await,
    )?;

    // Later changes to the same users; commands chain.
    let mut change2 = UserAction::with_email(IdentityType::EnterpriseId, "user@company.com");
    change2
        .update(UpdateOptions {
            first_name: Some("Jeff".into()),
            ..Default::default()
        })?
        .add_to_groups([profile.as_str(), user_group.as_str()])?
        .remove_from_groups(GroupSelection::Some(vec![user_group.clone()]))?;
    let mut change4 = UserAction::with_username(
        IdentityType::FederatedId,
        "user348",
        "division.conglomerate.com",
    );
    change4.update(UpdateOptions {
        username: Some("user0347".into()),
        ..Default::default()
    })?;
    let mut leave3 = UserAction::with_username(
        IdentityType::FederatedId,
        "user347",
        "division.conglomerate.com",
    );
    leave3.remove_from_organization(false)?;
    report(
        "sent the changes",
        conn.execute_multiple([change2.clone(), change4.clone(), leave3.clone()], true)
            .await,
    )?;

    // Every failed command, with the server's reason, from the actions themselves.
    let actions: Vec<Action> = [user1, user2, user3, user4, change2, change4, leave3]
        .into_iter()
        .map(Action::from)
        .collect();
    for error in actions.iter().flat_map(Action::execution_errors) {
        println!("failed: {error}");
    }

    if let Some(sandbox) = example.sandbox {
        sandbox.shutdown().await;
    }
    Ok(())
}

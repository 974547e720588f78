//! `export` writes state files that plan back to "No changes", for generated
//! orgs with every kind of user (Adobe, Enterprise and Federated IDs, usernames
//! that are not emails) and admin roles.

use umapi_core::{RateLimits, RetryPolicy};
use umapi_sandbox::{OrgSpec, Sandbox, SandboxConfig};
use umapi_sync::current::Snapshot;
use umapi_sync::planner::{PlanOptions, plan};

/// Exports the generated org, loads the files again and plans: no changes. Returns
/// the files.
async fn exported_org_plans_to_no_changes(spec: OrgSpec) -> Vec<umapi_sync::export::ExportFile> {
    let sandbox = Sandbox::start(
        SandboxConfig::default(),
        umapi_sandbox::generate::org(&spec),
    )
    .await
    .expect("sandbox");
    let conn = sandbox
        .connection_builder()
        .rate_limits(RateLimits::unlimited())
        .retry_policy(RetryPolicy::no_delay())
        .build()
        .expect("connection");
    let snapshot = Snapshot::read(&conn, |_| {}).await.expect("read");

    let files = umapi_sync::export::export(&snapshot);
    let sources: Vec<_> = files
        .iter()
        .map(|file| (std::path::PathBuf::from(&file.name), file.to_yaml()))
        .collect();
    let desired = umapi_sync::desired::load_sources(&sources, None)
        .unwrap_or_else(|error| panic!("exported files are valid: {error}"));
    assert_eq!(desired.users.len(), snapshot.users.len());

    let plan = plan(&desired, &snapshot, &PlanOptions::default()).expect("plan");
    assert!(
        !plan.has_changes(),
        "{}",
        umapi_sync::render::text(&plan, false)
    );
    sandbox.shutdown().await;
    files
}

#[tokio::test]
async fn small_generated_org() {
    exported_org_plans_to_no_changes(OrgSpec {
        users: 50,
        user_groups: 5,
        profiles: 3,
        seed: 11,
    })
    .await;
}

#[tokio::test]
async fn a_large_org_is_split_over_files_that_load_back() {
    let files = exported_org_plans_to_no_changes(OrgSpec {
        users: 2 * umapi_sync::export::USERS_PER_FILE + 1,
        user_groups: 5,
        profiles: 3,
        seed: 13,
    })
    .await;
    let names: Vec<&str> = files.iter().map(|file| file.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "users/000.yaml",
            "users/001.yaml",
            "users/002.yaml",
            "groups.yaml",
            "settings.yaml"
        ]
    );
    for file in &files[..2] {
        assert_eq!(file.state.users.len(), umapi_sync::export::USERS_PER_FILE);
    }
    // The schema sits in the export folder, one level up from `users/`.
    assert!(files[2].to_yaml().starts_with(
        "# yaml-language-server: $schema=../state-schema.json\n#\n\
         # Users 2001 to 2001 of 2001 of"
    ));
}

#[tokio::test]
async fn larger_generated_org() {
    exported_org_plans_to_no_changes(OrgSpec {
        users: 1500,
        user_groups: 40,
        profiles: 12,
        seed: 12,
    })
    .await;
}

#[test]
fn the_files_say_where_they_came_from() {
    let snapshot = Snapshot {
        format_version: 1,
        org_id: "ABC@AdobeOrg".into(),
        users: Vec::new(),
        groups: Vec::new(),
    };
    let files = umapi_sync::export::export(&snapshot);
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["users.yaml", "groups.yaml", "settings.yaml"]);
    assert!(files[0].to_yaml().starts_with(
        "# yaml-language-server: $schema=./state-schema.json\n#\n\
                 # Users of ABC@AdobeOrg, exported by `umapi export`."
    ));
    insta::assert_snapshot!(files[2].to_yaml(), @r"
    # yaml-language-server: $schema=./state-schema.json
    #
    # Settings, exported with the cautious defaults: users and user groups that are
    # not in the state files are left alone. See the README before changing them.
    settings:
      default_type: federatedID
      unlisted_users: ignore
      unlisted_groups: ignore
      exclude: {}
      limits: {}
    ");
}

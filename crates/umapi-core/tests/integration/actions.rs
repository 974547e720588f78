//! The wire JSON of every action method, the splitting rules and the client-side checks.

use serde_json::{Value, json};
use umapi_core::{
    Action, CreateOptions, Error, GroupSelection, IdentityType, IfAlreadyExists, ProfileSelection,
    UpdateOptions, UserAction, UserGroupAction,
};

fn wire(action: impl Into<Action>) -> Value {
    serde_json::to_value(action.into().entries()).unwrap()
}

fn argument_error<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::Argument(message)) => message,
        other => panic!("expected an argument error, got {other:?}"),
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:02}")).collect()
}

#[test]
fn create_for_each_identity_type() {
    let mut adobe = UserAction::with_email(IdentityType::AdobeId, "user@isp.net");
    adobe.create(CreateOptions::default()).unwrap();
    assert_eq!(
        wire(adobe),
        json!([{"user": "user@isp.net", "useAdobeID": true,
                "do": [{"addAdobeID": {"email": "user@isp.net"}}]}])
    );

    let mut enterprise = UserAction::with_email(IdentityType::EnterpriseId, "user@company.com");
    enterprise
        .create(CreateOptions {
            first_name: Some("Geoffrey".into()),
            last_name: Some("Giraffe".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        wire(enterprise),
        json!([{"user": "user@company.com", "do": [{"createEnterpriseID": {
            "email": "user@company.com", "firstname": "Geoffrey", "lastname": "Giraffe"}}]}])
    );

    let mut federated = UserAction::with_username(
        IdentityType::FederatedId,
        "user347",
        "division.conglomerate.com",
    );
    federated
        .create(CreateOptions {
            email: Some("jane.doe@conglomerate.com".into()),
            country: Some("US".into()),
            on_conflict: Some(IfAlreadyExists::Update),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        wire(federated),
        json!([{"user": "user347", "domain": "division.conglomerate.com", "do": [{"createFederatedID": {
            "email": "jane.doe@conglomerate.com", "country": "US", "option": "updateIfAlreadyExists"}}]}])
    );
}

#[test]
fn email_given_with_the_username_is_used_on_create() {
    let mut user = UserAction::with_username(
        IdentityType::FederatedId,
        "user348",
        "division.conglomerate.com",
    )
    .and_email("john.r.user@conglomerate.com");
    user.create(CreateOptions {
        first_name: Some("John".into()),
        last_name: Some("User".into()),
        country: Some("US".into()),
        on_conflict: Some(IfAlreadyExists::Ignore),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        wire(user),
        json!([{"user": "user348", "domain": "division.conglomerate.com", "do": [{"createFederatedID": {
            "email": "john.r.user@conglomerate.com", "firstname": "John", "lastname": "User",
            "country": "US", "option": "ignoreIfAlreadyExists"}}]}])
    );
}

#[test]
fn update_membership_and_removal_steps_chain_in_order() {
    let mut user = UserAction::with_email(IdentityType::FederatedId, "ada@example.com");
    user.update(UpdateOptions {
        first_name: Some("Ada".into()),
        username: Some("ada.l@example.com".into()),
        ..Default::default()
    })
    .unwrap()
    .add_to_groups(["Photoshop", "Illustrator"])
    .unwrap()
    .remove_from_groups(GroupSelection::Some(vec!["CC All Apps".into()]))
    .unwrap()
    .remove_from_groups(GroupSelection::All)
    .unwrap();
    assert_eq!(
        wire(user),
        json!([{"user": "ada@example.com", "do": [
            {"update": {"username": "ada.l@example.com", "firstname": "Ada"}},
            {"add": {"group": ["Photoshop", "Illustrator"]}},
            {"remove": {"group": ["CC All Apps"]}},
            {"remove": "all"}
        ]}])
    );
}

#[test]
fn create_goes_first_and_leaving_the_org_last() {
    let mut user = UserAction::with_email(IdentityType::EnterpriseId, "x@example.com");
    user.remove_from_organization(true)
        .unwrap()
        .add_to_groups(["G"])
        .unwrap()
        .create(CreateOptions::default())
        .unwrap();
    assert_eq!(
        wire(user),
        json!([{"user": "x@example.com", "do": [
            {"createEnterpriseID": {"email": "x@example.com"}},
            {"add": {"group": ["G"]}},
            {"removeFromOrg": {"deleteAccount": true}}
        ]}])
    );
    let mut soft = UserAction::with_email(IdentityType::FederatedId, "y@example.com");
    soft.remove_from_organization(false).unwrap();
    assert_eq!(
        wire(soft),
        json!([{"user": "y@example.com", "do": [{"removeFromOrg": {"deleteAccount": false}}]}])
    );
}

#[test]
fn user_group_methods() {
    let mut group = UserGroupAction::new("Employees").unwrap();
    group
        .create(
            Some("A user group just for employees".into()),
            IfAlreadyExists::Update,
        )
        .unwrap()
        .add_users(["user1@example.com", "user2@example.com"])
        .unwrap()
        .add_to_products(ProfileSelection::Some(vec![
            "Default All Apps plan - 100 GB configuration".into(),
        ]))
        .unwrap();
    assert_eq!(
        wire(group),
        json!([{"usergroup": "Employees", "do": [
            {"createUserGroup": {"description": "A user group just for employees",
                "option": "updateIfAlreadyExists"}},
            {"add": {"user": ["user1@example.com", "user2@example.com"]}},
            {"add": {"productConfiguration": ["Default All Apps plan - 100 GB configuration"]}}
        ]}])
    );

    let mut group = UserGroupAction::new("Employees").unwrap();
    group
        .update(
            Some("Employees and Contractors".into()),
            Some("Full-time Employees and Contractors".into()),
        )
        .unwrap()
        .remove_users(vec!["user1@example.com".to_string()])
        .unwrap()
        .remove_from_products(ProfileSelection::Some(vec!["P1".into()]))
        .unwrap()
        .remove_from_products(ProfileSelection::All)
        .unwrap()
        .add_to_products(ProfileSelection::All)
        .unwrap()
        .delete()
        .unwrap();
    assert_eq!(
        wire(group),
        json!([{"usergroup": "Employees", "do": [
            {"updateUserGroup": {"name": "Employees and Contractors",
                "description": "Full-time Employees and Contractors"}},
            {"remove": {"user": ["user1@example.com"]}},
            {"remove": {"productConfiguration": ["P1"]}},
            {"remove": "all"},
            {"add": "all"},
            {"deleteUserGroup": {}}
        ]}])
    );
    let mut only_description = UserGroupAction::new("G").unwrap();
    only_description.update(None, Some("d".into())).unwrap();
    assert_eq!(
        wire(only_description),
        json!([{"usergroup": "G", "do": [{"updateUserGroup": {"description": "d"}}]}])
    );
}

#[test]
fn request_id_is_sent_on_every_entry() {
    let mut group = UserGroupAction::new("G").unwrap();
    group.set_request_id("req-7").delete().unwrap();
    assert_eq!(
        wire(group),
        json!([{"usergroup": "G", "requestID": "req-7", "do": [{"deleteUserGroup": {}}]}])
    );
}

#[test]
fn twenty_five_groups_become_three_steps() {
    let mut user = UserAction::with_email(IdentityType::FederatedId, "a@example.com");
    user.add_to_groups(names("G", 25)).unwrap();
    let entries = wire(user);
    let steps = entries[0]["do"].as_array().unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(steps.len(), 3);
    let sizes: Vec<usize> = steps
        .iter()
        .map(|s| s["add"]["group"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [10, 10, 5]);
    let flattened: Vec<String> = steps
        .iter()
        .flat_map(|s| s["add"]["group"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(flattened, names("G", 25), "order and names are kept");

    let mut group = UserGroupAction::new("Big").unwrap();
    group
        .remove_users(names("u", 11).iter().map(|n| format!("{n}@x.com")))
        .unwrap();
    let entries = wire(group);
    assert_eq!(entries[0]["do"][1]["remove"]["user"], json!(["u10@x.com"]));
}

#[test]
fn twenty_six_steps_become_three_entries_with_create_first() {
    let mut user = UserAction::with_email(IdentityType::EnterpriseId, "a@example.com");
    for group in names("G", 25) {
        user.add_to_groups([group]).unwrap();
    }
    user.create(CreateOptions::default()).unwrap();
    let entries = wire(user);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let sizes: Vec<usize> = entries
        .iter()
        .map(|e| e["do"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [10, 10, 6]);
    assert!(entries.iter().all(|e| e["user"] == "a@example.com"));
    assert_eq!(
        entries[0]["do"][0],
        json!({"createEnterpriseID": {"email": "a@example.com"}})
    );
    assert_eq!(entries[0]["do"][1], json!({"add": {"group": ["G00"]}}));
    assert_eq!(entries[2]["do"][5], json!({"add": {"group": ["G24"]}}));
}

#[test]
fn an_action_without_steps_has_no_entries() {
    let user = UserAction::with_email(IdentityType::FederatedId, "a@example.com");
    assert!(Action::from(user).entries().is_empty());
}

#[test]
fn client_side_checks_are_clear_errors() {
    let bad_email = UserAction::with_email(IdentityType::FederatedId, "not-an-email");
    let message = argument_error(bad_email.clone().add_to_groups(["G"]).map(|_| ()));
    assert!(
        message.contains("not-an-email") && message.contains('@'),
        "{message}"
    );

    let long = format!("{}@example.com", "a".repeat(60));
    let message = argument_error(
        UserAction::with_email(IdentityType::FederatedId, long)
            .remove_from_organization(false)
            .map(|_| ()),
    );
    assert!(message.contains("60"), "{message}");

    let adobe_username = UserAction::with_username(IdentityType::AdobeId, "someone", "example.com");
    assert!(argument_error(adobe_username.clone().delete_like()).contains("Adobe ID"));

    let mut federated = UserAction::with_email(IdentityType::FederatedId, "a@example.com");
    assert!(
        argument_error(federated.create(CreateOptions::default()).map(|_| ())).contains("country")
    );
    let message = argument_error(
        federated
            .create(CreateOptions {
                country: Some("usa".into()),
                ..Default::default()
            })
            .map(|_| ()),
    );
    assert!(message.contains("two-letter"), "{message}");

    let mut adobe = UserAction::with_email(IdentityType::AdobeId, "a@isp.net");
    assert!(
        argument_error(
            adobe
                .update(UpdateOptions {
                    first_name: Some("A".into()),
                    ..Default::default()
                })
                .map(|_| ())
        )
        .contains("cannot be updated")
    );

    let mut user = UserAction::with_email(IdentityType::EnterpriseId, "a@example.com");
    assert!(
        argument_error(user.update(UpdateOptions::default()).map(|_| ()))
            .contains("changes nothing")
    );
    assert!(
        argument_error(
            user.update(UpdateOptions {
                country: Some("US".into()),
                ..Default::default()
            })
            .map(|_| ())
        )
        .contains("country")
    );
    assert!(argument_error(user.add_to_groups(Vec::<String>::new()).map(|_| ())).contains("empty"));
    assert!(argument_error(user.add_to_groups(["_org_admin"]).map(|_| ())).contains("_org_admin"));
    assert!(argument_error(user.add_to_groups(["x".repeat(256)]).map(|_| ())).contains("255"));
    user.create(CreateOptions::default()).unwrap();
    assert!(argument_error(user.create(CreateOptions::default()).map(|_| ())).contains("already"));
    let mut no_email = UserAction::with_username(IdentityType::FederatedId, "jdoe", "example.com");
    assert!(
        argument_error(
            no_email
                .create(CreateOptions {
                    country: Some("US".into()),
                    ..Default::default()
                })
                .map(|_| ())
        )
        .contains("needs an email")
    );

    let mut admin_group = UserGroupAction::new("_admin_x").unwrap();
    assert!(
        argument_error(
            admin_group
                .create(None, IfAlreadyExists::Ignore)
                .map(|_| ())
        )
        .contains("must not start with `_`")
    );
    admin_group.add_users(["a@x.com"]).unwrap();
    assert!(argument_error(UserGroupAction::new("x".repeat(256))).contains("255"));
    assert!(argument_error(UserGroupAction::new("  ")).contains("empty"));
    let mut group = UserGroupAction::new("G").unwrap();
    assert!(argument_error(group.update(None, None).map(|_| ())).contains("changes nothing"));
    assert!(argument_error(group.update(Some("_x".into()), None).map(|_| ())).contains("_"));
    assert!(
        argument_error(
            group
                .add_to_products(ProfileSelection::Some(vec![]))
                .map(|_| ())
        )
        .contains("empty")
    );
    assert!(argument_error(group.add_users(Vec::<String>::new()).map(|_| ())).contains("empty"));
    assert!(
        argument_error(group.add_users(["has space@x.com"]).map(|_| ())).contains("whitespace")
    );
    // None of the failed calls left a step behind.
    assert!(Action::from(group).entries().is_empty());
}

/// A small extension so the identity check is exercised through a method that
/// would otherwise succeed.
trait DeleteLike {
    fn delete_like(self) -> Result<(), Error>;
}

impl DeleteLike for UserAction {
    fn delete_like(mut self) -> Result<(), Error> {
        self.remove_from_organization(true).map(|_| ())
    }
}

#[test]
fn clones_share_the_error_record_but_not_later_steps() {
    let mut original = UserAction::with_email(IdentityType::FederatedId, "a@example.com");
    original.add_to_groups(["G1"]).unwrap();
    let mut copy = original.clone();
    copy.add_to_groups(["G2"]).unwrap();
    assert_eq!(Action::from(&original).entries()[0], {
        let mut fresh = UserAction::with_email(IdentityType::FederatedId, "a@example.com");
        fresh.add_to_groups(["G1"]).unwrap();
        Action::from(fresh).entries()[0].clone()
    });
    assert!(original.execution_errors().is_empty() && copy.execution_errors().is_empty());
}

//! The user keys of the desired state, of plans and of snapshots are the keys UMAPI
//! knows a user by: users declared in random spellings are created with the sandbox's
//! own rules, and their keys are compared with the keys of the accounts created.

use proptest::prelude::*;
use umapi_core::identity::{UserKey, same_identifier};
use umapi_core::wire::IdentityType;
use umapi_sandbox::OrgState;
use umapi_sync::current::{AccountKey, Snapshot};
use umapi_sync::desired::{DesiredState, UserSpec};
use umapi_sync::planner::{PlanOptions, plan};

use crate::planner_support::SandboxOrg;

/// How a declared user signs in.
#[derive(Debug, Clone, Copy)]
enum Username {
    /// No username declared.
    None,
    /// The email again, spelled differently.
    Email,
    /// Another email address.
    OtherEmail,
    /// A username that is not an email, in `domain`.
    Plain,
}

#[derive(Debug, Clone)]
struct Declared {
    identity_type: IdentityType,
    username: Username,
    /// Upper-case letters in the email, username and domain.
    shout: bool,
    /// An accented name, written decomposed (`e` + combining accent).
    accented: bool,
}

fn declared() -> impl Strategy<Value = Declared> {
    (0u8..4, 0u8..4, any::<bool>(), any::<bool>()).prop_map(|(kind, username, shout, accented)| {
        let identity_type = match kind {
            0 | 1 => IdentityType::FederatedId,
            2 => IdentityType::EnterpriseId,
            _ => IdentityType::AdobeId,
        };
        // Adobe IDs have no username of the org's; only Federated IDs take a username
        // that is not their email.
        let username = match (identity_type, username) {
            (IdentityType::AdobeId, _) | (_, 0) => Username::None,
            (_, 1) => Username::Email,
            (IdentityType::FederatedId, 2) => Username::OtherEmail,
            (IdentityType::FederatedId, _) => Username::Plain,
            _ => Username::Email,
        };
        Declared {
            identity_type,
            username,
            shout,
            accented,
        }
    })
}

fn spell(text: String, shout: bool) -> String {
    if shout { text.to_uppercase() } else { text }
}

impl Declared {
    fn spec(&self, i: usize) -> UserSpec {
        let name = if self.accented {
            format!("rene\u{301}{i}")
        } else {
            format!("user{i}")
        };
        let email = format!("{name}@example.com");
        let domain = spell("example.com".into(), self.shout);
        let (username, domain) = match self.username {
            Username::None => (None, None),
            Username::Email => (Some(spell(email.clone(), !self.shout)), None),
            Username::OtherEmail => (
                Some(spell(format!("alias{i}@example.com"), self.shout)),
                Some(domain),
            ),
            Username::Plain => (
                Some(spell(format!("{name}.login"), self.shout)),
                Some(domain),
            ),
        };
        UserSpec {
            email: Some(spell(email, self.shout).into()),
            username: username.map(Into::into),
            domain: domain.map(Into::into),
            identity_type: Some(self.identity_type),
            firstname: Some("F".into()),
            lastname: Some("L".into()),
            country: Some("US".into()),
            ..Default::default()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A declared user's key is the key of the account UMAPI creates from it, its plan
    /// key is its account's key in the next snapshot, and an email-shaped username is
    /// never a key.
    #[test]
    fn declared_keys_are_the_keys_of_the_accounts_created(users in prop::collection::vec(declared(), 1..6)) {
        let specs: Vec<UserSpec> = users.iter().enumerate().map(|(i, d)| d.spec(i)).collect();
        let mut desired = DesiredState { users: specs.clone(), ..Default::default() };
        desired.reindex();
        let empty = Snapshot::from_parts("org@AdobeOrg", Vec::new(), Vec::new());
        let planned = plan(&desired, &empty, &PlanOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;

        let mut org = SandboxOrg::new(empty);
        let errors = org.apply(&planned, 7);
        prop_assert!(errors.is_empty(), "{:?}\n{}", errors, planned.to_json());
        let after = org.to_snapshot();
        prop_assert_eq!(after.users.len(), specs.len());

        for spec in &specs {
            let email = spec.email.as_deref().unwrap();
            let record = org.state.users.iter()
                .find(|r| same_identifier(&r.email, email))
                .expect("created");
            let wire = OrgState::wire_user(record, None);
            prop_assert_eq!(UserKey::from_wire(&wire), Some(spec.key()), "{:?}", spec);
            if spec.username.as_deref().is_some_and(|u| u.contains('@')) {
                prop_assert_eq!(spec.key(), UserKey::email(email));
            }

            let listed = after.users.iter()
                .find(|u| u.email.as_deref().is_some_and(|e| same_identifier(e, email)))
                .unwrap();
            prop_assert_eq!(listed.key(), spec.account_key());
            let key = AccountKey {
                user: spec.account_key(),
                adobe_id: spec.identity_type == Some(IdentityType::AdobeId),
            };
            prop_assert_eq!(&listed.unique_key(), &key);
            prop_assert!(
                planned.preconditions.users.iter().any(|p| p.key == key && p.current.is_none()),
                "{} not among {:?}", key, planned.preconditions.users
            );
        }

        // Checked against the org it made, the plan finds each user it created, by key.
        let problems = planned.check_fresh(&after).unwrap_err();
        let created = problems.iter().filter(|p| p.ends_with("did not exist when planned, now exists")).count();
        prop_assert_eq!(created, specs.len(), "{:?}", problems);
    }
}

/// The plan file carries user keys as their text form: the email, `username (domain)`
/// for an account without one, and ` (adobeID)` after an Adobe ID's.
#[test]
fn preconditions_carry_keys_as_text() {
    let keys = [
        AccountKey {
            user: UserKey::email("Ada@Example.com"),
            adobe_id: false,
        },
        AccountKey {
            user: UserKey::email("ada@example.com"),
            adobe_id: true,
        },
        AccountKey {
            user: UserKey::username("JDoe", "Example.com"),
            adobe_id: false,
        },
        AccountKey {
            user: UserKey::username("jdoe", "example.com"),
            adobe_id: true,
        },
    ];
    let json = serde_json::to_string(&keys).unwrap();
    assert_eq!(
        json,
        r#"["ada@example.com","ada@example.com (adobeID)","jdoe (example.com)","jdoe (example.com) (adobeID)"]"#
    );
    let back: Vec<AccountKey> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, keys);
}

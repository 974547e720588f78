//! Export: the live org as state files that plan back to "No changes".
//!
//! Every user group and product profile of the snapshot is declared, so the
//! plan manages exactly the memberships that exist today. Admin groups are not
//! declared (their members stay out of umapi's hands until someone chooses to
//! manage them), and the settings are the cautious defaults: unlisted users
//! and groups are ignored. Fields UMAPI cannot read back (a group's
//! description and profile links) cannot be exported.

use std::collections::HashSet;

use umapi_core::wire::{GroupType, IdentityType};

use crate::model::{GroupSpec, ProfileSpec, Settings, StateFile, UserSpec};
use crate::snapshot::{Snapshot, SnapshotUser};

/// One state file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFile {
    /// File name (no folder), e.g. `users.yaml`.
    pub name: &'static str,
    /// Comment lines written above the YAML (without `#`), after the schema modeline.
    pub header: Vec<String>,
    /// The contents.
    pub state: StateFile,
}

impl ExportFile {
    /// The file's text: the schema modeline and the header as `#` comments, then
    /// the YAML. The modeline points at `./state-schema.json`, a path that still
    /// holds when the folder is copied elsewhere (`umapi schema state` writes it).
    pub fn to_yaml(&self) -> String {
        let mut text = format!(
            "# {}
#
",
            crate::schema::state_modeline()
        );
        for line in &self.header {
            if line.is_empty() {
                text.push_str("#\n");
            } else {
                text.push_str("# ");
                text.push_str(line);
                text.push('\n');
            }
        }
        // A `StateFile` holds only strings, lists and options: serde_yaml has
        // nothing it could refuse, so an error here would be a bug in serde_yaml.
        match serde_yaml::to_string(&self.state) {
            Ok(body) => text.push_str(&body),
            Err(error) => text.push_str(&format!("# could not write YAML: {error}\n")),
        }
        text
    }
}

/// The state files (`users.yaml`, `groups.yaml`, `settings.yaml`) describing `snapshot`.
pub fn export(snapshot: &Snapshot) -> Vec<ExportFile> {
    let user_groups: Vec<&str> = snapshot
        .groups
        .iter()
        .filter(|g| g.group_type == GroupType::UserGroup && !g.name.starts_with('_'))
        .map(|g| g.name.as_str())
        .collect();
    let profiles: Vec<&str> = snapshot
        .groups
        .iter()
        .filter(|g| g.group_type == GroupType::ProductProfile)
        .map(|g| g.name.as_str())
        .collect();
    let declared: HashSet<String> = user_groups
        .iter()
        .chain(profiles.iter())
        .map(|name| name.to_lowercase())
        .collect();

    let users = snapshot
        .users
        .iter()
        .map(|user| user_spec(user, &declared))
        .collect();
    let groups = user_groups
        .iter()
        .map(|name| GroupSpec {
            name: (*name).to_owned(),
            ..GroupSpec::default()
        })
        .collect();
    let profiles = profiles
        .iter()
        .map(|name| ProfileSpec {
            name: (*name).to_owned(),
            members: Vec::new(),
        })
        .collect();

    let org = &snapshot.org_id;
    vec![
        ExportFile {
            name: "users.yaml",
            header: vec![
                format!("Users of {org}, exported by `umapi export`."),
                "Memberships of user groups and product profiles are listed on each user.".into(),
            ],
            state: StateFile {
                users,
                ..StateFile::default()
            },
        },
        ExportFile {
            name: "groups.yaml",
            header: vec![
                format!("User groups and product profiles of {org}, exported by `umapi export`."),
                "UMAPI cannot read a group's description or its product profiles: add them here"
                    .into(),
                "if you want umapi to set them.".into(),
            ],
            state: StateFile {
                groups,
                profiles,
                ..StateFile::default()
            },
        },
        ExportFile {
            name: "settings.yaml",
            header: vec![
                "Settings, exported with the cautious defaults: users and user groups that are"
                    .into(),
                "not in the state files are left alone. See the README before changing them."
                    .into(),
            ],
            state: StateFile {
                settings: Some(Settings {
                    default_type: Some(IdentityType::FederatedId),
                    ..Settings::default()
                }),
                ..StateFile::default()
            },
        },
    ]
}

fn user_spec(user: &SnapshotUser, declared: &HashSet<String>) -> UserSpec {
    let (email, username, domain) = identity(user);
    UserSpec {
        email,
        username,
        domain,
        identity_type: match user.identity_type {
            IdentityType::Unknown => None,
            known => Some(known),
        },
        firstname: user.firstname.clone(),
        lastname: user.lastname.clone(),
        country: user.country.clone(),
        groups: user
            .groups
            .iter()
            .filter(|g| declared.contains(&g.to_lowercase()))
            .cloned()
            .collect(),
        previously: Vec::new(),
    }
}

/// The identity fields as a state file writes them: the email, plus username
/// and domain only when the username is not the email.
fn identity(user: &SnapshotUser) -> (Option<String>, Option<String>, Option<String>) {
    match (&user.email, &user.username) {
        (Some(email), Some(username)) if !username.eq_ignore_ascii_case(email) => (
            Some(email.clone()),
            Some(username.clone()),
            user.domain.clone(),
        ),
        (Some(email), _) => (Some(email.clone()), None, None),
        (None, username) => (None, username.clone(), user.domain.clone()),
    }
}

//! Export: the live org as state files that plan back to "No changes".
//!
//! Every user group and product profile of the snapshot is declared, so the
//! plan manages exactly the memberships that exist today. Admin groups are not
//! declared (their members stay out of umapi's hands until someone chooses to
//! manage them), and the settings are the cautious defaults: unlisted users
//! and groups are ignored. Fields UMAPI cannot read back (a group's
//! description and profile links) cannot be exported.
//!
//! Up to [`USERS_PER_FILE`] users go into `users.yaml`; a larger org's users are
//! split over `users/000.yaml`, `users/001.yaml`, … of that many users each, so that
//! no file is too large to review or edit.

use std::collections::HashSet;

use umapi_core::wire::{GroupType, IdentityType};

use crate::current::{Snapshot, SnapshotUser};
use crate::desired::{GroupSpec, Membership, ProfileSpec, Settings, StateFile, UserSpec};

/// Most users in one exported file.
pub const USERS_PER_FILE: usize = 1_000;

/// One state file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFile {
    /// Path relative to the export folder, with `/` between folder and file, e.g.
    /// `users.yaml` or `users/000.yaml`.
    pub name: String,
    /// Comment lines written above the YAML (without `#`), after the schema modeline.
    pub header: Vec<String>,
    /// The contents.
    pub state: StateFile,
}

impl ExportFile {
    /// The file's text: the schema modeline and the header as `#` comments, then
    /// the YAML. The modeline points at `state-schema.json` in the export folder
    /// (`./state-schema.json`, or `../state-schema.json` from `users/`), a path that
    /// still holds when the folder is copied elsewhere (`umapi schema state` writes it).
    pub fn to_yaml(&self) -> String {
        let depth = self.name.matches('/').count();
        let modeline = if depth == 0 {
            crate::schema::state_modeline()
        } else {
            format!(
                "yaml-language-server: $schema={}{}",
                "../".repeat(depth),
                crate::schema::STATE_SCHEMA_FILE
            )
        };
        let mut text = format!("# {modeline}\n#\n");
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

    let users: Vec<UserSpec> = snapshot
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
            ..ProfileSpec::default()
        })
        .collect();

    let org = &snapshot.org_id;
    let mut files = user_files(org, users);
    files.extend([
        ExportFile {
            name: "groups.yaml".to_owned(),
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
            name: "settings.yaml".to_owned(),
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
    ]);
    files
}

/// `users.yaml`, or `users/NNN.yaml` files of [`USERS_PER_FILE`] users each.
fn user_files(org: &str, users: Vec<UserSpec>) -> Vec<ExportFile> {
    let note = "Memberships of user groups and product profiles are listed on each user.";
    if users.len() <= USERS_PER_FILE {
        return vec![ExportFile {
            name: "users.yaml".to_owned(),
            header: vec![
                format!("Users of {org}, exported by `umapi export`."),
                note.into(),
            ],
            state: StateFile {
                users,
                ..StateFile::default()
            },
        }];
    }
    let total = users.len();
    let count = total.div_ceil(USERS_PER_FILE);
    // Zero-padded to one width, so that the files sort in order.
    let width = (count - 1).to_string().len().max(3);
    let mut users = users.into_iter();
    (0..count)
        .map(|index| {
            let chunk: Vec<UserSpec> = users.by_ref().take(USERS_PER_FILE).collect();
            let first = index * USERS_PER_FILE + 1;
            ExportFile {
                name: format!("users/{index:0width$}.yaml"),
                header: vec![
                    format!(
                        "Users {first} to {} of {total} of {org}, exported by `umapi export`",
                        first + chunk.len() - 1
                    ),
                    format!("({USERS_PER_FILE} users per file). {note}"),
                ],
                state: StateFile {
                    users: chunk,
                    ..StateFile::default()
                },
            }
        })
        .collect()
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
            .map(|g| Membership::from(&**g))
            .collect(),
        ..UserSpec::default()
    }
}

/// The identity fields as a state file writes them: the email, plus username
/// and domain only when the username is not the email.
type Text = Option<Box<str>>;

fn identity(user: &SnapshotUser) -> (Text, Text, Text) {
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

//! The record of the write-only values umapi last wrote: a user group's
//! description and product-profile links, which UMAPI cannot read back.
//!
//! The planner sends a write-only value when the group is created, when the
//! declared value differs from the one recorded here, or when asked to re-assert
//! everything. The record is kept by org and by the group's name in the org
//! (lower-cased; an entry follows the group through renames umapi makes), and
//! holds SHA-256 hashes of the values, not the values. Losing it only costs
//! requests: a group without an entry gets its declared values sent again.
//! Entries are written only for values the server acknowledged, and dropped for
//! groups that are gone from the org.
//!
//! JSON layout (`format_version` 1): `{"format_version": 1, "orgs": {ORG_ID:
//! {GROUP_NAME_LOWER_CASE: {"description": HASH, "profiles": HASH}}}}`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::apply::{ApplyReport, ChangeStatus};
use crate::current::{Snapshot, read_versioned};
use crate::desired::DesiredState;
use crate::error::Error;
use crate::plan::{ChangeKind, Plan};

/// Version of the record's JSON written by this crate.
pub const WRITTEN_FORMAT_VERSION: u32 = 1;

/// The file name of the record, next to `umapi.yaml`, unless configured.
pub const DEFAULT_WRITTEN_FILE: &str = ".umapi-written.json";

/// What umapi last wrote, by org and group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// Version of this document (`1`).
    pub format_version: u32,
    /// Per org id: per lower-cased group name, what was written.
    pub orgs: BTreeMap<String, BTreeMap<String, WrittenGroup>>,
}

impl Default for Written {
    fn default() -> Self {
        Written {
            format_version: WRITTEN_FORMAT_VERSION,
            orgs: BTreeMap::new(),
        }
    }
}

/// The write-only values last written to one user group, as hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenGroup {
    /// [`description_hash`] of the description last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// [`profiles_hash`] of the profile links last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<String>,
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The recorded form of a description.
pub fn description_hash(description: &str) -> String {
    sha256(description)
}

/// The recorded form of a set of profile links (order and case do not matter:
/// UMAPI matches profile names case-insensitively).
pub fn profiles_hash(profiles: &[String]) -> String {
    let mut names: Vec<String> = profiles.iter().map(|p| p.to_lowercase()).collect();
    names.sort();
    names.dedup();
    sha256(&names.join("\n"))
}

impl Written {
    /// Reads a record written by [`Written::to_json`]; refuses other versions.
    pub fn from_reader(reader: impl std::io::Read) -> Result<Self, Error> {
        read_versioned("write-only record", reader, WRITTEN_FORMAT_VERSION)
    }

    /// The record as pretty JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain maps of strings cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// What was last written to the group named `name` in the org `org_id`.
    pub fn group(&self, org_id: &str, name: &str) -> Option<&WrittenGroup> {
        self.orgs.get(org_id)?.get(&name.to_lowercase())
    }

    /// The record after `plan` was applied as `report` says, for the org as
    /// `snapshot` showed it before: values the server acknowledged are recorded
    /// (under the group's new name, after a rename), values whose sending failed
    /// are forgotten, and entries of groups no longer in the org are dropped. A
    /// test-only apply records nothing.
    pub fn after_apply(
        &self,
        desired: &DesiredState,
        snapshot: &Snapshot,
        plan: &Plan,
        report: &ApplyReport,
    ) -> Written {
        if report.test_only {
            return self.clone();
        }
        let succeeded: HashSet<u32> = report
            .changes
            .iter()
            .filter(|r| r.status == ChangeStatus::Succeeded)
            .map(|r| r.change)
            .collect();
        let ok = |id: u32| succeeded.contains(&id);
        let previous = self.orgs.get(&plan.org_id).cloned().unwrap_or_default();
        let mut existing: HashSet<String> = snapshot
            .groups
            .iter()
            .map(|g| g.name.to_lowercase())
            .collect();
        let mut entries: BTreeMap<String, WrittenGroup> = previous;

        // Renames, creates and deletes first: they decide under which name the
        // values land.
        for change in &plan.changes {
            match &change.kind {
                ChangeKind::RenameGroup { group, from } if ok(change.id) => {
                    let entry = entries.remove(&from.to_lowercase());
                    existing.remove(&from.to_lowercase());
                    existing.insert(group.to_lowercase());
                    entries.remove(&group.to_lowercase());
                    if let Some(entry) = entry {
                        entries.insert(group.to_lowercase(), entry);
                    }
                }
                ChangeKind::CreateGroup { group, .. } => {
                    // A new group has none of the values an old entry recorded.
                    entries.remove(&group.to_lowercase());
                    if ok(change.id) {
                        existing.insert(group.to_lowercase());
                    }
                }
                ChangeKind::DeleteGroup { group, .. } if ok(change.id) => {
                    existing.remove(&group.to_lowercase());
                }
                _ => {}
            }
        }
        entries.retain(|name, _| existing.contains(name));

        // Which changes carried each group's description and profile links.
        let mut descriptions: HashMap<String, (String, bool)> = HashMap::new();
        let mut profiles: HashMap<String, bool> = HashMap::new();
        for change in &plan.changes {
            let (group, description, linked) = match &change.kind {
                ChangeKind::CreateGroup {
                    group,
                    description,
                    profiles,
                }
                | ChangeKind::ReassertGroup {
                    group,
                    description,
                    profiles,
                } => (group, description, !profiles.is_empty()),
                _ => continue,
            };
            let key = group.to_lowercase();
            if let Some(description) = description {
                let slot = descriptions
                    .entry(key.clone())
                    .or_insert_with(|| (description.clone(), true));
                slot.1 &= ok(change.id);
            }
            if linked {
                *profiles.entry(key).or_insert(true) &= ok(change.id);
            }
        }
        for (key, (description, all_ok)) in descriptions {
            if existing.contains(&key) {
                entries.entry(key).or_default().description =
                    all_ok.then(|| description_hash(&description));
            }
        }
        for (key, all_ok) in profiles {
            let declared = desired.groups.iter().find(|g| g.name.to_lowercase() == key);
            if existing.contains(&key) {
                entries.entry(key).or_default().profiles = declared
                    .filter(|_| all_ok)
                    .map(|g| profiles_hash(&g.profiles));
            }
        }
        entries.retain(|_, entry| entry.description.is_some() || entry.profiles.is_some());

        let mut out = self.clone();
        if entries.is_empty() {
            out.orgs.remove(&plan.org_id);
        } else {
            out.orgs.insert(plan.org_id.clone(), entries);
        }
        out
    }
}

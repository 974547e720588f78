//! A stable fingerprint of the desired state, recorded in the plan.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::desired::{DesiredState, GroupSpec, ProfileSpec, Settings, UserSpec};

#[derive(Serialize)]
struct Hashed<'a> {
    users: &'a [UserSpec],
    groups: &'a [GroupSpec],
    profiles: &'a [ProfileSpec],
    admin_groups: &'a [ProfileSpec],
    settings: &'a Settings,
}

struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 (hex) of the desired state's content (not of where it was written), as
/// recorded in [`crate::plan::Plan::desired_state_hash`]: `apply PLANFILE` compares it
/// with the state files on disk to refuse a plan made from other YAML.
pub fn desired_state_hash(desired: &DesiredState) -> String {
    let mut writer = HashWriter(Sha256::new());
    let hashed = Hashed {
        users: &desired.users,
        groups: &desired.groups,
        profiles: &desired.profiles,
        admin_groups: &desired.admin_groups,
        settings: &desired.settings,
    };
    // Serialising plain data into a hasher cannot fail.
    let _ = serde_json::to_writer(&mut writer, &hashed);
    hex::encode(writer.0.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_keeps_its_hash() {
        // Saved plans carry this hash and `apply PLANFILE` compares it with the state
        // files: a new build must hash the same YAML to the same value, whatever the
        // types that hold it in memory.
        let yaml = "\
settings:
  default_country: DE
  default_type: federatedID
groups:
  - name: Engineering
    description: Builds things
    previously: [Dev]
  - name: Interns
profiles:
  - name: Creative Cloud
    members: [b@example.com]
users:
  - email: a@example.com
    firstname: Ada
    lastname: Lovelace
    country: GB
    groups: [Engineering, {name: Interns, until: 2030-08-31}]
    previously: [ada@example.com]
    until: 2030-12-31
  - email: b@example.com
    username: bee
    domain: example.com
  - email: c@example.com
    type: enterpriseID
";
        let desired = crate::desired::load_str("state.yaml", yaml).unwrap();
        assert_eq!(
            desired_state_hash(&desired),
            "566f227bcaa4b561f0b169d882d9a87f1a7ebd9250ea00c863ec3906b89d643f"
        );
    }
}

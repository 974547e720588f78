//! `umapi validate`: offline checks of `umapi.yaml` and the state files.

use std::path::Path;

use crate::outcome::Outcome;
use crate::printer::Printer;
use crate::project::Project;

/// Runs `validate`. Needs neither credentials nor network.
pub fn run(config: &Path, printer: &Printer) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let desired = project.desired_state()?;
    let files = umapi_sync::state::state_files(&project.config.state)?;
    printer.result(&format!(
        "The configuration and {} state files are valid: {} users, {} user groups, {} product profiles, {} admin groups.",
        files.len(),
        desired.users.len(),
        desired.groups.len(),
        desired.profiles.len(),
        desired.admin_groups.len(),
    ));
    Ok(Outcome::Success)
}

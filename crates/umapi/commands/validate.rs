//! `umapi validate`: offline checks of `umapi.yaml` and the state files.

use std::path::Path;

use crate::cli::ValidateArgs;
use crate::outcome::Outcome;
use crate::printer::Printer;
use crate::project::Project;

/// Runs `validate`. Needs neither credentials nor network.
pub fn run(config: &Path, args: &ValidateArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let desired = project.desired_state()?;
    let files = umapi_sync::desired::state_files(&project.config.state)?;
    printer.result(&format!(
        "The configuration and {} are valid: {}, {}, {} and {}.",
        count(files.len(), "state file"),
        count(desired.users.len(), "user"),
        count(desired.groups.len(), "user group"),
        count(desired.profiles.len(), "product profile"),
        count(desired.admin_groups.len(), "admin group"),
    ));
    if args.expiring > 0 {
        let today = crate::project::today()?;
        let expiring = umapi_sync::expiry::expiring(&desired, today, args.expiring);
        let mut text = format!(
            "Access ending within {}: {}",
            count(args.expiring as usize, "day"),
            if expiring.is_empty() { "none" } else { "" }
        );
        for entry in &expiring {
            text.push_str(&format!("\n  {entry}"));
        }
        printer.result(text.trim_end());
    }
    Ok(Outcome::Success)
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

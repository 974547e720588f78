//! `umapi why USER`: where a user's access comes from, line by line; with the org
//! (live or a snapshot), also what it has now and what a plan would change.

use std::path::Path;

use umapi_sync::planner::PlanOptions;

use crate::cli::{WhyArgs, WhyFormat};
use crate::outcome::Outcome;
use crate::printer::Printer;
use crate::project::Project;
use crate::written_file;

/// Runs `why`. Offline unless `--live` or `--snapshot` asks for the org.
pub async fn run(config: &Path, args: WhyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let (desired, org) = if args.live || args.snapshot.is_some() {
        let read = super::plan::read_org(&project, args.snapshot.as_deref(), printer);
        let (desired, snapshot) = project.desired_state_while(read).await?;
        (desired, Some(snapshot))
    } else {
        (project.desired_state()?, None)
    };
    let options = PlanOptions {
        written: written_file::read(&project.config.write_only_cache, printer),
        ..project.plan_options()?
    };
    let why = umapi_sync::why::explain(&desired, &args.user, &options, org.as_ref())?;
    printer.result(
        match args.format {
            WhyFormat::Text => umapi_sync::render::why_text(&why),
            WhyFormat::Json => why.to_json(),
        }
        .trim_end(),
    );
    if !why.is_known() {
        let nowhere = if org.is_some() {
            "neither declared in the state files nor in the org"
        } else {
            "not declared in the state files"
        };
        let hint = match why
            .undeclared
            .as_ref()
            .and_then(|u| u.did_you_mean.as_ref())
        {
            Some(close) => format!("did you mean `{close}`?"),
            None if org.is_none() => {
                "name a user by email or username; add --live or --snapshot FILE to look in \
                 the org too"
                    .to_owned()
            }
            None => "name a user by email or username".to_owned(),
        };
        anyhow::bail!("user `{}` is {nowhere}\n  hint: {hint}", args.user);
    }
    Ok(Outcome::Success)
}

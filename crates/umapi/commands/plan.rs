//! `umapi plan`: the desired state against the live org (or a snapshot file).

use std::path::Path;

use anyhow::Context;
use umapi_sync::current::Snapshot;
use umapi_sync::plan::Plan;
use umapi_sync::planner::PlanOptions;

use crate::cli::{PlanArgs, PlanFormat};
use crate::outcome::Outcome;
use crate::output_file::{self, Output};
use crate::printer::Printer;
use crate::progress::ReadSpinner;
use crate::project::Project;
use crate::written_file;

/// Runs `plan`.
pub async fn run(config: &Path, args: PlanArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let mut inputs = project.inputs();
    if let Some(snapshot) = &args.snapshot {
        inputs.file(snapshot, "the snapshot being planned against");
    }
    if let Some(out) = &args.out {
        inputs.check(out, Output::Plan)?;
    }
    let read = read_org(&project, args.snapshot.as_deref(), printer);
    let (desired, snapshot) = project.desired_state_while(read).await?;
    let options = PlanOptions {
        overrides: args.allow.clone(),
        reassert: args.reassert,
        written: written_file::read(&project.config.write_only_cache, printer),
        expiring_days: args.expiring,
        targets: args.targets.clone(),
        ..project.plan_options()?
    };
    let plan = umapi_sync::planner::plan(&desired, &snapshot, &options)?;
    // Freeing a large org's millions of strings one by one takes a noticeable
    // while (a second at a million users): a thread of its own does it while the
    // plan is printed, and the process does not wait for it to exit.
    std::thread::spawn(move || drop((desired, snapshot)));
    printer.result(&render_for(&plan, args.format(), config, printer));
    if let Some(out) = &args.out {
        output_file::write(out, &inputs, Output::Plan, |writer| {
            Ok(plan.to_writer(writer)?)
        })?;
        if plan.is_blocked() {
            printer.info(format_args!(
                "Saved the plan to {}; it is blocked by a safety limit and cannot be applied.",
                out.display()
            ));
        } else {
            printer.info(format_args!(
                "Saved the plan to {}. Apply exactly this plan with: {}",
                out.display(),
                super::command_line(
                    config,
                    &format!("apply {}", super::shell_word(&out.display().to_string()))
                )
            ));
        }
    }
    if plan.is_blocked() {
        return Err(blocked(&plan, config));
    }
    Ok(Outcome::Planned {
        has_changes: plan.has_changes(),
        detailed_exitcode: args.detailed_exitcode,
    })
}

/// The error of a plan a safety limit blocks: which limits, and how to go ahead
/// (with the `-c FILE` this run was given).
pub fn blocked(plan: &Plan, config: &Path) -> anyhow::Error {
    let limits: Vec<String> = plan
        .blocked
        .iter()
        .map(|b| format!("{} ({} planned, {} allowed)", b.limit, b.planned, b.allowed))
        .collect();
    let allow: Vec<String> = plan
        .blocked
        .iter()
        .map(|b| format!("--allow {}={}", b.limit, b.planned))
        .collect();
    anyhow::anyhow!(
        "the plan is BLOCKED: it goes over the safety limit{} {}; nothing was sent\n  \
         hint: if this is intended, raise the limit under settings.limits in the state files, \
         or, once the plan is reviewed, override it for this run with `{}`",
        if limits.len() == 1 { "" } else { "s" },
        limits.join(", "),
        super::command_line(config, &format!("plan {}", allow.join(" ")))
    )
}

/// The org to plan against: the snapshot file when one is given, else the live org
/// (with a spinner while its pages arrive).
pub async fn read_org(
    project: &Project,
    snapshot: Option<&Path>,
    printer: &Printer,
) -> anyhow::Result<Snapshot> {
    match snapshot {
        Some(path) => read_snapshot(path),
        None => {
            let org = project.connect(false).await?;
            let spinner = ReadSpinner::new(printer);
            let snapshot = org.snapshot(|progress| spinner.update(progress)).await;
            spinner.finish();
            org.close().await;
            snapshot
        }
    }
}

/// The plan in the chosen format; the Markdown header names the configuration file
/// (as given with `-c`) next to the org, and hints carry that `-c`.
pub fn render_for(plan: &Plan, format: PlanFormat, config: &Path, printer: &Printer) -> String {
    let umapi = umapi_command(config);
    match format {
        PlanFormat::Text => umapi_sync::render::text_for(plan, printer.stdout_color(), &umapi),
        PlanFormat::Json => plan.to_json(),
        PlanFormat::Markdown => {
            umapi_sync::render::markdown_for(plan, Some(&config.display().to_string()), &umapi)
        }
    }
}

/// How hints run umapi: `umapi`, or `umapi -c FILE` when `config` is not the default.
pub fn umapi_command(config: &Path) -> String {
    super::command_line(config, "").trim_end().to_owned()
}

fn read_snapshot(path: &Path) -> anyhow::Result<Snapshot> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("could not open the snapshot `{}`", path.display()))?;
    Snapshot::from_reader(std::io::BufReader::new(file))
        .with_context(|| format!("could not read the snapshot `{}`", path.display()))
}

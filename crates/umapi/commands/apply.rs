//! `umapi apply`: show the plan, get approval, execute it, summarise.

use std::path::Path;

use anyhow::{Context, bail};
use umapi_sync::apply::{ApplyOptions, apply};
use umapi_sync::plan::Plan;

use crate::cli::{ApplyArgs, PlanFormat};
use crate::commands::plan::render;
use crate::outcome::Outcome;
use crate::printer::Printer;
use crate::progress::{ApplyProgress, ReadSpinner};
use crate::project::Project;
use crate::summary;

/// Runs `apply`.
pub async fn run(config: &Path, args: ApplyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let saved = match &args.plan_file {
        Some(path) => Some(read_plan(path)?),
        None => None,
    };
    // Decide before touching the network: in CI nobody can answer a prompt,
    // and stdin is never read there.
    let needs_prompt = saved.is_none() && !args.auto_approve;
    if needs_prompt && !printer.can_prompt() {
        bail!(
            "refusing to apply without approval: there is no terminal to ask on\n  \
             hint: pass --auto-approve, or apply a plan saved with `umapi plan -o FILE` \
             (`umapi apply FILE`)"
        );
    }
    // A saved plan carries everything; the state files, when present, must
    // still be the ones it was made from.
    let needs_desired = saved.is_none() || project.has_state_files();
    let read = async {
        let org = project.connect(args.test_only).await?;
        let spinner = ReadSpinner::new(printer);
        let snapshot = org.snapshot(|progress| spinner.update(progress)).await;
        spinner.finish();
        anyhow::Ok((org, snapshot))
    };
    let (desired, (org, snapshot)) = if needs_desired {
        let (desired, read) = project.desired_state_while(read).await?;
        (Some(desired), read)
    } else {
        (None, read.await?)
    };
    let source = match (saved, desired) {
        (Some(plan), desired) => Source::Saved(Box::new(plan), desired),
        (None, Some(desired)) => Source::Fresh(desired),
        (None, None) => unreachable!("the desired state is loaded when there is no saved plan"),
    };

    let result = async {
        let snapshot = snapshot?;
        let plan = match source {
            Source::Saved(plan, desired) => {
                check_saved_plan(
                    &plan,
                    desired.as_ref(),
                    &snapshot,
                    args.plan_file.as_deref(),
                )?;
                *plan
            }
            Source::Fresh(desired) => {
                umapi_sync::planner::plan(&desired, &snapshot, &project.plan_options())?
            }
        };
        printer.result(&render(&plan, PlanFormat::Text, printer));
        if plan.request_count() == 0 {
            return Ok(Outcome::Success);
        }
        if needs_prompt && !confirm(printer, &plan, args.test_only) {
            bail!("apply cancelled; nothing was changed");
        }
        execute(&org.conn, &plan, &args, printer).await
    }
    .await;
    org.close().await;
    result
}

/// Where the plan to apply comes from.
enum Source {
    /// A plan file, and the desired state on disk if the state files are there.
    Saved(Box<Plan>, Option<umapi_sync::model::DesiredState>),
    /// Planned now from this desired state.
    Fresh(umapi_sync::model::DesiredState),
}

async fn execute(
    conn: &umapi_core::Connection,
    plan: &Plan,
    args: &ApplyArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let mut progress = ApplyProgress::new(printer, plan.request_count());
    let report = apply(conn, plan, ApplyOptions::default(), |event| {
        progress.on_event(&event)
    })
    .await;
    progress.finish();
    summary::print(plan, &report, printer);
    if let Some(path) = &args.report {
        summary::write_report(plan, &report, path)?;
        printer.info(format_args!("Wrote the report to {}", path.display()));
    }
    if report.is_success() {
        Ok(Outcome::Success)
    } else {
        bail!(
            "{} of {} changes failed (listed above); run `umapi plan` to see what is left",
            report.failed + report.skipped,
            report.changes.len()
        )
    }
}

fn confirm(printer: &Printer, plan: &Plan, test_only: bool) -> bool {
    let what = if test_only {
        "Send these actions with testOnly (nothing will change)?"
    } else {
        "Do you want to perform these actions?"
    };
    printer.heading(what);
    printer.info(format_args!(
        "  umapi will send {} requests to org {}. Only 'yes' will be accepted to approve.",
        plan.request_count(),
        plan.org_id
    ));
    matches!(printer.ask("  Enter a value:").as_deref(), Some("yes"))
}

/// Reads a plan file saved by `plan -o FILE`.
pub fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("could not open the plan file `{}`", path.display()))?;
    Plan::from_reader(std::io::BufReader::new(file))
        .with_context(|| format!("could not read the plan file `{}`", path.display()))
}

/// Refuses a plan made for another org, from other state files, or against an
/// org that has changed since.
fn check_saved_plan(
    plan: &Plan,
    desired: Option<&umapi_sync::model::DesiredState>,
    snapshot: &umapi_sync::snapshot::Snapshot,
    path: Option<&Path>,
) -> anyhow::Result<()> {
    let name = path.map(|p| p.display().to_string()).unwrap_or_default();
    if let Some(desired) = desired {
        let hash = umapi_sync::planner::desired_state_hash(desired);
        if hash != plan.desired_state_hash {
            bail!(
                "the plan `{name}` was made from different state files than the ones on disk\n  \
                 hint: run `umapi plan -o {name}` again and review the new plan"
            );
        }
    }
    if let Err(problems) = plan.check_fresh(snapshot) {
        let mut message = format!(
            "the plan `{name}` is stale: the org changed since it was made; nothing was sent"
        );
        for problem in problems.iter().take(20) {
            message.push_str(&format!("\n  - {problem}"));
        }
        if problems.len() > 20 {
            message.push_str(&format!("\n  … and {} more", problems.len() - 20));
        }
        message.push_str(&format!(
            "\n  hint: run `umapi plan -o {name}` again and review the new plan"
        ));
        bail!(message);
    }
    Ok(())
}

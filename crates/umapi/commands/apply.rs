//! `umapi apply`: show the plan, get approval, execute it, summarise.

use std::path::Path;

use anyhow::{Context, bail};
use umapi_sync::apply::{ApplyOptions, ApplyReport, apply};
use umapi_sync::plan::Plan;
use umapi_sync::planner::PlanOptions;

use crate::cli::{ApplyArgs, PlanFormat};
use crate::commands::plan::{blocked, render_for, umapi_command};
use crate::commands::shell_word;
use crate::outcome::Outcome;
use crate::output_file::{Inputs, Output};
use crate::printer::Printer;
use crate::progress::{ApplyProgress, ReadSpinner};
use crate::project::Project;
use crate::summary;
use crate::written_file;

/// Runs `apply`.
pub async fn run(config: &Path, args: ApplyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let mut inputs = project.inputs();
    if let Some(path) = &args.plan_file {
        inputs.file(path, "the plan file being applied");
    }
    // Before anything is sent: a report that could not be written must not
    // be found out after the org has changed.
    if let Some(path) = &args.report {
        inputs.check(path, Output::Report)?;
    }
    let saved = match &args.plan_file {
        Some(path) => Some(read_plan(path)?),
        None => None,
    };
    let umapi = umapi_command(config);
    if let Some(path) = &args.plan_file {
        let name = path.display();
        let word = shell_word(&name.to_string());
        if !args.allow.is_empty() {
            bail!(
                "--allow cannot change the saved plan `{name}`: it carries the overrides it was \
                 made with\n  hint: run `{umapi} plan --allow LIMIT=VALUE -o {word}` again, \
                 review the new plan, and apply it"
            );
        }
        if args.reassert {
            bail!(
                "--reassert cannot change the saved plan `{name}`: it records whether it was \
                 made with it\n  hint: run `{umapi} plan --reassert -o {word}` again, review the \
                 new plan, and apply it"
            );
        }
        if !args.targets.is_empty() {
            bail!(
                "--target cannot change the saved plan `{name}`: it records the targets it was \
                 made with\n  hint: run `umapi plan --target … -o {name}` again, review the new \
                 plan, and apply it"
            );
        }
        // The plan is made again from the state files and applied only if that
        // gives the same plan; without them there is nothing to check it against.
        if !project.has_state_files() {
            let missing: Vec<String> = project
                .config
                .state
                .iter()
                .filter(|p| !p.exists())
                .map(|p| p.display().to_string())
                .collect();
            bail!(
                "cannot apply the saved plan `{name}` without the state files it was made from \
                 ({} not found); nothing was sent\n  hint: run umapi from the checkout that holds \
                 the state files (`state:` in umapi.yaml), at the commit the plan was made from",
                missing.join(", ")
            );
        }
    }
    // Decide before touching the network: in CI nobody can answer a prompt,
    // and stdin is never read there.
    let needs_prompt = saved.is_none() && !args.auto_approve;
    if needs_prompt && !printer.can_prompt() {
        bail!(
            "refusing to apply without approval: there is no terminal to ask on\n  \
             hint: pass --auto-approve, or apply a plan saved with `{umapi} plan -o FILE` \
             (`{umapi} apply FILE`)"
        );
    }
    let read = async {
        let org = project.connect(args.test_only).await?;
        let spinner = ReadSpinner::new(printer);
        let snapshot = org.snapshot(|progress| spinner.update(progress)).await;
        spinner.finish();
        anyhow::Ok((org, snapshot))
    };
    let (desired, (org, snapshot)) = project.desired_state_while(read).await?;

    let result = async {
        let snapshot = snapshot?;
        // Read as `plan` reads it, so that a saved plan is made again the same way.
        let record_path = &project.config.write_only_cache;
        let written = written_file::read(record_path, printer);
        let plan = match saved {
            Some(saved) => {
                let path = args.plan_file.as_deref().unwrap_or(Path::new(""));
                match replan_saved(
                    &saved, &desired, &snapshot, &project, &written, path, &umapi,
                )? {
                    Replanned::Same(plan) => plan,
                    Replanned::AlreadyApplied(plan) => {
                        printer.info(format_args!(
                            "The plan `{}` is already applied: the org has every change it \
                             makes; nothing was sent.",
                            path.display()
                        ));
                        if let Some(path) = &args.report {
                            let report = ApplyReport::not_sent(&plan, args.test_only);
                            summary::write_report(&plan, &report, path, &inputs)?;
                        }
                        return Ok(Outcome::Success);
                    }
                }
            }
            None => {
                let options = PlanOptions {
                    overrides: args.allow.clone(),
                    reassert: args.reassert,
                    written: written.clone(),
                    targets: args.targets.clone(),
                    ..project.plan_options()?
                };
                umapi_sync::planner::plan(&desired, &snapshot, &options)?
            }
        };
        if args.test_only {
            printer.result(&umapi_sync::render::text_test_mode(
                &plan,
                printer.stdout_color(),
                &umapi,
            ));
        } else {
            printer.result(&render_for(&plan, PlanFormat::Text, config, printer));
        }
        if plan.is_blocked() {
            if let Some(path) = &args.report {
                let report = ApplyReport::not_sent(&plan, args.test_only);
                summary::write_report(&plan, &report, path, &inputs)?;
                printer.info(format_args!("Wrote the report to {}", path.display()));
            }
            return Err(blocked(&plan, config));
        }
        if plan.request_count() == 0 {
            // Nothing to send; CI still gets its report, with 0 requests.
            if let Some(path) = &args.report {
                let report = ApplyReport::not_sent(&plan, args.test_only);
                summary::write_report(&plan, &report, path, &inputs)?;
            }
            return Ok(Outcome::Success);
        }
        if needs_prompt && !confirm(printer, &plan, args.test_only) {
            bail!("apply cancelled; nothing was changed");
        }
        let report = execute(&org.conn, &plan, &args, &inputs, printer).await?;
        let after = written.after_apply(&desired, &snapshot, &plan, &report);
        if after != written
            && let Err(err) = written_file::write(record_path, &after, &inputs)
        {
            // The org has changed already; without the record, the next apply only
            // sends the declared values again.
            printer.info(format_args!("warning: {err:#}"));
        }
        outcome(&report, &umapi)
    }
    .await;
    org.close().await;
    result
}

/// A plan file: the plan, and the document exactly as read.
pub struct SavedPlan {
    /// The plan the file holds.
    pub plan: Plan,
    /// The file as JSON, to compare field by field with the plan made again.
    document: serde_json::Value,
}

/// What became of a saved plan checked against the org and the state files.
enum Replanned {
    /// The plan made again is the saved plan: it is applied.
    Same(Plan),
    /// The org changed since, but only into what the plan makes: the plan made
    /// again (with no changes) is returned, and nothing is sent.
    AlreadyApplied(Plan),
}

/// Checks a saved plan against the org and the state files, plans again from
/// them with the overrides the file records, and returns that plan if it is the
/// same document as the file: what is sent is always what `plan` showed.
fn replan_saved(
    saved: &SavedPlan,
    desired: &umapi_sync::desired::DesiredState,
    snapshot: &umapi_sync::current::Snapshot,
    project: &Project,
    written: &umapi_sync::written::Written,
    path: &Path,
    umapi: &str,
) -> anyhow::Result<Replanned> {
    let name = path.display();
    let again = format!("{umapi} plan -o {}", shell_word(&name.to_string()));
    let hash = umapi_sync::planner::desired_state_hash(desired);
    if hash != saved.plan.desired_state_hash {
        bail!(
            "the plan `{name}` was made from different state files than the ones on disk\n  \
             hint: run `{again}` again and review the new plan"
        );
    }
    let options = PlanOptions {
        overrides: saved.plan.overrides.iter().map(|o| o.requested()).collect(),
        reassert: saved.plan.reassert,
        written: written.clone(),
        targets: saved.plan.targets.clone(),
        ..project.plan_options()?
    };
    let mut derived = umapi_sync::planner::plan(desired, snapshot, &options)?;
    // The list of access ending soon only informs; it may have moved on a day since
    // the plan was saved, while the changes (an expiry included) are still compared.
    derived.expiring = saved.plan.expiring.clone();
    // The seats only inform too: others change profiles' member counts between plan
    // and apply without touching what the plan changes.
    derived.licences = saved.plan.licences.clone();
    if let Err(problems) = saved.plan.check_fresh(snapshot) {
        // Same state files, and nothing left to do: the org was brought there,
        // by this plan or by another apply of the same state files.
        if saved.plan.has_changes()
            && saved.plan.org_id == derived.org_id
            && !derived.has_changes()
            && derived.request_count() == 0
        {
            return Ok(Replanned::AlreadyApplied(derived));
        }
        bail!(stale_message(&name.to_string(), &problems, &again));
    }
    if let Some(difference) = derived.first_difference(&saved.document) {
        bail!(
            "the plan `{name}` is not the plan umapi makes from these state files and this org: \
             it was edited after it was saved, or made by another version of umapi; nothing was sent\n  \
             first difference: {difference}\n  \
             hint: run `{again}` again and review the new plan"
        );
    }
    Ok(Replanned::Same(derived))
}

async fn execute(
    conn: &umapi_core::Connection,
    plan: &Plan,
    args: &ApplyArgs,
    inputs: &Inputs,
    printer: &Printer,
) -> anyhow::Result<ApplyReport> {
    let mut progress = ApplyProgress::new(printer, plan.request_count());
    let report = apply(conn, plan, ApplyOptions::default(), |event| {
        progress.on_event(&event)
    })
    .await;
    progress.finish();
    summary::print(plan, &report, printer);
    if let Some(path) = &args.report {
        summary::write_report(plan, &report, path, inputs)?;
        printer.info(format_args!("Wrote the report to {}", path.display()));
    }
    Ok(report)
}

fn outcome(report: &ApplyReport, umapi: &str) -> anyhow::Result<Outcome> {
    if report.is_success() {
        Ok(Outcome::Success)
    } else if report.test_only {
        bail!(
            "{} of {} changes did not pass the server's validation (listed above); nothing \
             was changed",
            report.failed + report.skipped,
            report.changes.len()
        )
    } else {
        bail!(
            "{} of {} changes failed (listed above); run `{umapi} plan` to see what is left",
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
pub fn read_plan(path: &Path) -> anyhow::Result<SavedPlan> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("could not open the plan file `{}`", path.display()))?;
    let plan = Plan::from_reader(bytes.as_slice())
        .with_context(|| format!("could not read the plan file `{}`", path.display()))?;
    // `from_reader` succeeded, so the bytes are JSON.
    let document = serde_json::from_slice(&bytes)
        .with_context(|| format!("could not read the plan file `{}`", path.display()))?;
    Ok(SavedPlan { plan, document })
}

/// The refusal of a plan whose org changed since it was made, every difference
/// listed (the first 20).
fn stale_message(name: &str, problems: &[String], again: &str) -> String {
    let mut message =
        format!("the plan `{name}` is stale: the org changed since it was made; nothing was sent");
    for problem in problems.iter().take(20) {
        message.push_str(&format!("\n  - {problem}"));
    }
    if problems.len() > 20 {
        message.push_str(&format!("\n  … and {} more", problems.len() - 20));
    }
    message.push_str(&format!(
        "\n  hint: run `{again}` again and review the new plan"
    ));
    message
}

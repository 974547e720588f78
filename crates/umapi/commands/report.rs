//! `umapi report`: the audit report of the org, from a live read or a snapshot.

use anyhow::Context;
use umapi_sync::audit::{Audit, AuditSource};

use crate::cli::{ReportArgs, ReportFormat};
use crate::commands::plan::read_org;
use crate::outcome::Outcome;
use crate::output_file::{self, Output};
use crate::printer::Printer;
use crate::project::Project;

/// Runs `report`.
pub async fn run(
    config: &std::path::Path,
    args: ReportArgs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let mut inputs = project.inputs();
    if let Some(snapshot) = &args.snapshot {
        inputs.file(snapshot, "the snapshot being reported on");
    }
    if let Some(out) = &args.out {
        inputs.check(out, Output::AuditReport)?;
    }
    let read = read_org(&project, args.snapshot.as_deref(), printer);
    let (desired, snapshot) = project.desired_state_while(read).await?;
    let options = umapi_sync::planner::PlanOptions {
        expiring_days: args.expiring,
        ..project.plan_options()?
    };
    let plan = umapi_sync::planner::plan(&desired, &snapshot, &options)
        .context("could not compare the org with the desired state")?;
    let source = match &args.snapshot {
        Some(path) => AuditSource::Snapshot {
            file: path.display().to_string(),
        },
        None => AuditSource::LiveOrg,
    };
    let audit = Audit::new(
        &snapshot,
        &plan,
        args.expiring,
        &desired.settings.policy,
        source,
        jiff::Timestamp::now(),
    );
    let format = args.format.unwrap_or(match &args.out {
        Some(out)
            if out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md")) =>
        {
            ReportFormat::Markdown
        }
        Some(out)
            if out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json")) =>
        {
            ReportFormat::Json
        }
        _ => ReportFormat::Html,
    });
    let rendered = match format {
        ReportFormat::Html => umapi_sync::render::audit_html(&audit),
        ReportFormat::Markdown => umapi_sync::render::audit_markdown(&audit),
        ReportFormat::Json => audit.to_json(),
    };
    match &args.out {
        Some(out) => {
            output_file::write(out, &inputs, Output::AuditReport, |writer| {
                Ok(writer.write_all(rendered.as_bytes())?)
            })?;
            printer.info(format_args!("Wrote the audit report to {}.", out.display()));
        }
        None => printer.result(&rendered),
    }
    Ok(Outcome::Success)
}

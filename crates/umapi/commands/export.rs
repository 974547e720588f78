//! `umapi export`: the live org as state files.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::ExportArgs;
use crate::outcome::Outcome;
use crate::output_file::{self, Inputs, Output};
use crate::printer::Printer;
use crate::progress::ReadSpinner;
use crate::project::Project;

/// Runs `export`.
pub async fn run(config: &Path, args: ExportArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let project = Project::load(config)?;
    let inputs = project.inputs();
    if let Some(path) = &args.snapshot {
        inputs.check(path, Output::Snapshot)?;
    }
    let out = match &args.out {
        Some(out) => out.clone(),
        None => default_folder(&project),
    };
    // Refuse before reading the org: the files describe the whole org, so they
    // must not mix with state files already there.
    if args.snapshot.is_none() && out.is_dir() {
        let existing = umapi_sync::state::state_files(std::slice::from_ref(&out))?;
        if !existing.is_empty() {
            let names: Vec<String> = existing.iter().map(|p| p.display().to_string()).collect();
            bail!(
                "refusing to export into `{}`: it already holds state files ({})\n  hint: export \
                 to an empty folder with `--out DIR`, or move the existing state files away first",
                out.display(),
                names.join(", ")
            );
        }
    }
    let snapshot = {
        let org = project.connect(false).await?;
        let spinner = ReadSpinner::new(printer);
        let snapshot = org.snapshot(|progress| spinner.update(progress)).await;
        spinner.finish();
        org.close().await;
        snapshot?
    };
    if let Some(path) = &args.snapshot {
        return write_snapshot(&snapshot, path, &inputs, printer);
    }
    let mut files = umapi_sync::export::export(&snapshot);
    if project.config.settings.is_some() {
        // umapi.yaml holds the settings; a state file may not hold them as well.
        files.retain(|file| file.state.settings.is_none());
    }
    let targets: Vec<PathBuf> = files.iter().map(|file| out.join(file.name)).collect();
    for target in &targets {
        inputs.check(target, Output::ExportedState)?;
    }
    std::fs::create_dir_all(&out)
        .with_context(|| format!("could not create the folder `{}`", out.display()))?;
    let mut written = String::new();
    for (file, path) in files.iter().zip(&targets) {
        output_file::write(path, &inputs, Output::ExportedState, |writer| {
            Ok(writer.write_all(file.to_yaml().as_bytes())?)
        })?;
        written.push_str(&format!("{}\n", path.display()));
    }
    printer.result(&written);
    printer.info(format_args!(
        "Exported the org to {}. `umapi plan` with these files shows no changes.",
        out.display()
    ));
    Ok(Outcome::Success)
}

fn write_snapshot(
    snapshot: &umapi_sync::snapshot::Snapshot,
    path: &Path,
    inputs: &Inputs,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    output_file::write(path, inputs, Output::Snapshot, |writer| {
        Ok(snapshot.to_writer(writer)?)
    })?;
    printer.result(&format!("{}", path.display()));
    printer.info(format_args!(
        "Wrote a snapshot of {} users and {} groups; plan against it with `umapi plan --snapshot {}`",
        snapshot.users.len(),
        snapshot.groups.len(),
        path.display()
    ));
    Ok(Outcome::Success)
}

/// The first configured state path if it is (or will be) a folder, else a
/// `state` folder next to `umapi.yaml`.
fn default_folder(project: &Project) -> PathBuf {
    project
        .config
        .state
        .first()
        .filter(|path| !path.is_file())
        .cloned()
        .unwrap_or_else(|| project.base_dir().join("state"))
}

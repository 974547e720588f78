//! `umapi export`: the live org as state files.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{command_line, shell_word};
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
    let mut existing = Vec::new();
    if args.snapshot.is_none() && out.is_dir() {
        existing = umapi_sync::desired::state_files(std::slice::from_ref(&out))?;
        if !existing.is_empty() && !args.force {
            let names: Vec<String> = existing.iter().map(|p| p.display().to_string()).collect();
            bail!(
                "refusing to export into `{}`: it already holds state files ({})\n  hint: export \
                 to an empty folder with `--out DIR`, move the existing state files away first, \
                 or replace them with `{}`",
                out.display(),
                names.join(", "),
                command_line(
                    config,
                    &format!("export {}", export_flags(&args, "--force"))
                )
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
        return write_snapshot(&snapshot, path, &inputs, config, printer);
    }
    let mut files = umapi_sync::export::export(&snapshot);
    if project.config.settings.is_some() {
        // umapi.yaml holds the settings; a state file may not hold them as well.
        files.retain(|file| file.state.settings.is_none());
    }
    let targets: Vec<PathBuf> = files
        .iter()
        .map(|file| {
            file.name
                .split('/')
                .fold(out.clone(), |path, part| path.join(part))
        })
        .collect();
    for target in &targets {
        inputs.check(target, Output::ExportedState)?;
    }
    // `--force`: the old files go only now that the org was read, and those the
    // export writes again are replaced atomically rather than removed.
    let removed: Vec<&PathBuf> = existing
        .iter()
        .filter(|path| !targets.contains(path))
        .collect();
    for path in &removed {
        std::fs::remove_file(path)
            .with_context(|| format!("could not remove the old state file `{}`", path.display()))?;
    }
    let mut written = String::new();
    for (file, path) in files.iter().zip(&targets) {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("could not create the folder `{}`", folder.display()))?;
        }
        output_file::write(path, &inputs, Output::ExportedState, |writer| {
            Ok(writer.write_all(file.to_yaml().as_bytes())?)
        })?;
        written.push_str(&format!("{}\n", path.display()));
    }
    printer.result(&written);
    if !removed.is_empty() {
        let names: Vec<String> = removed.iter().map(|p| p.display().to_string()).collect();
        printer.info(format_args!(
            "Removed the old state files the export does not write again: {}",
            names.join(", ")
        ));
    }
    let plan = command_line(config, "plan");
    if project
        .config
        .state
        .iter()
        .any(|path| same_path(path, &out))
    {
        printer.info(format_args!(
            "Exported the org to {}. `{plan}` with these files shows no changes.",
            out.display()
        ));
    } else {
        printer.info(format_args!(
            "Exported the org to {}. To plan with these files, write in {}:\n\n  \
             state:\n    - {}\n\nThen `{plan}` shows no changes.",
            out.display(),
            project.config.path.display(),
            state_entry(&project, &out)
        ));
    }
    Ok(Outcome::Success)
}

/// Whether two paths name the same file or folder.
fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `folder` as a `state:` entry of the project's `umapi.yaml`: relative to the
/// file's folder when inside it, else absolute.
fn state_entry(project: &Project, folder: &Path) -> String {
    let folder = folder
        .canonicalize()
        .unwrap_or_else(|_| folder.to_path_buf());
    let base = project.base_dir();
    let base = base.canonicalize().unwrap_or(base);
    let entry = match folder.strip_prefix(&base) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) => relative.display().to_string(),
        Err(_) => folder.display().to_string(),
    };
    // A YAML plain scalar cannot hold every path; quote the others.
    let plain = entry
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    if plain {
        entry
    } else {
        serde_json::to_string(&entry).unwrap_or(entry)
    }
}

/// The flags of this export again, with `extra`, for a hint.
fn export_flags(args: &ExportArgs, extra: &str) -> String {
    match &args.out {
        Some(out) => format!("--out {} {extra}", shell_word(&out.display().to_string())),
        None => extra.to_owned(),
    }
}

fn write_snapshot(
    snapshot: &umapi_sync::current::Snapshot,
    path: &Path,
    inputs: &Inputs,
    config: &Path,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    output_file::write(path, inputs, Output::Snapshot, |writer| {
        Ok(snapshot.to_writer(writer)?)
    })?;
    printer.result(&format!("{}", path.display()));
    printer.info(format_args!(
        "Wrote a snapshot of {} users and {} groups; plan against it with `{}`",
        snapshot.users.len(),
        snapshot.groups.len(),
        command_line(
            config,
            &format!(
                "plan --snapshot {}",
                shell_word(&path.display().to_string())
            )
        )
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

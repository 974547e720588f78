//! Every file umapi writes (plans, apply reports, snapshots, exported state):
//! never onto one of its inputs, atomically, and readable by the owner only.
//!
//! An output path is compared with the inputs after both are resolved (symlinks
//! followed, `..` removed; for a path that does not exist yet, its folder is
//! resolved), so `-o state/../umapi.yaml` or a symlink onto a state file is
//! refused like the plain path. The file is written to a temporary file in the
//! same folder and renamed over the target, so an interrupted run leaves the old
//! file or the new one, never half a file. The files hold org data (names,
//! emails, memberships), hence mode 0600 on Unix.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// What a command writes: names it in messages and suggests a safe path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `umapi plan -o FILE`.
    Plan,
    /// `umapi apply --report FILE`.
    Report,
    /// `umapi export --snapshot FILE`.
    Snapshot,
    /// A state file written by `umapi export`.
    ExportedState,
    /// `umapi report --out FILE`.
    AuditReport,
    /// The record of write-only values, written by `umapi apply`.
    WrittenRecord,
}

impl Output {
    fn what(self) -> &'static str {
        match self {
            Output::Plan => "the plan",
            Output::Report => "the report",
            Output::Snapshot => "the snapshot",
            Output::ExportedState => "the exported state",
            Output::AuditReport => "the audit report",
            Output::WrittenRecord => "the record of write-only values",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            Output::Plan => "save the plan elsewhere, e.g. `-o plan.json`",
            Output::Report => "write the report elsewhere, e.g. `--report apply-report.json`",
            Output::Snapshot => "write the snapshot elsewhere, e.g. `--snapshot org-snapshot.json`",
            Output::ExportedState => "export into an empty folder with `--out DIR`",
            Output::AuditReport => "write the report elsewhere, e.g. `--out audit.html`",
            Output::WrittenRecord => {
                "set `write_only_cache:` in umapi.yaml to a file of its own, e.g. `.umapi-written.json`"
            }
        }
    }
}

/// The files and folders a run reads, which no output may replace.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    inputs: Vec<Input>,
}

#[derive(Debug, Clone)]
struct Input {
    /// As resolved by [`resolve`].
    resolved: PathBuf,
    /// As configured, for messages.
    shown: PathBuf,
    /// e.g. "the configuration file".
    what: String,
    /// A state folder (or a state path that may be one): everything under it is
    /// read as state.
    state_folder: bool,
}

impl Inputs {
    /// Adds an input file.
    pub fn file(&mut self, path: &Path, what: impl Into<String>) {
        self.add(path, what.into(), false);
    }

    /// Adds a configured state path (a file or a folder of state files).
    pub fn state_path(&mut self, path: &Path) {
        let what = if path.is_dir() {
            "the state folder"
        } else {
            "the state file"
        };
        self.add(path, what.to_owned(), true);
    }

    fn add(&mut self, path: &Path, what: String, state_folder: bool) {
        self.inputs.push(Input {
            resolved: resolve(path),
            shown: path.to_path_buf(),
            what,
            state_folder,
        });
    }

    /// Refuses `target` if writing it would replace an input or write inside a
    /// state folder.
    pub fn check(&self, target: &Path, output: Output) -> anyhow::Result<()> {
        self.check_resolved(target, &resolve(target), output)
    }

    fn check_resolved(&self, target: &Path, resolved: &Path, output: Output) -> anyhow::Result<()> {
        for input in &self.inputs {
            // `umapi export` is meant to fill a state folder; the files already
            // in it are refused by export itself (they would mix with the export),
            // and a state file named on its own is still an input here.
            let fills_state_folder =
                output == Output::ExportedState && input.state_folder && resolved != input.resolved;
            if fills_state_folder || !resolved.starts_with(&input.resolved) {
                continue;
            }
            let how = if resolved == input.resolved {
                "that would overwrite"
            } else {
                "that would write inside"
            };
            let through = if target.is_symlink() || absolute(target) != *resolved {
                format!(
                    " (`{}` leads to `{}`)",
                    target.display(),
                    resolved.display()
                )
            } else {
                String::new()
            };
            bail!(
                "refusing to write {} to `{}`: {how} {} `{}`, which umapi reads{through}\n  \
                 hint: {}; outputs may not replace umapi.yaml, the state files and folders, the \
                 sandbox's seed and state files, or the plan being applied",
                output.what(),
                target.display(),
                input.what,
                input.shown.display(),
                output.hint()
            );
        }
        Ok(())
    }
}

/// Checks `target` against `inputs`, then writes what `contents` produces to it
/// atomically, readable by the owner only. A symlink at `target` is followed:
/// the file it leads to is replaced.
pub fn write(
    target: &Path,
    inputs: &Inputs,
    output: Output,
    contents: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let resolved = resolve(target);
    inputs.check_resolved(target, &resolved, output)?;
    let write = || -> anyhow::Result<()> {
        let folder = match resolved.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".umapi-").suffix(".tmp");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let mut temp = builder.tempfile_in(folder)?;
        {
            let mut writer = std::io::BufWriter::new(temp.as_file_mut());
            contents(&mut writer)?;
            writer.flush()?;
        }
        temp.as_file().sync_all()?;
        temp.persist(&resolved)?;
        Ok(())
    };
    write().with_context(|| {
        format!(
            "could not write {} to `{}`",
            output.what(),
            target.display()
        )
    })
}

/// `path` absolute, with symlinks followed and `.`/`..` removed as the file
/// system resolves them: the path itself if it exists, else its folder resolved
/// and its name appended (a new file in a symlinked folder lands in the folder's
/// target), following a dangling symlink to where it points. A path under a
/// folder that does not exist stays as it is: writing there fails anyway.
fn resolve(path: &Path) -> PathBuf {
    resolve_within(&absolute(path), 40)
}

fn resolve_within(path: &Path, links_left: u32) -> PathBuf {
    if let Ok(resolved) = path.canonicalize() {
        return resolved;
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return path.to_path_buf();
    };
    let parent = resolve_within(parent, links_left);
    if links_left > 0
        && let Ok(link) = std::fs::read_link(parent.join(name))
    {
        return resolve_within(&parent.join(link), links_left - 1);
    }
    parent.join(name)
}

/// `path` made absolute against the working directory.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_in_a_symlinked_folder_resolves_into_the_folder_it_leads_to() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        #[cfg(unix)]
        assert_eq!(
            resolve(&dir.path().join("link/new.json")),
            real.canonicalize().unwrap().join("new.json")
        );
        assert_eq!(
            resolve(&dir.path().join("real/../real/./new.json")),
            real.canonicalize().unwrap().join("new.json")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_resolves_to_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink("not-yet.yaml", base.join("link.json")).unwrap();
        assert_eq!(resolve(&base.join("link.json")), base.join("not-yet.yaml"));
    }

    #[test]
    fn inside_a_state_folder_is_refused_except_for_exported_state() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let mut inputs = Inputs::default();
        inputs.state_path(&state);
        let target = state.join("users.yaml");
        let error = inputs.check(&target, Output::Plan).unwrap_err().to_string();
        assert!(error.contains("inside the state folder"), "{error}");
        inputs.check(&target, Output::ExportedState).unwrap();
        inputs
            .check(&dir.path().join("plan.json"), Output::Plan)
            .unwrap();
    }
}

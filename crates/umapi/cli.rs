//! The command line: every command, flag and its `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use umapi_sync::desired::LimitOverride;
use umapi_sync::planner::PlanTarget;

/// The configuration file read when `-c` names none.
pub const DEFAULT_CONFIG: &str = "umapi.yaml";

/// Keep an Adobe organization's users, user groups and product-profile
/// memberships in YAML, and reconcile the org with it through UMAPI.
///
/// `umapi plan` shows what would change; `umapi apply` changes it. To try
/// everything without an Adobe account, write `connection: {kind: sandbox}` in
/// `umapi.yaml`: umapi then starts a local stand-in for UMAPI itself.
#[derive(Debug, Parser)]
#[command(
    name = "umapi",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Configuration file; paths inside it are relative to the file.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        value_name = "FILE",
        default_value = DEFAULT_CONFIG
    )]
    pub config: PathBuf,

    /// More log output on stderr: -v info, -vv debug, -vvv trace. `RUST_LOG` overrides it.
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// How errors are reported besides the usual message on stderr: `github` also prints
    /// each problem as a GitHub Actions annotation on stdout, shown on its file and line.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Text, value_name = "FORMAT")]
    pub error_format: ErrorFormat,

    /// When to use colour on stdout and stderr. `auto` honours `NO_COLOR` and uses colour only on a terminal.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// How errors are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// `error: file:line:column: message` on stderr.
    Text,
    /// The same, and `::error file=…,line=…,col=…::message` on stdout for GitHub Actions.
    Github,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what `apply` would change: read the state files and the live org, and print the plan.
    ///
    /// Exit code 0 on success (1 on error); with `--detailed-exitcode`, 0 means
    /// "no changes" and 2 means "changes planned".
    Plan(PlanArgs),

    /// Change the org to match the state files, after showing the plan and asking for confirmation.
    ///
    /// On a terminal it asks you to type "yes". Without a terminal (CI) it never
    /// reads stdin: pass `--auto-approve`, or apply a plan file saved by `plan -o`.
    /// Exits 1 if any command failed; the summary lists every failed command.
    Apply(ApplyArgs),

    /// Write the live org as state files, so that the first `plan` shows no changes.
    Export(ExportArgs),

    /// Check the configuration and state files offline, without credentials or network.
    ///
    /// In GitHub Actions, `umapi validate --format github` marks each problem on its file
    /// and line in the pull request.
    Validate(ValidateArgs),

    /// Explain a user's access: every membership the state files give it, each with
    /// the file:line that gives it.
    ///
    /// Offline by default (no credentials, no network): the user's entry, its user
    /// groups, product profiles and admin groups, written on the user (`groups:`) or
    /// on the group (`members:`), or reached through a user group linked to a
    /// profile, with `until` dates. A user can be named by email, username or an
    /// earlier name under `previously:`, in any case. With `--live` (reads the org,
    /// like `plan`) or `--snapshot FILE`, also what the org has now for the user and
    /// what a plan would change for it. Exits 1 when the user is unknown.
    Why(WhyArgs),
    /// Serve the UMAPI sandbox for rehearsal with any UMAPI client (Ctrl-C stops it).
    Sandbox(SandboxArgs),

    /// Print a plan saved by `plan -o FILE`, offline: no configuration, credentials or network.
    ///
    /// Renders exactly what `plan` printed when it saved the file, for a CI job that
    /// reviews or posts a plan made elsewhere.
    Show(ShowArgs),

    /// Write an audit report of the org: seats per product profile, users per identity
    /// type, and how the org differs from the state files.
    ///
    /// One self-contained HTML page by default (no external assets, readable when
    /// printed), or Markdown or JSON. Reads the live org, or a snapshot file written
    /// by `export --snapshot`; never changes anything.
    Report(ReportArgs),

    /// Print the JSON Schema of the state files or of umapi.yaml, for YAML editors.
    ///
    /// Save it beside the files, e.g. `umapi schema state > state/state-schema.json`;
    /// state files written by `export` point at `./state-schema.json`.
    Schema(SchemaArgs),

    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    ///
    /// bash: `umapi completions bash > ~/.local/share/bash-completion/completions/umapi`;
    /// zsh: save as `_umapi` in a folder on `$fpath`; fish: `~/.config/fish/completions/umapi.fish`.
    Completions(CompletionsArgs),

    /// Print the manual page (roff), e.g. `umapi man > umapi.1 && man ./umapi.1`.
    ///
    /// With `--out-dir`, write one page per command instead (umapi.1, umapi-plan.1, …).
    Man(ManArgs),
}

/// Output formats of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-style text (coloured on a terminal).
    Text,
    /// The versioned plan JSON document.
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Flags of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Save the plan (JSON, with the org, the desired-state hash and preconditions) for a later `apply FILE`.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print the plan as JSON (same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// Output format of the printed plan.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<PlanFormat>,

    /// Exit 2 when the plan has changes, 0 when it has none, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Plan against a snapshot of the org (JSON, written by `export --snapshot`) instead of
    /// reading it live; needs no credentials or network.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,

    /// Override a safety limit for this plan only, once reviewed: LIMIT=VALUE, e.g.
    /// `max_user_removals=40` (a count, a percentage like 20%, or off). Repeatable;
    /// recorded in the plan.
    #[arg(long = "allow", value_name = "LIMIT=VALUE")]
    pub allow: Vec<LimitOverride>,

    /// Send every declared group description and profile link, not only those that
    /// changed since umapi last wrote them (for a scheduled drift job). Recorded in the plan.
    #[arg(long)]
    pub reassert: bool,

    /// List the users and memberships whose `until` falls within this many days, like
    /// `14d` or `30`; `0` lists none.
    #[arg(long, value_name = "DAYS", default_value = "14d", value_parser = parse_days)]
    pub expiring: u32,

    /// Plan only the changes that concern this user or group: `user:EMAIL` or
    /// `group:NAME` (repeatable). The plan is PARTIAL; recorded in the plan.
    #[arg(long = "target", value_name = "user:EMAIL|group:NAME")]
    pub targets: Vec<PlanTarget>,
}

/// A number of days, written `14d` or `14`.
fn parse_days(text: &str) -> Result<u32, String> {
    text.strip_suffix('d')
        .unwrap_or(text)
        .parse()
        .map_err(|_| format!("`{text}` is not a number of days; write it like 14d, or 0 for none"))
}

impl PlanArgs {
    /// The chosen output format (text unless asked otherwise).
    pub fn format(&self) -> PlanFormat {
        if self.json {
            PlanFormat::Json
        } else {
            self.format.unwrap_or(PlanFormat::Text)
        }
    }
}

/// Flags of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `plan -o FILE`. It is planned again from the state files and the org,
    /// and refused unless that gives the same plan: if the org changed since (stale plan),
    /// the state files no longer match it, or the file was edited.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,

    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// Send every command with UMAPI's `testOnly`: the server validates without changing anything.
    #[arg(long)]
    pub test_only: bool,

    /// Write a JSON report of every command and its result.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Override a safety limit for this run only, once reviewed: LIMIT=VALUE, e.g.
    /// `max_user_removals=40` (a count, a percentage like 20%, or off). Repeatable;
    /// recorded in the plan and the report. A saved plan carries the overrides it was
    /// made with (`plan --allow … -o FILE`).
    #[arg(long = "allow", value_name = "LIMIT=VALUE")]
    pub allow: Vec<LimitOverride>,

    /// Send every declared group description and profile link, not only those that
    /// changed since umapi last wrote them (for a scheduled drift job). A saved plan
    /// carries it (`plan --reassert -o FILE`).
    #[arg(long)]
    pub reassert: bool,

    /// Apply only the changes that concern this user or group: `user:EMAIL` or
    /// `group:NAME` (repeatable). A saved plan carries its targets (`plan --target … -o FILE`).
    #[arg(long = "target", value_name = "user:EMAIL|group:NAME")]
    pub targets: Vec<PlanTarget>,
}

/// Flags of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Folder to write the state files to (created if missing). Default: the first state path of the configuration.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Instead of state files, write the org as a snapshot JSON file, for `plan --snapshot FILE`
    /// (planning offline, or against a frozen copy of the org).
    #[arg(long, value_name = "FILE", conflicts_with = "out")]
    pub snapshot: Option<PathBuf>,

    /// Replace the state files already in the folder: the export describes the whole org,
    /// so the folder's other state files are removed too.
    #[arg(long, conflicts_with = "snapshot")]
    pub force: bool,
}

/// Flags of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// `github` also prints every problem as a GitHub Actions annotation on stdout
    /// (the same as the global `--error-format github`).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = ErrorFormat::Text)]
    pub format: ErrorFormat,

    /// Also list (on stdout) the users and memberships whose `until` falls within this
    /// many days, like `14d`; `0` (the default) lists none.
    #[arg(long, value_name = "DAYS", default_value = "0", value_parser = parse_days)]
    pub expiring: u32,
}

/// Output formats of `why`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhyFormat {
    /// Text for people.
    Text,
    /// JSON: the user's entry, memberships with their `sources`, and the org's side.
    Json,
}

/// Flags of `why`.
#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The user: email, username (`username (domain)` when usernames repeat across
    /// domains), or an earlier name under `previously:`; case does not matter.
    #[arg(value_name = "USER")]
    pub user: String,
    /// Also read the live org (credentials and network, like `plan`): what the user
    /// has now, and what a plan would change for it.
    #[arg(long, conflicts_with = "snapshot")]
    pub live: bool,
    /// Compare with a snapshot of the org (JSON, written by `export --snapshot`)
    /// instead of the live org; needs no credentials or network.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = WhyFormat::Text)]
    pub format: WhyFormat,
}

/// Flags of `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The plan file written by `umapi plan -o FILE`.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: PathBuf,

    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// Markdown, for a wiki page, an issue or a job summary.
    Markdown,
    /// The versioned report JSON document (every figure the page shows).
    Json,
}

/// Flags of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the report to FILE instead of stdout.
    #[arg(long = "out", short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Output format [default: from the `--out` extension (.md, .json), else html].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ReportFormat>,

    /// Report on a snapshot of the org (JSON, written by `export --snapshot`) instead of
    /// the live org.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,

    /// List the users and memberships whose `until` falls within this many days, like
    /// `30d` or `30`; `0` lists none.
    #[arg(long, value_name = "DAYS", default_value = "30d", value_parser = parse_days)]
    pub expiring: u32,
}

/// Which schema `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The state files (users, groups, profiles, admin groups, settings).
    State,
    /// umapi.yaml.
    Config,
}

/// Flags of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, default_value_t = SchemaKind::State)]
    pub kind: SchemaKind,
}

/// Flags of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags of `man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write umapi.1 and one page per command (umapi-plan.1, …) into this folder.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Flags of `sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Persist the org to this JSON file after every change (and start from it if it exists).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Start from this org (sandbox state JSON) when `--state` does not exist yet.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub port: u16,

    /// Generate an org with this many users (when neither state nor seed gives one).
    #[arg(long, value_name = "N")]
    pub users: Option<usize>,

    /// Generated user groups.
    #[arg(long, value_name = "M", requires = "users")]
    pub groups: Option<usize>,

    /// Generated product profiles.
    #[arg(long, value_name = "P", requires = "users")]
    pub profiles: Option<usize>,

    /// Serve HTTPS with a self-signed certificate.
    #[arg(long)]
    pub tls: bool,

    /// Rate limits to enforce: `off`, or `adobe` (25 user, 5 group and 10 action requests
    /// per minute and client, answered 429 beyond).
    #[arg(long, value_enum, default_value_t = SandboxLimits::Off, value_name = "LIMITS")]
    pub rate_limits: SandboxLimits,

    /// With `--rate-limits adobe`: how many times faster than real time the minute runs
    /// (60 = a minute lasts a second), to rehearse a long apply in little time.
    #[arg(long, value_name = "N", value_parser = time_scale, requires = "rate_limits")]
    pub time_scale: Option<f64>,

    /// Accept at most N memberships in one command entry, across all its `add` and
    /// `remove` steps (the strict reading of Adobe's "a maximum of 10 memberships in one
    /// command entry"); by default only each list is limited, to 10 names.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub memberships_per_entry: Option<u16>,
}

/// Rate limits `umapi sandbox` enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxLimits {
    /// None: every request is answered at once.
    Off,
    /// Adobe's published limits.
    Adobe,
}

/// A time scale: a number greater than 0.
fn time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(scale) if scale.is_finite() && scale > 0.0 && scale <= 60_000_000.0 => Ok(scale),
        _ => Err("expected a number greater than 0, like 60 (a minute lasts a second)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

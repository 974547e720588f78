//! `umapi completions SHELL` and `umapi man`: generated from the command-line
//! definition, so they always match `--help`.

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::outcome::Outcome;
use crate::printer::Printer;

/// Runs `completions`.
pub fn completions(args: CompletionsArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    printer.result(&String::from_utf8(script).context("the completion script is not UTF-8")?);
    Ok(Outcome::Success)
}

/// Runs `man`.
pub fn man(args: ManArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
            .with_context(|| format!("could not write the manual pages to `{}`", dir.display()))?;
        printer.info(format_args!(
            "Wrote the manual pages to {}; read them with `man {}/umapi.1`",
            dir.display(),
            dir.display()
        ));
        return Ok(Outcome::Success);
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .context("could not render the manual page")?;
    printer.result(&String::from_utf8(page).context("the manual page is not UTF-8")?);
    Ok(Outcome::Success)
}

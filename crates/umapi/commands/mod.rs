//! One module per command; [`run`] dispatches.

mod apply;
mod completions;
mod export;
mod plan;
mod report;
mod sandbox;
mod schema;
mod show;
mod validate;
mod why;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::outcome::Outcome;
use crate::printer::Printer;

/// Runs the command named on the command line.
pub async fn run(cli: Cli, printer: &Printer) -> anyhow::Result<Outcome> {
    let config = cli.config;
    match cli.command {
        Command::Plan(args) => plan::run(&config, args, printer).await,
        Command::Apply(args) => apply::run(&config, args, printer).await,
        Command::Export(args) => export::run(&config, args, printer).await,
        Command::Validate(args) => validate::run(&config, &args, printer),
        Command::Sandbox(args) => sandbox::run(args, printer).await,
        Command::Show(args) => show::run(args, &config, printer),
        Command::Why(args) => why::run(&config, args, printer).await,
        Command::Report(args) => report::run(&config, args, printer).await,
        Command::Schema(args) => schema::run(args, printer),
        Command::Completions(args) => completions::completions(args, printer),
        Command::Man(args) => completions::man(args, printer),
    }
}

/// `umapi ARGS` as a hint shows it, ready to paste: with `-c CONFIG` when the
/// configuration file is not the default `umapi.yaml`.
pub fn command_line(config: &Path, args: &str) -> String {
    if config == Path::new(crate::cli::DEFAULT_CONFIG) {
        format!("umapi {args}")
    } else {
        format!(
            "umapi -c {} {args}",
            shell_word(&config.display().to_string())
        )
    }
}

/// `word` as one shell word: as it is when it holds only safe characters, else in
/// single quotes.
pub fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_configuration_only_when_it_is_not_the_default() {
        assert_eq!(command_line(Path::new("umapi.yaml"), "plan"), "umapi plan");
        assert_eq!(
            command_line(Path::new("orgs/eu/umapi.yaml"), "plan"),
            "umapi -c orgs/eu/umapi.yaml plan"
        );
        assert_eq!(
            command_line(Path::new("my org/umapi.yaml"), "plan"),
            "umapi -c 'my org/umapi.yaml' plan"
        );
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}

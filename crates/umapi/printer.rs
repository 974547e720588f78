//! Everything the binary writes goes through here.
//!
//! stdout carries only the result (a plan, JSON, Markdown); stderr carries
//! logs, progress, prompts, summaries and errors. Colour is decided once, from
//! `--color`, `NO_COLOR` and whether each stream is a terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, IsTerminal, Write};

use anstyle::{AnsiColor, Style};

use crate::cli::ColorChoice;

/// Writes results to stdout and messages to stderr, with colour where wanted.
#[derive(Debug, Clone)]
pub struct Printer {
    stdout_color: bool,
    stderr_color: bool,
    stderr_terminal: bool,
    stdin_terminal: bool,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const EMPHASIS: Style = Style::new().bold();

impl Printer {
    /// A printer for this process's streams and the user's colour choice.
    pub fn new(choice: ColorChoice) -> Self {
        let global = match choice {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        global.write_global();
        let colors = |choice: anstream::ColorChoice| choice != anstream::ColorChoice::Never;
        Self {
            stdout_color: colors(anstream::AutoStream::choice(&std::io::stdout())),
            stderr_color: colors(anstream::AutoStream::choice(&std::io::stderr())),
            stderr_terminal: std::io::stderr().is_terminal(),
            stdin_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// Whether results on stdout may carry colour.
    pub fn stdout_color(&self) -> bool {
        self.stdout_color
    }

    /// Whether logs on stderr may carry colour.
    pub fn stderr_color(&self) -> bool {
        self.stderr_color
    }

    /// Whether a person is watching stderr (progress bars are drawn only then).
    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_terminal
    }

    /// Whether a person can answer a prompt. Never true in CI.
    pub fn can_prompt(&self) -> bool {
        self.stdin_terminal && self.stderr_terminal
    }

    /// The command's result, on stdout, exactly as given (a newline is added if missing).
    pub fn result(&self, text: &str) {
        let mut out = anstream::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    /// A line of information for the person running the command, on stderr.
    pub fn info(&self, message: impl std::fmt::Display) {
        anstream::eprintln!("{message}");
    }

    /// An error with its chain of causes, on stderr.
    pub fn error(&self, error: &anyhow::Error) {
        let mut text = format!("{ERROR}error:{ERROR:#} {error}");
        let mut previous = error.to_string();
        for cause in error.chain().skip(1) {
            let cause = cause.to_string();
            // Many errors repeat their source in their own message; say it once.
            if !previous.contains(&cause) {
                text.push_str(&format!("\n  {EMPHASIS}caused by:{EMPHASIS:#} {cause}"));
            }
            previous = cause;
        }
        anstream::eprintln!("{text}");
    }

    /// A heading on stderr.
    pub fn heading(&self, message: impl std::fmt::Display) {
        anstream::eprintln!("{EMPHASIS}{message}{EMPHASIS:#}");
    }

    /// Asks a question on stderr and reads one line from a terminal; `None` when
    /// stdin is not a terminal (it is never read then, so CI never blocks).
    pub fn ask(&self, question: &str) -> Option<String> {
        if !self.can_prompt() {
            return None;
        }
        anstream::eprint!("{EMPHASIS}{question}{EMPHASIS:#} ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).ok()?;
        Some(answer.trim().to_owned())
    }
}

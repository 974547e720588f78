//! Progress drawn on stderr, only when a person is watching it (a terminal).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use umapi_sync::apply::{ApplyEvent, ChangeStatus};
use umapi_sync::snapshot::ReadProgress;

use crate::printer::Printer;

/// A spinner while the org is read.
pub struct ReadSpinner {
    bar: ProgressBar,
}

impl ReadSpinner {
    /// Starts the spinner (hidden when stderr is not a terminal).
    pub fn new(printer: &Printer) -> Self {
        let bar = if printer.stderr_is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(100));
            bar.set_message("Reading the org…");
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// Shows how far the reading got.
    pub fn update(&self, progress: ReadProgress) {
        match progress {
            ReadProgress::Groups(n) => self.bar.set_message(format!("Reading the org: {n} groups")),
            ReadProgress::Users(n) => self.bar.set_message(format!("Reading the org: {n} users")),
        }
    }

    /// Removes the spinner.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A bar of the plan's requests while they are sent.
pub struct ApplyProgress {
    bar: ProgressBar,
    failed: usize,
}

impl ApplyProgress {
    /// A bar of `requests` steps (hidden when stderr is not a terminal).
    pub fn new(printer: &Printer, requests: usize) -> Self {
        let bar = if printer.stderr_is_terminal() {
            let bar = ProgressBar::new(requests as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} requests  {msg}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar, failed: 0 }
    }

    /// Draws one event of the apply engine.
    pub fn on_event(&mut self, event: &ApplyEvent) {
        match event {
            ApplyEvent::PhaseStarted { phase, .. } => {
                self.bar.set_message(self.message(phase.label()))
            }
            ApplyEvent::RequestFinished { .. } => self.bar.inc(1),
            ApplyEvent::Change(result) if result.status == ChangeStatus::Failed => {
                self.failed += 1;
            }
            _ => {}
        }
        tracing::debug!(?event, "apply event");
    }

    fn message(&self, phase: &str) -> String {
        if self.failed == 0 {
            phase.to_owned()
        } else {
            format!("{phase} ({} failed so far)", self.failed)
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

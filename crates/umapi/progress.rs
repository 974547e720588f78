//! Progress drawn on stderr, only when a person is watching it (a terminal).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use umapi_sync::apply::{ApplyEvent, ChangeStatus};
use umapi_sync::current::ReadProgress;

use crate::printer::Printer;

/// The bar on screen, if any, so that log lines can be written around it.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `write` with the progress bar (if one is drawn) hidden meanwhile.
pub fn suspended<T>(write: impl FnOnce() -> T) -> T {
    let shown = SHOWN.lock().ok().and_then(|bar| bar.clone());
    match shown {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

fn show(bar: &ProgressBar) {
    if let Ok(mut shown) = SHOWN.lock() {
        *shown = Some(bar.clone());
    }
}

fn hide(bar: &ProgressBar) {
    if let Ok(mut shown) = SHOWN.lock() {
        *shown = None;
    }
    bar.finish_and_clear();
}

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
            show(&bar);
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
        hide(&self.bar);
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
            show(&bar);
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
        hide(&self.bar);
    }
}

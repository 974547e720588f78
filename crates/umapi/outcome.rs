//! The process exit code, decided in one place.
//!
//! 0: success. 1: any error, including a partial apply failure and a safety
//! limit exceeded. 2: with `--detailed-exitcode`, success with changes planned.

use std::process::ExitCode;

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing more to say.
    Success,
    /// A plan was made.
    Planned {
        /// The plan has changes.
        has_changes: bool,
        /// `--detailed-exitcode` was given.
        detailed_exitcode: bool,
    },
}

/// Exit code for success.
pub const SUCCESS: u8 = 0;
/// Exit code for any error.
pub const FAILURE: u8 = 1;
/// Exit code for "success, with changes" under `--detailed-exitcode`.
pub const CHANGES: u8 = 2;

impl Outcome {
    /// The exit code of a command that ended this way.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Planned {
                has_changes: true,
                detailed_exitcode: true,
            } => CHANGES,
            _ => SUCCESS,
        }
    }
}

/// The exit code of a command's result.
pub fn exit_code(result: &anyhow::Result<Outcome>) -> ExitCode {
    ExitCode::from(match result {
        Ok(outcome) => outcome.code(),
        Err(_) => FAILURE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_give_2_only_with_detailed_exitcode() {
        let planned = |has_changes, detailed_exitcode| {
            Outcome::Planned {
                has_changes,
                detailed_exitcode,
            }
            .code()
        };
        assert_eq!(planned(true, true), CHANGES);
        assert_eq!(planned(false, true), SUCCESS);
        assert_eq!(planned(true, false), SUCCESS);
        assert_eq!(Outcome::Success.code(), SUCCESS);
    }
}

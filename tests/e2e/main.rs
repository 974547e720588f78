//! End-to-end tests: the built `umapi` binary against the sandbox over HTTP. One test binary
//! (one link) holds every suite; each module is one area of the command line.

mod cli;
mod common;
mod errors;
mod expiry;
mod export;
mod fault_matrix;
mod hostile_inputs;
mod licences;
mod messages;
mod output;
mod output_files;
mod provenance;
mod quickstart;
mod rate_limits;
mod remote_org;
mod repack;
mod report;
mod sandbox_command;
mod saved_plan;
mod show;
mod targets;
mod terminal;
mod unreachable;
mod workflows;
mod write_only;

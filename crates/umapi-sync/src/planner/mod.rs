//! The planner: desired state + current snapshot → [`Plan`].
//!
//! Rules:
//! - Emails, usernames and group names match case-insensitively.
//! - Only declared user groups, product profiles and admin groups are managed;
//!   memberships of other groups are never touched. `_org_admin` is never managed.
//! - Users in the org but not declared follow `settings.unlisted_users`; user groups
//!   not declared follow `settings.unlisted_groups`.
//! - Excluded users (regex on email or username, identity type, membership of an
//!   excluded group) and excluded groups are never touched.
//! - Users holding any admin role are never removed from the org by the unlisted
//!   policy (a warning says so).
//! - `previously` renames users (email/username update) and user groups
//!   (`updateUserGroup` name) instead of removing and re-creating them.
//! - Identity-type and country differences are warnings: UMAPI cannot change them.
//! - Declared profiles and admin groups must exist in the org.
//! - Write-only fields (a user group's description and profile links) are sent on
//!   create, when the declared value differs from what umapi last wrote (the
//!   [`crate::written`] record; a group without an entry gets them), and all of
//!   them on `reassert`. Sending them does not count as a change.
//! - Safety limits per destructive class block the plan: it is made and shown with
//!   what blocks it, and never sent. Unset limits have defaults.
//! - The seats of every product profile the plan touches are estimated
//!   ([`Licence`]); a plan that takes a profile over its quota is warned about,
//!   and blocked when `settings.limits.max_seats_over_quota` says so.

mod change;
mod cover;
mod decide;
mod finish;
mod hash;
mod licences;
mod limits;
mod pack;
mod targets;

use crate::current::Snapshot;
use crate::desired::{DesiredState, LimitOverride};
use crate::error::Error;
use crate::plan::Plan;
use crate::written::Written;
use umapi_core::rate::RateLimits;

pub use hash::desired_state_hash;
pub use licences::Licence;
pub use limits::AFFECTED_SHOWN;
pub use pack::{MAX_ENTRIES_PER_REQUEST, MAX_NAMES_PER_LIST, MAX_STEPS_PER_ENTRY, Packing};
pub use targets::PlanTarget;

/// Options of [`plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// How the client paces action requests, for the duration estimate. Default:
    /// Adobe's limits with the default margin ([`RateLimits::default`]).
    pub pacing: RateLimits,
    /// Send every declared description and profile link of existing user groups,
    /// whatever `written` says (UMAPI cannot read them back). Default: false.
    pub reassert: bool,
    /// What umapi last wrote; values that match it are not sent again. Default:
    /// empty, so every declared value is sent.
    pub written: Written,
    /// Safety limits overridden for this plan (`--allow`); recorded in the plan.
    pub overrides: Vec<LimitOverride>,
    /// Names per step, steps per entry and entries per request. Default: the
    /// protocol maxima.
    pub packing: Packing,
    /// The day (UTC) the plan is made for: users and memberships whose `until` is
    /// before it are removed. Default: none, so no `until` is applied.
    pub today: Option<jiff::civil::Date>,
    /// Users and memberships ending within this many days of `today` are listed in
    /// [`Plan::expiring`]; 0 lists none.
    pub expiring_days: u32,
    /// Plan only the changes that concern these users and groups (a partial plan);
    /// empty for a full plan. Recorded in the plan.
    pub targets: Vec<PlanTarget>,
    /// The folder the paths in [`crate::plan::Change::sources`] are relative to
    /// (that of `umapi.yaml`); none: the paths as the state files were loaded.
    pub sources_root: Option<std::path::PathBuf>,
}

/// Plans the changes that take the org in `current` to `desired`.
///
/// Fails with [`Error::Invalid`] when the desired state names profiles or admin
/// groups the org does not have (or cannot be planned for another reason). A plan
/// that goes over a safety limit is returned with [`Plan::blocked`] filled in.
pub fn plan(
    desired: &DesiredState,
    current: &Snapshot,
    options: &PlanOptions,
) -> Result<Plan, Error> {
    // The fingerprint serialises the whole desired state, and nothing else waits
    // for it: it runs beside the planning, on the second core.
    std::thread::scope(|scope| {
        let hash = scope.spawn(|| desired_state_hash(desired));
        plan_changes(desired, current, options, || {
            hash.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })
}

fn plan_changes(
    desired: &DesiredState,
    current: &Snapshot,
    options: &PlanOptions,
    desired_state_hash: impl FnOnce() -> String,
) -> Result<Plan, Error> {
    let expired = options
        .today
        .and_then(|today| crate::expiry::expire(desired, today));
    // The plan's fingerprint stays the one of the state as written: the same YAML
    // planned on another day is the same YAML.
    let on_the_day = expired.as_ref().unwrap_or(desired);
    targets::check(&options.targets, on_the_day, current)?;
    let started = std::time::Instant::now();
    let mut built = decide::Builder::new(on_the_day, current, options)?.run()?;
    let decided = started.elapsed();
    if !options.targets.is_empty() {
        targets::keep(
            &mut built.changes,
            &mut built.not_verifiable,
            &mut built.warnings,
            &options.targets,
        );
    }
    let licences = licences::estimate(on_the_day, current, &built.changes.0);
    built
        .warnings
        .extend(licences.iter().filter_map(Licence::warning));
    let checked = limits::check(on_the_day, current, &built, &licences, options)?;
    let mut plan = built.finish(desired_state_hash(), current, options, checked);
    plan.licences = licences;
    plan.targets = options.targets.clone();
    crate::provenance::attach(
        &mut plan,
        desired,
        options.today,
        options.sources_root.as_deref(),
    );
    if let Some(today) = options.today {
        plan.expiring = crate::expiry::expiring(desired, today, options.expiring_days);
    }
    tracing::debug!(
        decided_s = decided.as_secs_f64(),
        finished_s = (started.elapsed() - decided).as_secs_f64(),
        "planned"
    );
    Ok(plan)
}

//! The plan's licences (seats per product profile, now and after the plan), as the
//! text and Markdown renderings show them.

use crate::current::LicenseQuota;
use crate::plan::{Change, ChangeKind, Plan};
use crate::planner::Licence;

/// The quota as read: `20`, `unlimited`, or `unknown` when UMAPI reported none.
pub(crate) fn quota_text(licence: &Licence) -> String {
    match licence.quota {
        Some(LicenseQuota::Seats(n)) => n.to_string(),
        Some(LicenseQuota::Unlimited) => "unlimited".to_owned(),
        None => "unknown".to_owned(),
    }
}

/// What to say beside the seats: the plan takes the profile over its quota, or it
/// stays over a quota it was already over.
pub(crate) fn note(licence: &Licence) -> Option<String> {
    let quota = licence.quota.and_then(LicenseQuota::seats)?;
    if licence.over_by() > 0 {
        Some(format!("OVER QUOTA by {}", licence.after - quota))
    } else if licence.after > quota {
        Some(format!("already over quota by {}", licence.after - quota))
    } else {
        None
    }
}

/// One line per profile: `Photoshop - Design  19 -> 22 of 20  OVER QUOTA by 2` (or
/// `(unlimited)`, or no quota when UMAPI reported none), names padded to one width.
pub(crate) fn licence_lines(plan: &Plan) -> Vec<String> {
    let width = plan
        .licences
        .iter()
        .map(|l| l.profile.chars().count())
        .max()
        .unwrap_or(0);
    plan.licences
        .iter()
        .map(|l| {
            let seats = match l.quota {
                Some(LicenseQuota::Seats(n)) => format!("{} -> {} of {n}", l.now, l.after),
                Some(LicenseQuota::Unlimited) => format!("{} -> {} (unlimited)", l.now, l.after),
                None => format!("{} -> {}", l.now, l.after),
            };
            let line = format!("{:<width$}  {seats}", l.profile);
            match note(l) {
                Some(note) => format!("{line}  {note}"),
                None => line,
            }
        })
        .collect()
}

/// What to do about an add the server refused for want of a licence: an add whose
/// error names a quota, or an add to a profile this plan takes over its quota.
pub(crate) fn refused_seat_hint(plan: &Plan, change: &Change, message: &str) -> Option<String> {
    let ChangeKind::AddMembership { group, .. } = &change.kind else {
        return None;
    };
    let over = plan
        .licences
        .iter()
        .find(|l| l.over_by() > 0 && l.profile.eq_ignore_ascii_case(group));
    if over.is_none() && !message.to_lowercase().contains("quota") {
        return None;
    }
    let which = match over {
        Some(l) => format!("product profile {} (quota {})", l.profile, quota_text(l)),
        None => "the product profile the error names".to_owned(),
    };
    Some(format!(
        "no licence left in {which}: free seats (remove members who no longer need it) \
         or raise the quota in the Admin Console, then run umapi apply again; the plan's \
         Licences section shows the seats it needs"
    ))
}

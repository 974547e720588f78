//! "Did you mean …?" suggestions for misspelt keys, values and names.

/// The candidate closest to `written` (case-insensitively), if it is close enough
/// to be a plausible typo.
pub(crate) fn closest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let written = written.to_lowercase();
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let longest = written.chars().count().max(lower.chars().count());
            let allowed = (longest / 5).max(1);
            // Lengths further apart than the allowed edits cannot be close.
            if written.chars().count().abs_diff(lower.chars().count()) > allowed {
                return None;
            }
            let distance = strsim::damerau_levenshtein(&written, &lower);
            // One edit per five characters (`allowed`): keeps a swapped, dropped or
            // added letter, drops addresses that merely share a domain.
            (distance <= allowed).then_some((distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `did you mean `x`?` when a close candidate exists.
pub(crate) fn did_you_mean<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(written, candidates).map(|candidate| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["email", "username", "domain", "groups"];
        assert_eq!(closest("emial", keys), Some("email"));
        assert_eq!(closest("group", keys), Some("groups"));
        assert_eq!(closest("Domian", keys), Some("domain"));
        assert_eq!(closest("colour", keys), None);
        let users = ["ada@example.com"];
        assert_eq!(closest("ada@exmaple.com", users), Some("ada@example.com"));
        assert_eq!(closest("grace@example.com", users), None);
    }
}

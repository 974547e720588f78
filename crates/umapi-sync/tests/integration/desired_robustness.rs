//! Property: no input makes loading panic. Whatever the text, the loader and the
//! config reader answer with a state or with problems that point inside the file.

use std::path::Path;

use proptest::prelude::*;
use umapi_sync::Error;

const VALID: &str = include_str!("../fixtures/state/valid/org.yaml");
const CONFIG: &str = "connection:\n  kind: oauth\n  org_id: 1@AdobeOrg\n  client_id: abc\n  \
                      rate_limits: {actions_per_minute: 5}\nstate: [state]\nsettings:\n  \
                      default_country: US\n";

/// Checks that every problem points at a line and column that exist (or one past
/// the end, where a parser reports an unexpected end of input).
fn assert_problems_point_inside(
    result: Result<(), Error>,
    text: &str,
) -> Result<(), TestCaseError> {
    let lines = text.lines().count().max(1) + 1;
    match result {
        Ok(()) => Ok(()),
        Err(Error::Invalid(found)) => {
            prop_assert!(!found.is_empty());
            for problem in found {
                if let Some(location) = &problem.location {
                    prop_assert!(location.line >= 1 && location.line <= lines, "{problem}");
                    prop_assert!(location.column >= 1, "{problem}");
                }
                prop_assert!(!problem.message.is_empty());
            }
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "unexpected error kind: {other}"
        ))),
    }
}

/// The valid example with a slice of it replaced by other text.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    (0..base.len(), 0usize..40, "[ -~\n\t]{0,12}").prop_map(move |(start, length, insert)| {
        let mut start = start;
        while !base.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + length).min(base.len());
        while !base.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{}{}", &base[..start], insert, &base[end..])
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_loads_or_is_reported(text in "\\PC{0,200}") {
        let result = umapi_sync::desired::load_str("any.yaml", &text).map(|_| ());
        assert_problems_point_inside(result, &text)?;
    }

    #[test]
    fn a_damaged_state_file_is_reported_not_panicked_on(text in mutated(VALID)) {
        let result = umapi_sync::desired::load_str("org.yaml", &text).map(|_| ());
        assert_problems_point_inside(result, &text)?;
    }

    #[test]
    fn a_damaged_config_is_reported_not_panicked_on(text in mutated(CONFIG)) {
        let result = umapi_sync::config::Config::from_text(Path::new("umapi.yaml"), &text).map(|_| ());
        assert_problems_point_inside(result, &text)?;
    }
}

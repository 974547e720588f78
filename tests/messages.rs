//! The messages users read around a plan: test mode, stale saved plans,
//! copy-paste hints, "did you mean" for unknown names, change counts.

mod common;

use common::{Project, code, stderr, stdout};

#[test]
fn test_mode_says_so_in_the_header_and_the_summary_and_names_what_it_could_not_validate() {
    let project = Project::example("quickstart");
    let output = project.run(&["apply", "--auto-approve", "--test-only"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let out = stdout(&output);
    let header = out.lines().next().expect("a header");
    let summary = &out[out.find("\nTest mode").expect("test-mode summary")..];
    insta::assert_snapshot!("test_mode_header", header);
    insta::assert_snapshot!("test_mode_summary", summary);
    for contradiction in ["Apply complete", "applied", "sent to"] {
        assert!(
            !summary.contains(contradiction),
            "test mode changes nothing, yet: {summary}"
        );
    }
    assert!(project.org_is_unchanged());
}

//! Damaged and hostile desired states: each is a copy of the quick start with one
//! thing broken. Every case must end in a located message and exit code 1, without a
//! panic or an abort, in bounded memory, and without a single request that changes
//! the org.
//!
//! Most cases run `umapi validate` and `umapi plan` against the quick start's
//! embedded sandbox (whose saved org must stay the seed); a few run `plan` and
//! `apply --auto-approve` against a sandbox in the test process, whose counters
//! must show no action request.

use std::fmt::Write as _;

use crate::common::{Project, RemoteOrg, code, stderr};

/// What the case breaks, and what the message must name.
struct Case {
    /// Files written over the quick start's (relative path, contents).
    files: &'static [(&'static str, Contents)],
    /// Files removed from the copy.
    remove: &'static [&'static str],
    /// A text the message must hold: `file:line:col`, or a file or folder name.
    located: &'static str,
    /// A text the message must hold besides.
    says: &'static str,
}

/// The contents of a file of a case.
#[derive(Clone, Copy)]
enum Contents {
    Text(&'static str),
    Bytes(&'static [u8]),
    Made(fn() -> Vec<u8>),
    /// A symbolic link to this target.
    Link(&'static str),
    /// A file of this length that holds nothing (sparse).
    Sparse(u64),
}

use Contents::{Bytes, Link, Made, Sparse, Text};

const USER: &str = "users:\n  - email: ada.lovelace@example.com\n    firstname: Ada\n";

/// Ten levels of nine aliases under `key`, each level a flow list.
fn alias_bomb(key: &str) -> String {
    let mut text = format!("{key}:\n  a0: &a0 [\"lol\"]\n");
    for level in 1..=10 {
        let aliases = vec![format!("*a{}", level - 1); 9].join(", ");
        let _ = writeln!(text, "  a{level}: &a{level} [{aliases}]");
    }
    text
}

fn bomb_in_extra_key() -> Vec<u8> {
    let mut text = alias_bomb("x-anchors");
    text.push_str(USER);
    text.into_bytes()
}

/// The bomb as block mappings, nine keys per level.
fn bomb_of_mappings() -> Vec<u8> {
    let mut text = String::from("x-anchors:\n  m0: &m0 {k: lol}\n");
    for level in 1..=10 {
        let _ = writeln!(text, "  m{level}: &m{level}");
        for key in 0..9 {
            let _ = writeln!(text, "    k{key}: *m{}", level - 1);
        }
    }
    text.into_bytes()
}

/// The bomb inside a user's groups: on the path that converts users as they are read.
fn bomb_in_a_user() -> Vec<u8> {
    let mut text =
        String::from("users:\n  - email: ada.lovelace@example.com\n    x-a0: &a0 [lol]\n");
    for level in 1..=10 {
        let aliases = vec![format!("*a{}", level - 1); 9].join(", ");
        let _ = writeln!(text, "    x-a{level}: &a{level} [{aliases}]");
    }
    text.into_bytes()
}

/// One wide anchor (2,000 values) aliased 2,000 times: four million copies.
fn make_wide_aliases() -> Vec<u8> {
    let items = (0..2_000)
        .map(|i| format!("g{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!("x-all: &all [{items}]\nusers:\n");
    for i in 0..2_000 {
        let _ = writeln!(text, "  - {{email: u{i}@example.com, x: *all}}");
    }
    text.into_bytes()
}

fn bomb_in_config() -> Vec<u8> {
    let mut text = String::from(
        "connection:\n  kind: sandbox\n  seed_file: seed-org.json\n  state_file: sandbox-state.json\n\
         state:\n  - state\n",
    );
    text.push_str(&alias_bomb("x-anchors"));
    text.into_bytes()
}

fn deep_flow() -> Vec<u8> {
    format!("users: {}{}\n", "[".repeat(200_000), "]".repeat(200_000)).into_bytes()
}

fn deep_block() -> Vec<u8> {
    let mut text = String::from("users:\n");
    for depth in 0..200 {
        let _ = writeln!(text, "{}- ", "  ".repeat(depth + 1));
    }
    text.into_bytes()
}

fn deep_through_aliases() -> Vec<u8> {
    let mut text = format!("x-a: &a {}x{}\n", "[".repeat(40), "]".repeat(40));
    let _ = writeln!(text, "x-b: &b {}*a{}", "[".repeat(40), "]".repeat(40));
    text.push_str(USER);
    text.into_bytes()
}

fn make_huge_name() -> Vec<u8> {
    format!(
        "users:\n  - email: ada.lovelace@example.com\n    firstname: \"{}\"\n",
        "A".repeat(10 << 20)
    )
    .into_bytes()
}

fn make_huge_key() -> Vec<u8> {
    format!("users:\n  - {}: x\n", "k".repeat(1 << 20)).into_bytes()
}

const CASES: &[(&str, Case)] = &[
    (
        "unclosed_bracket",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n  - email: ada.lovelace@example.com\n    groups: [Engineering\n"),
            )],
            remove: &[],
            located: "users.yaml:4:1",
            says: "invalid YAML",
        },
    ),
    (
        "unclosed_quote",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n  - email: \"ada.lovelace@example.com\n    firstname: Ada\n"),
            )],
            remove: &[],
            located: "users.yaml:",
            says: "invalid YAML",
        },
    ),
    (
        "bad_indentation",
        Case {
            files: &[(
                "state/users.yaml",
                Text(
                    "users:\n  - email: ada.lovelace@example.com\n     firstname: Ada\n   lastname: L\n",
                ),
            )],
            remove: &[],
            located: "users.yaml:3:",
            says: "invalid YAML",
        },
    ),
    (
        "tab_indentation",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n\t- email: ada.lovelace@example.com\n"),
            )],
            remove: &[],
            located: "users.yaml:2:",
            says: "invalid YAML",
        },
    ),
    (
        "second_document",
        Case {
            files: &[("state/users.yaml", Text("users: []\n---\nusers: []\n"))],
            remove: &[],
            located: "users.yaml:3:1",
            says: "second YAML document",
        },
    ),
    (
        "unknown_anchor",
        Case {
            files: &[("state/users.yaml", Text("users:\n  - email: *nowhere\n"))],
            remove: &[],
            located: "users.yaml:2:",
            says: "invalid YAML",
        },
    ),
    (
        "users_is_a_mapping",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n  email: ada.lovelace@example.com\n"),
            )],
            remove: &[],
            located: "users.yaml:2:3",
            says: "expected a list",
        },
    ),
    (
        "email_is_a_list",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n  - email: [ada.lovelace@example.com]\n"),
            )],
            remove: &[],
            located: "users.yaml:2:12",
            says: "expected text here, found a list",
        },
    ),
    (
        "email_is_a_number",
        Case {
            files: &[("state/users.yaml", Text("users:\n  - email: 12345\n"))],
            remove: &[],
            located: "users.yaml:2:12",
            says: "not a valid email address",
        },
    ),
    (
        "settings_is_a_list",
        Case {
            files: &[("state/settings.yaml", Text("settings: [remove]\n"))],
            remove: &[],
            located: "settings.yaml:1:11",
            says: "expected a mapping",
        },
    ),
    (
        "root_is_a_list",
        Case {
            files: &[("state/users.yaml", Text("- ada.lovelace@example.com\n"))],
            remove: &[],
            located: "users.yaml:1:1",
            says: "expected a mapping",
        },
    ),
    (
        "misspelt_key",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n  - emial: ada.lovelace@example.com\n"),
            )],
            remove: &[],
            located: "users.yaml:2:5",
            says: "email",
        },
    ),
    (
        "duplicate_key_in_a_user",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n  - email: ada.lovelace@example.com\n    email: ada@example.com\n"),
            )],
            remove: &[],
            located: "users.yaml:3:5",
            says: "twice",
        },
    ),
    (
        "duplicate_top_level_key",
        Case {
            files: &[("state/users.yaml", Text("users: []\nusers: []\n"))],
            remove: &[],
            located: "users.yaml:2:1",
            says: "twice",
        },
    ),
    (
        "alias_bomb_of_lists",
        Case {
            files: &[("state/users.yaml", Made(bomb_in_extra_key))],
            remove: &[],
            located: "users.yaml:",
            says: "aliases",
        },
    ),
    (
        "alias_bomb_of_mappings",
        Case {
            files: &[("state/users.yaml", Made(bomb_of_mappings))],
            remove: &[],
            located: "users.yaml:",
            says: "aliases",
        },
    ),
    (
        "alias_bomb_in_a_user",
        Case {
            files: &[("state/users.yaml", Made(bomb_in_a_user))],
            remove: &[],
            located: "users.yaml:",
            says: "aliases",
        },
    ),
    (
        "alias_bomb_in_umapi_yaml",
        Case {
            files: &[("umapi.yaml", Made(bomb_in_config))],
            remove: &[],
            located: "umapi.yaml:",
            says: "aliases",
        },
    ),
    (
        "wide_aliases",
        Case {
            files: &[("state/users.yaml", Made(make_wide_aliases))],
            remove: &[],
            located: "users.yaml:",
            says: "aliases",
        },
    ),
    (
        "deep_flow_nesting",
        Case {
            files: &[("state/users.yaml", Made(deep_flow))],
            remove: &[],
            located: "users.yaml:1:",
            says: "nest",
        },
    ),
    (
        "deep_block_nesting",
        Case {
            files: &[("state/users.yaml", Made(deep_block))],
            remove: &[],
            located: "users.yaml:",
            says: "nest",
        },
    ),
    (
        "deep_nesting_through_aliases",
        Case {
            files: &[("state/users.yaml", Made(deep_through_aliases))],
            remove: &[],
            located: "users.yaml:2:",
            says: "nest",
        },
    ),
    (
        "huge_name",
        Case {
            files: &[("state/users.yaml", Made(make_huge_name))],
            remove: &[],
            located: "users.yaml:3:16",
            says: "bytes",
        },
    ),
    (
        "huge_key",
        Case {
            files: &[("state/users.yaml", Made(make_huge_key))],
            remove: &[],
            located: "users.yaml:2:",
            says: "",
        },
    ),
    (
        "huge_file",
        Case {
            files: &[("state/big.yaml", Sparse((1 << 30) + 1))],
            remove: &[],
            located: "big.yaml:1:1",
            says: "MiB",
        },
    ),
    (
        "latin1_byte",
        Case {
            files: &[(
                "state/users.yaml",
                Bytes(b"users:\n  - email: zoe@example.com\n    firstname: Zo\xeb\n"),
            )],
            remove: &[],
            located: "users.yaml:3:18",
            says: "0xEB",
        },
    ),
    (
        "utf16_file",
        Case {
            files: &[("state/users.yaml", Bytes(b"\xff\xfeu\0s\0e\0r\0s\0:\0\n\0"))],
            remove: &[],
            located: "users.yaml:1:1",
            says: "not UTF-8",
        },
    ),
    (
        "truncated_utf8_at_the_end",
        Case {
            files: &[(
                "state/users.yaml",
                Bytes(b"users:\n  - email: ada.lovelace@example.com\n    lastname: Lovel\xc3"),
            )],
            remove: &[],
            located: "users.yaml:3:20",
            says: "not UTF-8",
        },
    ),
    (
        "nul_byte",
        Case {
            files: &[(
                "state/users.yaml",
                Bytes(b"users:\n  - email: ada\0@example.com\n"),
            )],
            remove: &[],
            located: "users.yaml:2:",
            says: "",
        },
    ),
    (
        "bom_inside_a_key",
        Case {
            files: &[(
                "state/users.yaml",
                Text("users:\n  - \u{feff}email: ada.lovelace@example.com\n"),
            )],
            remove: &[],
            located: "users.yaml:2:",
            says: "",
        },
    ),
    (
        "bidi_override_in_an_email",
        Case {
            files: &[(
                "state/users.yaml",
                Text(
                    "users:\n  - email: \"ada\u{202e}moc.elpmaxe@example.com\"\n    country: GB\n",
                ),
            )],
            remove: &[],
            located: "users.yaml:2:12",
            says: "U+202E",
        },
    ),
    (
        "escape_sequence_in_a_name",
        Case {
            files: &[(
                "state/users.yaml",
                Text(
                    "users:\n  - email: ada@example.com\n    country: GB\n    firstname: \"\\e[2J\\e[31mAda\"\n",
                ),
            )],
            remove: &[],
            located: "users.yaml:4:16",
            says: "U+001B",
        },
    ),
    (
        "tab_in_a_name",
        Case {
            files: &[(
                "state/users.yaml",
                Text(
                    "users:\n  - email: ada@example.com\n    country: GB\n    lastname: \"Love\tlace\"\n",
                ),
            )],
            remove: &[],
            located: "users.yaml:4:15",
            says: "U+0009",
        },
    ),
    (
        "isolate_in_a_group_name",
        Case {
            files: &[(
                "state/groups.yaml",
                Text("groups:\n  - name: \"Engi\u{2066}neering\"\n"),
            )],
            remove: &[],
            located: "groups.yaml:2:11",
            says: "U+2066",
        },
    ),
    (
        "no_users_with_remove",
        Case {
            files: &[("state/users.yaml", Text("users: []\n"))],
            remove: &[],
            located: "settings.yaml:6:19",
            says: "no user is declared",
        },
    ),
    (
        "no_users_file_with_remove",
        Case {
            files: &[],
            remove: &["state/users.yaml"],
            located: "settings.yaml:6:19",
            says: "no user is declared",
        },
    ),
    (
        "empty_state_folder",
        Case {
            files: &[],
            remove: &[
                "state/users.yaml",
                "state/groups.yaml",
                "state/settings.yaml",
            ],
            located: "state`",
            says: "holds no YAML file",
        },
    ),
    (
        "state_folder_of_other_files",
        Case {
            files: &[("state/users.txt", Text(USER))],
            remove: &[
                "state/users.yaml",
                "state/groups.yaml",
                "state/settings.yaml",
            ],
            located: "state`",
            says: "holds no YAML file",
        },
    ),
    (
        "same_file_listed_twice",
        Case {
            files: &[(
                "umapi.yaml",
                Text(
                    "connection:\n  kind: sandbox\n  seed_file: seed-org.json\n  \
                     state_file: sandbox-state.json\nstate:\n  - state\n  - state/users.yaml\n",
                ),
            )],
            remove: &[],
            located: "users.yaml`",
            says: "reached twice",
        },
    ),
    (
        "symbolic_link_loop",
        Case {
            files: &[("state/more/loop", Link(".."))],
            remove: &[],
            located: "loop`",
            says: "reached twice",
        },
    ),
    (
        "symbolic_link_to_a_state_file",
        Case {
            files: &[("state/again.yaml", Link("users.yaml"))],
            remove: &[],
            located: "again.yaml`",
            says: "reached twice",
        },
    ),
    (
        "dangling_symbolic_link",
        Case {
            files: &[("state/ghost.yaml", Link("nowhere.yaml"))],
            remove: &[],
            located: "ghost.yaml",
            says: "not a regular file",
        },
    ),
    (
        "state_path_is_a_device",
        Case {
            files: &[(
                "umapi.yaml",
                Text(
                    "connection:\n  kind: sandbox\n  seed_file: seed-org.json\n  \
                     state_file: sandbox-state.json\nstate:\n  - /dev/zero\n",
                ),
            )],
            remove: &[],
            located: "/dev/zero",
            says: "neither a file nor a folder",
        },
    ),
];

/// Copies the quick start and breaks it as `case` says.
fn broken(case: &Case) -> Project {
    let project = Project::example("quickstart");
    for relative in case.remove {
        std::fs::remove_file(project.file(relative)).expect("remove");
    }
    for (relative, contents) in case.files {
        let path = project.file(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        match contents {
            Text(text) => std::fs::write(&path, text),
            Bytes(bytes) => std::fs::write(&path, bytes),
            Made(make) => std::fs::write(&path, make()),
            Link(target) => std::os::unix::fs::symlink(target, &path),
            Sparse(length) => std::fs::File::create(&path).and_then(|file| file.set_len(*length)),
        }
        .expect("write");
    }
    project
}

/// The bound on the address space each run gets: a regression that expands what it
/// reads fails here rather than swapping.
const MEMORY_CAP_KIB: u64 = 2 << 20;

/// Runs `umapi` under the memory cap.
fn capped(project: &Project, args: &[&str]) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_CAP_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_umapi"))
        .arg("-c")
        .arg(project.file("umapi.yaml"))
        .args(args)
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("UMAPI_CLIENT_SECRET")
        .output()
        .expect("run umapi")
}

/// The command failed as bad input should: exit 1, the message located, no panic.
fn assert_refused(name: &str, case: &Case, output: &std::process::Output) {
    let err = stderr(output);
    assert!(!err.contains("panicked"), "{name}: {err}");
    assert_eq!(code(output), 1, "{name}: {err}");
    assert!(
        err.contains(case.located),
        "{name}: `{}` not in: {err}",
        case.located
    );
    assert!(
        err.contains(case.says),
        "{name}: `{}` not in: {err}",
        case.says
    );
}

fn run_case(name: &str) {
    let (_, case) = CASES.iter().find(|(case, _)| *case == name).expect("case");
    let project = broken(case);
    assert_refused(name, case, &capped(&project, &["validate"]));
    assert_refused(name, case, &capped(&project, &["plan"]));
    assert!(project.org_is_unchanged(), "{name}: the org was changed");
}

macro_rules! cases {
    ($($name:ident)*) => {
        $(
            #[test]
            fn $name() {
                run_case(stringify!($name));
            }
        )*

        #[test]
        fn every_case_has_a_test() {
            let tested = [$(stringify!($name)),*];
            let names: Vec<&str> = CASES.iter().map(|(name, _)| *name).collect();
            assert_eq!(names, tested);
            assert!(names.len() >= 30);
        }
    };
}

cases! {
    unclosed_bracket unclosed_quote bad_indentation tab_indentation second_document
    unknown_anchor users_is_a_mapping email_is_a_list email_is_a_number settings_is_a_list
    root_is_a_list misspelt_key duplicate_key_in_a_user duplicate_top_level_key
    alias_bomb_of_lists alias_bomb_of_mappings alias_bomb_in_a_user alias_bomb_in_umapi_yaml
    wide_aliases deep_flow_nesting deep_block_nesting deep_nesting_through_aliases huge_name
    huge_key huge_file latin1_byte utf16_file truncated_utf8_at_the_end nul_byte
    bom_inside_a_key bidi_override_in_an_email escape_sequence_in_a_name tab_in_a_name
    isolate_in_a_group_name no_users_with_remove no_users_file_with_remove empty_state_folder
    state_folder_of_other_files same_file_listed_twice symbolic_link_loop
    symbolic_link_to_a_state_file dangling_symbolic_link state_path_is_a_device
}

/// Some cases against a sandbox reached over HTTP: `plan` and `apply --auto-approve`
/// are refused, and the sandbox counts no action request.
#[test]
fn apply_sends_nothing_for_hostile_state() {
    for name in [
        "alias_bomb_in_a_user",
        "no_users_with_remove",
        "bidi_override_in_an_email",
        "latin1_byte",
    ] {
        let (_, case) = CASES.iter().find(|(case, _)| *case == name).expect("case");
        let org = RemoteOrg::quickstart();
        for (relative, contents) in case.files {
            let path = org.project.file(relative);
            match contents {
                Text(text) => std::fs::write(&path, text),
                Bytes(bytes) => std::fs::write(&path, bytes),
                Made(make) => std::fs::write(&path, make()),
                _ => unreachable!("only file contents in these cases"),
            }
            .expect("write");
        }
        for args in [&["plan"][..], &["apply", "--auto-approve"]] {
            let output = org.run(args);
            assert_refused(name, case, &output);
        }
        assert_eq!(
            org.sandbox().counters().action_requests,
            0,
            "{name}: no action request"
        );
    }
}

/// Inputs that look odd but are valid YAML state: read, not refused.
#[test]
fn a_leading_byte_order_mark_and_windows_line_ends_are_read() {
    let project = Project::example("quickstart");
    let users = project.read("state/users.yaml");
    project.write(
        "state/users.yaml",
        &format!("\u{feff}{}", users.replace('\n', "\r\n")),
    );
    let output = capped(&project, &["validate"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

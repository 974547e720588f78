//! Groups a plan's changes into per-object blocks shared by the renderers.

use std::collections::BTreeMap;

use crate::plan::{Change, ChangeKind, FieldChange, GroupKind, Plan};

/// Why a change is there: the lines of the state files that ask for it
/// ([`Change::sources`]), and the `until` that has passed for a removal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Note {
    pub sources: Vec<String>,
    pub until: Option<String>,
}

impl Note {
    fn of(change: &Change) -> Self {
        Note {
            sources: change.sources.clone(),
            until: change.until.clone(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.until.is_none()
    }

    /// Adds what `other` says that this note does not.
    fn join(&mut self, other: Note) {
        for source in other.sources {
            if !self.sources.contains(&source) {
                self.sources.push(source);
            }
        }
        self.until = self.until.take().or(other.until);
    }

    /// `state/users.yaml:12`, or `until 2026-01-31 passed, state/users.yaml:9`;
    /// with `anchors`, lines are written as GitHub's line anchors
    /// (`state/users.yaml#L12`), ready to append to a link to the repository.
    pub(crate) fn text(&self, anchors: bool) -> String {
        let mut parts = Vec::new();
        if let Some(until) = &self.until {
            parts.push(format!("until {until} passed"));
        }
        for source in &self.sources {
            parts.push(match source.rsplit_once(':') {
                Some((path, line)) if anchors => format!("{path}#L{line}"),
                _ => source.clone(),
            });
        }
        parts.join(", ")
    }
}

/// What happens to an object or attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Sym {
    Add,
    Change,
    Remove,
}

impl Sym {
    pub(crate) fn char(self) -> char {
        match self {
            Sym::Add => '+',
            Sym::Change => '~',
            Sym::Remove => '-',
        }
    }
}

/// One attribute line (or list) of a block.
pub(crate) enum Attr {
    /// `name = value` (added or removed).
    Value {
        sym: Sym,
        name: &'static str,
        value: String,
    },
    /// `name = old -> new`.
    Changed {
        name: String,
        old: String,
        new: String,
    },
    /// `name = [ ±item, … ]`, each item with why it changes.
    List {
        sym: Sym,
        name: &'static str,
        items: Vec<(Sym, String, Note)>,
    },
}

/// One object the plan touches.
pub(crate) struct Block {
    pub sym: Sym,
    /// `# user group "Engineering" will be created`.
    pub comment: String,
    /// `user_group "Engineering"`.
    pub header: String,
    pub attrs: Vec<Attr>,
    /// Whether the block removes something (a member, a user, a group).
    pub destructive: bool,
    /// Why the object itself changes (created, renamed, updated, removed).
    pub note: Note,
}

#[derive(Default)]
struct GroupAcc {
    name: String,
    kind: Option<GroupKind>,
    create: Option<(Option<String>, Vec<String>)>,
    rename_from: Option<String>,
    delete: Option<Option<u64>>,
    members: Vec<(Sym, String, Note)>,
    note: Note,
}

#[derive(Default)]
struct UserAcc {
    name: String,
    create: Option<Vec<(&'static str, String)>>,
    rename: Option<(String, Vec<FieldChange>)>,
    update: Vec<FieldChange>,
    remove: Option<bool>,
    note: Note,
}

pub(crate) fn quote(s: &str) -> String {
    format!("{s:?}")
}

fn show(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "null".to_string(), quote)
}

/// The plan's counted changes as blocks: user groups, then profiles and admin groups,
/// then users; each sorted by name.
pub(crate) fn blocks(plan: &Plan) -> Vec<Block> {
    noted_blocks(
        plan.changes
            .iter()
            .map(|change| (&change.kind, Note::of(change))),
    )
}

/// [`blocks`] of a list of changes, without notes.
pub(crate) fn blocks_of<'c>(changes: impl IntoIterator<Item = &'c ChangeKind>) -> Vec<Block> {
    noted_blocks(changes.into_iter().map(|kind| (kind, Note::default())))
}

fn noted_blocks<'c>(changes: impl IntoIterator<Item = (&'c ChangeKind, Note)>) -> Vec<Block> {
    let mut groups: BTreeMap<String, GroupAcc> = BTreeMap::new();
    let mut users: BTreeMap<String, UserAcc> = BTreeMap::new();
    fn group_acc<'m>(groups: &'m mut BTreeMap<String, GroupAcc>, name: &str) -> &'m mut GroupAcc {
        let acc = groups.entry(name.to_lowercase()).or_default();
        if acc.name.is_empty() {
            acc.name = name.to_string();
        }
        acc
    }
    fn user_acc<'m>(users: &'m mut BTreeMap<String, UserAcc>, name: &str) -> &'m mut UserAcc {
        let acc = users.entry(name.to_lowercase()).or_default();
        if acc.name.is_empty() {
            acc.name = name.to_string();
        }
        acc
    }
    for (kind, note) in changes {
        match kind {
            ChangeKind::CreateGroup {
                group,
                description,
                profiles,
            } => {
                let acc = group_acc(&mut groups, group);
                acc.kind = Some(GroupKind::UserGroup);
                acc.create = Some((description.clone(), profiles.clone()));
                acc.note.join(note);
            }
            ChangeKind::RenameGroup { group, from } => {
                let acc = group_acc(&mut groups, group);
                acc.kind = Some(GroupKind::UserGroup);
                acc.rename_from = Some(from.clone());
                acc.note.join(note);
            }
            ChangeKind::DeleteGroup {
                group,
                member_count,
            } => {
                let acc = group_acc(&mut groups, group);
                acc.kind = Some(GroupKind::UserGroup);
                acc.delete = Some(*member_count);
                acc.note.join(note);
            }
            ChangeKind::ReassertGroup { .. } => {}
            ChangeKind::CreateUser {
                user,
                identity_type,
                email,
                firstname,
                lastname,
                country,
            } => {
                let acc = user_acc(&mut users, user);
                let mut fields = vec![
                    ("type", quote(identity_type.as_str())),
                    ("email", quote(email)),
                ];
                if let Some(v) = firstname {
                    fields.push(("firstname", quote(v)));
                }
                if let Some(v) = lastname {
                    fields.push(("lastname", quote(v)));
                }
                if let Some(v) = country {
                    fields.push(("country", quote(v)));
                }
                acc.create = Some(fields);
                acc.note.join(note);
            }
            ChangeKind::UpdateUser { user, fields } => {
                let acc = user_acc(&mut users, user);
                acc.update.extend(fields.iter().cloned());
                acc.note.join(note);
            }
            ChangeKind::RenameUser { user, from, fields } => {
                let acc = user_acc(&mut users, user);
                acc.rename = Some((from.clone(), fields.clone()));
                acc.note.join(note);
            }
            ChangeKind::AddMembership {
                user,
                group,
                group_kind,
            } => {
                let acc = group_acc(&mut groups, group);
                acc.kind = Some(*group_kind);
                acc.members.push((Sym::Add, user.clone(), note));
            }
            ChangeKind::RemoveMembership {
                user,
                group,
                group_kind,
            } => {
                let acc = group_acc(&mut groups, group);
                acc.kind = Some(*group_kind);
                acc.members.push((Sym::Remove, user.clone(), note));
            }
            ChangeKind::RemoveUser {
                user,
                delete_account,
                ..
            } => {
                let acc = user_acc(&mut users, user);
                acc.remove = Some(*delete_account);
                acc.note.join(note);
            }
        }
    }

    let mut out = Vec::new();
    let mut by_kind: BTreeMap<GroupKind, Vec<GroupAcc>> = BTreeMap::new();
    for acc in groups.into_values() {
        by_kind
            .entry(acc.kind.unwrap_or(GroupKind::UserGroup))
            .or_default()
            .push(acc);
    }
    for (kind, accs) in by_kind {
        for acc in accs {
            out.push(group_block(kind, acc));
        }
    }
    for acc in users.into_values() {
        out.push(user_block(acc));
    }
    out
}

fn group_block(kind: GroupKind, mut acc: GroupAcc) -> Block {
    let resource = match kind {
        GroupKind::UserGroup => "user_group",
        GroupKind::ProductProfile => "product_profile",
        GroupKind::AdminGroup => "admin_group",
    };
    let label = kind.label();
    let name = quote(&acc.name);
    let mut attrs = Vec::new();
    let (sym, what) = if let Some((description, profiles)) = &acc.create {
        if let Some(d) = description {
            attrs.push(Attr::Value {
                sym: Sym::Add,
                name: "description",
                value: quote(d),
            });
        }
        if !profiles.is_empty() {
            attrs.push(Attr::Value {
                sym: Sym::Add,
                name: "profiles",
                value: format!(
                    "[{}]",
                    profiles
                        .iter()
                        .map(|p| quote(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        (Sym::Add, "will be created".to_string())
    } else if let Some(count) = acc.delete {
        let what = match count {
            Some(n) => format!(
                "will be deleted (it has {n} member{})",
                if n == 1 { "" } else { "s" }
            ),
            None => "will be deleted".to_string(),
        };
        (Sym::Remove, what)
    } else if let Some(from) = &acc.rename_from {
        attrs.push(Attr::Changed {
            name: "name".into(),
            old: quote(from),
            new: name.clone(),
        });
        (Sym::Change, "will be renamed".to_string())
    } else {
        (Sym::Change, "members will change".to_string())
    };
    acc.members
        .sort_by_cached_key(|(s, m, _)| (m.to_lowercase(), *s));
    let destructive = sym == Sym::Remove || acc.members.iter().any(|(s, _, _)| *s == Sym::Remove);
    if !acc.members.is_empty() {
        let list_sym = if acc.members.iter().all(|(s, _, _)| *s == Sym::Add) && sym == Sym::Add {
            Sym::Add
        } else {
            Sym::Change
        };
        attrs.push(Attr::List {
            sym: list_sym,
            name: "members",
            items: acc
                .members
                .into_iter()
                .map(|(s, m, note)| (s, quote(&m), note))
                .collect(),
        });
    }
    Block {
        sym,
        comment: format!("{label} {name} {what}"),
        header: format!("{resource} {name}"),
        attrs,
        destructive,
        note: acc.note,
    }
}

fn user_block(acc: UserAcc) -> Block {
    let name = quote(&acc.name);
    let mut attrs = Vec::new();
    let (sym, what) = if let Some(fields) = acc.create {
        for (field, value) in fields {
            attrs.push(Attr::Value {
                sym: Sym::Add,
                name: field,
                value,
            });
        }
        (Sym::Add, "will be created".to_string())
    } else if let Some(delete) = acc.remove {
        let what = if delete {
            "will be removed from the org and its account deleted"
        } else {
            "will be removed from the org"
        };
        (Sym::Remove, what.to_string())
    } else {
        let what = if acc.rename.is_some() {
            "will be renamed"
        } else {
            "will be updated in place"
        };
        if let Some((_, fields)) = &acc.rename {
            for f in fields {
                attrs.push(Attr::Changed {
                    name: f.field.clone(),
                    old: show(&f.old),
                    new: show(&f.new),
                });
            }
        }
        for f in &acc.update {
            attrs.push(Attr::Changed {
                name: f.field.clone(),
                old: show(&f.old),
                new: show(&f.new),
            });
        }
        (Sym::Change, what.to_string())
    };
    Block {
        sym,
        comment: format!("user {name} {what}"),
        header: format!("user {name}"),
        attrs,
        destructive: sym == Sym::Remove,
        note: acc.note,
    }
}

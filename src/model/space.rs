//! Spaces: the tree every stack, integration and key belongs to, and the
//! rules read from it.
//!
//! - **What a key may do** ([`Holder::may`]): a key holds one [`Level`] in
//!   one space, and acts on that space and the spaces below it; an object
//!   elsewhere is out of its sight (the broker answers as if it did not
//!   exist). `read` sees, `write` changes stacks (and their attachments,
//!   runner keys and runner trusts), `admin` also changes integrations,
//!   spaces and keys, minting none above its own level or outside its
//!   subtree.
//! - **Which integrations a stack may use** ([`Tree::reaches`]): those of
//!   its own space, and of each ancestor reached through spaces that
//!   `inherit`: a child that inherits sees its parent's integrations, and
//!   through the parent (if it inherits too) the grandparent's. The broker's
//!   store checks it in every change that could break it (an attach, a
//!   stack or integration moved, `inherit` turned off), so no attachment,
//!   and so no vend, is ever out of reach.
//!
//! A space's parent never changes (moving a subtree would move what every
//! key in it may reach); `inherit` may, by an admin of the parent.

use std::collections::BTreeMap;

use super::SpaceId;

/// The root space's id: every store has it, and the first key is its admin.
pub const ROOT: &str = "root";

/// What a key may do in its space and below, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Read,
    Write,
    Admin,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Admin => "admin",
        }
    }

    /// What this level lets a key do, in a phrase for refusals.
    fn can(self) -> &'static str {
        match self {
            Level::Read => "only read",
            Level::Write => "change stacks, their attachments, runner keys and runner trusts",
            Level::Admin => "change anything",
        }
    }
}

/// What an operation needs of the caller's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// To see an object.
    Read,
    /// To change a stack, its attachments, runner keys or runner trusts.
    Write,
    /// To change an integration, a space or a key.
    Admin,
}

impl Need {
    fn level(self) -> Level {
        match self {
            Need::Read => Level::Read,
            Need::Write => Level::Write,
            Need::Admin => Level::Admin,
        }
    }
}

/// A space's place in the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub parent: Option<SpaceId>,
    /// Stacks here may use the parent's integrations.
    pub inherit: bool,
}

/// Every space, by id.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<SpaceId, Node>,
}

impl Tree {
    pub fn new(nodes: impl IntoIterator<Item = (SpaceId, Node)>) -> Tree {
        Tree {
            nodes: nodes.into_iter().collect(),
        }
    }

    /// `space`, then its parent, up to the root. Bounded by the number of
    /// spaces, so a damaged store (a cycle) cannot loop.
    pub fn path(&self, space: &SpaceId) -> Vec<&SpaceId> {
        let mut path = Vec::new();
        let mut at = self.nodes.get_key_value(space);
        while let Some((id, node)) = at {
            if path.len() > self.nodes.len() {
                break;
            }
            path.push(id);
            at = node
                .parent
                .as_ref()
                .and_then(|p| self.nodes.get_key_value(p));
        }
        path
    }

    /// Whether `space` is `top` or below it.
    pub fn within(&self, space: &SpaceId, top: &SpaceId) -> bool {
        self.path(space).contains(&top)
    }

    /// `top` and every space below it.
    pub fn below(&self, top: &SpaceId) -> Vec<&SpaceId> {
        self.nodes.keys().filter(|s| self.within(s, top)).collect()
    }

    /// The spaces whose integrations a stack in `space` may use: its own,
    /// then each parent for as long as the space below it inherits.
    pub fn reach(&self, space: &SpaceId) -> Vec<&SpaceId> {
        let mut reach = Vec::new();
        for (i, id) in self.path(space).into_iter().enumerate() {
            if i > 0 {
                let below = reach.last().and_then(|s| self.nodes.get(*s));
                if !below.is_some_and(|n: &Node| n.inherit) {
                    break;
                }
            }
            reach.push(id);
        }
        reach
    }

    /// The attach rule: a stack in `stack` may use an integration in
    /// `integration`.
    pub fn reaches(&self, stack: &SpaceId, integration: &SpaceId) -> bool {
        self.reach(stack).contains(&integration)
    }

    /// Why a stack in `stack` may not use an integration in
    /// `integration`, with the fix; `None` when it may.
    pub fn unreachable(&self, stack: &SpaceId, integration: &SpaceId) -> Option<String> {
        if self.reaches(stack, integration) {
            return None;
        }
        let reach: Vec<&str> = self.reach(stack).iter().map(|s| s.as_str()).collect();
        let (stack, integration) = (stack.as_str(), integration.as_str());
        Some(format!(
            "the integration is in space {integration:?}, out of reach of space {stack:?}, whose \
             stacks may use integrations of {}: move the stack into space {integration:?} or \
             below it (through spaces that inherit), or set inherit on the spaces between",
            reach
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// A key's standing: its level in its space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub key_id: String,
    pub level: Level,
    pub space: SpaceId,
}

/// Why a key may not act on an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The object is outside the key's subtree: answered as not found,
    /// so a key cannot learn what other teams hold.
    OutOfSight,
    /// The key sees the object but its level is too low: the sentence.
    TooLow(String),
}

impl Holder {
    /// Whether this key may do what `need` says to an object in `space`.
    pub fn may(&self, tree: &Tree, need: Need, space: &SpaceId) -> Result<(), Refusal> {
        if !tree.within(space, &self.space) {
            return Err(Refusal::OutOfSight);
        }
        self.level_for(need)
    }

    /// Whether this key's level covers `need`, wherever.
    fn level_for(&self, need: Need) -> Result<(), Refusal> {
        if self.level >= need.level() {
            return Ok(());
        }
        Err(Refusal::TooLow(format!(
            "API key {} holds {} in space {:?}, which may {}; this needs {}",
            self.key_id,
            self.level.as_str(),
            self.space.as_str(),
            self.level.can(),
            need.level().as_str()
        )))
    }

    /// Whether this key sees an integration in `space`: those of its
    /// subtree, and those its own space's stacks may use (which a team
    /// must see to attach them).
    pub fn sees_integration(&self, tree: &Tree, space: &SpaceId) -> bool {
        tree.within(space, &self.space) || tree.reaches(&self.space, space)
    }

    /// Whether this key may mint a key of `level` in `space`: an admin's,
    /// at most its own level, in its subtree.
    pub fn may_mint(&self, tree: &Tree, level: Level, space: &SpaceId) -> Result<(), Refusal> {
        self.may(tree, Need::Admin, space)?;
        if level > self.level {
            return Err(Refusal::TooLow(format!(
                "API key {} holds {}: it cannot mint a key holding {}",
                self.key_id,
                self.level.as_str(),
                level.as_str()
            )));
        }
        Ok(())
    }

    /// Whether this key may create, delete or re-parent-wise change (its
    /// `inherit`) the space `space` whose parent is `parent`: an admin of
    /// the parent's subtree. The root has no parent: it is never created
    /// or deleted, and nobody changes what it inherits.
    pub fn may_shape(&self, tree: &Tree, parent: Option<&SpaceId>) -> Result<(), Refusal> {
        match parent {
            Some(parent) => self.may(tree, Need::Admin, parent),
            None => Err(Refusal::TooLow(
                "the root space is neither created, deleted nor made to inherit".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> SpaceId {
        s.parse().unwrap()
    }

    /// root
    /// ├── platform
    /// │   ├── team-a (inherits)
    /// │   │   └── a-prod (inherits)
    /// │   └── team-b
    /// └── other (inherits)
    fn tree() -> Tree {
        let node = |parent: Option<&str>, inherit| Node {
            parent: parent.map(id),
            inherit,
        };
        Tree::new([
            (id("root"), node(None, false)),
            (id("platform"), node(Some("root"), false)),
            (id("team-a"), node(Some("platform"), true)),
            (id("a-prod"), node(Some("team-a"), true)),
            (id("team-b"), node(Some("platform"), false)),
            (id("other"), node(Some("root"), true)),
        ])
    }

    fn holder(level: Level, space: &str) -> Holder {
        Holder {
            key_id: "k".into(),
            level,
            space: id(space),
        }
    }

    #[test]
    fn reach_climbs_while_spaces_inherit() {
        let t = tree();
        let names = |v: Vec<&SpaceId>| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        assert_eq!(names(t.reach(&id("a-prod"))), "a-prod,team-a,platform");
        assert_eq!(names(t.reach(&id("team-b"))), "team-b");
        assert_eq!(names(t.reach(&id("other"))), "other,root");
        assert_eq!(names(t.reach(&id("root"))), "root");
        assert!(t.reaches(&id("a-prod"), &id("platform")));
        assert!(
            !t.reaches(&id("a-prod"), &id("root")),
            "platform does not inherit"
        );
        assert!(!t.reaches(&id("team-a"), &id("a-prod")), "never downwards");
        assert!(!t.reaches(&id("team-a"), &id("team-b")), "never sideways");
        let why = t.unreachable(&id("team-b"), &id("platform")).unwrap();
        assert!(why.contains("out of reach of space \"team-b\""), "{why}");
        assert!(why.contains("integrations of \"team-b\""), "{why}");
    }

    #[test]
    fn keys_act_in_their_subtree_at_their_level() {
        let t = tree();
        let w = holder(Level::Write, "team-a");
        assert_eq!(w.may(&t, Need::Write, &id("a-prod")), Ok(()));
        assert_eq!(
            w.may(&t, Need::Read, &id("platform")),
            Err(Refusal::OutOfSight)
        );
        assert_eq!(
            w.may(&t, Need::Read, &id("team-b")),
            Err(Refusal::OutOfSight)
        );
        let Err(Refusal::TooLow(why)) = w.may(&t, Need::Admin, &id("team-a")) else {
            panic!("a write key administers nothing");
        };
        assert!(why.contains("holds write in space \"team-a\""), "{why}");
        // A team sees the integrations it may attach, above it.
        assert!(w.sees_integration(&t, &id("platform")));
        assert!(!w.sees_integration(&t, &id("root")));
        assert!(!w.sees_integration(&t, &id("team-b")));
        let r = holder(Level::Read, "root");
        assert_eq!(r.may(&t, Need::Read, &id("a-prod")), Ok(()));
        assert!(r.may(&t, Need::Write, &id("a-prod")).is_err());
    }

    #[test]
    fn nobody_mints_above_their_level_or_outside_their_subtree() {
        let t = tree();
        let a = holder(Level::Admin, "team-a");
        assert_eq!(a.may_mint(&t, Level::Admin, &id("a-prod")), Ok(()));
        assert_eq!(
            a.may_mint(&t, Level::Admin, &id("platform")),
            Err(Refusal::OutOfSight)
        );
        let w = holder(Level::Write, "team-a");
        assert!(w.may_mint(&t, Level::Read, &id("team-a")).is_err());
        // Spaces are shaped by an admin of the parent.
        assert_eq!(a.may_shape(&t, Some(&id("team-a"))), Ok(()));
        assert_eq!(
            a.may_shape(&t, Some(&id("platform"))),
            Err(Refusal::OutOfSight)
        );
        assert!(holder(Level::Admin, "root").may_shape(&t, None).is_err());
    }

    #[test]
    fn a_cycle_in_a_damaged_store_ends() {
        let t = Tree::new([
            (
                id("x"),
                Node {
                    parent: Some(id("y")),
                    inherit: true,
                },
            ),
            (
                id("y"),
                Node {
                    parent: Some(id("x")),
                    inherit: true,
                },
            ),
        ]);
        assert!(t.path(&id("x")).len() <= 3);
        assert!(!t.within(&id("x"), &id("root")));
    }

    proptest! {
        /// In any tree, reach is a prefix of the path (never sideways or
        /// down), and whatever a key may touch is within its subtree.
        #[test]
        fn reach_and_sight_stay_on_the_path(
            parents in proptest::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 1..12),
            probe in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        ) {
            let mut nodes = vec![(id("root"), Node { parent: None, inherit: false })];
            for (i, (parent, inherit)) in parents.iter().enumerate() {
                let parent = nodes[parent.index(nodes.len())].0.clone();
                nodes.push((id(&format!("s{i}")), Node { parent: Some(parent), inherit: *inherit }));
            }
            let ids: Vec<SpaceId> = nodes.iter().map(|(s, _)| s.clone()).collect();
            let t = Tree::new(nodes);
            let (a, b) = (&ids[probe.0.index(ids.len())], &ids[probe.1.index(ids.len())]);
            let path = t.path(a);
            prop_assert_eq!(path.last().map(|s| s.as_str()), Some("root"));
            let reach = t.reach(a);
            prop_assert!(path.starts_with(&reach));
            prop_assert_eq!(t.reaches(a, b), reach.contains(&b));
            let h = holder(Level::Admin, a.as_str());
            prop_assert_eq!(h.may(&t, Need::Read, b).is_ok(), t.path(b).contains(&a));
            prop_assert_eq!(t.below(a).contains(&b), t.within(b, a));
        }
    }
}

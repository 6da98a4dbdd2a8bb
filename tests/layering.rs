//! The crate's dependency direction, checked on its structure: every file
//! is parsed, every path it names (in `use` trees and in code, `super::`
//! and `self::` resolved against the module the path sits in) is resolved
//! to the module file it reaches, and the rules below are held against
//! those edges. So `super::super::store` counts as `crate::broker::store`
//! as surely as writing it out.
//!
//! - the provider, the CLI and the client reach the broker only over HTTP;
//!   `model` and the wire types depend on nothing above them;
//! - inside the broker, floors run one way (see `src/broker/mod.rs`):
//!   error → config, live, metrics, rate_limit, tls, request_id, extract,
//!   files →
//!   store, oidc → state → auth → service → http | console → app →
//!   server, with http and console side by side, never using each other;
//! - no circle of files anywhere under `src/`.
//!
//! `tfplugin` is a crate of its own (`crates/tfplugin`), which deputy
//! depends on: it cannot import deputy (cargo refuses a cycle), so no rule
//! is needed for it. The rules below keep the model, the wire types, the
//! client and the AWS side off the plugin library.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module path below the crate root, as segments (`["broker", "http"]`).
type Module = Vec<String>;

/// Every `.rs` file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module a file under `src/` defines: `broker/http/mod.rs` is
/// `broker::http`, `lib.rs` the root. Binaries are crates of their own.
fn module_of(src: &Path, file: &Path) -> Option<Module> {
    let rel = file.strip_prefix(src).unwrap();
    if rel.starts_with("bin") {
        return None;
    }
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    Some(parts)
}

/// The paths one file names, each resolved to segments from the crate
/// root (`crate::` paths) or kept as written (external crates).
struct Named {
    /// The module the visitor is in: the file's, plus inline `mod`s.
    at: Module,
    /// Resolved crate paths.
    internal: Vec<Module>,
    /// First segments of the other paths (crate names, or local names).
    external: BTreeSet<String>,
}

impl Named {
    /// `segments` written inside module `self.at`: resolved when rooted at
    /// `crate`, `super` or `self`.
    fn add(&mut self, segments: Vec<String>) {
        let Some(first) = segments.first() else {
            return;
        };
        let resolved = match first.as_str() {
            "crate" => Some(segments[1..].to_vec()),
            "self" | "super" => {
                let mut base = self.at.clone();
                let mut rest = &segments[..];
                while let Some(s) = rest.first() {
                    match s.as_str() {
                        "self" => {}
                        "super" => {
                            base.pop();
                        }
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            _ => None,
        };
        match resolved {
            Some(path) => self.internal.push(path),
            None => {
                self.external.insert(first.clone());
            }
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.add(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                full.push(r.ident.to_string());
                self.add(full);
            }
            syn::UseTree::Glob(_) => self.add(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Named {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        if item.leading_colon.is_some() {
            prefix.push(String::new());
        }
        self.use_tree(&mut prefix, &item.tree);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        // An inline module (`mod tests { .. }`): `super` inside it is the
        // file's module.
        if item.content.is_some() {
            self.at.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.at.pop();
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            self.add(path.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        syn::visit::visit_path(self, path);
    }
}

/// The crate's files, each with the modules and external names it uses.
struct Crate {
    /// Module -> file.
    modules: BTreeMap<Module, PathBuf>,
    /// File -> (the files its paths reach, the external names it uses).
    uses: BTreeMap<PathBuf, (BTreeSet<Module>, BTreeSet<String>)>,
}

impl Crate {
    fn read() -> Crate {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut modules = BTreeMap::new();
        for file in files(&src) {
            if let Some(module) = module_of(&src, &file) {
                modules.insert(module, file);
            }
        }
        let mut uses = BTreeMap::new();
        for (module, file) in &modules {
            let text = std::fs::read_to_string(file).unwrap();
            let parsed = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
            let mut named = Named {
                at: module.clone(),
                internal: Vec::new(),
                external: BTreeSet::new(),
            };
            named.visit_file(&parsed);
            // A path reaches the deepest module file that is a prefix of it
            // (`broker::store::Page` is in `broker::store`).
            let reached: BTreeSet<Module> = named
                .internal
                .iter()
                .filter_map(|path| {
                    (0..=path.len())
                        .rev()
                        .map(|n| path[..n].to_vec())
                        .find(|prefix| modules.contains_key(prefix))
                })
                .filter(|target| target != module)
                .collect();
            uses.insert(file.clone(), (reached, named.external));
        }
        Crate { modules, uses }
    }

    /// Every (file, module it reaches, names it uses) of files in `under`.
    fn edges_under<'a>(
        &'a self,
        under: &'a [&'a str],
    ) -> impl Iterator<Item = (&'a Module, &'a BTreeSet<Module>, &'a BTreeSet<String>)> + 'a {
        self.modules.iter().filter_map(move |(module, file)| {
            let inside =
                module.len() >= under.len() && module.iter().zip(under.iter()).all(|(a, b)| a == b);
            inside.then(|| {
                let (reached, external) = &self.uses[file];
                (module, reached, external)
            })
        })
    }
}

fn shown(module: &Module) -> String {
    format!("crate::{}", module.join("::"))
}

fn starts_with(module: &Module, prefix: &[&str]) -> bool {
    module.len() >= prefix.len() && module.iter().zip(prefix.iter()).all(|(a, b)| a == b)
}

/// Top-level modules (or files) and what they must not reach: crate
/// modules by path, external crates by the start of their name.
const RULES: &[(&str, &[&str])] = &[
    (
        "model",
        &[
            "wire", "broker", "client", "provider", "cli", "sts", "tfplugin", "sqlx", "axum",
            "aws_sdk", "reqwest",
        ],
    ),
    (
        "wire",
        &[
            "broker", "client", "provider", "cli", "sts", "tfplugin", "sqlx", "axum", "aws_sdk",
        ],
    ),
    ("client", &["broker", "provider", "cli", "sts", "tfplugin"]),
    (
        "provider",
        &["broker", "cli", "sts", "aws_sdk", "sqlx", "axum"],
    ),
    ("sts", &["broker", "provider", "cli", "client", "tfplugin"]),
];

/// Crates that are not modules of this one (tfplugin is the workspace's
/// plugin library).
const EXTERNAL: &[&str] = &["sqlx", "axum", "aws_sdk", "reqwest", "tfplugin"];

#[test]
fn dependencies_point_one_way() {
    let krate = Crate::read();
    let mut broken = Vec::new();
    for (top, forbidden) in RULES {
        for (module, reached, external) in krate.edges_under(&[top]) {
            for bad in *forbidden {
                if EXTERNAL.contains(bad) {
                    if external.iter().any(|name| name.starts_with(bad)) {
                        broken.push(format!("{} uses the {bad} crate", shown(module)));
                    }
                } else if let Some(hit) = reached.iter().find(|m| starts_with(m, &[bad])) {
                    broken.push(format!("{} uses {}", shown(module), shown(hit)));
                }
            }
        }
    }
    // The CLI starts the broker (`deputy serve`, `deputy openapi`) and
    // its maintenance (`deputy migrate`, `backup`, `recover-admin-key`):
    // its entry points, never its insides.
    for (module, reached, external) in krate.edges_under(&["cli"]) {
        for hit in reached.iter().filter(|m| starts_with(m, &["broker"])) {
            let entry = matches!(
                hit.get(1).map(String::as_str),
                Some("server" | "maintenance" | "config" | "http")
            ) && hit.len() == 2;
            if !entry {
                broken.push(format!("{} uses {}", shown(module), shown(hit)));
            }
        }
        for bad in ["aws_sdk", "sqlx"] {
            if external.iter().any(|name| name.starts_with(bad)) {
                broken.push(format!("{} uses the {bad} crate", shown(module)));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "dependency rules broken:\n{}",
        broken.join("\n")
    );
}

/// The broker's floors, lowest first; a module may use only modules of
/// lower floors (or its own insides). `http` and `console` share a floor
/// and so cannot use each other.
const BROKER_FLOORS: &[&[&str]] = &[
    &["error"],
    &[
        "config",
        "live",
        "metrics",
        "rate_limit",
        "failed_auth",
        "tls",
        "request_id",
        "extract",
        "files",
        "notify",
    ],
    &["store", "oidc"],
    &["state"],
    &["auth"],
    &["service"],
    &["http", "console"],
    &["app"],
    &["server"],
    &["maintenance"],
];

fn broker_floor(module: &Module) -> Option<usize> {
    let room = module.get(1)?;
    BROKER_FLOORS
        .iter()
        .position(|floor| floor.contains(&room.as_str()))
}

#[test]
fn the_broker_floors_run_one_way() {
    let krate = Crate::read();
    let mut broken = Vec::new();
    let mut placed = BTreeSet::new();
    for (module, reached, _) in krate.edges_under(&["broker"]) {
        if module.len() < 2 {
            continue; // broker/mod.rs only declares the floors.
        }
        let Some(floor) = broker_floor(module) else {
            broken.push(format!(
                "{} is on no floor: add it to BROKER_FLOORS (and to the map in src/broker/mod.rs)",
                shown(module)
            ));
            continue;
        };
        placed.insert(module[1].clone());
        for hit in reached.iter().filter(|m| starts_with(m, &["broker"])) {
            if hit.get(1) == module.get(1) {
                continue;
            }
            match broker_floor(hit) {
                Some(to) if to < floor => {}
                _ => broken.push(format!("{} uses {}", shown(module), shown(hit))),
            }
        }
    }
    assert!(placed.len() >= 15, "the broker's modules were not found");
    // Nothing outside the broker uses it, but for the CLI's entry points
    // (checked above).
    for (module, reached, _) in krate.edges_under(&[]) {
        if starts_with(module, &["broker"]) || starts_with(module, &["cli"]) || module.is_empty() {
            continue;
        }
        if let Some(hit) = reached.iter().find(|m| starts_with(m, &["broker"])) {
            broken.push(format!("{} uses {}", shown(module), shown(hit)));
        }
    }
    assert!(
        broken.is_empty(),
        "the broker's floors are broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn no_circle_of_files() {
    let krate = Crate::read();
    let by_file: BTreeMap<&PathBuf, &Module> = krate.modules.iter().map(|(m, f)| (f, m)).collect();
    let graph: BTreeMap<&Module, Vec<&Module>> = krate
        .uses
        .iter()
        .map(|(file, (reached, _))| (by_file[file], reached.iter().collect()))
        .collect();
    // Depth-first search with colours: a grey node reached again closes
    // a circle.
    let mut colour: BTreeMap<&Module, u8> = BTreeMap::new();
    let mut circles = Vec::new();
    fn walk<'a>(
        at: &'a Module,
        graph: &BTreeMap<&'a Module, Vec<&'a Module>>,
        colour: &mut BTreeMap<&'a Module, u8>,
        stack: &mut Vec<&'a Module>,
        circles: &mut Vec<String>,
    ) {
        colour.insert(at, 1);
        stack.push(at);
        for next in graph.get(at).into_iter().flatten() {
            match colour.get(next).copied().unwrap_or(0) {
                0 => walk(next, graph, colour, stack, circles),
                1 => {
                    let from = stack.iter().position(|m| m == next).unwrap();
                    let names: Vec<String> = stack[from..].iter().map(|m| shown(m)).collect();
                    circles.push(format!("{} -> {}", names.join(" -> "), shown(next)));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(at, 2);
    }
    for module in graph.keys() {
        if colour.get(module).copied().unwrap_or(0) == 0 {
            walk(module, &graph, &mut colour, &mut Vec::new(), &mut circles);
        }
    }
    assert!(
        circles.is_empty(),
        "files that import each other in a circle:\n{}",
        circles.join("\n")
    );
}

/// The resolver itself: `super::super::` climbs, inline modules count.
#[test]
fn paths_resolve_against_their_module() {
    let mut named = Named {
        at: vec!["broker".into(), "http".into(), "stacks".into()],
        internal: Vec::new(),
        external: BTreeSet::new(),
    };
    let file = syn::parse_file(
        "use super::super::store::Page;\n\
         use crate::model::{self, Phase};\n\
         mod tests { use super::create; }\n\
         fn f() { sqlx::query(\"\"); super::responses::Malformed; }",
    )
    .unwrap();
    named.visit_file(&file);
    let got: BTreeSet<String> = named.internal.iter().map(|m| m.join("::")).collect();
    for want in [
        "broker::store::Page",
        "model",
        "model::Phase",
        "broker::http::stacks::create",
        "broker::http::responses::Malformed",
    ] {
        assert!(got.contains(want), "{want} not in {got:?}");
    }
    assert!(named.external.contains("sqlx"));
}

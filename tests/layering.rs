//! The crate's dependency direction, checked on the source: the provider,
//! the CLI and the client reach the broker only over HTTP, and `model` and
//! `api` depend on nothing above them. A workspace of crates would make
//! this a compile error; this test does the same job in one crate (see the
//! map in src/lib.rs for why one crate).

use std::path::Path;

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out
}

/// Modules under `src/` and the crate paths they must not use.
const RULES: &[(&str, &[&str])] = &[
    (
        "model",
        &[
            "crate::api",
            "crate::broker",
            "crate::client",
            "crate::provider",
            "crate::cli",
            "crate::sts",
            "crate::tfplugin",
            "sqlx",
            "axum",
            "aws_sdk",
            "reqwest",
        ],
    ),
    (
        "api",
        &[
            "crate::broker",
            "crate::client",
            "crate::provider",
            "crate::cli",
            "crate::sts",
            "crate::tfplugin",
            "sqlx",
            "axum",
            "aws_sdk",
        ],
    ),
    (
        "client.rs",
        &[
            "crate::broker",
            "crate::provider",
            "crate::cli",
            "crate::sts",
            "crate::tfplugin",
        ],
    ),
    (
        "provider",
        &[
            "crate::broker",
            "crate::cli",
            "crate::sts",
            "aws_sdk",
            "sqlx",
            "axum",
        ],
    ),
    // `deputy serve` and `deputy openapi` start and describe the broker:
    // the CLI may reach its entry points, never its internals.
    (
        "cli",
        &[
            "crate::broker::store",
            "crate::broker::auth",
            "crate::broker::error",
            "crate::provider",
            "aws_sdk",
            "sqlx",
        ],
    ),
    (
        "sts",
        &[
            "crate::broker",
            "crate::provider",
            "crate::cli",
            "crate::client",
        ],
    ),
    (
        "tfplugin",
        &[
            "crate::api",
            "crate::broker",
            "crate::client",
            "crate::provider",
            "crate::cli",
            "crate::sts",
            "crate::model",
        ],
    ),
];

/// `path` as a whole path prefix (`crate::cli` is not `crate::client`).
fn uses(text: &str, path: &str) -> bool {
    text.match_indices(path).any(|(at, _)| {
        text[at + path.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_')
    })
}

#[test]
fn dependencies_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (module, forbidden) in RULES {
        let path = src.join(module);
        let files = if path.is_dir() {
            sources(&path)
        } else {
            vec![(
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            )]
        };
        for (file, text) in files {
            for bad in *forbidden {
                if uses(&text, bad) {
                    broken.push(format!("{file} uses {bad}"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "dependency rules broken:\n{}",
        broken.join("\n")
    );
}

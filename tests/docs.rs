//! `docs/` must be exactly what the schemas render (see
//! `deputy::provider::docs`). Regenerate with:
//!
//!     DEPUTY_UPDATE_DOCS=1 cargo test --test docs

use std::path::Path;

#[test]
fn docs_match_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pages =
        deputy::provider::docs::render(root).expect("every documented type has its example file");
    let update = std::env::var_os("DEPUTY_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    for (rel, want) in &pages {
        let path = root.join(rel);
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != *want {
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(rel.clone());
            }
        }
    }
    // A page whose type no longer exists is stale too.
    for dir in [
        "docs/resources",
        "docs/data-sources",
        "docs/ephemeral-resources",
        "docs/functions",
    ] {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let rel = format!("{dir}/{}", entry.file_name().to_string_lossy());
            if !pages.iter().any(|(p, _)| *p == rel) {
                if update {
                    std::fs::remove_file(entry.path()).unwrap();
                } else {
                    stale.push(rel);
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs differ from the schema: {stale:?}\nregenerate with: DEPUTY_UPDATE_DOCS=1 cargo test --test docs"
    );
}

#[test]
fn every_attribute_and_parameter_is_described() {
    use tfplugin::provider::Provider;
    let provider = deputy::provider::DeputyProvider;
    let registry = provider.registry();
    let mut schemas = vec![("provider".to_string(), provider.schema())];
    schemas.extend(
        registry
            .resources
            .iter()
            .map(|(n, r)| (n.to_string(), r.schema())),
    );
    schemas.extend(
        registry
            .data_sources
            .iter()
            .map(|(n, d)| (n.to_string(), d.schema())),
    );
    schemas.extend(
        registry
            .ephemeral_resources
            .iter()
            .map(|(n, e)| (n.to_string(), e.schema())),
    );
    for (owner, schema) in schemas {
        assert!(
            !schema.description.trim().is_empty(),
            "{owner} has no description"
        );
        for a in &schema.attributes {
            assert!(
                !a.description.trim().is_empty(),
                "{owner}.{} has no description",
                a.name
            );
        }
    }
    for (name, f) in &registry.functions {
        let sig = f.signature();
        assert!(
            !sig.summary.is_empty() && !sig.description.is_empty(),
            "function {name}"
        );
        for p in &sig.parameters {
            assert!(
                !p.description.is_empty(),
                "function {name} parameter {}",
                p.name
            );
        }
    }
}

/// Every image the README shows (the console's screenshots, which
/// `tests/aws/console.rs` refreshes) is in the repository.
#[test]
fn the_readme_shows_only_images_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let images: Vec<&str> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".png"))
        .collect();
    assert!(
        !images.is_empty(),
        "the README shows the console's screenshots"
    );
    for image in images {
        assert!(
            root.join(image).is_file(),
            "README shows {image}, which is missing"
        );
    }
}

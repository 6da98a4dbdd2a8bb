//! Registry-format documentation, rendered from the schemas themselves so
//! the docs cannot drift from the code: `tests/docs.rs` fails when the files
//! under `docs/` differ from what this renders, and rewrites them when run
//! with `DEPUTY_UPDATE_DOCS=1`.
//!
//! Examples come from `examples/` (the registry layout), so they are real
//! files a user can copy and that tests can run.

use std::fmt::Write as _;
use std::path::Path;

use super::DeputyProvider;
use tfplugin::function::Signature;
use tfplugin::provider::Provider;
use tfplugin::schema::{Mode, Schema};
use tfplugin::value::Type;

/// Every documentation page as (path under the repository, contents).
/// `root` is the repository, where `examples/` is read from.
pub fn render(root: &Path) -> std::io::Result<Vec<(String, String)>> {
    let provider = DeputyProvider;
    let registry = provider.registry();
    let mut pages = Vec::new();
    let example = |rel: &str| std::fs::read_to_string(root.join(rel));

    let mut index = front_matter("deputy Provider", provider.schema().description);
    index.push_str("# deputy Provider\n\n");
    index.push_str(provider.schema().description);
    index.push_str("\n\n## Example Usage\n\n");
    push_code(
        &mut index,
        "terraform",
        &example("examples/provider/provider.tf")?,
    );
    push_schema(&mut index, &provider.schema());
    pages.push(("docs/index.md".to_string(), index));

    for (name, d) in &registry.data_sources {
        let schema = d.schema();
        let mut page = front_matter(&format!("{name} Data Source - deputy"), schema.description);
        let _ = write!(
            page,
            "# {name} (Data Source)\n\n{}\n\n## Example Usage\n\n",
            schema.description
        );
        push_code(
            &mut page,
            "terraform",
            &example(&format!("examples/data-sources/{name}/data-source.tf"))?,
        );
        push_schema(&mut page, &schema);
        pages.push((format!("docs/data-sources/{}.md", short(name)), page));
    }

    for (name, r) in &registry.resources {
        let schema = r.schema();
        let mut page = front_matter(&format!("{name} Resource - deputy"), schema.description);
        let _ = write!(
            page,
            "# {name} (Resource)\n\n{}\n\n## Example Usage\n\n",
            schema.description
        );
        push_code(
            &mut page,
            "terraform",
            &example(&format!("examples/resources/{name}/resource.tf"))?,
        );
        push_schema(&mut page, &schema);
        page.push_str("\n## Import\n\nImport is supported using the following syntax:\n\n");
        push_code(
            &mut page,
            "shell",
            &example(&format!("examples/resources/{name}/import.sh"))?,
        );
        if r.identity().is_some() {
            page.push_str(
                "\nWith Terraform 1.12 and later, an `import` block can name the object by its \
                 identity instead of an id string (`terraform plan -generate-config-out` then \
                 writes its configuration):\n\n",
            );
            push_code(
                &mut page,
                "terraform",
                &example(&format!("examples/resources/{name}/import-by-identity.tf"))?,
            );
        }
        pages.push((format!("docs/resources/{}.md", short(name)), page));
    }

    for (name, e) in &registry.ephemeral_resources {
        let schema = e.schema();
        let mut page = front_matter(
            &format!("{name} Ephemeral Resource - deputy"),
            schema.description,
        );
        let _ = write!(
            page,
            "# {name} (Ephemeral Resource)\n\n{}\n\n## Example Usage\n\n",
            schema.description
        );
        push_code(
            &mut page,
            "terraform",
            &example(&format!(
                "examples/ephemeral-resources/{name}/ephemeral-resource.tf"
            ))?,
        );
        push_schema(&mut page, &schema);
        pages.push((format!("docs/ephemeral-resources/{}.md", short(name)), page));
    }

    for (name, l) in &registry.list_resources {
        let schema = l.schema();
        let mut page = front_matter(
            &format!("{name} List Resource - deputy"),
            schema.description,
        );
        let _ = write!(
            page,
            "# {name} (List Resource)\n\n{} Terraform 1.14 and later; in a `.tfquery.hcl` \
             file, the attributes below go in the `list` block's `config`.\n\n## Example Usage\n\n",
            schema.description
        );
        push_code(
            &mut page,
            "terraform",
            &example(&format!("examples/list-resources/{name}/list.tfquery.hcl"))?,
        );
        push_schema(&mut page, &schema);
        pages.push((format!("docs/list-resources/{}.md", short(name)), page));
    }

    for (name, a) in &registry.actions {
        let schema = a.schema();
        let mut page = front_matter(&format!("{name} Action - deputy"), schema.description);
        let _ = write!(
            page,
            "# {name} (Action)\n\n{} Terraform 1.14 and later; the attributes below go in the \
             `action` block's `config`.\n\n## Example Usage\n\n",
            schema.description
        );
        push_code(
            &mut page,
            "terraform",
            &example(&format!("examples/actions/{name}/action.tf"))?,
        );
        push_schema(&mut page, &schema);
        pages.push((format!("docs/actions/{}.md", short(name)), page));
    }

    for (name, f) in &registry.functions {
        let sig = f.signature();
        let mut page = front_matter(&format!("{name} function - deputy"), sig.summary);
        let _ = write!(
            page,
            "# function: {name}\n\n{}\n\n## Example Usage\n\n",
            sig.description
        );
        push_code(
            &mut page,
            "terraform",
            &example(&format!("examples/functions/{name}/function.tf"))?,
        );
        push_signature(&mut page, name, &sig);
        pages.push((format!("docs/functions/{name}.md"), page));
    }
    Ok(pages)
}

/// Registry pages drop the provider prefix from file names.
fn short(type_name: &str) -> &str {
    type_name.strip_prefix("deputy_").unwrap_or(type_name)
}

fn front_matter(title: &str, description: &str) -> String {
    let mut s = format!("---\npage_title: \"{title}\"\nsubcategory: \"\"\ndescription: |-\n");
    for line in description.lines() {
        let _ = writeln!(s, "  {line}");
    }
    s.push_str("---\n\n");
    s
}

fn push_code(out: &mut String, lang: &str, code: &str) {
    let _ = write!(out, "```{lang}\n{}\n```\n", code.trim_end());
}

fn push_schema(out: &mut String, schema: &Schema) {
    out.push_str("\n## Schema\n");
    let sections = [
        ("Required", Mode::Required),
        ("Optional", Mode::Optional),
        ("Read-Only", Mode::Computed),
    ];
    for (title, mode) in sections {
        let attrs: Vec<_> = schema
            .attributes
            .iter()
            .filter(|a| match mode {
                Mode::Optional => matches!(a.mode, Mode::Optional | Mode::OptionalComputed),
                m => a.mode == m,
            })
            .collect();
        if attrs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n");
        for a in attrs {
            let mut notes = Vec::new();
            if a.sensitive {
                notes.push("Sensitive");
            }
            if a.requires_replace {
                notes.push("Changing it replaces the object");
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            let _ = writeln!(
                out,
                "- `{}` ({}) {}{notes}",
                a.name,
                type_name(&a.ty),
                a.description
            );
        }
    }
}

fn push_signature(out: &mut String, name: &str, sig: &Signature) {
    let mut params: Vec<String> = sig
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, hcl_type(&p.ty)))
        .collect();
    if let Some(v) = &sig.variadic {
        params.push(format!("{}... {}", v.name, hcl_type(&v.ty)));
    }
    let _ = write!(
        out,
        "\n## Signature\n\n```text\n{name}({}) {}\n```\n\n## Arguments\n\n",
        params.join(", "),
        hcl_type(&sig.returns)
    );
    for (i, p) in sig.parameters.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. `{}` ({}) {}",
            i + 1,
            p.name,
            type_name(&p.ty),
            p.description
        );
    }
    if let Some(v) = &sig.variadic {
        let _ = writeln!(
            out,
            "{}. `{}` ({}, variadic) {}",
            sig.parameters.len() + 1,
            v.name,
            type_name(&v.ty),
            v.description
        );
    }
}

/// The registry's way of naming types: "String", "List of String".
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(t) => format!("List of {}", type_name(t)),
        Type::Set(t) => format!("Set of {}", type_name(t)),
        Type::Map(t) => format!("Map of {}", type_name(t)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

/// Types as written in HCL type constraints: `string`, `list(string)`.
fn hcl_type(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Number => "number".into(),
        Type::String => "string".into(),
        Type::Dynamic => "any".into(),
        Type::List(t) => format!("list({})", hcl_type(t)),
        Type::Set(t) => format!("set({})", hcl_type(t)),
        Type::Map(t) => format!("map({})", hcl_type(t)),
        Type::Object(_) => "object".into(),
        Type::Tuple(_) => "tuple".into(),
    }
}

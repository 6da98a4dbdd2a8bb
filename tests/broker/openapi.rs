//! The OpenAPI document is generated from the code (`deputy openapi`); the
//! checked-in copy (`docs/openapi.json`) must be that document, and it must
//! describe exactly the routes the broker serves.

use std::collections::BTreeSet;

#[test]
fn checked_in_document_is_the_generated_one() {
    let generated = deputy::broker::api::openapi::document();
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json"))
            .expect("docs/openapi.json exists");
    assert!(
        generated == checked_in,
        "docs/openapi.json is out of date: regenerate it with\n  \
         cargo run --bin deputy -- openapi > docs/openapi.json"
    );
}

#[test]
fn document_and_routes_agree() {
    let doc: serde_json::Value =
        serde_json::from_str(&deputy::broker::api::openapi::document()).expect("JSON");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((path.clone(), method.to_uppercase()));
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} needs responses"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{method} {path} needs a tag"
            );
        }
    }
    let served: BTreeSet<(String, String)> = deputy::broker::api::routes()
        .into_iter()
        .map(|(path, method, _)| (path.to_string(), method.to_string()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not documented: {undocumented:?}\ndocumented but not served: {unserved:?}\n\
         add the handler to the paths of broker::api::openapi::ApiDoc"
    );
}

/// Request bodies the broker reads with `deny_unknown_fields` say so, so
/// generated clients and testers do not send fields the broker refuses.
#[test]
fn request_bodies_refuse_unknown_fields() {
    let doc: serde_json::Value =
        serde_json::from_str(&deputy::broker::api::openapi::document()).expect("JSON");
    let schemas = &doc["components"]["schemas"];
    for name in [
        "StackInput",
        "IntegrationInput",
        "AttachmentInput",
        "AttachmentUpdate",
        "ApiKeyInput",
        "CredentialsRequest",
    ] {
        assert_eq!(
            schemas[name]["additionalProperties"],
            serde_json::Value::Bool(false),
            "{name}"
        );
    }
    assert_eq!(schemas["StackInput"]["required"], serde_json::json!(["id"]));
    assert_eq!(
        schemas["IntegrationInput"]["properties"]["duration_seconds"]["minimum"],
        900
    );
}

//! The OpenAPI document is generated from the code (`deputy openapi`), from
//! the same list of routes the router is built from; the checked-in copy
//! (`docs/openapi.json`) must be that document.

use std::collections::BTreeSet;

#[test]
fn checked_in_document_is_the_generated_one() {
    let generated = deputy::broker::http::document();
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
fn every_operation_has_responses_and_a_tag() {
    let doc: serde_json::Value =
        serde_json::from_str(&deputy::broker::http::document()).expect("JSON");
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
    // The router is built from the same list (`broker::http::api`), and
    // the authorization test sends a request to each of these.
    assert!(documented.len() >= 30, "the document looks truncated");
}

/// Request bodies the broker reads with `deny_unknown_fields` say so, so
/// generated clients and testers do not send fields the broker refuses.
#[test]
fn request_bodies_refuse_unknown_fields() {
    let doc: serde_json::Value =
        serde_json::from_str(&deputy::broker::http::document()).expect("JSON");
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

//! The checked-in OpenAPI document (`docs/openapi.json`, also served at
//! `/v1/openapi.json`) lists exactly the routes the broker serves.

use std::collections::BTreeSet;

#[test]
fn document_and_routes_agree() {
    let doc: serde_json::Value = serde_json::from_str(include_str!("../../docs/openapi.json"))
        .expect("docs/openapi.json is JSON");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((path.clone(), method.to_uppercase()));
            }
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
         update docs/openapi.json"
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} needs a summary"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} needs responses"
            );
        }
    }
}

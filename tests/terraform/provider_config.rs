//! The provider block: validation errors, environment fallbacks, logs.

use crate::support::{Workspace, assert_contains, text};

/// Terraform prunes a provider that no resource or data source uses (and
/// then never validates or configures it), so each test reads a data source.
const USES_PROVIDER: &str = r#"
data "deputy_trust_policy_document" "p" {
  principal_arn  = "arn:aws:iam::123456789012:role/deputy-broker"
  account        = "acme"
  integration_id = "01JQ3ZV8T4M5N6P7Q8R9S0T1V2"
  stack_ids      = ["net"]
}
"#;

#[test]
fn bad_provider_configuration_is_reported_on_the_attribute() {
    let ws = Workspace::new(&format!(
        "provider \"deputy\" {{\n  endpoint = \"ftp://broker\"\n  token = \"two words\"\n}}\n{USES_PROVIDER}"
    ));
    let errors = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(
        &errors,
        r#"Error: Invalid broker endpoint with provider["registry.terraform.io/deputy/deputy"], on main.tf line 9, in provider "deputy": 9: endpoint = "ftp://broker" "ftp://broker" is not an http(s) URL with a host: use the broker's base URL, for example "https://deputy.example.com"."#,
    );
    assert_contains(&errors, "Error: Invalid broker token");
    assert_contains(
        &errors,
        "token does not hold an API key: keys look like dpk_<16 hex digits>_<secret>, on one line.",
    );
}

/// The provider takes its key as the CLI does: `token`, `token_file`,
/// `DEPUTY_TOKEN_FILE`, `DEPUTY_TOKEN`, first found wins, and a key file
/// that cannot serve is named with what it must hold.
#[test]
fn the_key_comes_from_a_file_as_for_the_cli() {
    let b = crate::broker::LiveBroker::start();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("admin.key");
    std::fs::write(&key_file, format!("{}\n", b.broker.admin_token)).unwrap();
    let key_file = key_file.display().to_string();
    let config = "data \"deputy_account\" \"this\" {}\noutput \"name\" { value = data.deputy_account.this.name }\n";
    // Both variables set, the file holding the good key and the variable a
    // refused one: the file wins, and two sources are not an error.
    let ws = Workspace::with_env(
        config,
        &[
            ("DEPUTY_ENDPOINT", b.broker.base.as_str()),
            ("DEPUTY_TOKEN_FILE", &key_file),
            ("DEPUTY_TOKEN", "dpk_0123456789abcdef_bm9wZQ"),
        ],
    );
    let out = ws.apply_outputs();
    assert!(out["name"]["value"].is_string(), "{out}");

    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "").unwrap();
    let ws = Workspace::with_env(
        config,
        &[
            ("DEPUTY_ENDPOINT", b.broker.base.as_str()),
            ("DEPUTY_TOKEN_FILE", &empty.display().to_string()),
        ],
    );
    let err = ws.fails(&["plan", "-no-color"]);
    assert_contains(&err, "Error: Unusable API key file in DEPUTY_TOKEN_FILE");
    assert_contains(
        &err,
        &format!(
            "the key file {} is empty: it must hold an API key, dpk_<16 hex digits>_<secret>",
            empty.display()
        ),
    );
}

#[test]
fn bad_endpoint_from_the_environment_names_the_variable() {
    let ws = Workspace::with_env(
        &format!("provider \"deputy\" {{}}\n{USES_PROVIDER}"),
        &[("DEPUTY_ENDPOINT", "not a url")],
    );
    let errors = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(&errors, r#"Error: Invalid DEPUTY_ENDPOINT"#);
    assert_contains(&errors, r#""not a url" is not a URL ("#);
}

#[test]
fn tf_log_shows_provider_logs_at_their_level() {
    let ws = Workspace::new(&format!("provider \"deputy\" {{}}\n{USES_PROVIDER}"));
    let out = ws
        .command(&["plan", "-input=false", "-no-color"])
        .env("TF_LOG", "debug")
        .output()
        .expect("terraform plan");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let logs = text(&out.stderr);
    let line = logs
        .lines()
        .find(|l| l.contains("configuring provider"))
        .unwrap_or_else(|| panic!("no provider log line in:\n{logs}"));
    assert!(line.contains("[DEBUG]"), "{line}");
    assert!(
        line.contains("provider.terraform-provider-deputy"),
        "{line}"
    );
    assert!(line.contains("@module=deputy"), "{line}");
}

#[test]
fn plain_http_to_another_host_needs_insecure() {
    let block = |extra: &str| {
        format!(
            "provider \"deputy\" {{\n  endpoint = \"http://deputy.example.com:8420\"\n  token = \"dpk_0123456789abcdef_b\"\n{extra}}}\n{USES_PROVIDER}"
        )
    };
    let errors = Workspace::new(&block("")).fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(
        &errors,
        r#"Error: Plain HTTP to the deputy broker with provider["registry.terraform.io/deputy/deputy"]"#,
    );
    // On the attribute: Terraform quotes its line.
    assert_contains(
        &errors,
        r#"endpoint = "http://deputy.example.com:8420" the broker endpoint"#,
    );
    assert_contains(&errors, "`insecure = true` in the provider block");
    // Allowed: the provider goes on to ask the broker at configure, and
    // nothing answers at that name here.
    let ws = Workspace::new(&block("  insecure = true\n"));
    let errors = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert!(!errors.contains("Plain HTTP"), "{errors}");
    assert_contains(&errors, "Error: Cannot reach the deputy broker");
}

#[test]
fn an_unreadable_ca_file_is_reported_on_the_attribute() {
    let ws = Workspace::new(&format!(
        "provider \"deputy\" {{\n  endpoint = \"https://deputy.example.com\"\n  ca_file = \"/nonexistent/ca.pem\"\n}}\n{USES_PROVIDER}"
    ));
    let errors = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert_contains(&errors, "Error: Unusable CA file");
    assert_contains(&errors, "cannot read the CA file /nonexistent/ca.pem");
}

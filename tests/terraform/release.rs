//! `scripts/release`: registry-format archives, checksums and a manifest
//! for protocol 6.0, and a filesystem mirror a real Terraform installs the
//! provider from.

use std::process::Command;

use crate::support::{Workspace, terraform_platform, text};

#[test]
fn release_archives_install_through_terraform() {
    let out = tempfile::tempdir().unwrap();
    let dist = out.path().join("dist");
    let run = Command::new("scripts/release")
        .env("DEPUTY_RELEASE_OUT", &dist)
        .env(
            "DEPUTY_RELEASE_PROVIDER",
            env!("CARGO_BIN_EXE_terraform-provider-deputy"),
        )
        .env("DEPUTY_RELEASE_BROKER", env!("CARGO_BIN_EXE_deputy"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    let version = env!("CARGO_PKG_VERSION");
    let platform = terraform_platform();
    let zip = format!("terraform-provider-deputy_{version}_{platform}.zip");
    for file in [
        zip.clone(),
        format!("terraform-provider-deputy_{version}_manifest.json"),
        format!("terraform-provider-deputy_{version}_SHA256SUMS"),
        format!("deputy_{version}_{platform}.tar.gz"),
    ] {
        assert!(dist.join(&file).is_file(), "{file} missing");
    }
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dist.join(format!("terraform-provider-deputy_{version}_manifest.json")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["metadata"]["protocol_versions"][0], "6.0");
    let sums = Command::new("sha256sum")
        .args([
            "-c",
            &format!("terraform-provider-deputy_{version}_SHA256SUMS"),
        ])
        .current_dir(&dist)
        .output()
        .unwrap();
    assert!(sums.status.success(), "{}", text(&sums.stdout));
    let listed = Command::new("unzip")
        .arg("-l")
        .arg(dist.join(&zip))
        .output()
        .unwrap();
    assert!(
        text(&listed.stdout).contains(&format!("terraform-provider-deputy_v{version}")),
        "{}",
        text(&listed.stdout)
    );

    // Terraform installs the provider from the mirror, records the
    // archive's hash, and runs it.
    let ws = Workspace::with_mirror(
        r#"output "id" { value = provider::deputy::external_id("acme", "01JQ3ZV8T4M5N6P7Q8R9S0T1V2", "net", "read") }"#,
        &dist.join("mirror"),
    );
    let lock = std::fs::read_to_string(ws.dir.path().join(".terraform.lock.hcl")).unwrap();
    assert!(
        lock.contains("h1:"),
        "the provider is locked by its hash:\n{lock}"
    );
    let applied = ws.apply();
    assert!(
        applied.contains("acme@01JQ3ZV8T4M5N6P7Q8R9S0T1V2@net@read"),
        "{applied}"
    );
}

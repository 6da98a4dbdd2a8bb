//! The STS emulator's trust-policy enforcement, tested on its own (its
//! tests are Python, next to it, and drive it with boto3).

#[test]
fn emulator_enforces_trust_policies() {
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tools/sts-emulator/test_sts_emulator.py"
        ))
        .output()
        .expect("python3 is needed for the STS emulator: run scripts/setup");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "emulator tests failed (run scripts/setup if moto is missing):\n{report}"
    );
    assert!(report.contains("Ran 8 tests"), "{report}");
}

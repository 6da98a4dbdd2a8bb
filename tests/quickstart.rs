//! `scripts/quickstart --emulator`, the README's first command, run as a
//! newcomer would (but on this build's binaries): it must finish, show the
//! run's assumed-role identity with the secret masked, and clean up.

use std::process::Command;

#[test]
fn quickstart_runs_the_main_job_offline_and_cleans_up() {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_deputy"))
        .parent()
        .unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(format!("{root}/scripts/quickstart"))
        .arg("--emulator")
        .env("DEPUTY_BIN_DIR", bin_dir)
        .env_remove("DEPUTY_ENDPOINT")
        .env_remove("DEPUTY_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "quickstart failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for expected in [
        "starting fakecloud's IAM and STS (deputy-emulator)",
        "Apply complete! Resources: 4 added",
        "Apply complete! Resources: 3 added",
        "\"sts:ExternalId\"",
        "its principal: arn:aws:iam::123456789012:user/deputy-quickstart-broker",
        "caller: arn:aws:sts::123456789012:assumed-role/deputy-quickstart/quickstart-run-1",
        "secret as the command prints it: ***",
        "credentials.issue stack/payments-api ok",
        "console at http://127.0.0.1:",
        "Destroy complete! Resources: 7 destroyed",
        "Done. Where to look next:",
    ] {
        assert!(
            stdout.contains(expected),
            "quickstart output lacks {expected:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    }
    // The work directory it announced is gone.
    let data_dir = stdout
        .lines()
        .find_map(|l| l.split("(SQLite in ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .expect("the broker step names its data directory");
    assert!(
        !std::path::Path::new(data_dir).exists(),
        "quickstart left {data_dir} behind"
    );
}

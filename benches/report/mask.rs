//! `deputy exec`'s output path: a large file through `cat`, once read
//! directly and once through `deputy exec` (credentials from a broker, the
//! output streamed through the secret masker), each read from a pipe by
//! this process, so the figures compare the masker with nothing in its
//! place.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deputy::model::Phase;
use deputy::wire::*;

use crate::broker::{Backend, TestBroker};
use crate::fast_sts::FastSts;
use crate::report::{Section, Target};

const SIZE: usize = 256 << 20;
const ROUNDS: usize = 3;
const ROLE: &str = "arn:aws:iam::123456789012:role/bench";

/// The best of `ROUNDS` runs of `cmd`: its time to pipe out everything,
/// and the bytes that came out.
fn best(mut cmd: impl FnMut() -> Command) -> (Duration, usize) {
    let mut fastest = Duration::MAX;
    let mut bytes = 0;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut child = cmd().stdout(Stdio::piped()).spawn().unwrap();
        let mut out = child.stdout.take().unwrap();
        bytes = 0;
        loop {
            let n = out.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            bytes += n;
        }
        assert!(child.wait().unwrap().success());
        fastest = fastest.min(start.elapsed());
    }
    (fastest, bytes)
}

pub async fn run() -> Section {
    let sts = FastSts::start();
    let b = TestBroker::start_with(Backend::Sqlite, Some(sts.endpoint.clone()), 5).await;
    let admin = b.admin();
    admin
        .create_stack(&StackInput::with_id("net"))
        .await
        .unwrap();
    let i = admin
        .create_integration(&IntegrationInput {
            name: "bench".into(),
            role_arn: ROLE.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    sts.trust(
        ROLE,
        [
            format!("acme@{}@net@write", i.id),
            format!("acme@{}@net@read", i.id),
        ],
    );
    admin
        .attach(
            &i.id,
            &AttachmentInput {
                stack_id: "net".into(),
                read: true,
                write: true,
            },
        )
        .await
        .unwrap();
    let runner = admin
        .create_key(&ApiKeyInput::runner("net", &[Phase::Write]))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload");
    // Incompressible-looking bytes with no secret in them.
    let payload: Vec<u8> = (0..SIZE as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&file, &payload).unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, &runner.token).unwrap();

    let (plain, plain_bytes) = tokio::task::block_in_place(|| {
        best(|| {
            let mut cmd = Command::new("cat");
            cmd.arg(&file);
            cmd
        })
    });
    let (masked, masked_bytes) = tokio::task::block_in_place(|| {
        best(|| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_deputy"));
            cmd.args([
                "exec", "--stack", "net", "--phase", "write", "--run-id", "bench", "--",
            ])
            .arg("cat")
            .arg(&file)
            .env("DEPUTY_ENDPOINT", &b.base)
            .env("DEPUTY_TOKEN_FILE", &key_file)
            .env_remove("DEPUTY_TOKEN");
            cmd
        })
    });
    assert_eq!(
        (plain_bytes, masked_bytes),
        (SIZE, SIZE),
        "every byte comes out"
    );
    let mbps = |d: Duration| SIZE as f64 / (1 << 20) as f64 / d.as_secs_f64();
    let mut section = Section::new(
        "Output masking",
        format!(
            "`cat` of a {} MiB file read from a pipe, directly and through `deputy exec` (which \
             first gets credentials from a broker on loopback, then streams the output through \
             its masker in 64 KiB reads); best of {ROUNDS} runs each.",
            SIZE >> 20
        ),
        vec!["command", "seconds", "MiB/s"],
    );
    section.row(vec![
        "cat".into(),
        format!("{:.3}", plain.as_secs_f64()),
        format!("{:.0}", mbps(plain)),
    ]);
    section.row(vec![
        "deputy exec -- cat".into(),
        format!("{:.3}", masked.as_secs_f64()),
        format!("{:.0}", mbps(masked)),
    ]);
    section.notes.push(format!(
        "Side by side in this run: `deputy exec` takes {:.2}× the time of plain `cat`, a run's \
         start (one credentials request) included.",
        masked.as_secs_f64() / plain.as_secs_f64()
    ));
    section.targets.push(Target {
        what: "deputy exec masking throughput".into(),
        limit: "≥ 200 MiB/s".into(),
        measured: format!("{:.0} MiB/s", mbps(masked)),
        met: mbps(masked) >= 200.0,
    });
    section
}

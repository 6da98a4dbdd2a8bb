//! `deploy/`: the container image's runtime steps and the systemd unit,
//! exercised without a container daemon. The Dockerfile's ENV, ENTRYPOINT,
//! CMD, HEALTHCHECK and STOPSIGNAL are read from the file and run as the
//! image would run them (the binary and the volume mapped to this build
//! and a temporary directory); its build stage is checked to copy what the
//! crate's build reads.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::support::PRINCIPAL;

/// The Dockerfile's instructions, continuation lines joined, per stage.
fn stages() -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string("deploy/Dockerfile").unwrap();
    let mut stages: Vec<Vec<(String, String)>> = Vec::new();
    let mut line = String::new();
    for raw in text.lines() {
        if raw.trim_start().starts_with('#') || raw.trim().is_empty() {
            continue;
        }
        match raw.strip_suffix('\\') {
            Some(part) => line.push_str(part),
            None => {
                line.push_str(raw);
                let (op, args) = line.trim().split_once(' ').unwrap();
                if op == "FROM" {
                    stages.push(Vec::new());
                }
                stages
                    .last_mut()
                    .unwrap()
                    .push((op.to_string(), args.trim().to_string()));
                line.clear();
            }
        }
    }
    stages
}

fn one<'a>(stage: &'a [(String, String)], op: &str) -> &'a str {
    stage
        .iter()
        .find(|(o, _)| o == op)
        .map(|(_, a)| a.as_str())
        .unwrap_or_else(|| panic!("no {op} in the runtime stage"))
}

/// An exec-form instruction's argv, the image's binary mapped to this
/// build's.
fn argv(json: &str) -> Vec<String> {
    let list: Vec<String> = serde_json::from_str(json).unwrap();
    list.into_iter()
        .map(|a| a.replace("/usr/local/bin/deputy", env!("CARGO_BIN_EXE_deputy")))
        .collect()
}

/// The runtime stage's variables for a container whose volume is `data`
/// and whose port is a free one (returned), plus the account and the
/// principal a start needs.
fn container_env(runtime: &[(String, String)], data: &Path) -> (BTreeMap<String, String>, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut env = BTreeMap::new();
    for pair in one(runtime, "ENV").split_whitespace() {
        let (k, v) = pair.split_once('=').unwrap();
        let v = v
            .replace("/var/lib/deputy", &data.display().to_string())
            .replace(":8420", &format!(":{port}"));
        env.insert(k.to_string(), v);
    }
    env.insert("DEPUTY_ACCOUNT".into(), "acme".into());
    env.insert("DEPUTY_AWS_PRINCIPAL_ARN".into(), PRINCIPAL.into());
    (env, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_runs_as_its_dockerfile_says() {
    let stages = stages();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    let (build, runtime) = (&stages[0], &stages[1]);

    // Build stage: what it copies exists, and covers what the build reads
    // (the workspace's members under crates/, tfplugin's build script
    // compiles its protos, the store embeds migrations/, the manifest names
    // benches/).
    let copied: Vec<&str> = build
        .iter()
        .filter(|(op, _)| op == "COPY")
        .flat_map(|(_, a)| {
            let words: Vec<&str> = a.split_whitespace().collect();
            words[..words.len() - 1].to_vec()
        })
        .collect();
    for source in &copied {
        assert!(
            Path::new(source).exists(),
            "COPY {source}: not in the repository"
        );
    }
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "crates",
        "migrations",
        "src",
        "benches",
    ] {
        assert!(
            copied.contains(&needed),
            "the build stage does not copy {needed}"
        );
    }
    assert!(one(build, "RUN").contains("cargo build --release --locked --bin deputy"));

    // Runtime stage: not root; the variables, entrypoint and health check
    // as written.
    let user = one(runtime, "USER");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "USER {user}"
    );
    let data = tempfile::tempdir().unwrap();
    let (env, port) = container_env(runtime, data.path());
    assert_eq!(env["DEPUTY_LISTEN"], format!("0.0.0.0:{port}"));
    let mut command = argv(one(runtime, "ENTRYPOINT"));
    command.extend(argv(one(runtime, "CMD")));
    let healthcheck = one(runtime, "HEALTHCHECK");
    let probe = argv(healthcheck.split_once("CMD ").unwrap().1);
    let healthy = |env: &BTreeMap<String, String>| {
        std::process::Command::new(&probe[0])
            .args(&probe[1..])
            .env_clear()
            .envs(env)
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(!healthy(&env), "nothing is listening yet");
    let log = data.path().join("stderr");
    let mut broker = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .env_clear()
        .envs(&env)
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if healthy(&env) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the health check passes once the broker serves");
    assert!(
        data.path().join("admin.key").exists(),
        "the key on the volume"
    );

    assert_eq!(one(runtime, "STOPSIGNAL"), "SIGTERM");
    let pid = nix::unistd::Pid::from_raw(broker.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !healthy(&env),
        "unhealthy while draining (DEPUTY_SHUTDOWN_DELAY)"
    );
    let status = tokio::time::timeout(Duration::from_secs(20), broker.wait())
        .await
        .expect("stops after the delay")
        .unwrap();
    assert!(status.success(), "{status}");
    let logged = std::fs::read_to_string(&log).unwrap();
    for line in logged.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("DEPUTY_LOG_FORMAT=json, yet ({e}): {line}"));
    }
}

/// The image's health check with TLS on and a certificate for the
/// service's real name (not localhost), from a private CA: it passes with
/// the two variables the Dockerfile documents, and without the name it
/// fails saying which variable to set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_works_over_tls_with_a_certificate_for_the_real_name() {
    let stages = stages();
    let runtime = &stages[1];
    let data = tempfile::tempdir().unwrap();
    let ca = testkit::pg_cluster::test_ca_for(data.path(), "deputy.internal");
    let (mut env, _) = container_env(runtime, data.path());
    let file = |name: &str| data.path().join(name).display().to_string();
    env.insert("DEPUTY_TLS_CERT".into(), file("server.crt"));
    env.insert("DEPUTY_TLS_KEY".into(), file("server.key"));
    env.insert("DEPUTY_CA_FILE".into(), ca.display().to_string());
    let mut command = argv(one(runtime, "ENTRYPOINT"));
    command.extend(argv(one(runtime, "CMD")));
    let probe = argv(one(runtime, "HEALTHCHECK").split_once("CMD ").unwrap().1);
    let check = |env: &BTreeMap<String, String>| {
        let out = std::process::Command::new(&probe[0])
            .args(&probe[1..])
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mut named = env.clone();
    named.insert(
        "DEPUTY_HEALTHCHECK_SERVER_NAME".into(),
        "deputy.internal".into(),
    );
    let _broker = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .env_clear()
        .envs(&env)
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if check(&named).0 {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the health check passes with the certificate's name");
    let (ok, said) = check(&env);
    assert!(!ok, "localhost is not the certificate's name");
    assert!(said.contains("DEPUTY_HEALTHCHECK_SERVER_NAME"), "{said}");
}

/// What `systemd-analyze verify` says of the unit, with this build's
/// binary in place of the installed one and `drop_ins` (file name, text)
/// in `deputy.service.d/` beside it: nothing when it accepts them.
fn systemd_verify(drop_ins: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string("deploy/deputy.service")
        .unwrap()
        .replace("/usr/local/bin/deputy", env!("CARGO_BIN_EXE_deputy"));
    let path = dir.path().join("deputy.service");
    std::fs::write(&path, unit).unwrap();
    let drop_in_dir = dir.path().join("deputy.service.d");
    std::fs::create_dir(&drop_in_dir).unwrap();
    for (name, text) in drop_ins {
        std::fs::write(drop_in_dir.join(name), text).unwrap();
    }
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze (scripts/setup installs systemd)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        said.trim().to_string()
    } else {
        format!("{}: {said}", out.status)
    }
}

/// The unit-file lines the README gives (its drop-ins), as one drop-in.
fn readme_drop_in() -> String {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let mut drop_in = String::from("[Service]\n");
    for line in readme.lines().map(str::trim) {
        if line.starts_with("LoadCredential=") || line.starts_with("Environment=") {
            drop_in.push_str(line);
            drop_in.push('\n');
        }
    }
    drop_in
}

/// systemd's own checker accepts the unit (with this build's binary), on
/// its own and with the TLS drop-in and the README's drop-ins.
#[test]
fn the_systemd_unit_verifies() {
    let said = systemd_verify(&[]);
    assert!(said.is_empty(), "the unit alone: {said}");
    let tls = std::fs::read_to_string("deploy/deputy-tls.conf").unwrap();
    let readme = readme_drop_in();
    assert!(
        readme.contains("LoadCredential=db-ca.pem:"),
        "the README's drop-ins were found: {readme}"
    );
    let said = systemd_verify(&[("tls.conf", tls.as_str()), ("readme.conf", readme.as_str())]);
    assert!(said.is_empty(), "with the drop-ins: {said}");
    // The drop-ins were read, not skipped: a misspelt key in one is named.
    let misspelt = tls.replace("LoadCredential=", "LoadCredentials=");
    let said = systemd_verify(&[("tls.conf", misspelt.as_str())]);
    assert!(said.contains("LoadCredentials"), "{said}");
}

/// The unit's broker runs as a dynamic user that cannot read the
/// root-only /etc/deputy, so every file the README, the unit or the TLS
/// drop-in gives it must be systemd's copy of a file there: under the
/// credentials directory (`%d`, or its fixed path where specifiers are not
/// expanded), with a `LoadCredential=` line bringing it from /etc/deputy.
/// And `systemctl start` waits for the broker to be ready.
#[test]
fn the_readme_gives_the_units_broker_its_files_as_credentials() {
    let unit = std::fs::read_to_string("deploy/deputy.service").unwrap();
    let tls = std::fs::read_to_string("deploy/deputy-tls.conf").unwrap();
    let readme = std::fs::read_to_string("README.md").unwrap();
    let settings: Vec<&str> = unit
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "EnvironmentFile=/etc/deputy/deputy.env",
    ] {
        assert!(settings.contains(&line), "the unit says {line}");
    }
    assert!(
        !settings.iter().any(|l| l.starts_with("LoadCredential=")),
        "the unit itself loads no file an installation may lack (a missing one fails the start)"
    );
    assert!(readme.contains("Type=notify") && readme.contains("deploy/deputy-tls.conf"));

    // The drop-in lines: the shipped drop-in's and the README's.
    let lines: Vec<&str> = tls
        .lines()
        .chain(readme.lines())
        .map(str::trim)
        .filter(|l| l.starts_with("LoadCredential=") || l.starts_with("Environment="))
        .collect();
    let mut loaded = std::collections::BTreeSet::new();
    for line in &lines {
        if let Some(spec) = line.strip_prefix("LoadCredential=") {
            let (id, source) = spec.split_once(':').unwrap();
            assert!(
                source.starts_with("/etc/deputy/"),
                "{line}: the unit's secrets are kept in /etc/deputy"
            );
            loaded.insert(id);
        }
    }
    let credential = |path: &str| {
        ["%d/", "/run/credentials/deputy.service/"]
            .iter()
            .any(|dir| path.strip_prefix(dir).is_some_and(|id| loaded.contains(id)))
    };
    for line in &lines {
        if let Some((_, value)) = line
            .strip_prefix("Environment=")
            .and_then(|s| s.split_once('='))
        {
            assert!(!value.contains('/') || credential(value), "{line}");
        }
    }
    // Every place a file is given to the broker by name.
    let text = format!("{unit}\n{tls}\n{readme}");
    let mut given = 0;
    for setting in [
        "sslrootcert=",
        "sslcert=",
        "sslkey=",
        "DEPUTY_TLS_CERT=",
        "DEPUTY_TLS_KEY=",
        "DEPUTY_OIDC_CA_FILE=",
        "--tls-cert ",
        "--tls-key ",
    ] {
        for (at, _) in text.match_indices(setting) {
            let path: String = text[at + setting.len()..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"'\"`&),".contains(*c))
                .collect();
            assert!(
                credential(&path),
                "{setting}{path}: not a credential a LoadCredential= line brings (the broker cannot read /etc/deputy)"
            );
            given += 1;
        }
    }
    assert!(given >= 6, "the files given were found ({given})");
}

/// What `Type=notify` relies on: the broker tells the socket in
/// `NOTIFY_SOCKET` it is ready only once `/readyz` answers ready, and that
/// it is stopping when told to stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_tells_systemd_when_it_is_ready_and_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(["serve", "--account", "acme", "--principal-arn", PRINCIPAL])
        .arg("--store")
        .arg(dir.path().join("deputy.db"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--bootstrap-key-file")
        .arg(dir.path().join("admin.key"))
        .args(["--shutdown-delay", "0"])
        .env("NOTIFY_SOCKET", &socket_path)
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut message = vec![0; 256];
    let n = tokio::time::timeout(Duration::from_secs(30), socket.recv(&mut message))
        .await
        .expect("READY=1 within 30 s")
        .unwrap();
    assert_eq!(&message[..n], b"READY=1");
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .expect("listening when it said ready");
    assert_eq!(ready.status(), 200);

    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), socket.recv(&mut message))
        .await
        .expect("STOPPING=1 after SIGTERM")
        .unwrap();
    assert_eq!(&message[..n], b"STOPPING=1");
}

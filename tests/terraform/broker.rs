//! A real broker for the provider tests: in-process on loopback, on SQLite,
//! kept running by its own runtime while Terraform (a child process) talks
//! to it.

use testkit::broker as support;
pub use testkit::broker::TestBroker;

use crate::support::Workspace;

pub struct LiveBroker {
    pub broker: TestBroker,
    pub runtime: tokio::runtime::Runtime,
}

impl LiveBroker {
    pub fn start() -> LiveBroker {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let broker = runtime.block_on(TestBroker::start(support::Backend::Sqlite));
        LiveBroker { broker, runtime }
    }

    /// Environment for Terraform: where the broker is and the admin key.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DEPUTY_ENDPOINT", self.broker.base.clone()),
            ("DEPUTY_TOKEN", self.broker.admin_token.clone()),
        ]
    }

    /// A Terraform working directory configured for this broker.
    pub fn workspace(&self, config: &str) -> Workspace {
        self.workspace_on(&crate::support::terraform_binary(), config)
    }

    /// The same, run by the Terraform at `terraform`.
    pub fn workspace_on(&self, terraform: &std::path::Path, config: &str) -> Workspace {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Workspace::with_terraform(terraform, config, &env)
    }

    pub fn admin(&self) -> deputy::client::Client {
        self.broker.admin()
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

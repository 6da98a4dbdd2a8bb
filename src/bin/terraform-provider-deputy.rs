//! The deputy Terraform provider plugin. Terraform starts it; see
//! `terraform-provider-deputy --debug` for attaching a debugger.

use std::process::ExitCode;

use deputy::provider::{DeputyProvider, SOURCE_ADDRESS};
use tfplugin::process::serve::{self, Options};

fn main() -> ExitCode {
    serve::main(
        DeputyProvider,
        Options {
            binary_name: "terraform-provider-deputy",
            provider_address: SOURCE_ADDRESS,
            log_module: "deputy",
            log_targets: &["deputy"],
        },
    )
}

//! `deputy`: the broker (`deputy serve`) and its command-line client.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let mut cli = deputy::cli::Cli::parse();
    // SAFETY: no other thread exists yet; the runtime starts below.
    unsafe {
        cli.take_secrets_from_environment();
        deputy::cli::hide_token_file_path();
    }
    let level = tracing_subscriber::EnvFilter::try_from_env("DEPUTY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(level);
    match cli.log_format {
        // Colours only for a person at a terminal: a log file or a log
        // shipper gets plain text.
        deputy::cli::LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        deputy::cli::LogFormat::Json => logs.json().init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("deputy: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(deputy::cli::run(cli)) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            // The error may carry the broker's words: no terminal escapes.
            eprintln!("deputy: {}", deputy::cli::visible(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

//! The `downline-tools` command: `loadtest`, `stall`, `hiccups` and `faults`.

use clap::{Parser, Subcommand};
use downline_tools::{faults, hiccups, loadtest, stall};
use std::process::ExitCode;

/// Tools that measure a `downline` server and the machine it runs on.
#[derive(Parser)]
#[command(name = "downline-tools", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sends a bounded load of requests to a running server and reports latencies.
    Loadtest(loadtest::LoadtestArgs),
    /// Runs a RecordOrder load, starts a background job and reports how long the writes waited meanwhile.
    Stall(stall::StallArgs),
    /// Measures how often this machine stops running a busy thread (run it alone).
    Hiccups(hiccups::HiccupsArgs),
    /// Measures what faulting in fresh memory costs here, against rewriting it.
    Faults(faults::FaultsArgs),
}

fn main() -> ExitCode {
    downline::cli::init_tracing(downline::cli::LogFormat::Text);
    let result = match Cli::parse().command {
        Command::Loadtest(args) => loadtest::run(args),
        Command::Stall(args) => stall::run(args),
        Command::Hiccups(args) => hiccups::run(args),
        Command::Faults(args) => faults::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

//! The `downline` command: `serve`, `import`, `verify`, `loadtest`, `hiccups` and `keys`.

use clap::{Parser, Subcommand};
use downline::cli;
use std::process::ExitCode;

/// The genealogy and commission engine of a sales network.
#[derive(Parser)]
#[command(name = "downline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the gRPC server until SIGINT or SIGTERM.
    Serve(cli::serve::ServeArgs),
    /// Loads partners from CSV into a data directory no server holds.
    Import(cli::import::ImportArgs),
    /// Checks a data directory no server holds against its manifest and prints its counts.
    Verify(cli::verify::VerifyArgs),
    /// Sends a bounded load of requests to a running server and reports latencies.
    Loadtest(cli::loadtest::LoadtestArgs),
    /// Measures how often this machine stops running a busy thread (run it alone).
    Hiccups(cli::hiccups::HiccupsArgs),
    /// Makes API keys and their keys-file lines.
    #[command(subcommand)]
    Keys(cli::keys::KeysCommand),
}

fn main() -> ExitCode {
    cli::init_tracing();
    let result = match Cli::parse().command {
        Command::Serve(args) => cli::serve::run(args),
        Command::Import(args) => cli::import::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Loadtest(args) => cli::loadtest::run(args),
        Command::Hiccups(args) => cli::hiccups::run(args),
        Command::Keys(command) => cli::keys::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

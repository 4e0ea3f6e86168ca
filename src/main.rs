//! The `downline` command: `serve`, `import`, `verify`, `export`, `backup`, `restore`, `synth` and `keys` (the measuring
//! tools are the `downline-tools` binary of `tools/`).

use clap::{Parser, Subcommand};
use downline::cli;
use std::io::Write as _;
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
    Serve(Box<cli::serve::ServeArgs>),
    /// Loads partners and orders from CSV files into a data directory no server holds.
    Import(cli::import::ImportArgs),
    /// Checks a data directory no server holds against its manifest and prints its counts.
    Verify(cli::verify::VerifyArgs),
    /// Writes volumes.csv, statements.csv and payout.csv of a period from a running server.
    Export(cli::export::ExportArgs),
    /// Writes a consistent backup of a running server's store to a file.
    Backup(cli::backup::BackupArgs),
    /// Restores a backup file into a new data directory no server holds.
    Restore(cli::backup::RestoreArgs),
    /// Writes a synthetic network (partners.csv, orders.csv) that `import` reads.
    Synth(cli::synth::SynthArgs),
    /// Makes API keys and their keys-file lines.
    #[command(subcommand)]
    Keys(cli::keys::KeysCommand),
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    // Only `serve` chooses its log format; the offline commands print text.
    cli::init_tracing(match &command {
        Command::Serve(args) => args.log_format,
        _ => cli::LogFormat::Text,
    });
    let result = match command {
        Command::Serve(args) => cli::serve::run(*args),
        Command::Import(args) => cli::import::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Export(args) => cli::export::run(args),
        Command::Backup(args) => cli::backup::backup(args),
        Command::Restore(args) => cli::backup::restore(args),
        Command::Synth(args) => cli::synth::run(args),
        Command::Keys(command) => cli::keys::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Not eprintln!: a closed stderr must not turn an error into a panic.
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::FAILURE
        }
    }
}

//! `downline keys`: makes API keys and their keys-file lines. The key is
//! printed once and stored nowhere; the keys file holds only its hash.

use crate::auth::keys::{self, line, new_key, valid_name};
use crate::auth::Role;
use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

/// Subcommands of `downline keys`.
#[derive(clap::Subcommand, Debug)]
pub enum KeysCommand {
    /// Prints a fresh random key and its keys-file line (or appends the line
    /// to a keys file with --append and prints only the key).
    New(NewArgs),
    /// Reads a key on standard input and prints its keys-file line.
    Hash(LineArgs),
}

/// The role and name of a keys-file line.
#[derive(clap::Args, Debug)]
pub struct LineArgs {
    /// The key's role.
    #[arg(long, value_parser = ["admin", "backend"])]
    pub role: String,
    /// The key's name in the audit trail: 1 to 64 characters of A-Z a-z 0-9 . _ : -
    #[arg(long)]
    pub name: String,
}

/// Flags of `downline keys new`.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The role and name.
    #[command(flatten)]
    pub line: LineArgs,
    /// Appends the line to this keys file (created if missing).
    #[arg(long)]
    pub append: Option<PathBuf>,
}

impl LineArgs {
    fn role(&self) -> Result<Role, String> {
        if !valid_name(&self.name) {
            return Err(format!("--name '{}' must be 1 to 64 characters of A-Z a-z 0-9 . _ : -", self.name));
        }
        Role::of_key(&self.role).ok_or_else(|| format!("--role '{}' is not admin or backend", self.role))
    }
}

/// Runs a `keys` subcommand.
pub fn run(command: KeysCommand) -> Result<(), String> {
    match command {
        KeysCommand::New(args) => {
            let role = args.line.role()?;
            let key = new_key();
            let entry = line(&key, role, &args.line.name);
            match &args.append {
                Some(path) => {
                    let mut file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                    writeln!(file, "{entry}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    super::stdout::line(format_args!("{key}"))?;
                }
                None => super::stdout::line(format_args!("{key}\n{entry}"))?,
            }
            Ok(())
        }
        KeysCommand::Hash(args) => {
            let role = args.role()?;
            let mut key = String::new();
            std::io::stdin().lock().read_line(&mut key).map_err(|e| format!("cannot read the key: {e}"))?;
            let key = key.trim();
            if key.is_empty() || key.contains('.') || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "a key is printable ASCII without dots (made by `keys new`, it starts with {})",
                    keys::KEY_PREFIX
                ));
            }
            super::stdout::line(format_args!("{}", line(key, role, &args.name)))?;
            Ok(())
        }
    }
}

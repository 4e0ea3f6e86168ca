//! `downline import --partners partners.csv --orders orders.csv`: the
//! offline bulk load into a data directory that no server holds. All or
//! nothing: every row is checked (and applied in memory) before anything is
//! written; a bad row stops the import with its number and nothing is
//! imported. The write phase is bracketed by the `IMPORTING` marker in the
//! data directory: written (durably) before the first batch, removed after
//! the last flush, so a server refuses a directory whose import did not
//! end; running the import again completes it (rows already written count
//! as unchanged).

use super::interrupt::Interrupt;
use super::progress::Progress;
use crate::engine::{Audit, EngineError, Genealogy, Network, NewPartner, PartnerRange};
use crate::service::now_unix_ms;
use crate::store::{data_dir, OpenMode, Store, StoreError};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Flags of `downline import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The data directory to load into (created if missing).
    #[arg(long, env = "DOWNLINE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// A CSV file with the header `id,sponsor_id,joined_on` (an optional
    /// fourth column `display_name`). A sponsor may come after its recruits.
    #[arg(long, required_unless_present = "orders")]
    pub partners: Option<PathBuf>,
    /// A CSV file with the header `order_id,partner_id,period,volume,kind`
    /// (kind: retail, self or fee). Loaded after the partners.
    #[arg(long)]
    pub orders: Option<PathBuf>,
    /// A pause after each written batch, in milliseconds: a test hook that
    /// holds an import in its write phase (a signal ends the pause).
    #[arg(long, hide = true, default_value_t = 0)]
    pub pause_after_batch_ms: u64,
}

/// The expected columns, without the optional display_name.
const COLUMNS: &[&str] = &["id", "sponsor_id", "joined_on"];
/// The expected columns with the display names.
const NAMED_COLUMNS: &[&str] = &["id", "sponsor_id", "joined_on", "display_name"];

/// Runs the import and prints what it did. A signal during the write
/// phase ends the process with 130 or 143 (see `interrupt.rs`).
pub fn run(args: ImportArgs) -> Result<(), String> {
    let interrupt = Interrupt::listen()?;
    let dir = args.data_dir.as_path();
    let created = super::import_cleanup::Created::note(dir);
    let (store, mut network) = Store::open_with(dir, OpenMode::Import).map_err(|e| {
        created.remove();
        format!("cannot open {}: {e} (is a server running on it?)", dir.display())
    })?;
    if data_dir::import_interrupted(dir) {
        super::stdout::line(format_args!("completing the interrupted import into {}", dir.display()))?;
    }
    let (partners, orders) = match read(&args, &mut network) {
        Ok(read) => read,
        Err(message) => {
            // Nothing was written: a directory this import made goes again.
            drop((store, network));
            created.remove();
            return Err(message);
        }
    };
    if !interrupt.start_writing() {
        // The listener is ending the process: nothing was written.
        loop {
            std::thread::park();
        }
    }
    let started = Instant::now();
    data_dir::mark_import(dir).map_err(|e| format!("cannot write the import marker into {}: {e}", dir.display()))?;
    match write(&store, &network, partners, orders, &interrupt, args.pause_after_batch_ms) {
        Ok(()) => {}
        Err(StoreError::Interrupted) => {
            drop(store);
            eprintln!(
                "error: the import into {0} was interrupted; what was written is flushed and {0} is marked as a \
                 partial import: rerun the same `downline import` to complete it, or delete {0}",
                dir.display()
            );
            std::process::exit(interrupt.exit_code());
        }
        Err(e) => {
            return Err(format!(
                "writing to {0}: {e}; {0} holds a partial import: rerun `downline import` or delete {0}",
                dir.display()
            ))
        }
    }
    data_dir::unmark_import(dir).map_err(|e| format!("cannot remove the import marker of {}: {e}", dir.display()))?;
    super::stdout::line(format_args!(
        "written and flushed in {:.2} s; the data directory holds {} partners and {} orders",
        started.elapsed().as_secs_f64(),
        network.genealogy.len(),
        network.orders.len()
    ))?;
    check(&network.genealogy)
}

/// The read phase: the partners, then the orders, checked and applied in
/// memory only.
fn read(args: &ImportArgs, network: &mut Network) -> Result<(Option<PartnerRange>, Option<Range<u32>>), String> {
    let partners = match &args.partners {
        Some(path) => Some(import_partners(network, path)?),
        None => None,
    };
    let orders = match &args.orders {
        Some(path) => Some(super::import_orders::apply(network, path)?),
        None => None,
    };
    Ok((partners, orders))
}

/// The write phase: the created partners, then the new orders, each in
/// batches; stops at a batch boundary when a signal asks.
fn write(
    store: &Store,
    network: &Network,
    partners: Option<PartnerRange>,
    orders: Option<Range<u32>>,
    interrupt: &Interrupt,
    pause_ms: u64,
) -> Result<(), StoreError> {
    let go_on = |bar: &mut Progress, done: &mut u64, n: u64| {
        *done += n;
        bar.advance(n, *done);
        interrupt.pause(Duration::from_millis(pause_ms));
        !interrupt.stop_requested()
    };
    if let Some(created) = partners {
        let (mut bar, mut done) = (Progress::new("writing", u64::from(created.len())), 0);
        let audit = Audit { actor: "downline import".into(), reason: "import".into(), at_unix_ms: now_unix_ms() };
        store.write_import(&network.genealogy, created, &audit, |n| go_on(&mut bar, &mut done, n))?;
        bar.finish();
    }
    if let Some(recorded) = orders {
        if interrupt.stop_requested() && !recorded.is_empty() {
            return Err(StoreError::Interrupted);
        }
        let (mut bar, mut done) = (Progress::new("writing", u64::from(recorded.end - recorded.start)), 0);
        store.write_orders(network, recorded, |n| go_on(&mut bar, &mut done, n))?;
        bar.finish();
    }
    // Writes the sidecar even when nothing was new.
    store.flush()
}

/// Reads and links the partners in memory; returns the created range.
fn import_partners(network: &mut Network, path: &Path) -> Result<PartnerRange, String> {
    let started = Instant::now();
    let rows = read_partners(path)?;
    let read_s = started.elapsed().as_secs_f64();
    let outcome = network.import(&rows).map_err(|e| describe_row_error(path, e))?;
    super::stdout::line(format_args!(
        "partners: {} new, {} unchanged; read {read_s:.2} s, linked {:.2} s",
        outcome.created.len(),
        outcome.unchanged,
        started.elapsed().as_secs_f64() - read_s
    ))?;
    Ok(outcome.created)
}

fn check(genealogy: &Genealogy) -> Result<(), String> {
    if cfg!(debug_assertions) {
        genealogy.check_invariants().map_err(|e| format!("internal error after import: {e}"))?;
    }
    Ok(())
}

/// Turns "row N.field" into a message that also gives the file line.
fn describe_row_error(path: &Path, err: EngineError) -> String {
    format!("{}: {err} (rows count from 1 after the header; line = row + 1); nothing was imported", path.display())
}

/// Reads and validates every row; the first bad one stops the import.
pub fn read_partners(path: &Path) -> Result<Vec<NewPartner>, String> {
    let mut rows = Vec::new();
    super::csv_rows::read(
        path,
        "reading",
        |header| parse_header(path, header),
        |_, record| {
            let field = |i: usize| record.get(i).unwrap_or("");
            rows.push(NewPartner::parse(field(0), field(1), field(2), field(3))?);
            Ok(())
        },
    )?;
    Ok(rows)
}

/// The columns the header names: with or without display_name.
fn parse_header(path: &Path, header: &[&str]) -> Result<&'static [&'static str], String> {
    [COLUMNS, NAMED_COLUMNS].into_iter().find(|columns| *columns == header).ok_or_else(|| {
        format!(
            "{}: the header is '{}', expected '{}' (then optionally ',display_name')",
            path.display(),
            header.join(","),
            COLUMNS.join(",")
        )
    })
}

//! `downline synth --partners N --out DIR`: a synthetic network written as
//! the `partners.csv` and `orders.csv` that `downline import` reads, in
//! the shape of `shared/datasets/gen_network.py` (`crate::synth`: the same
//! recipe, its own random stream, so not the same rows for a seed). Files
//! of the same name in DIR are replaced.

use super::progress::Progress;
use crate::engine::{OrderKind, Period};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// The most partners one run writes (the network is made in memory first:
/// about 100 bytes a partner).
pub const MAX_PARTNERS: u64 = 10_000_000;

/// Flags of `downline synth`.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// How many partners ("1".."N"; "1" is the root).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_PARTNERS))]
    pub partners: u64,
    /// The directory to write partners.csv and orders.csv into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// The seed: the same seed and N make the same files.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The period (YYYY-MM) of the orders.
    #[arg(long, default_value = "2026-11")]
    pub period: String,
}

/// Writes both files and prints their row counts.
pub fn run(args: SynthArgs) -> Result<(), String> {
    Period::parse("--period", &args.period).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let n = args.partners as usize;
    let partners_path = args.out.join("partners.csv");
    let mut partners = writer(&partners_path)?;
    let rows = crate::synth::partners(n, args.seed);
    let mut progress = Progress::new("partners", rows.len() as u64);
    write(&partners_path, &mut partners, ["id", "sponsor_id", "joined_on"])?;
    for (i, row) in rows.iter().enumerate() {
        let joined = row.joined_on.to_string();
        write(&partners_path, &mut partners, [row.partner_id.as_str(), row.sponsor_id.as_str(), joined.as_str()])?;
        progress.advance(1, i as u64 + 1);
    }
    finish(&partners_path, partners, &progress)?;

    let orders_path = args.out.join("orders.csv");
    let mut orders = writer(&orders_path)?;
    let requests = crate::synth::orders(n, args.seed, &args.period);
    let mut progress = Progress::new("orders", requests.len() as u64);
    write(&orders_path, &mut orders, ["order_id", "partner_id", "period", "volume", "kind"])?;
    for (i, order) in requests.iter().enumerate() {
        let fields = [&order.order_id, &order.partner_id, &order.period, &order.volume].map(String::as_str);
        let [id, partner, period, volume] = fields;
        write(&orders_path, &mut orders, [id, partner, period, volume, kind_name(order.kind)])?;
        progress.advance(1, i as u64 + 1);
    }
    finish(&orders_path, orders, &progress)?;
    super::stdout::line(format_args!(
        "wrote {} partners to {} and {} orders to {}",
        rows.len(),
        partners_path.display(),
        requests.len(),
        orders_path.display()
    ))
}

/// The `kind` column as `downline import` reads it.
fn kind_name(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Retail => "retail",
        OrderKind::SelfPurchase => "self",
        OrderKind::Fee => "fee",
    }
}

type CsvOut = csv::Writer<BufWriter<File>>;

fn writer(path: &Path) -> Result<CsvOut, String> {
    let file = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Ok(csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 20, file)))
}

fn write<const N: usize>(path: &Path, out: &mut CsvOut, fields: [&str; N]) -> Result<(), String> {
    out.write_record(fields).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Flushes the file to disk and removes the bar.
fn finish(path: &Path, out: CsvOut, progress: &Progress) -> Result<(), String> {
    progress.finish();
    let buffered = out.into_inner().map_err(|e| format!("cannot write {}: {}", path.display(), e.error()))?;
    let file = buffered.into_inner().map_err(|e| format!("cannot write {}: {}", path.display(), e.error()))?;
    file.sync_all().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

//! The orders part of `downline import`: reads `orders.csv` (as
//! gen_network.py writes it) and records every order in memory, through the
//! same checks as RecordOrder, then computes each period's rollups once.
//! The first bad row stops the import.

use crate::engine::{EngineError, Network, OrderKind, OrderRequest, Recorded};
use csv::StringRecord;
use std::ops::Range;
use std::path::Path;
use std::time::Instant;

/// The expected columns.
const COLUMNS: &[&str] = &["order_id", "partner_id", "period", "volume", "kind"];

/// Records every order of the file; returns the range of new orders.
pub fn apply(network: &mut Network, path: &Path) -> Result<Range<u32>, String> {
    let started = Instant::now();
    let first = network.orders.len() as u32;
    let mut repeated = 0u64;
    let mut periods = Vec::new();
    let header = |names: &[&str]| match names {
        n if n == COLUMNS => Ok(COLUMNS),
        other => {
            Err(format!("{}: the header is '{}', expected '{}'", path.display(), other.join(","), COLUMNS.join(",")))
        }
    };
    super::csv_rows::read(path, "orders", header, |_, record| {
        let request = parse_row(record)?;
        match network.admit_order(&request)? {
            (_, Recorded::Repeated(_)) => repeated += 1,
            (order, Recorded::New(_)) => {
                if !periods.contains(&order.period) {
                    periods.push(order.period);
                }
            }
        }
        Ok(())
    })?;
    // Booked without per-order upkeep: one parallel rollup per period instead.
    for period in periods {
        network.relevel(period);
    }
    let end = network.orders.len() as u32;
    super::stdout::line(format_args!(
        "orders: {} new, {repeated} unchanged; read and applied {:.2} s",
        end - first,
        started.elapsed().as_secs_f64()
    ))?;
    Ok(first..end)
}

/// One order; the reader has checked that the row has the five columns.
fn parse_row(record: &StringRecord) -> Result<OrderRequest, EngineError> {
    let fields: Vec<&str> = (0..COLUMNS.len()).map(|i| record.get(i).unwrap_or("")).collect();
    let kind = match fields[4].to_ascii_lowercase().as_str() {
        "retail" => OrderKind::Retail,
        "self" => OrderKind::SelfPurchase,
        "fee" => OrderKind::Fee,
        other => return Err(EngineError::invalid("kind", format!("'{other}' is not retail, self or fee"))),
    };
    Ok(OrderRequest {
        order_id: fields[0].to_owned(),
        partner_id: fields[1].to_owned(),
        period: fields[2].to_owned(),
        volume: fields[3].to_owned(),
        kind,
        book_into_period: None,
    })
}

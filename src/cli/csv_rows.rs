//! Reading the CSV files of `downline import` line by line, with a
//! progress bar over the file's bytes: the header first, then the data rows
//! numbered from 1 (blank lines skipped). Fields never contain commas or
//! quotes (ids, dates and decimals), so a plain split is the whole parser.

use super::import::progress_bar;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Calls `header` with the first line (a UTF-8 byte-order mark removed),
/// then `row(number, text)` for every non-blank line after it. The first
/// error stops the reading. Returns the file's size in bytes.
pub fn read(
    path: &Path,
    label: &str,
    mut header: impl FnMut(&str) -> Result<(), String>,
    mut row: impl FnMut(usize, &str) -> Result<(), String>,
) -> Result<u64, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(size, label);
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = String::new();
    let mut number = 0usize;
    let mut seen_header = false;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(|e| format!("{}: {e}", path.display()))?;
        if read == 0 {
            break;
        }
        bar.inc(read as u64);
        let text = line.trim_end_matches(['\n', '\r']);
        if !seen_header {
            header(text.trim_start_matches('\u{feff}'))?;
            seen_header = true;
        } else if !text.is_empty() {
            number += 1;
            row(number, text)?;
        }
    }
    bar.finish_and_clear();
    if !seen_header {
        return Err(format!("{}: the file is empty; it needs a header line", path.display()));
    }
    Ok(size)
}

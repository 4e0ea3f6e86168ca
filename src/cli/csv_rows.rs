//! Reading the CSV files of `downline import` with the `csv` crate (RFC
//! 4180: quoted fields with commas, line breaks and doubled quotes, CRLF or
//! LF, a UTF-8 byte-order mark, quoted headers), record by record, with a
//! progress bar over the file's bytes. Data rows are numbered from 1 after
//! the header; blank lines are skipped. A row the reader cannot read, or
//! with the wrong number of columns, stops the import with its row, its
//! line and the column.

use super::progress::Progress;
use crate::engine::EngineError;
use csv::StringRecord;
use std::fs::File;
use std::path::Path;

/// Calls `header` with the first record (a byte-order mark removed), which
/// answers the names of the columns it accepts, then `row(number, record)`
/// for every data row, each with exactly that many columns. The first
/// error stops the reading. Returns the file's size in bytes.
pub fn read(
    path: &Path,
    label: &str,
    mut header: impl FnMut(&[&str]) -> Result<&'static [&'static str], String>,
    mut row: impl FnMut(usize, &StringRecord) -> Result<(), EngineError>,
) -> Result<u64, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut progress = Progress::new(label, size);
    // Rows end at '\n' alone, so that the reader's line numbers count every
    // line; the '\r' of CRLF is cut from the last field below.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(file);
    let mut record = StringRecord::new();
    let mut columns: Option<&[&str]> = None;
    let mut number = 0usize;
    loop {
        let line = reader.position().line();
        let more = reader.read_record(&mut record).map_err(|e| unreadable(path, number + 1, line, columns, &e))?;
        if !more {
            break;
        }
        if without_cr(&mut record) {
            continue;
        }
        let Some(names) = columns else {
            let fields: Vec<&str> = record.iter().enumerate().map(|(i, f)| bare(i, f)).collect();
            columns = Some(header(&fields)?);
            continue;
        };
        number += 1;
        let line = record.position().map_or(line, |p| p.line());
        let checked = width(names, &record).and_then(|()| row(number, &record));
        checked.map_err(|e| at_line(path, line, e.in_row(&format!("row {number}"))))?;
        progress.advance(1, record.position().map_or(0, |p| p.byte()));
    }
    progress.finish();
    if columns.is_none() {
        return Err(format!("{}: the file is empty; it needs a header line", path.display()));
    }
    Ok(size)
}

/// Cuts the '\r' of a CRLF line end from the last field; answers whether
/// the line is blank (then skipped, like an empty line).
fn without_cr(record: &mut StringRecord) -> bool {
    let Some(last) = record.get(record.len().wrapping_sub(1)) else { return true };
    if let Some(cut) = last.strip_suffix('\r') {
        let position = record.position().cloned();
        let fields: Vec<String> = record.iter().take(record.len() - 1).map(str::to_owned).collect();
        let cut = cut.to_owned();
        record.clear();
        record.extend(fields.iter().map(String::as_str).chain([cut.as_str()]));
        record.set_position(position);
    }
    record.len() == 1 && record.get(0) == Some("")
}

/// A header field without the byte-order mark that may start the file.
fn bare(index: usize, field: &str) -> &str {
    if index == 0 {
        field.trim_start_matches('\u{feff}')
    } else {
        field
    }
}

/// A row has exactly the header's columns: a missing one is named, an
/// extra one counted.
fn width(names: &[&str], record: &StringRecord) -> Result<(), EngineError> {
    let found = record.len();
    match names.get(found) {
        Some(missing) if found < names.len() => Err(EngineError::invalid(
            *missing,
            format!("is missing: the row has {found} columns, expected {} ({})", names.len(), names.join(",")),
        )),
        _ if found > names.len() => Err(EngineError::invalid(
            "columns",
            format!("the row has {found} columns, expected {} ({})", names.len(), names.join(",")),
        )),
        _ => Ok(()),
    }
}

/// What the CSV reader refused (invalid UTF-8, an I/O error), with the row,
/// the line and, where known, the column.
fn unreadable(path: &Path, number: usize, line: u64, columns: Option<&[&str]>, err: &csv::Error) -> String {
    let column = match (err.kind(), columns) {
        (csv::ErrorKind::Utf8 { err, .. }, Some(names)) => names.get(err.field()).copied().unwrap_or("columns"),
        (csv::ErrorKind::Utf8 { .. }, None) => return format!("{}: the header is not valid UTF-8", path.display()),
        _ => "columns",
    };
    let line = err.position().map_or(line, |p| p.line());
    let what = if columns.is_some() { format!("row {number}") } else { "the header".to_owned() };
    format!("{} line {line}: {what}.{column}: cannot be read: {err}; nothing was imported", path.display())
}

/// A row's error with its file line (a quoted field may span lines, so the
/// line is not always the row plus one).
fn at_line(path: &Path, line: u64, err: EngineError) -> String {
    format!("{} line {line}: {err}; nothing was imported", path.display())
}

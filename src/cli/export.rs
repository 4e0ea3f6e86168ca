//! `downline export`: the payout files of a period from a running server,
//! through the public API only (ExportVolumes, ExportStatements): a
//! `volumes.csv` (one row a partner), a `statements.csv` (one row a
//! statement line) and a `payout.csv` (partner id and payable, only
//! payable > 0), in partner id order, with a progress bar on stderr.

use crate::proto::v1 as pb;
use indicatif::{ProgressBar, ProgressStyle};
use pb::compensation_service_client::CompensationServiceClient;
use pb::volume_service_client::VolumeServiceClient;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tonic::transport::Channel;

/// The largest export message accepted: the server sends at most 1 MiB
/// of rows a message; the margin covers one very long statement.
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Arguments of `downline export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The server, e.g. http://127.0.0.1:50051.
    #[arg(long, env = "DOWNLINE_SERVER")]
    pub server: String,
    /// An admin or backend API key (none for a server in open development mode).
    #[arg(long, env = "DOWNLINE_TOKEN")]
    pub token: Option<String>,
    /// The period, YYYY-MM.
    #[arg(long, env = "DOWNLINE_PERIOD")]
    pub period: String,
    /// The run whose statements are exported; default: the period's run of
    /// the compliance report (its official run, else its latest real run).
    #[arg(long)]
    pub run: Option<String>,
    /// Starts a commission run of the (open) period first, waits for it
    /// and exports its statements.
    #[arg(long, conflicts_with = "run")]
    pub start_run: bool,
    /// The directory the three files are written to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the export; a message on failure.
pub fn run(args: ExportArgs) -> Result<(), String> {
    super::runtime()?.block_on(export(args))
}

async fn export(args: ExportArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let channel = tonic::transport::Endpoint::from_shared(args.server.clone())
        .map_err(|e| format!("--server {}: {e}", args.server))?
        .connect()
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", args.server))?;
    let auth = Auth(args.token.clone());
    let started = std::time::Instant::now();
    let volume_rows = export_volumes(&channel, &auth, &args.period, &args.out).await?;
    let volumes_ms = started.elapsed().as_millis();
    let mut comp = CompensationServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let run_id = match &args.run {
        Some(run) => run.clone(),
        None if args.start_run => start_run(&mut comp, &auth, &args.period).await?,
        None => period_run(&mut comp, &auth, &args.period).await?,
    };
    let started = std::time::Instant::now();
    let (statements, paid) = export_statements(&mut comp, &auth, &run_id, &args.out).await?;
    let statements_ms = started.elapsed().as_millis();
    super::stdout::line(format_args!(
        "exported {volume_rows} partners' volumes of {} ({volumes_ms} ms), {statements} statements of run {run_id} \
         ({statements_ms} ms; {paid} paid) to {}",
        args.period,
        args.out.display()
    ))
}

/// The bearer credential of every call.
pub(super) struct Auth(pub(super) Option<String>);

impl Auth {
    /// `message` with the bearer credential, if any.
    pub(super) fn request<T>(&self, message: T) -> Result<tonic::Request<T>, String> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.0 {
            let value = format!("Bearer {token}").parse().map_err(|_| "--token: not printable ASCII".to_owned())?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

/// The run of the period's compliance report.
async fn period_run(
    comp: &mut CompensationServiceClient<Channel>,
    auth: &Auth,
    period: &str,
) -> Result<String, String> {
    let request = auth.request(pb::GetComplianceReportRequest { period: period.to_owned() })?;
    let report = comp.get_compliance_report(request).await.map_err(|s| failed("GetComplianceReport", &s))?;
    let run_id = report.into_inner().run_id;
    if run_id.is_empty() {
        return Err(format!("period {period} has no finished commission run: start one, or pass --run"));
    }
    Ok(run_id)
}

/// Starts a run of the period and waits until it ends; its id once it
/// succeeded.
async fn start_run(comp: &mut CompensationServiceClient<Channel>, auth: &Auth, period: &str) -> Result<String, String> {
    let request = auth.request(pb::StartCommissionRunRequest { period: period.to_owned(), dry_run: false })?;
    let started = comp.start_commission_run(request).await.map_err(|s| failed("StartCommissionRun", &s))?;
    let run_id = started.into_inner().run_id;
    let bar = bar("run");
    loop {
        let request = auth.request(pb::GetCommissionRunRequest { run_id: run_id.clone() })?;
        let run = comp.get_commission_run(request).await.map_err(|s| failed("GetCommissionRun", &s))?.into_inner();
        bar.set_position(run.partners_done);
        if run.state == pb::RunState::Succeeded as i32 {
            bar.finish();
            return Ok(run_id);
        }
        if run.state != pb::RunState::Running as i32 {
            return Err(format!("run {run_id} did not succeed: {}", run.error));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A failed call, for the command line.
pub(super) fn failed(call: &str, status: &tonic::Status) -> String {
    format!("{call} failed: {:?}: {}", status.code(), status.message())
}

fn bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{msg:10} {spinner} {pos} rows ({per_sec}, {elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

fn create(dir: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>), String> {
    let path = dir.join(name);
    let file = File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Ok((path, BufWriter::with_capacity(1 << 20, file)))
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("cannot write {}: {e}", path.display())
}

/// Writes volumes.csv; the number of partners.
async fn export_volumes(channel: &Channel, auth: &Auth, period: &str, out: &Path) -> Result<u64, String> {
    let mut client = VolumeServiceClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let request = auth.request(pb::ExportVolumesRequest { period: period.to_owned() })?;
    let mut stream = client.export_volumes(request).await.map_err(|s| failed("ExportVolumes", &s))?.into_inner();
    let (path, mut file) = create(out, "volumes.csv")?;
    let (bar, mut rows, mut header) = (bar("volumes"), 0u64, false);
    while let Some(message) = stream.message().await.map_err(|s| failed("ExportVolumes", &s))? {
        for row in &message.partners {
            let v = row.volumes.as_ref().ok_or("ExportVolumes sent a row without volumes")?;
            if !header {
                let levels = (1..=v.levels.len()).map(|k| format!(",lv_{k}")).collect::<String>();
                writeln!(file, "partner_id,period,pv,rv,gv{levels},level_capped_volume,active,paid_as_rank")
                    .map_err(io_error(&path))?;
                header = true;
            }
            let mut line = format!("{},{},{},{},{}", csv(&v.partner_id), csv(&v.period), v.pv, v.rv, v.gv);
            for level in &v.levels {
                line.push(',');
                line.push_str(&level.volume);
            }
            writeln!(file, "{line},{},{},{}", v.level_capped_volume, v.active, csv(&row.paid_as_rank))
                .map_err(io_error(&path))?;
        }
        rows += message.partners.len() as u64;
        bar.set_position(rows);
    }
    file.flush().map_err(io_error(&path))?;
    bar.finish();
    Ok(rows)
}

/// Writes statements.csv and payout.csv; statements and paid partners.
async fn export_statements(
    comp: &mut CompensationServiceClient<Channel>,
    auth: &Auth,
    run_id: &str,
    out: &Path,
) -> Result<(u64, u64), String> {
    let request = auth.request(pb::ExportStatementsRequest { run_id: run_id.to_owned() })?;
    let mut stream = comp.export_statements(request).await.map_err(|s| failed("ExportStatements", &s))?.into_inner();
    let (lines_path, mut lines) = create(out, "statements.csv")?;
    let (payout_path, mut payout) = create(out, "payout.csv")?;
    writeln!(lines, "run_id,partner_id,period,paid_as_rank,active,payable,kind,level,volume,rate,amount")
        .map_err(io_error(&lines_path))?;
    writeln!(payout, "partner_id,payable").map_err(io_error(&payout_path))?;
    let (bar, mut rows, mut paid) = (bar("statements"), 0u64, 0u64);
    while let Some(message) = stream.message().await.map_err(|s| failed("ExportStatements", &s))? {
        for s in &message.statements {
            write_statement(&mut lines, s).map_err(io_error(&lines_path))?;
            if is_positive(&s.payable) {
                writeln!(payout, "{},{}", csv(&s.partner_id), s.payable).map_err(io_error(&payout_path))?;
                paid += 1;
            }
        }
        rows += message.statements.len() as u64;
        bar.set_position(rows);
    }
    lines.flush().map_err(io_error(&lines_path))?;
    payout.flush().map_err(io_error(&payout_path))?;
    bar.finish();
    Ok((rows, paid))
}

/// One row per line of a statement (one with empty line columns when it
/// has none, so every partner of the run appears).
fn write_statement(out: &mut impl Write, s: &pb::Statement) -> std::io::Result<()> {
    let head = format!(
        "{},{},{},{},{},{}",
        csv(&s.run_id),
        csv(&s.partner_id),
        csv(&s.period),
        csv(&s.paid_as_rank),
        s.active,
        s.payable
    );
    if s.lines.is_empty() {
        return writeln!(out, "{head},,,,,");
    }
    for l in &s.lines {
        let kind = pb::LineKind::try_from(l.kind).map_or("UNKNOWN", |k| k.as_str_name());
        writeln!(
            out,
            "{head},{},{},{},{},{}",
            kind.trim_start_matches("LINE_KIND_"),
            l.level,
            l.volume,
            l.rate,
            l.amount
        )?;
    }
    Ok(())
}

/// Whether a decimal text is above zero.
fn is_positive(decimal: &str) -> bool {
    !decimal.starts_with('-') && decimal.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

/// A CSV field (RFC 4180): quoted, quotes doubled, when it holds a comma,
/// a quote or a line break (rank names are free text).
pub fn csv(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

#[cfg(test)]
mod tests {
    use super::{csv, is_positive};

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv("Gold"), "Gold");
        assert_eq!(csv("Gold, \"Star\""), "\"Gold, \"\"Star\"\"\"");
        assert_eq!(csv("a\nb"), "\"a\nb\"");
    }

    #[test]
    fn only_amounts_above_zero_are_positive() {
        assert!(is_positive("0.01") && is_positive("12.00"));
        assert!(!is_positive("0.00") && !is_positive("-3.50"));
    }
}

//! The index (the partner search and the periods) and a period's page
//! (its commission runs: official, real or dry, their state and totals),
//! from the same application reads as ListPeriods and GetCommissionRun.

use super::error::AdminError;
use super::html::{entry, escape, header_row, row, Page};
use super::query::{page_number, Params};
use crate::app::jobs::{Job, JobKind};
use crate::app::App;
use crate::engine::money::format_units;
use crate::engine::{format_cents, format_scaled, OfficialRun, Period, RunTotals};
use axum::http::StatusCode;
use axum::response::Response;
use std::fmt::Write as _;
use std::sync::Arc;

/// Rows of a listed page (periods, runs).
pub const ROWS_PER_PAGE: usize = 50;

/// The index: the search form and a page of periods, newest first.
pub fn index(app: &App, params: &Params) -> Result<Response, AdminError> {
    let page_no = page_number(params)?;
    let periods = app.read(|net| Ok::<_, AdminError>(net.periods()))?;
    let mut page = Page::new("downline admin");
    page.push(
        "<form method=\"get\" action=\"/partners\"><label>Partner id <input name=\"id\" required maxlength=\"64\">\
         </label> <button>Show the card</button></form>",
    );
    page.heading(2, "Periods");
    let newest_first: Vec<_> = periods.iter().rev().collect();
    let shown = paged(&newest_first, page_no, "period")?;
    if shown.is_empty() {
        page.paragraph("muted", "No period has orders yet.");
    } else {
        let mut table = format!("<table id=\"periods\">{}", header_row(&["Period", "State", "Orders"]));
        for &&(period, closed, orders) in shown {
            let link = format!("<a href=\"/periods/{period}\">{period}</a>");
            let state = if closed { "closed" } else { "open" }.to_owned();
            table.push_str(&row(&format!("period-{period}"), &[link, state, orders.to_string()]));
        }
        table.push_str("</table>");
        page.push(&table);
    }
    page.push(&pager("/", page_no, newest_first.len()));
    Ok(page.respond(StatusCode::OK))
}

/// A period's page: its state and a page of its runs, newest first.
pub fn period(app: &App, period_text: &str, params: &Params) -> Result<Response, AdminError> {
    let period = Period::parse("period", period_text)?;
    let page_no = page_number(params)?;
    let (summary, official) = app.read(|net| {
        let summary = net.periods().into_iter().find(|p| p.0 == period);
        Ok::<_, AdminError>((summary, net.official_run(period).map(Arc::clone)))
    })?;
    let (_, closed, orders) =
        summary.ok_or_else(|| AdminError::NotFound(format!("period: {period} has no orders on this server")))?;
    let runs = runs_of(app, period, official);
    let mut page = Page::new(&format!("Period {period}"));
    let state = if closed { "closed" } else { "open" };
    page.push(&format!(
        "<dl>{}{}</dl>",
        entry("state", "State", state),
        entry("orders", "Orders", &orders.to_string())
    ));
    page.heading(2, "Commission runs");
    let shown = paged(&runs, page_no, "run")?;
    if shown.is_empty() {
        page.paragraph("muted", "No commission run of this period is kept on this server.");
    } else {
        let titles = ["Run", "Kind", "State", "Partners", "Total volume", "Payable total", "Breakage", "Plan"];
        let mut table = format!("<table id=\"runs\">{}", header_row(&titles));
        for run in shown {
            table.push_str(&run.row());
        }
        table.push_str("</table>");
        page.push(&table);
    }
    page.push(&pager(&format!("/periods/{period}"), page_no, runs.len()));
    Ok(page.respond(StatusCode::OK))
}

/// The slice of `rows` on page `page_no`; a page past the end is NOT_FOUND
/// (the first page of nothing is empty).
fn paged<'a, T>(rows: &'a [T], page_no: usize, what: &str) -> Result<&'a [T], AdminError> {
    let start = (page_no - 1).saturating_mul(ROWS_PER_PAGE);
    if start > 0 && start >= rows.len() {
        return Err(AdminError::NotFound(format!("page: page {page_no} is past the last {what}")));
    }
    Ok(&rows[start.min(rows.len())..rows.len().min(start.saturating_add(ROWS_PER_PAGE))])
}

/// Links to the previous and next pages, when there are.
fn pager(base: &str, page_no: usize, total: usize) -> String {
    let mut out = String::from("<p>");
    if page_no > 1 {
        let _ = write!(out, "<a href=\"{base}?page={}\">Previous page</a> ", page_no - 1);
    }
    if page_no.saturating_mul(ROWS_PER_PAGE) < total {
        let _ = write!(out, "<a href=\"{base}?page={}\">Next page</a>", page_no + 1);
    }
    out.push_str("</p>");
    out
}

/// One run as the period page shows it.
struct RunLine {
    id: String,
    kind: &'static str,
    state: String,
    totals: Option<(RunTotals, u32)>,
}

impl RunLine {
    fn row(&self) -> String {
        let mut cells = vec![escape(&self.id), self.kind.to_owned(), escape(&self.state)];
        match &self.totals {
            Some((t, plan_version)) => cells.extend([
                t.partners.to_string(),
                format_units(t.v_units),
                format_cents(t.payable_cents),
                format_scaled(t.breakage_scaled),
                plan_version.to_string(),
            ]),
            None => cells.extend(std::iter::repeat_n(String::new(), 5)),
        }
        row(&format!("run-{}", self.id), &cells)
    }
}

/// The official run first, then the runs this server keeps, newest first.
fn runs_of(app: &App, period: Period, official: Option<Arc<OfficialRun>>) -> Vec<RunLine> {
    let official_id = official.as_ref().map(|o| o.run_id.clone());
    let mut lines: Vec<RunLine> = official
        .into_iter()
        .map(|o| RunLine {
            id: o.run_id.clone(),
            kind: "official",
            state: "succeeded".into(),
            totals: Some((o.totals.clone(), o.plan_version)),
        })
        .collect();
    for job in app.jobs.of_period(JobKind::CommissionRun, period) {
        if Some(&job.id) != official_id.as_ref() {
            lines.push(live_line(&job));
        }
    }
    lines
}

fn live_line(job: &Job) -> RunLine {
    let kind = if job.dry_run { "dry run" } else { "real" };
    let (state, totals) = if let Some(result) = job.run_result() {
        ("succeeded".to_owned(), Some((result.totals.clone(), result.plan.version)))
    } else if let Some(reason) = job.failure() {
        (format!("failed: {reason}"), None)
    } else if job.is_cancelled() {
        ("cancelled".to_owned(), None)
    } else {
        let phase = job.run_progress().map_or_else(|| "queued".to_owned(), |p| format!("{:?}", p.phase()));
        (format!("running ({phase})"), None)
    };
    RunLine { id: job.id.clone(), kind, state, totals }
}

//! Commission runs seen from the API: a run of this server's life (in
//! memory, see `runs`) or a closed period's official run (on disk), the
//! worker that computes a run, and statements read from either.

use super::compensation_convert::{fill_totals, phase_to_proto, rank_name, statement_to_proto};
use super::page_token::StatementsToken;
use super::runs::{Outcome, RunEntry};
use super::status;
use super::status::{from_store, invalid};
use super::App;
use crate::engine::compensation::statement as build_statement;
use crate::engine::format_cents;
use crate::engine::RunTotals;
use crate::engine::{InputMemory, OfficialRun, Period};
use crate::proto::v1 as pb;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tonic::Status;

/// ListStatements pages: default and most entries.
pub const STATEMENT_PAGE: (usize, usize) = (1000, 10_000);
/// Token purpose of ListStatements.
const STATEMENTS_TOKEN: u8 = 7;

/// A run the API can name.
pub enum RunRef {
    /// A run of this server's life.
    Live(Arc<RunEntry>),
    /// A closed period's official run.
    Official(Period, Arc<OfficialRun>),
}

impl RunRef {
    /// The run of an id: a live one, else an official one; NOT_FOUND.
    pub fn find(app: &App, run_id: &str) -> Result<RunRef, Status> {
        if run_id.is_empty() || run_id.len() > 100 {
            return Err(invalid("run_id", "must be a run id such as 2026-11-1a2b3c4d-1"));
        }
        if let Some(entry) = app.runs.get(run_id) {
            return Ok(RunRef::Live(entry));
        }
        let official = app.read(|net| Ok(net.official_by_id(run_id).map(|(p, o)| (p, Arc::clone(o)))))?;
        official.map(|(p, o)| RunRef::Official(p, o)).ok_or_else(|| {
            status::not_found(
                "run_id",
                format!("commission run '{run_id}' not found (runs of open periods are forgotten on restart)"),
            )
        })
    }

    /// The run a period's statements come from: the official run once
    /// closed; while open, its latest finished run that is not a dry run,
    /// else its latest finished dry run.
    pub fn of_period(app: &App, period: Period) -> Result<RunRef, Status> {
        let (closed, official) =
            app.read(|net| Ok((net.is_closed(period), net.official_run(period).map(Arc::clone))))?;
        if closed {
            return official.map(|o| RunRef::Official(period, o)).ok_or_else(|| {
                status::not_found("period", format!("{period} closed without a commission run: it has no statements"))
            });
        }
        let finished = |dry: bool| app.runs.latest(period, |r| r.dry_run == dry && r.result().is_some());
        finished(false).or_else(|| finished(true)).map(RunRef::Live).ok_or_else(|| {
            status::not_found("period", format!("no finished commission run of {period}; start one first"))
        })
    }

    /// The run the compliance report of a period shows, if any: the
    /// official one, or the latest finished one that is not a dry run.
    pub fn for_compliance(app: &App, period: Period) -> Result<Option<RunRef>, Status> {
        let official = app.read(|net| Ok(net.official_run(period).map(Arc::clone)))?;
        if let Some(o) = official {
            return Ok(Some(RunRef::Official(period, o)));
        }
        Ok(app.runs.latest(period, |r| !r.dry_run && r.result().is_some()).map(RunRef::Live))
    }

    /// The run's id.
    pub fn id(&self) -> &str {
        match self {
            RunRef::Live(e) => &e.id,
            RunRef::Official(_, o) => &o.run_id,
        }
    }

    /// The totals of a finished run; FAILED_PRECONDITION otherwise.
    pub fn totals(&self) -> Result<RunTotals, Status> {
        match self {
            RunRef::Official(_, o) => Ok(o.totals.clone()),
            RunRef::Live(e) => e.result().map(|r| r.totals.clone()).ok_or_else(|| not_finished(e)),
        }
    }

    /// Whether it is its period's official run.
    pub fn is_official(&self, app: &App) -> bool {
        match self {
            RunRef::Official(..) => true,
            RunRef::Live(e) => app.network.read().official_run(e.period).is_some_and(|o| o.run_id == e.id),
        }
    }
}

fn not_finished(e: &RunEntry) -> Status {
    match e.failure() {
        Some(reason) => status::failed_precondition("run_id", format!("run '{}' failed: {reason}", e.id)),
        None => status::failed_precondition("run_id", format!("run '{}' is still running", e.id)),
    }
}

/// The body of a run, on a rayon thread: snapshot under the read lock,
/// then the computation without any lock.
pub fn run_commission(app: &App, entry: &RunEntry) {
    // The snapshot's memory is faulted in before the lock: writes wait only
    // for the snapshot itself (engine/snapshot_memory.rs says why).
    let started = Instant::now();
    let memory = InputMemory::prefaulted(app.network.read().partners_to_reserve());
    let prepare_ms = started.elapsed().as_millis() as u64;
    let reserved_mib = memory.reserved_bytes() >> 20;
    let locked = Instant::now();
    let snapshot = app.network.read().commission_snapshot_with(&entry.period.to_string(), memory);
    let snapshot_ms = locked.elapsed().as_millis() as u64;
    match snapshot {
        Err(err) => entry.finish(Outcome::Failed(err.to_string())),
        Ok(snapshot) => {
            entry.partners_total.store(snapshot.partners() as u64, Ordering::Release);
            let result = snapshot.run(&entry.progress);
            tracing::info!(
                run_id = %entry.id,
                partners = result.partners(),
                reserved_mib,
                prepare_ms,
                snapshot_ms,
                run_ms = result.duration.as_millis() as u64,
                payable_cents = %result.totals.payable_cents,
                "commission run done"
            );
            entry.finish(Outcome::Succeeded(Arc::new(result)));
        }
    }
}

/// The proto of a run.
pub fn run_to_proto(app: &App, run: &RunRef) -> Result<pb::CommissionRun, Status> {
    let official = run.is_official(app);
    let mut out = pb::CommissionRun { run_id: run.id().to_owned(), official, ..pb::CommissionRun::default() };
    match run {
        RunRef::Official(period, o) => {
            out.period = period.to_string();
            out.plan_version = o.plan_version;
            out.state = pb::RunState::Succeeded as i32;
            out.phase = pb::RunPhase::Done as i32;
            out.duration_ms = o.duration_ms;
            out.partners_done = o.totals.partners;
            let plan = app.read(|net| Ok(Arc::clone(net.plan_version(o.plan_version)?)))?;
            fill_totals(&mut out, &plan, &o.totals);
        }
        RunRef::Live(e) => {
            out.period = e.period.to_string();
            out.dry_run = e.dry_run;
            out.phase = phase_to_proto(e.progress.phase()) as i32;
            out.partners_done = e.progress.done.load(Ordering::Acquire);
            out.partners_total = e.partners_total.load(Ordering::Acquire);
            if let Some(result) = e.result() {
                out.state = pb::RunState::Succeeded as i32;
                out.plan_version = result.plan.version;
                out.duration_ms = result.duration.as_millis() as u64;
                out.stale = app.read(|net| {
                    Ok(!official && (net.is_closed(e.period) || net.freshness(e.period) != result.freshness))
                })?;
                fill_totals(&mut out, &result.plan, &result.totals);
            } else if let Some(reason) = e.failure() {
                out.state = pb::RunState::Failed as i32;
                out.error = reason;
            } else {
                out.state = pb::RunState::Running as i32;
            }
        }
    }
    Ok(out)
}

/// A partner's statement in a run.
pub fn statement(app: &App, run: &RunRef, x: u32, partner_id: &str) -> Result<pb::Statement, Status> {
    let not_in_run = || {
        status::not_found(
            "partner_id",
            format!("partner '{partner_id}' is not in run '{}' (it was not live at its snapshot)", run.id()),
        )
    };
    match run {
        RunRef::Live(e) => {
            let result = e.result().ok_or_else(|| not_finished(e))?;
            let pos = result.position_of(x).ok_or_else(not_in_run)?;
            let f = result.figures_at(pos);
            let period = e.period.to_string();
            Ok(statement_to_proto(&result.plan, &e.id, partner_id, &period, f.rv_units, &f.statement))
        }
        RunRef::Official(period, o) => {
            let (plan, inputs) =
                app.read(|net| Ok((Arc::clone(net.plan_version(o.plan_version)?), net.official_inputs(*period, x)?)))?;
            let (view, rank_entry) = match inputs {
                Some(found) => found,
                None => app.store.read_frozen_ranked(*period, x).map_err(from_store)?.ok_or_else(not_in_run)?,
            };
            if rank_entry == 0 {
                return Err(not_in_run());
            }
            let levels: Vec<i64> = view.levels.iter().map(|l| l.volume_units).collect();
            let s = build_statement(&plan, rank_entry - 1, view.active, view.rv_units, &levels, o.totals.factor);
            Ok(statement_to_proto(&plan, &o.run_id, partner_id, &period.to_string(), view.rv_units, &s))
        }
    }
}

/// A page of a run's payout export, in partner creation order.
pub fn list_statements(
    app: &App,
    run: &RunRef,
    size: usize,
    page_token: &str,
) -> Result<pb::ListStatementsResponse, Status> {
    let from = if page_token.is_empty() {
        0
    } else {
        let t: StatementsToken = app.tokens.decode(STATEMENTS_TOKEN, "page_token", page_token)?;
        if t.run_id != run.id() {
            return Err(invalid("page_token", "belongs to another run"));
        }
        t.next
    };
    let mut statements = Vec::with_capacity(size);
    let mut x = from;
    let (total, arena_len) = match run {
        RunRef::Live(e) => {
            let result = e.result().ok_or_else(|| not_finished(e))?;
            let net = app.network.read();
            let arena_len = net.genealogy.len() as u32;
            while statements.len() < size && x < arena_len {
                if let Some(pos) = result.position_of(x) {
                    statements.push(pb::StatementSummary {
                        partner_id: net.genealogy.id(x).to_owned(),
                        paid_as_rank: rank_name(&result.plan, result.rank_at(pos)),
                        active: result.active_at(pos),
                        payable: format_cents(i128::from(result.payable_at(pos))),
                    });
                }
                x += 1;
            }
            (result.partners() as u64, arena_len)
        }
        RunRef::Official(_, o) => {
            let arena_len = app.read(|net| Ok(net.genealogy.len() as u32))?;
            while statements.len() < size && x < arena_len {
                let partner_id = app.read(|net| Ok(net.genealogy.id(x).to_owned()))?;
                // Partners not in the run (created after the close, or not
                // live then) are NOT_FOUND here: skipped.
                match statement(app, run, x, &partner_id) {
                    Ok(s) => statements.push(pb::StatementSummary {
                        partner_id,
                        paid_as_rank: s.paid_as_rank,
                        active: s.active,
                        payable: s.payable,
                    }),
                    Err(status) if status.code() == tonic::Code::NotFound => {}
                    Err(status) => return Err(status),
                }
                x += 1;
            }
            (o.totals.partners, arena_len)
        }
    };
    let next_page_token = if x < arena_len {
        app.tokens.encode(STATEMENTS_TOKEN, &StatementsToken { run_id: run.id().to_owned(), next: x })
    } else {
        String::new()
    };
    Ok(pb::ListStatementsResponse { statements, next_page_token, total_size: total })
}

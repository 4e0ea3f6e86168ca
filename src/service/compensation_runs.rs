//! Commission runs seen from the API: the proto of a run (a job of this
//! server's life or a closed period's official run, see `app::runs`), of a
//! statement, and the pages of the payout export.

use super::compensation_convert::{fill_totals, phase_to_proto, rank_name, statement_to_proto};
use super::page_token::{StatementsToken, TokenSigner};
use super::status::{invalid, job_cancelled};
use super::App;
use crate::app::runs::{finished_result, RunRef, RunStatement};
use crate::engine::{format_cents, PartnerIx};
use crate::proto::v1 as pb;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tonic::Status;

/// ListStatements pages: default and most entries.
pub const STATEMENT_PAGE: (usize, usize) = (1000, 10_000);
/// Token purpose of ListStatements.
const STATEMENTS_TOKEN: u8 = 7;

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
            let plan = app.read(|net| Ok::<_, Status>(Arc::clone(net.plan_version(o.plan_version)?)))?;
            fill_totals(&mut out, &plan, &o.totals);
        }
        RunRef::Live(job) => {
            out.period = job.period.to_string();
            out.dry_run = job.dry_run;
            if let Some(progress) = job.run_progress() {
                out.phase = phase_to_proto(progress.phase()) as i32;
                out.partners_done = progress.done.load(Ordering::Acquire);
            }
            out.partners_total = job.total.load(Ordering::Acquire);
            if let Some(result) = job.run_result() {
                out.state = pb::RunState::Succeeded as i32;
                out.plan_version = result.plan.version;
                out.duration_ms = result.duration.as_millis() as u64;
                out.stale = app.read(|net| {
                    Ok::<_, Status>(
                        !official && (net.is_closed(job.period) || net.freshness(job.period) != result.freshness),
                    )
                })?;
                fill_totals(&mut out, &result.plan, &result.totals);
            } else if let Some(reason) = job.failure() {
                out.state = pb::RunState::Failed as i32;
                out.error = reason.to_string();
            } else if job.is_cancelled() {
                out.state = pb::RunState::Cancelled as i32;
                out.error = job_cancelled(job.kind).message().to_owned();
            } else {
                out.state = pb::RunState::Running as i32;
            }
        }
    }
    Ok(out)
}

/// A partner's statement in a run.
pub fn statement(app: &App, run: &RunRef, ix: PartnerIx, partner_id: &str) -> Result<pb::Statement, Status> {
    Ok(run_statement_to_proto(partner_id, &run.statement(app, ix, partner_id)?))
}

/// The proto of a partner's statement in a run (GetStatement's answer).
pub fn run_statement_to_proto(partner_id: &str, s: &RunStatement) -> pb::Statement {
    let period = s.period.to_string();
    statement_to_proto(&s.plan, &s.run_id, partner_id, &period, s.rv_units, &s.statement)
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
        let t: StatementsToken = TokenSigner::of(app).decode(STATEMENTS_TOKEN, "page_token", page_token)?;
        if t.run_id != run.id() {
            return Err(invalid("page_token", "belongs to another run"));
        }
        t.next
    };
    let mut statements = Vec::with_capacity(size);
    // The listing's position: the raw index of the next partner to look at.
    let mut next = from;
    let (total, arena_len) = match run {
        RunRef::Live(job) => {
            let result = finished_result(job)?;
            let net = app.network.read();
            let arena_len = net.genealogy.len() as u32;
            while statements.len() < size && next < arena_len {
                let ix = PartnerIx::new(next);
                if let Some(pos) = result.position_of(ix) {
                    statements.push(pb::StatementSummary {
                        partner_id: net.genealogy.id(ix).to_owned(),
                        paid_as_rank: rank_name(&result.plan, result.rank_at(pos)),
                        active: result.active_at(pos),
                        payable: format_cents(i128::from(result.payable_at(pos))),
                    });
                }
                next += 1;
            }
            (result.partners() as u64, arena_len)
        }
        RunRef::Official(_, o) => {
            let arena_len = app.read(|net| Ok::<_, Status>(net.genealogy.len() as u32))?;
            while statements.len() < size && next < arena_len {
                let ix = PartnerIx::new(next);
                let partner_id = app.read(|net| Ok::<_, Status>(net.genealogy.id(ix).to_owned()))?;
                // Partners not in the run (created after the close, or not
                // live then) are NOT_FOUND here: skipped.
                match statement(app, run, ix, &partner_id) {
                    Ok(s) => statements.push(pb::StatementSummary {
                        partner_id,
                        paid_as_rank: s.paid_as_rank,
                        active: s.active,
                        payable: s.payable,
                    }),
                    Err(status) if status.code() == tonic::Code::NotFound => {}
                    Err(status) => return Err(status),
                }
                next += 1;
            }
            (o.totals.partners, arena_len)
        }
    };
    let next_page_token = if next < arena_len {
        TokenSigner::of(app).encode(STATEMENTS_TOKEN, &StatementsToken { run_id: run.id().to_owned(), next })
    } else {
        String::new()
    };
    Ok(pb::ListStatementsResponse { statements, next_page_token, total_size: total })
}

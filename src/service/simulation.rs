//! SimulationService (issue #18): SimulatePlan starts a simulation job
//! (`app::simulation`), GetSimulation reports it, ListSimulationResults
//! pages its rows (a signed page token) and ExportSimulationResults
//! streams them (`export::stream_rows`). Admin only (`access.rs`).

use super::compensation_convert::{plan_from_proto, rank_name, ratio};
use super::export::{stream_rows, ExportStream};
use super::page_token::TokenSigner;
use super::status::{invalid, job_cancelled};
use super::{page_size, App};
use crate::app::jobs::{Job, Outcome, Progress};
use crate::app::simulation::finished_comparison;
use crate::engine::money::format_units;
use crate::engine::{format_cents, format_scaled, Comparison, PartnerIx, Period, Plan, RunTotals, SimRow};
use crate::proto::v1 as pb;
use pb::simulation_service_server::SimulationService;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// ListSimulationResults pages: default and most rows.
pub const ROWS_PAGE: (usize, usize) = (1000, 10_000);
/// Winners and losers listed when the request says 0.
const DEFAULT_TOP_N: usize = 10;
/// Token purpose of ListSimulationResults.
const SIMULATION_TOKEN: u8 = 11;
/// Places of the payout ratio and the retail share.
const SHARE_PLACES: u32 = 6;

/// Where a ListSimulationResults listing stands.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SimulationToken {
    /// The simulation.
    #[prost(string, tag = "1")]
    pub simulation_id: String,
    /// The order (`pb::SimulationOrder`).
    #[prost(int32, tag = "2")]
    pub order_by: i32,
    /// The next row in that order.
    #[prost(uint64, tag = "3")]
    pub next: u64,
}

/// The SimulationService implementation.
pub struct SimulationApi {
    app: Arc<App>,
}

impl SimulationApi {
    /// A service over `app`.
    pub fn new(app: Arc<App>) -> SimulationApi {
        SimulationApi { app }
    }
}

#[tonic::async_trait]
impl SimulationService for SimulationApi {
    async fn simulate_plan(
        &self,
        request: Request<pb::SimulatePlanRequest>,
    ) -> Result<Response<pb::Simulation>, Status> {
        let r = request.into_inner();
        let period = Period::parse("period", &r.period)?;
        let top_n = match r.top_n as usize {
            0 => DEFAULT_TOP_N,
            n if n > crate::engine::compensation::MAX_TOP_N => {
                return Err(invalid("top_n", format!("{n} is over {}", crate::engine::compensation::MAX_TOP_N)))
            }
            n => n,
        };
        let draft = plan_from_proto(r.plan.ok_or_else(|| invalid("plan", "is missing"))?);
        let job = self.app.start_simulation(period, &draft, top_n)?;
        Ok(Response::new(simulation_to_proto(&self.app, &job)?))
    }

    async fn get_simulation(
        &self,
        request: Request<pb::GetSimulationRequest>,
    ) -> Result<Response<pb::Simulation>, Status> {
        let job = self.app.simulation(&request.into_inner().simulation_id)?;
        Ok(Response::new(simulation_to_proto(&self.app, &job)?))
    }

    async fn list_simulation_results(
        &self,
        request: Request<pb::ListSimulationResultsRequest>,
    ) -> Result<Response<pb::ListSimulationResultsResponse>, Status> {
        let r = request.into_inner();
        let size = page_size(r.page_size, ROWS_PAGE.0, ROWS_PAGE.1)?;
        let job = self.app.simulation(&r.simulation_id)?;
        let comparison = finished_comparison(&job)?;
        let order_by = order_of(r.order_by)?;
        let from = if r.page_token.is_empty() {
            0
        } else {
            let t: SimulationToken =
                TokenSigner::of(&self.app).decode(SIMULATION_TOKEN, "page_token", &r.page_token)?;
            if t.simulation_id != job.id || t.order_by != order_by as i32 {
                return Err(invalid("page_token", "belongs to another simulation or order"));
            }
            usize::try_from(t.next).unwrap_or(usize::MAX)
        };
        let total = comparison.rows.len();
        let end = from.saturating_add(size).min(total);
        let rows = rows_to_proto(&self.app, &comparison, order_by, from.min(end)..end);
        let next_page_token = if end < total {
            let token = SimulationToken { simulation_id: job.id.clone(), order_by: order_by as i32, next: end as u64 };
            TokenSigner::of(&self.app).encode(SIMULATION_TOKEN, &token)
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListSimulationResultsResponse { rows, next_page_token, total_size: total as u64 }))
    }

    type ExportSimulationResultsStream = ExportStream<pb::ExportSimulationResultsResponse>;

    async fn export_simulation_results(
        &self,
        request: Request<pb::ExportSimulationResultsRequest>,
    ) -> Result<Response<Self::ExportSimulationResultsStream>, Status> {
        let r = request.into_inner();
        let job = self.app.simulation(&r.simulation_id)?;
        let comparison = finished_comparison(&job)?;
        let order_by = order_of(r.order_by)?;
        let (app, mut next) = (Arc::clone(&self.app), 0usize);
        let produce = move || {
            if next >= comparison.rows.len() {
                return Ok(None);
            }
            let end = next.saturating_add(super::export::CHUNK_ROWS).min(comparison.rows.len());
            let rows = rows_to_proto(&app, &comparison, order_by, next..end);
            next = end;
            Ok(Some(rows))
        };
        Ok(Response::new(stream_rows(produce, |rows| pb::ExportSimulationResultsResponse { rows })))
    }
}

/// The order of a request; UNSPECIFIED is DIFFERENCE.
fn order_of(code: i32) -> Result<pb::SimulationOrder, Status> {
    match pb::SimulationOrder::try_from(code) {
        Ok(pb::SimulationOrder::Unspecified) => Ok(pb::SimulationOrder::Difference),
        Ok(order) => Ok(order),
        Err(_) => Err(invalid("order_by", format!("{code} is not a SimulationOrder"))),
    }
}

/// The rows `range` of the listing in `order_by`.
fn rows_to_proto(
    app: &App,
    comparison: &Comparison,
    order_by: pb::SimulationOrder,
    range: std::ops::Range<usize>,
) -> Vec<pb::SimulationRow> {
    let net = app.network.read();
    range
        .map(|i| match order_by {
            pb::SimulationOrder::PartnerId => comparison.rows[i],
            _ => comparison.rows[comparison.by_difference[i] as usize],
        })
        .map(|row| row_to_proto(net.genealogy.id(PartnerIx::new(row.partner)), comparison, &row))
        .collect()
}

/// One partner's row.
fn row_to_proto(partner_id: &str, c: &Comparison, row: &SimRow) -> pb::SimulationRow {
    pb::SimulationRow {
        partner_id: partner_id.to_owned(),
        old_payable: format_cents(i128::from(row.old_cents)),
        new_payable: format_cents(i128::from(row.new_cents)),
        difference: format_cents(row.difference()),
        old_rank: rank_name(&c.baseline_plan, row.old_rank),
        new_rank: rank_name(&c.candidate_plan, row.new_rank),
    }
}

/// One side's totals.
fn totals_to_proto(plan: &Plan, version: u32, t: &RunTotals, paid: u64) -> pb::SimulationTotals {
    let all_units = t.kinds.retail_units + t.kinds.self_units + t.kinds.fee_units;
    let mut ranks: Vec<pb::RankCount> = (1..t.per_rank.len())
        .map(|code| pb::RankCount { rank: rank_name(plan, code as u8), partners: t.per_rank[code] })
        .collect();
    ranks.push(pb::RankCount { rank: String::new(), partners: t.per_rank.first().copied().unwrap_or(0) });
    pb::SimulationTotals {
        plan_version: version,
        total_volume: format_units(t.v_units),
        payable_total: format_cents(t.payable_cents),
        breakage: format_scaled(t.breakage_scaled),
        // Cents over units of 0.0001: (cents / 100) / (units / 10,000).
        payout_ratio: ratio(t.payable_cents.saturating_mul(100), t.v_units, SHARE_PLACES),
        paid_partners: paid,
        retail_share: ratio(t.kinds.retail_units, all_units, SHARE_PLACES),
        ranks,
    }
}

/// The result of a finished simulation.
fn result_to_proto(app: &App, c: &Comparison) -> pb::SimulationResult {
    let top_n = c.top_n;
    let net = app.network.read();
    let proto_rows = |rows: Vec<SimRow>| -> Vec<pb::SimulationRow> {
        rows.iter().map(|r| row_to_proto(net.genealogy.id(PartnerIx::new(r.partner)), c, r)).collect()
    };
    pb::SimulationResult {
        baseline: Some(totals_to_proto(&c.baseline_plan, c.baseline_plan.version, &c.baseline, c.paid.0)),
        candidate: Some(totals_to_proto(&c.candidate_plan, 0, &c.candidate, c.paid.1)),
        partners: c.rows.len() as u64,
        winners: c.winners,
        losers: c.losers,
        unchanged: c.unchanged,
        difference_deciles: c.deciles.iter().map(|&d| format_cents(d)).collect(),
        top_winners: proto_rows(c.top_winners(top_n)),
        top_losers: proto_rows(c.top_losers(top_n)),
        baseline_matches_official: c.baseline_matches_official,
    }
}

/// The proto of a simulation job.
pub fn simulation_to_proto(app: &App, job: &Job) -> Result<pb::Simulation, Status> {
    let (phase, partners_done) = match &job.progress {
        Progress::Steps { phase, done } => ((*phase.lock()).to_owned(), done.load(Ordering::Acquire)),
        Progress::Run(progress) => (String::new(), progress.done.load(Ordering::Acquire)),
    };
    let mut out = pb::Simulation {
        simulation_id: job.id.clone(),
        period: job.period.to_string(),
        phase,
        partners_done,
        partners_total: job.total.load(Ordering::Acquire),
        ..pb::Simulation::default()
    };
    let end_ms = job.end_ms();
    if end_ms > 0 {
        out.duration_ms = u64::try_from(end_ms - job.start_ms).unwrap_or(0);
    }
    match job.outcome() {
        Outcome::Running => out.state = pb::RunState::Running as i32,
        Outcome::Succeeded(_) => {
            let comparison = finished_comparison(job)?;
            out.state = pb::RunState::Succeeded as i32;
            out.result = Some(result_to_proto(app, &comparison));
        }
        Outcome::Failed(reason) => {
            out.state = pb::RunState::Failed as i32;
            out.error = reason.to_string();
        }
        Outcome::Cancelled => {
            out.state = pb::RunState::Cancelled as i32;
            out.error = job_cancelled(job.kind).message().to_owned();
        }
    }
    Ok(out)
}

//! `downline.v1.CompensationService`: the plan, rank progress, commission
//! runs, statements, level explanations and the compliance report.

use super::caller::Caller;
use super::compensation_convert::{adjustment_lines, compliance_ratio, plan_from_proto, plan_to_proto};
use super::export::ExportStream;
use super::page_token::{ExplainToken, TokenSigner};
use super::plan_mask;
use super::status::invalid;
use super::{page_size, App};
use crate::app::runs::RunRef;
use crate::app::AppError;
use crate::engine::money::format_units;
use crate::engine::{format_cents, format_scaled};
use crate::engine::{EngineError, Period};
use crate::engine::{LevelCursor, LevelRole};
use crate::proto::v1 as pb;
use pb::compensation_service_server::CompensationService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// ExplainLevel pages: default and most entries.
const EXPLAIN_PAGE: (usize, usize) = (100, 1000);
/// Token purpose of ExplainLevel.
const EXPLAIN_TOKEN: u8 = 6;

/// The service over the shared [`App`].
pub struct CompensationApi {
    app: Arc<App>,
}

impl CompensationApi {
    /// The service of a server.
    pub fn new(app: Arc<App>) -> CompensationApi {
        CompensationApi { app }
    }
}

#[tonic::async_trait]
impl CompensationService for CompensationApi {
    async fn get_plan(&self, request: Request<pb::GetPlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let version = request.into_inner().version;
        let plan = self.app.read(|net| Ok::<_, Status>(Arc::clone(net.plan_version(version)?)))?;
        Ok(Response::new(plan_to_proto(&plan)))
    }

    async fn update_plan(&self, request: Request<pb::UpdatePlanRequest>) -> Result<Response<pb::Plan>, Status> {
        let r = request.into_inner();
        let mask = r.update_mask.as_ref();
        plan_mask::check(mask)?;
        let update = r.plan.ok_or_else(|| invalid("plan", "is missing"))?;
        let (update, base_version) = match mask {
            Some(mask) if plan_mask::is_partial(Some(mask)) => {
                // Made from the plan in force as read now: with base_version
                // 0 too, a plan changed meanwhile is FAILED_PRECONDITION.
                let current = self.app.read(|net| Ok::<_, Status>(plan_to_proto(net.current_plan())))?;
                let base = if r.base_version == 0 { current.version } else { r.base_version };
                (plan_mask::merge(current, update, &mask.paths), base)
            }
            _ => (update, r.base_version),
        };
        let draft = plan_from_proto(update);
        // A change of the rank ladder re-ranks the open periods off the
        // lock; other updates run under it (`app/plan_change.rs`).
        let plan = self.app.update_plan(draft, base_version).await?;
        Ok(Response::new(plan_to_proto(&plan)))
    }

    async fn get_rank_progress(
        &self,
        request: Request<pb::GetRankProgressRequest>,
    ) -> Result<Response<pb::RankProgress>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let progress = self.app.read(|net| {
            caller.check(&net.genealogy, "partner_id", &r.partner_id)?;
            let progress = net.rank_progress(&r.partner_id, &r.period)?;
            Ok::<_, Status>(super::compensation_convert::rank_progress_to_proto(net.current_plan(), &r, &progress))
        })?;
        Ok(Response::new(progress))
    }

    async fn start_commission_run(
        &self,
        request: Request<pb::StartCommissionRunRequest>,
    ) -> Result<Response<pb::CommissionRun>, Status> {
        let r = request.into_inner();
        let period = Period::parse("period", &r.period)?;
        let job = self.app.start_commission_run(period, r.dry_run).await?;
        Ok(Response::new(super::compensation_runs::run_to_proto(&self.app, &RunRef::Live(job))?))
    }

    async fn get_commission_run(
        &self,
        request: Request<pb::GetCommissionRunRequest>,
    ) -> Result<Response<pb::CommissionRun>, Status> {
        let run = RunRef::find(&self.app, &request.into_inner().run_id)?;
        Ok(Response::new(super::compensation_runs::run_to_proto(&self.app, &run)?))
    }

    async fn delete_commission_run(
        &self,
        request: Request<pb::DeleteCommissionRunRequest>,
    ) -> Result<Response<()>, Status> {
        self.app.delete_commission_run(&request.into_inner().run_id).await?;
        Ok(Response::new(()))
    }

    async fn get_statement(
        &self,
        request: Request<pb::GetStatementRequest>,
    ) -> Result<Response<pb::Statement>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        // The partner (and, for a partner token, the object check) comes
        // first, so a partner token learns nothing about runs from a partner
        // outside its downline.
        let x = self.app.read(|net| caller.find(&net.genealogy, "partner_id", &r.partner_id))?;
        let run = match (r.run_id.is_empty(), r.period.is_empty()) {
            (false, true) => RunRef::find(&self.app, &r.run_id)?,
            (true, false) => RunRef::of_period(&self.app, Period::parse("period", &r.period)?)?,
            (false, false) => return Err(invalid("run_id", "give run_id or period, not both")),
            (true, true) => return Err(invalid("run_id", "give a run_id or a period")),
        };
        Ok(Response::new(super::compensation_runs::statement(&self.app, &run, x, &r.partner_id)?))
    }

    async fn list_statements(
        &self,
        request: Request<pb::ListStatementsRequest>,
    ) -> Result<Response<pb::ListStatementsResponse>, Status> {
        let r = request.into_inner();
        let run = RunRef::find(&self.app, &r.run_id)?;
        let size = page_size(
            r.page_size,
            super::compensation_runs::STATEMENT_PAGE.0,
            super::compensation_runs::STATEMENT_PAGE.1,
        )?;
        Ok(Response::new(super::compensation_runs::list_statements(&self.app, &run, size, &r.page_token)?))
    }

    async fn explain_level(
        &self,
        request: Request<pb::ExplainLevelRequest>,
    ) -> Result<Response<pb::ExplainLevelResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.into_inner();
        let size = page_size(r.page_size, EXPLAIN_PAGE.0, EXPLAIN_PAGE.1)?;
        self.app
            .read(|net| {
                let g = &net.genealogy;
                let root = caller.find_live(g, "partner_id", &r.partner_id)?;
                let cursor = if r.page_token.is_empty() {
                    None
                } else {
                    let t: ExplainToken =
                        TokenSigner::of(&self.app).decode(EXPLAIN_TOKEN, "page_token", &r.page_token)?;
                    if t.root != root.get()
                        || t.level != r.level
                        || t.period != r.period
                        || t.structure_version != g.structure_version()
                    {
                        return Err(invalid(
                            "page_token",
                            "belongs to another request, or the genealogy changed since",
                        ));
                    }
                    Some(LevelCursor { node: t.node, listed_skipped: t.listed_skipped })
                };
                let page = net.explain_level(&r.partner_id, &r.period, r.level, size, cursor)?;
                let entries = page
                    .entries
                    .iter()
                    .map(|e| pb::LevelEntry {
                        partner_id: g.id(e.partner_ix).to_owned(),
                        role: match e.role {
                            LevelRole::Member => pb::LevelRole::Member,
                            LevelRole::Skipped => pb::LevelRole::Skipped,
                        } as i32,
                        pv: format_units(i128::from(e.pv_units)),
                        active: e.active,
                        sponsor_level: e.sponsor_level,
                        level: e.level,
                    })
                    .collect();
                let next_page_token = page.next.map_or_else(String::new, |c| {
                    let token = ExplainToken {
                        root: root.get(),
                        level: r.level,
                        period: r.period.clone(),
                        node: c.node,
                        listed_skipped: c.listed_skipped,
                        structure_version: g.structure_version(),
                    };
                    TokenSigner::of(&self.app).encode(EXPLAIN_TOKEN, &token)
                });
                Ok(pb::ExplainLevelResponse {
                    entries,
                    next_page_token,
                    level_volume: format_units(i128::from(page.level_volume_units)),
                })
            })
            .map(Response::new)
    }

    async fn get_compliance_report(
        &self,
        request: Request<pb::GetComplianceReportRequest>,
    ) -> Result<Response<pb::ComplianceReport>, Status> {
        let period = Period::parse("period", &request.into_inner().period)?;
        let (kinds, adjustments) = self.app.read(|net| {
            if !net.periods().iter().any(|&(p, _, _)| p == period) {
                return Err(AppError::from(EngineError::not_found_what(
                    "period",
                    "period with orders",
                    period.to_string(),
                )));
            }
            Ok((net.kind_totals(period), net.orders.adjustments_into(period)))
        })?;
        let revenue = kinds.retail_units + kinds.self_units;
        let mut report = pb::ComplianceReport {
            period: period.to_string(),
            retail_volume: format_units(kinds.retail_units),
            self_volume: format_units(kinds.self_units),
            fee_volume: format_units(kinds.fee_units),
            retail_share: compliance_ratio(kinds.retail_units, revenue),
            fee_share: compliance_ratio(kinds.fee_units, revenue + kinds.fee_units),
            adjustments: adjustment_lines(adjustments),
            ..pb::ComplianceReport::default()
        };
        if let Some(run) = RunRef::for_compliance(&self.app, period)? {
            let (totals, official) = (run.totals()?, run.is_official(&self.app));
            report.run_id = run.id().to_owned();
            report.official = official;
            report.payout_ratio = compliance_ratio(totals.payable_cents * 100, totals.v_units);
            report.payable_total = format_cents(totals.payable_cents);
            report.total_volume = format_units(totals.v_units);
            report.levels_without_retail = totals.levels_without_retail;
            report.levels_without_retail_partner_ids = self.app.read(|net| {
                Ok::<_, Status>(
                    totals.levels_without_retail_listed.iter().map(|&ix| net.genealogy.id(ix).to_owned()).collect(),
                )
            })?;
            report.breakage = format_scaled(totals.breakage_scaled);
        }
        Ok(Response::new(report))
    }

    type ExportStatementsStream = ExportStream<pb::ExportStatementsResponse>;

    async fn export_statements(
        &self,
        request: Request<pb::ExportStatementsRequest>,
    ) -> Result<Response<Self::ExportStatementsStream>, Status> {
        let export = self.app.export_statements(&request.into_inner().run_id)?;
        Ok(Response::new(super::export::statements(&self.app, export)))
    }
}

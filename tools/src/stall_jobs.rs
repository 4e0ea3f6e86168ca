//! The background jobs `downline-tools stall` starts, each through the
//! server's public gRPC API as an operator would, and waits for:
//!
//! - `recalculation`: RecalculateVolumes, then GetOperation until done;
//! - `commission-run`: StartCommissionRun (a dry run), then GetCommissionRun
//!   until it is no longer running;
//! - `plan-change`: UpdatePlan with the top rank's `min_gv` one higher, so
//!   the ranks differ and every open period is re-ranked from scratch (the
//!   volume part is unchanged: no re-levelling);
//! - `simulation`: SimulatePlan of `--period` under the plan in force with
//!   its first level rate one point higher (#18), then GetSimulation until
//!   it is no longer running;
//! - `team-layout`: the write that finds the team layout stale rebuilds it.
//!   The layout is stale once the partners created since its build plus the
//!   partners whose recruits changed reach `max(4096, laid out / 16)`
//!   (`TeamLayout::is_stale`). Before the load starts, enough partners are
//!   imported (under hubs of 1,000 below `--root`, so only the root is
//!   relinked) to come [`LAYOUT_MARGIN`] creations short of that; the job is
//!   then `2 × LAYOUT_MARGIN + 1` single CreatePartner writes, the middle
//!   one of which should find it stale. A server that rebuilds the layout
//!   off the lock (#16) only starts the rebuild there, so the job then
//!   keeps the load going [`LAYOUT_SETTLE_MS`] longer: the rebuild and its
//!   installation fall inside the job's window. The laid-out count is the root's downline
//!   plus the root: exact for a one-root network whose genealogy did not
//!   change since the server started (so run this job once per start).

use crate::bearer::Bearer;
use downline::proto::v1 as pb;
use pb::compensation_service_client::CompensationServiceClient;
use pb::genealogy_service_client::GenealogyServiceClient;
use pb::operations_service_client::OperationsServiceClient;
use pb::simulation_service_client::SimulationServiceClient;
use pb::volume_service_client::VolumeServiceClient;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};
use tonic::Status;

/// How often a running job is polled.
const POLL_INTERVAL_MS: u64 = 10;
/// The fewest changes that make the team layout stale (the engine's
/// `STALE_MIN`, src/engine/team/layout.rs).
const LAYOUT_STALE_MIN: u64 = 4096;
/// One change per this many laid-out partners makes it stale too (the
/// engine's `STALE_SHARE`).
const LAYOUT_STALE_SHARE: u64 = 16;
/// Trigger writes on either side of the one expected to rebuild the layout:
/// the tolerance of the laid-out count.
const LAYOUT_MARGIN: u64 = 16;
/// How long the team-layout job waits after its trigger writes, for a
/// background rebuild (0.33-0.46 s of work at 10M when it had the machine
/// to itself) to be built and installed within the job's window.
const LAYOUT_SETTLE_MS: u64 = 3000;
/// Recruits per hub of the imported partners.
const HUB_SIZE: u64 = 1000;
/// Rows per ImportPartners call (the server takes up to 100,000; a multiple
/// of [`HUB_SIZE`], so a hub and its recruits share a call).
const IMPORT_CALL_ROWS: u64 = 100_000;
/// Rows per message of an ImportPartners stream.
const IMPORT_MESSAGE_ROWS: usize = 10_000;
/// The joining day of the partners this tool creates.
const JOINED_ON: &str = "2026-11-28";

/// The background job to measure.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// RecalculateVolumes of `--period`, polled with GetOperation.
    Recalculation,
    /// A dry-run StartCommissionRun of `--period`, polled with GetCommissionRun.
    CommissionRun,
    /// UpdatePlan with a rank threshold changed: every open period re-ranks.
    PlanChange,
    /// The CreatePartner that finds the team layout stale and rebuilds it.
    TeamLayout,
    /// SimulatePlan with the first level rate raised, polled with GetSimulation.
    Simulation,
}

impl Job {
    /// The job's name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Job::Recalculation => "recalculation",
            Job::CommissionRun => "commission-run",
            Job::PlanChange => "plan-change",
            Job::TeamLayout => "team-layout",
            Job::Simulation => "simulation",
        }
    }
}

/// A job made ready before the load starts.
pub enum Ready {
    /// Nothing to prepare.
    Recalculation,
    /// Nothing to prepare.
    CommissionRun,
    /// The plan in force.
    PlanChange(pb::Plan),
    /// The layout is a few creations short of stale.
    TeamLayout(LayoutTrigger),
    /// The candidate plan.
    Simulation(pb::Plan),
}

/// What the team layout's trigger writes need.
pub struct LayoutTrigger {
    /// The (newly imported, so never laid out) sponsor of the trigger writes.
    sponsor: String,
    /// Partners laid out at the server's start, as estimated.
    laid_out: u64,
    /// Changes that make the layout stale.
    threshold: u64,
    /// Partners imported to approach it.
    imported: u64,
}

/// How a job went.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The job's own duration in ms: the operation's start to end as the
    /// server reports it (recalculation), or the client's wall time (commission
    /// run: from StartCommissionRun to seen finished, which includes its
    /// snapshot; plan change: UpdatePlan; team layout: the slowest trigger write).
    pub duration_ms: f64,
    /// What the job reported, on one line.
    pub detail: String,
}

/// The connection that prepares and starts jobs.
pub struct JobClient {
    channel: Channel,
    bearer: Bearer,
    period: String,
    root: String,
    /// Makes the ids this tool creates unique across runs.
    tag: String,
}

/// `what` failed with `status`, as a message.
fn failed(what: &str, status: Status) -> String {
    format!("{what}: {:?}: {}", status.code(), status.message())
}

impl JobClient {
    /// Connects to `target`.
    pub async fn connect(target: &str, token: Option<&str>, period: &str, root: &str) -> Result<JobClient, String> {
        let channel = Endpoint::from_shared(target.to_owned())
            .map_err(|e| format!("--target {target}: {e}"))?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {target}: {e}"))?;
        Ok(JobClient {
            channel,
            bearer: Bearer::new(token)?,
            period: period.to_owned(),
            root: root.to_owned(),
            tag: format!("{:x}", downline::service::now_unix_ms()),
        })
    }

    fn genealogy(&self) -> GenealogyServiceClient<tonic::service::interceptor::InterceptedService<Channel, Bearer>> {
        GenealogyServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    fn compensation(
        &self,
    ) -> CompensationServiceClient<tonic::service::interceptor::InterceptedService<Channel, Bearer>> {
        CompensationServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    /// Does what `job` needs before the load starts.
    pub async fn prepare(&self, job: Job) -> Result<Ready, String> {
        Ok(match job {
            Job::Recalculation => Ready::Recalculation,
            Job::CommissionRun => Ready::CommissionRun,
            Job::PlanChange => {
                let plan = self.compensation().get_plan(pb::GetPlanRequest { version: 0 }).await;
                Ready::PlanChange(plan.map_err(|s| failed("GetPlan", s))?.into_inner())
            }
            Job::TeamLayout => Ready::TeamLayout(self.approach_stale_layout().await?),
            Job::Simulation => {
                let plan = self.compensation().get_plan(pb::GetPlanRequest { version: 0 }).await;
                let mut plan = plan.map_err(|s| failed("GetPlan", s))?.into_inner();
                let first = plan.level_rates.first_mut().ok_or("the plan has no level rates")?;
                *first = plus_one_point(first)?;
                Ready::Simulation(plan)
            }
        })
    }

    /// Starts the job and returns once it finished; `Err` when it failed
    /// or did not finish within `limit`.
    pub async fn run(&self, ready: Ready, limit: Duration) -> Result<Finished, String> {
        let deadline = Instant::now() + limit;
        match ready {
            Ready::Recalculation => self.recalculate(deadline).await,
            Ready::CommissionRun => self.commission_run(deadline).await,
            Ready::PlanChange(plan) => self.change_plan(plan).await,
            Ready::TeamLayout(trigger) => self.rebuild_layout(trigger).await,
            Ready::Simulation(plan) => self.simulate(plan, deadline).await,
        }
    }

    async fn simulate(&self, candidate: pb::Plan, deadline: Instant) -> Result<Finished, String> {
        let rate = candidate.level_rates.first().cloned().unwrap_or_default();
        let request = pb::SimulatePlanRequest { period: self.period.clone(), plan: Some(candidate), top_n: 10 };
        let mut simulations = SimulationServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone());
        let sent = Instant::now();
        let mut sim = simulations.simulate_plan(request).await.map_err(|s| failed("SimulatePlan", s))?;
        while matches!(sim.get_ref().state(), pb::RunState::Running | pb::RunState::Unspecified) {
            poll_pause(deadline, "the simulation").await?;
            let request = pb::GetSimulationRequest { simulation_id: sim.get_ref().simulation_id.clone() };
            sim = simulations.get_simulation(request).await.map_err(|s| failed("GetSimulation", s))?;
        }
        let sim = sim.into_inner();
        if sim.state() != pb::RunState::Succeeded {
            return Err(format!("the simulation {} failed: {}", sim.simulation_id, sim.error));
        }
        let (winners, payable) = match &sim.result {
            Some(r) => {
                let new = r.candidate.as_ref().map(|t| t.payable_total.clone()).unwrap_or_default();
                (r.winners, new)
            }
            None => (0, String::new()),
        };
        Ok(Finished {
            duration_ms: millis(sent.elapsed()),
            detail: format!(
                "simulation {} of {} partners with level 1 at {rate}: {winners} winners, payable {payable}; the server's duration {} ms",
                sim.simulation_id, sim.partners_total, sim.duration_ms
            ),
        })
    }

    async fn recalculate(&self, deadline: Instant) -> Result<Finished, String> {
        let request = pb::RecalculateVolumesRequest { period: self.period.clone() };
        let mut volumes = VolumeServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone());
        let mut op = volumes.recalculate_volumes(request).await.map_err(|s| failed("RecalculateVolumes", s))?;
        let mut operations = OperationsServiceClient::with_interceptor(self.channel.clone(), self.bearer.clone());
        while !op.get_ref().done {
            poll_pause(deadline, "the recalculation").await?;
            let request = pb::GetOperationRequest { name: op.get_ref().name.clone() };
            op = operations.get_operation(request).await.map_err(|s| failed("GetOperation", s))?;
        }
        let op = op.into_inner();
        let duration_ms = (op.end_time_unix_ms - op.start_time_unix_ms) as f64;
        match op.result {
            Some(pb::operation::Result::Recalculation(r)) => Ok(Finished {
                duration_ms,
                detail: format!(
                    "{} partners; the server's phases: prepare {} ms, snapshot {} ms (under the lock), rollup {} ms, ranks {} ms, compare {} ms; {} differences",
                    r.partner_count, r.prepare_ms, r.snapshot_ms, r.rollup_ms, r.ranks_ms, r.compare_ms, r.difference_count
                ),
            }),
            Some(pb::operation::Result::Error(e)) => Err(format!("the recalculation failed: {}: {}", e.code, e.message)),
            None => Err("the recalculation finished without a result".into()),
        }
    }

    async fn commission_run(&self, deadline: Instant) -> Result<Finished, String> {
        let request = pb::StartCommissionRunRequest { period: self.period.clone(), dry_run: true };
        let mut compensation = self.compensation();
        let sent = Instant::now();
        let mut run = compensation.start_commission_run(request).await.map_err(|s| failed("StartCommissionRun", s))?;
        while matches!(run.get_ref().state(), pb::RunState::Running | pb::RunState::Unspecified) {
            poll_pause(deadline, "the commission run").await?;
            let request = pb::GetCommissionRunRequest { run_id: run.get_ref().run_id.clone() };
            run = compensation.get_commission_run(request).await.map_err(|s| failed("GetCommissionRun", s))?;
        }
        let run = run.into_inner();
        if run.state() != pb::RunState::Succeeded {
            return Err(format!("the commission run {} failed: {}", run.run_id, run.error));
        }
        Ok(Finished {
            duration_ms: millis(sent.elapsed()),
            detail: format!(
                "dry run {} of {} partners with plan version {}, payable {}; the run itself, after its snapshot, {} ms",
                run.run_id, run.partners_total, run.plan_version, run.payable_total, run.duration_ms
            ),
        })
    }

    async fn change_plan(&self, mut plan: pb::Plan) -> Result<Finished, String> {
        let version = plan.version;
        let top = plan.ranks.last_mut().ok_or("the plan has no ranks: changing one cannot re-rank")?;
        let old = std::mem::take(&mut top.min_gv);
        top.min_gv = plus_one(&old)?;
        let change = format!("rank '{}' min_gv {old} -> {}", top.name, top.min_gv);
        let request = pb::UpdatePlanRequest { plan: Some(plan), base_version: version, update_mask: None };
        let sent = Instant::now();
        let updated = self.compensation().update_plan(request).await.map_err(|s| failed("UpdatePlan", s))?;
        let duration_ms = millis(sent.elapsed());
        let detail = format!("plan version {version} -> {}: {change}", updated.get_ref().version);
        Ok(Finished { duration_ms, detail })
    }

    /// Imports partners until the team layout is [`LAYOUT_MARGIN`]
    /// creations short of stale (see the module doc).
    async fn approach_stale_layout(&self) -> Result<LayoutTrigger, String> {
        let root = self.genealogy().get_partner(pb::GetPartnerRequest { partner_id: self.root.clone() }).await;
        let laid_out = root.map_err(|s| failed("GetPartner(--root)", s))?.into_inner().downline_count + 1;
        let threshold = LAYOUT_STALE_MIN.max(laid_out / LAYOUT_STALE_SHARE);
        // After the import: the imported partners plus the relinked root.
        let imported = threshold - 2 - LAYOUT_MARGIN;
        let id = |i: u64| format!("st-{}-{i}", self.tag);
        let row = |i: u64| pb::CreatePartnerRequest {
            partner_id: id(i),
            sponsor_id: if i % HUB_SIZE == 0 { self.root.clone() } else { id(i - i % HUB_SIZE) },
            joined_on: JOINED_ON.into(),
            display_name: String::new(),
        };
        let mut first = 0;
        while first < imported {
            let rows: Vec<_> = (first..imported.min(first + IMPORT_CALL_ROWS)).map(row).collect();
            let messages: Vec<_> = rows
                .chunks(IMPORT_MESSAGE_ROWS)
                .map(|chunk| pb::ImportPartnersRequest { partners: chunk.to_vec() })
                .collect();
            let call = self.genealogy().import_partners(tokio_stream::iter(messages)).await;
            call.map_err(|s| failed("ImportPartners", s))?;
            first += IMPORT_CALL_ROWS;
        }
        let last = imported - 1;
        Ok(LayoutTrigger { sponsor: id(last - last % HUB_SIZE), laid_out, threshold, imported })
    }

    /// The trigger writes, one after the other; the slowest is the rebuild.
    async fn rebuild_layout(&self, trigger: LayoutTrigger) -> Result<Finished, String> {
        let mut genealogy = self.genealogy();
        let mut took_ms = Vec::new();
        for k in 0..2 * LAYOUT_MARGIN + 1 {
            let request = pb::CreatePartnerRequest {
                partner_id: format!("st-{}-t{k}", self.tag),
                sponsor_id: trigger.sponsor.clone(),
                joined_on: JOINED_ON.into(),
                display_name: String::new(),
            };
            let sent = Instant::now();
            genealogy.create_partner(request).await.map_err(|s| failed("CreatePartner", s))?;
            took_ms.push(millis(sent.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(LAYOUT_SETTLE_MS)).await;
        let (slowest, duration_ms) =
            took_ms.iter().copied().enumerate().fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
        took_ms.sort_by(f64::total_cmp);
        Ok(Finished {
            duration_ms,
            detail: format!(
                "{} partners laid out (estimated), stale at {} changes, {} imported first; of {} trigger writes the slowest was #{} (expected #{}), median {:.1} ms; then {LAYOUT_SETTLE_MS} ms of load for a background rebuild",
                trigger.laid_out,
                trigger.threshold,
                trigger.imported,
                took_ms.len(),
                slowest + 1,
                LAYOUT_MARGIN + 1,
                took_ms[took_ms.len() / 2]
            ),
        })
    }
}

/// Waits one poll interval; `Err` once `deadline` has passed.
async fn poll_pause(deadline: Instant, what: &str) -> Result<(), String> {
    if Instant::now() >= deadline {
        return Err(format!("{what} did not finish within --max-job-s"));
    }
    tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
    Ok(())
}

/// A duration in milliseconds, with its fraction.
fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A non-negative decimal text plus one ("100" -> "101", "2.5" -> "3.5").
fn plus_one(decimal: &str) -> Result<String, String> {
    let (whole, fraction) = decimal.split_once('.').map_or((decimal, None), |(w, f)| (w, Some(f)));
    let bigger = whole
        .parse::<u64>()
        .ok()
        .and_then(|w| w.checked_add(1))
        .ok_or_else(|| format!("the plan's min_gv '{decimal}' is not a non-negative decimal"))?;
    Ok(fraction.map_or(bigger.to_string(), |f| format!("{bigger}.{f}")))
}

/// A rate one percentage point higher (`0.05` -> `0.06`), capped at 1.
fn plus_one_point(rate: &str) -> Result<String, String> {
    let bad = || format!("the plan's level rate '{rate}' is not a rate in [0, 1]");
    let parsed: rust_decimal::Decimal = rate.parse().map_err(|_| bad())?;
    if parsed.is_sign_negative() || parsed > rust_decimal::Decimal::ONE {
        return Err(bad());
    }
    let raised = (parsed + rust_decimal::Decimal::new(1, 2)).min(rust_decimal::Decimal::ONE);
    Ok(raised.normalize().to_string())
}

#[cfg(test)]
mod tests {
    use super::{plus_one, plus_one_point};

    #[test]
    fn plus_one_point_raises_a_rate_to_at_most_one() {
        assert_eq!(plus_one_point("0.05").as_deref(), Ok("0.06"));
        assert_eq!(plus_one_point("0.995").as_deref(), Ok("1"));
        assert!(plus_one_point("-0.01").is_err());
        assert!(plus_one_point("x").is_err());
    }

    #[test]
    fn plus_one_keeps_the_fraction() {
        assert_eq!(plus_one("100").as_deref(), Ok("101"));
        assert_eq!(plus_one("2.50").as_deref(), Ok("3.50"));
        assert!(plus_one("-1").is_err());
        assert!(plus_one("").is_err());
    }
}

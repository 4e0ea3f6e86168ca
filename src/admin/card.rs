//! A partner's card, gathered from the application as the gRPC reads do
//! (GetPartner, GetUpline, GetVolumes, GetRankProgress, GetStatement make
//! the same `App` and engine calls), on a blocking thread: an official
//! run's statement and a closed period's volumes may read sled.

use super::error::AdminError;
use super::query::Params;
use crate::app::runs::{RunRef, RunStatement};
use crate::app::App;
use crate::engine::not_in_closed;
use crate::engine::{PartnerIx, PartnerView, Period, Plan, RankProgress, VolumeAnswer, VolumeView};
use std::sync::Arc;

/// The most upline levels shown; the card says how many more there are.
pub const MAX_UPLINE_SHOWN: usize = 100;

/// Everything a partner's card shows. A section that cannot be shown
/// (a closed period has no rank progress, a period no run) carries why.
pub struct Card {
    /// The partner.
    pub partner: PartnerView,
    /// Its sponsor, the sponsor's sponsor, ... at most [`MAX_UPLINE_SHOWN`].
    pub upline: Vec<PartnerView>,
    /// Every period with orders: (period, closed, orders), oldest first.
    pub periods: Vec<(Period, bool, u64)>,
    /// The period of the volumes and the rank progress; `None` before any order.
    pub volume_period: Option<Period>,
    /// The volumes in `volume_period`.
    pub volumes: Result<VolumeView, AdminError>,
    /// The rank progress in `volume_period`, with the plan naming its ranks.
    pub progress: Result<(RankProgress, Arc<Plan>), AdminError>,
    /// The period of the statement; `None` before any period closed.
    pub statement_period: Option<Period>,
    /// The statement of `statement_period`'s run.
    pub statement: Result<RunStatement, AdminError>,
}

/// Gathers the card of `partner_id` for the periods the query names
/// (`period`: volumes and rank progress, default the latest open period;
/// `statement`: default the latest closed one).
pub async fn gather(app: Arc<App>, partner_id: String, params: Params) -> Result<Card, AdminError> {
    tokio::task::spawn_blocking(move || gather_blocking(&app, &partner_id, &params)).await?
}

fn gather_blocking(app: &App, partner_id: &str, params: &Params) -> Result<Card, AdminError> {
    let chosen = |name: &'static str| params.get(name).map(|text| Period::parse(name, text)).transpose();
    let (asked_volumes, asked_statement) = (chosen("period")?, chosen("statement")?);
    let (ix, partner, upline, periods) = app.read(|net| {
        let g = &net.genealogy;
        let ix = g.lookup("partner_id", partner_id)?;
        let upline = g.upline(ix, MAX_UPLINE_SHOWN).into_iter().map(|s| g.view(s)).collect();
        Ok::<_, AdminError>((ix, g.view(ix), upline, net.periods()))
    })?;
    let latest = |closed: bool| periods.iter().rev().find(|p| p.1 == closed).map(|p| p.0);
    let volume_period = asked_volumes.or_else(|| latest(false)).or_else(|| periods.last().map(|p| p.0));
    let statement_period = asked_statement.or_else(|| latest(true));
    let none = |what: &str| AdminError::NotFound(format!("period: no period has orders yet, so no {what}"));
    let (volumes, progress) = match volume_period {
        Some(period) => (volumes(app, partner_id, period), rank_progress(app, partner_id, period)),
        None => (Err(none("volumes")), Err(none("rank progress"))),
    };
    let statement = match statement_period {
        Some(period) => statement(app, ix, partner_id, period),
        None => Err(AdminError::NotFound("statement: no period is closed yet".into())),
    };
    Ok(Card { partner, upline, periods, volume_period, volumes, progress, statement_period, statement })
}

/// GetVolumes's answer: live, frozen in memory, or read from disk.
fn volumes(app: &App, partner_id: &str, period: Period) -> Result<VolumeView, AdminError> {
    let answer = app.read(|net| Ok::<_, AdminError>(net.volume_answer(partner_id, &period.to_string())?))?;
    match answer {
        VolumeAnswer::Live(view) | VolumeAnswer::Frozen(view) => Ok(view),
        VolumeAnswer::OnDisk { period, ix } => {
            let frozen = app.store.read_frozen(period, ix).map_err(crate::app::AppError::from)?;
            frozen.ok_or_else(|| not_in_closed(partner_id, period).into())
        }
    }
}

/// GetRankProgress's answer, with the plan version in force.
fn rank_progress(app: &App, partner_id: &str, period: Period) -> Result<(RankProgress, Arc<Plan>), AdminError> {
    app.read(|net| Ok((net.rank_progress(partner_id, &period.to_string())?, Arc::clone(net.current_plan()))))
}

/// GetStatement's answer for a period: its official run once closed.
fn statement(app: &App, ix: PartnerIx, partner_id: &str, period: Period) -> Result<RunStatement, AdminError> {
    let run = RunRef::of_period(app, period)?;
    Ok(run.statement(app, ix, partner_id)?)
}

//! GetTeamProgress's pass: inline for a small downline, on a blocking
//! thread for a large one, at most one large pass per core at a time.

use super::{App, AppError, AppResult};
use crate::engine::{Network, TeamProgress};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Above this many partners in a downline, the pass runs on a blocking
/// thread: at 5 to 50 ns a partner it would otherwise hold an async worker
/// for milliseconds.
const INLINE_TEAM_PARTNERS: u32 = 20_000;

/// The turns of the large passes: one per core. More would only share the
/// cores and evict each other's cache lines (a burst of them on 2 cores
/// took seconds each instead of milliseconds); the rest wait their turn. A
/// pass keeps its turn until it ends, also when its caller gave up.
pub struct LargePasses(Arc<Semaphore>);

impl Default for LargePasses {
    fn default() -> LargePasses {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        LargePasses(Arc::new(Semaphore::new(cores)))
    }
}

/// What a team-progress request asks for, as the request has it (the
/// engine checks every field).
pub struct TeamProgressQuery {
    /// The partner whose team it is.
    pub partner_id: String,
    /// The period.
    pub period: String,
    /// The deepest level asked for; 0 for the plan's levels.
    pub max_level: u32,
}

impl App {
    /// The team progress of `query`, handed with the network (still under
    /// the read lock) to `map`, which turns it into the answer. A large
    /// downline's pass runs on a blocking thread, when its turn comes.
    pub async fn team_progress<T, F>(self: &Arc<Self>, query: TeamProgressQuery, map: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Network, &TeamProgress) -> T + Send + 'static,
    {
        let large = self.read(|net| {
            let g = &net.genealogy;
            Ok::<_, AppError>(
                g.find(&query.partner_id).is_some_and(|ix| g.downline_count_of(ix) > INLINE_TEAM_PARTNERS),
            )
        })?;
        let run = move |net: &Network| -> AppResult<T> {
            let progress = net.team_progress(&query.partner_id, &query.period, query.max_level)?;
            Ok(map(net, &progress))
        };
        if !large {
            return self.read(run);
        }
        let turn = Arc::clone(&self.large_team_passes.0).acquire_owned().await.map_err(|_| AppError::ShuttingDown)?;
        let app = Arc::clone(self);
        let pass = move || {
            let _turn = turn;
            app.read(run)
        };
        tokio::task::spawn_blocking(pass).await?
    }
}

//! A snapshot of what the live volumes and ranks are computed *from*: the
//! genealogy (links, statuses) and each open period's PV and RV, and
//! nothing of what they are computed *into* (GV, level profiles, live
//! ranks).
//!
//! Why not a whole [`Network::snapshot`]: while a snapshot holds a column,
//! the live network copies every chunk of it that a write touches, under
//! the write lock. An order walks its whole upline through GV, the level
//! profiles and the live ranks, so a snapshot holding those makes the next
//! few hundred orders copy nearly all of them (measured: writes waited
//! 0.28 s at 1M, 2.6 s at 10M; docs/bench-log.md). An order touches one
//! row of PV and RV, and only structural writes touch the genealogy, so
//! this snapshot costs the live writes a chunk copy now and then.
//! Background work recomputes GV (and whatever else it needs) from these
//! inputs on its own buffers ([`RollupInput`]).

use super::cow_column::CowColumn;
use super::genealogy::forest::Genealogy;
use super::network::Network;
use super::period::Period;
use super::volumes::rollup::RollupInput;
use super::volumes::volume_plan::VolumePlan;
use std::sync::atomic::AtomicU64;

/// The inputs of every open period's rollup, shared copy-on-write with the
/// live network (see the module documentation).
#[derive(Clone)]
pub struct InputsSnapshot {
    /// The sponsor forest and the statuses.
    pub genealogy: Genealogy,
    /// The volume settings in force.
    pub plan: VolumePlan,
    /// Each open period's inputs, oldest first.
    pub periods: Vec<PeriodInputs>,
}

/// One open period's per-partner inputs.
#[derive(Clone)]
pub struct PeriodInputs {
    /// The period.
    pub period: Period,
    /// PV by arena index.
    pub pv: CowColumn<i64>,
    /// RV by arena index.
    pub rv: CowColumn<i64>,
}

impl Network {
    /// The inputs of the open periods' rollups, O(columns × chunks):
    /// cheap under the lock, and cheap for the writes that follow it.
    pub fn inputs_snapshot(&self) -> InputsSnapshot {
        let periods = self
            .periods
            .values()
            .map(|v| PeriodInputs { period: v.period, pv: v.pv.clone(), rv: v.rv.clone() })
            .collect();
        InputsSnapshot { genealogy: self.genealogy.clone(), plan: self.plan, periods }
    }
}

impl PeriodInputs {
    /// The breadth-first rollup input of the period over `snapshot`'s
    /// genealogy. O(n), so off the lock.
    pub fn rollup_input(&self, snapshot: &InputsSnapshot) -> RollupInput {
        let (pv, rv) = (self.pv.to_vec(), self.rv.to_vec());
        RollupInput::capture(&snapshot.genealogy, &snapshot.plan, &pv, &rv)
    }
}

/// GV by arena index from a rollup input (terminated partners 0): the
/// rollup on the job's own buffers, its level profiles dropped as it goes.
pub fn group_volumes(input: &RollupInput, arena_len: usize) -> CowColumn<i64> {
    let (bfs_gv, _) = input.compute_streaming(&AtomicU64::new(0), &|_, _, _, _| {});
    let mut gv = vec![0i64; arena_len];
    for (&x, &units) in input.order().iter().zip(&bfs_gv) {
        gv[x as usize] = units;
    }
    CowColumn::from_vec(gv)
}

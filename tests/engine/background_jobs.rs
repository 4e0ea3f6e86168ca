//! The background jobs of issue #16 against the same jobs run the old way,
//! under the lock.
//!
//! What they prove: for random networks and random writes (orders and
//! returns in two periods, sign-ups, moves, suspensions, terminations, a
//! period's close) made *while* a job runs on its snapshot, the network
//! after the job's installation equals a twin that made the same writes
//! and then ran the job under the lock:
//! - a plan change's re-ranking (`begin_plan_change`, writes,
//!   `PlanChange::rank`, writes, `begin_catch_up`, writes,
//!   `PlanChange::catch_up`, `install_plan_change`) against `update_plan`:
//!   every partner's rank codes and leg slots in every open period, the
//!   volumes, the plan version;
//! - a team layout rebuild (due, writes, snapshot, writes, build,
//!   install) against `rebuild_team_layout`: every partner's team progress
//!   in both periods, and the layout is in step;
//! - a recalculation's and a commission run's capture taken before the
//!   writes and run after them answer what the twin answered at the
//!   snapshot, and the live network goes on equal to the twin.
//!
//! A capture that reuses the breadth-first layout kept from an earlier
//! one, after random writes, answers what a fresh capture answers, and
//! reuses it exactly when the structure did not change.
//!
//! A second plan change that races the first is refused by the base
//! version check, and changes nothing.

use crate::rank_props::{draft, RankSpec};
use downline::engine::*;
use proptest::prelude::*;
use proptest::sample::Index;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

const DAY: &str = "2026-01-15";
const PERIODS: [&str; 2] = ["2026-01", "2026-02"];
const STATUSES: [PartnerStatus; 3] = [PartnerStatus::Enrolled, PartnerStatus::Suspended, PartnerStatus::Terminated];

/// One write of the live traffic.
#[derive(Clone, Debug)]
enum W {
    /// A sign-up under an existing partner, or a new root.
    Create(Option<Index>),
    /// An order: partner, period, volume in quarters (negative: a return), kind.
    Order(Index, usize, i64, usize),
    Move(Index, Index),
    Status(Index, usize),
    Close(usize),
}

fn write() -> impl Strategy<Value = W> {
    prop_oneof![
        3 => proptest::option::weighted(0.9, any::<Index>()).prop_map(W::Create),
        8 => (any::<Index>(), 0usize..2, -20i64..=60, 0usize..3).prop_map(|(p, per, q, k)| W::Order(p, per, q, k)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| W::Move(a, b)),
        2 => (any::<Index>(), 0usize..3).prop_map(|(a, s)| W::Status(a, s)),
        1 => (0usize..2).prop_map(W::Close),
    ]
}

/// A partner's id picked by `i` (terminated ones included: their writes fail on both sides).
fn pick(net: &Network, i: &Index) -> String {
    net.genealogy.id(PartnerIx::new(i.index(net.genealogy.len()) as u32)).to_owned()
}

/// Applies `w` (the `seq`-th write of the case); returns whether it succeeded.
fn apply(net: &mut Network, w: &W, seq: usize) -> bool {
    let audit = Audit::default;
    match w {
        W::Create(sponsor) => {
            let sponsor = match sponsor {
                Some(i) if !net.genealogy.is_empty() => pick(net, i),
                _ => String::new(),
            };
            let new = NewPartner::parse(&format!("p{seq}"), &sponsor, DAY, "").unwrap();
            net.create_partner(&new, audit()).is_ok()
        }
        _ if net.genealogy.is_empty() => false,
        W::Order(p, per, quarters, kind) => {
            let units = quarters * 2_500;
            let volume =
                format!("{}{}.{:04}", if units < 0 { "-" } else { "" }, units.abs() / 10_000, units.abs() % 10_000);
            let kind = [OrderKind::Retail, OrderKind::SelfPurchase, OrderKind::Fee][*kind];
            let partner_id = pick(net, p);
            let order = OrderRequest {
                order_id: format!("o{seq}"),
                partner_id,
                period: PERIODS[*per].into(),
                volume,
                kind,
                book_into_period: None,
            };
            net.record_order(&order).is_ok()
        }
        W::Move(a, b) => {
            let (a, b) = (pick(net, a), pick(net, b));
            net.move_partner(&a, &b, audit()).is_ok()
        }
        W::Status(a, s) => {
            let a = pick(net, a);
            net.set_status(&a, STATUSES[*s], audit()).is_ok()
        }
        W::Close(per) => net.close_period(Period::parse("period", PERIODS[*per]).unwrap(), None).is_ok(),
    }
}

/// Applies the same writes to the live network and to its twin; both must
/// answer alike.
fn apply_both(live: &mut Network, twin: &mut Network, writes: &[W], first_seq: usize) -> Result<(), TestCaseError> {
    for (i, w) in writes.iter().enumerate() {
        let (a, b) = (apply(live, w, first_seq + i), apply(twin, w, first_seq + i));
        prop_assert_eq!(a, b, "write {:?} answered differently", w);
    }
    Ok(())
}

/// Everything a job could get wrong, per open period and partner.
#[derive(Debug, PartialEq)]
struct State {
    plan_version: u32,
    periods: Vec<(Period, bool, u64)>,
    volumes: Vec<Vec<VolumeView>>,
    ranks: Vec<Vec<([u8; 2], Vec<LegSlot>)>>,
    team: Vec<Option<TeamProgress>>,
}

fn state(net: &Network) -> State {
    let (g, n) = (&net.genealogy, net.genealogy.len() as u32);
    let periods = net.periods();
    let open: Vec<&volumes::PeriodVolumes> =
        periods.iter().filter(|p| !p.1).map(|p| net.period(p.0).unwrap()).collect();
    let volumes = open.iter().map(|v| (0..n).map(|x| v.view(g, &net.plan, x)).collect()).collect();
    let ranks =
        open.iter().map(|v| (0..n).map(|x| (v.ranks().codes()[x as usize], v.ranks().slots_of(x).to_vec())).collect());
    let team = (0..n).flat_map(|x| PERIODS.map(|p| net.team_progress(g.id(PartnerIx::new(x)), p, 0).ok())).collect();
    State { plan_version: net.current_plan().version, periods, volumes, ranks: ranks.collect(), team }
}

/// A network built by `writes` on a plan of 3 compressed levels (2.50 PV
/// to be active) with the ranks of `ranks`.
fn network(ranks: &[RankSpec], writes: &[W]) -> Network {
    let mut net = Network::default();
    net.update_plan(&draft(3, true, true, ranks), 0).unwrap();
    for (seq, w) in writes.iter().enumerate() {
        apply(&mut net, w, seq);
    }
    net
}

fn rank_specs() -> impl Strategy<Value = Vec<RankSpec>> {
    let rank = (0usize..3, 0usize..5, 0usize..5, 0u32..3, any::<Index>());
    prop::collection::vec(rank, 1..=4)
}

/// The case: a network, the writes made while the job runs (split in two
/// batches around a step of the job), and new ranks.
type Case = (Vec<RankSpec>, Vec<W>, Vec<W>, Vec<W>, Vec<RankSpec>);

fn case() -> impl Strategy<Value = Case> {
    let writes = |n| prop::collection::vec(write(), 0..n);
    (rank_specs(), prop::collection::vec(write(), 1..40), writes(20), writes(20), rank_specs())
}

const SEQ: usize = 1_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_plan_change_reranked_off_the_lock_equals_one_under_it((old, setup, early, late, new) in case()) {
        let mut live = network(&old, &setup);
        let mut twin = live.snapshot();
        let next = draft(3, true, true, &new);
        let change = live.begin_plan_change(&next, 0).unwrap();
        apply_both(&mut live, &mut twin, &early, SEQ)?;
        let Some(mut change) = change else {
            // Same ranks, or no open period: the update runs under the lock.
            live.update_plan(&next, 0).unwrap();
            twin.update_plan(&next, 0).unwrap();
            prop_assert_eq!(state(&live), state(&twin));
            return Ok(());
        };
        change.rank();
        // Writes while it ranks, then while it catches up off the lock.
        let (ranking, catching_up) = late.split_at(late.len() / 2);
        apply_both(&mut live, &mut twin, ranking, 2 * SEQ)?;
        live.begin_catch_up(&mut change);
        apply_both(&mut live, &mut twin, catching_up, 2 * SEQ + ranking.len())?;
        change.catch_up();
        let install = live.install_plan_change(change).unwrap();
        twin.update_plan(&next, 0).unwrap();
        prop_assert_eq!(install.plan.version, twin.current_plan().version);
        prop_assert_eq!(state(&live), state(&twin));
        // Later writes keep both alike: the live ranks follow the new plan.
        apply_both(&mut live, &mut twin, &early, 3 * SEQ)?;
        prop_assert_eq!(state(&live), state(&twin));
    }

    #[test]
    fn a_team_layout_rebuilt_off_the_lock_equals_one_rebuilt_under_it((old, setup, early, late, _new) in case()) {
        let mut live = network(&old, &setup);
        live.set_background_layout_rebuilds(true);
        let mut twin = live.snapshot();
        twin.set_background_layout_rebuilds(false);
        live.request_team_layout_rebuild();
        // Writes between the rebuild falling due and its snapshot are told twice: harmless.
        apply_both(&mut live, &mut twin, &early, SEQ)?;
        let job = live.take_team_layout_job().unwrap();
        prop_assert!(live.take_team_layout_job().is_none(), "one rebuild at a time");
        apply_both(&mut live, &mut twin, &late, 2 * SEQ)?;
        live.install_team_layout(job.build());
        twin.rebuild_team_layout();
        prop_assert!(live.team_layout_is_in_step());
        prop_assert_eq!(state(&live), state(&twin));
    }

    #[test]
    fn captures_taken_before_writes_answer_for_the_snapshot((old, setup, early, _late, _new) in case()) {
        let mut live = network(&old, &setup);
        let mut twin = live.snapshot();
        let open: Vec<Period> = live.periods().into_iter().filter(|p| !p.1).map(|p| p.0).collect();
        let recalcs: Vec<_> = open.iter().map(|&p| live.snapshot().recalc_snapshot(p).unwrap()).collect();
        let runs: Vec<_> = open.iter().map(|p| live.snapshot().commission_snapshot(&p.to_string()).unwrap()).collect();
        let then = |net: &Network| -> Vec<(u64, u64, RunTotals, Vec<PartnerFigures>)> {
            open.iter().map(|&p| {
                let report = net.recalc_snapshot(p).unwrap().run(&AtomicU64::new(0));
                let run = net.commission_snapshot(&p.to_string()).unwrap().run(&RunProgress::default());
                let figures = (0..run.partners()).map(|pos| run.figures_at(pos)).collect();
                (report.partners, report.differences, run.totals.clone(), figures)
            }).collect()
        };
        let expected = then(&twin);
        apply_both(&mut live, &mut twin, &early, SEQ)?;
        let got: Vec<_> = recalcs.into_iter().zip(runs).map(|(recalc, run)| {
            let report = recalc.run(&AtomicU64::new(0));
            let run = run.run(&RunProgress::default());
            let figures = (0..run.partners()).map(|pos| run.figures_at(pos)).collect();
            (report.partners, report.differences, run.totals.clone(), figures)
        }).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(state(&live), state(&twin));
    }

    #[test]
    fn a_kept_layout_answers_what_a_fresh_one_does((old, setup, early, _late, _new) in case()) {
        let mut live = network(&old, &setup);
        let open = |net: &Network| -> Vec<Period> { net.periods().into_iter().filter(|p| !p.1).map(|p| p.0).collect() };
        let Some(&first) = open(&live).first() else { return Ok(()) };
        let kept = live.recalc_snapshot(first).unwrap().layout();
        let version = live.genealogy.structure_version();
        let len = live.genealogy.len();
        for (i, w) in early.iter().enumerate() {
            apply(&mut live, w, SEQ + i);
        }
        let unchanged = live.genealogy.structure_version() == version && live.genealogy.len() == len;
        for p in open(&live) {
            let recalc = live.recalc_snapshot_with(p, SnapshotMemory::keeping(Some(Arc::clone(&kept)))).unwrap();
            // Reused exactly when the structure did not change.
            prop_assert_eq!(Arc::ptr_eq(&recalc.layout(), &kept), unchanged);
            let fresh = live.recalc_snapshot(p).unwrap().run(&AtomicU64::new(0));
            let report = recalc.run(&AtomicU64::new(0));
            prop_assert_eq!((report.partners, report.differences), (fresh.partners, 0));
            let figures = |run: RunResult| -> (RunTotals, Vec<PartnerFigures>) {
                (run.totals.clone(), (0..run.partners()).map(|pos| run.figures_at(pos)).collect())
            };
            let memory = InputMemory::keeping(Some(Arc::clone(&kept)));
            let run = live.commission_snapshot_with(&p.to_string(), memory).unwrap();
            prop_assert_eq!(Arc::ptr_eq(&run.layout(), &kept), unchanged);
            let fresh = live.commission_snapshot(&p.to_string()).unwrap();
            prop_assert_eq!(figures(run.run(&RunProgress::default())), figures(fresh.run(&RunProgress::default())));
        }
    }
}

/// Two plan changes prepared on the same version: the second to install
/// is refused with FAILED_PRECONDITION, and changes nothing.
#[test]
fn a_racing_plan_change_is_refused_by_the_version_check() {
    let specs = |min_gv: usize| -> Vec<RankSpec> {
        let any_index = proptest::strategy::Strategy::new_tree(&any::<Index>(), &mut Default::default());
        vec![(0, min_gv, 0, 0, proptest::strategy::ValueTree::current(&any_index.unwrap()))]
    };
    let mut net = network(&specs(2), &[]);
    for i in 0..30 {
        let sponsor = if i == 0 { String::new() } else { format!("p{}", i / 3) };
        net.create_partner(&NewPartner::parse(&format!("p{i}"), &sponsor, DAY, "").unwrap(), Audit::default()).unwrap();
        let order = OrderRequest {
            order_id: format!("o{i}"),
            partner_id: format!("p{i}"),
            period: PERIODS[0].into(),
            volume: "10".into(),
            kind: OrderKind::SelfPurchase,
            book_into_period: None,
        };
        net.record_order(&order).unwrap();
    }
    let mut first = net.begin_plan_change(&draft(3, true, true, &specs(3)), 2).unwrap().unwrap();
    let mut second = net.begin_plan_change(&draft(3, true, true, &specs(4)), 2).unwrap().unwrap();
    first.rank();
    second.rank();
    assert_eq!(net.install_plan_change(first).unwrap().plan.version, 3);
    let before = state(&net);
    let refused = net.install_plan_change(second).err().map(crate::support::kind_of);
    assert_eq!(refused, Some(crate::support::FP));
    assert_eq!(state(&net), before);
    // And a new update on the stale base is refused up front.
    let stale = net.begin_plan_change(&draft(3, true, true, &specs(4)), 2).err().map(crate::support::kind_of);
    assert_eq!(stale, Some(crate::support::FP));
}

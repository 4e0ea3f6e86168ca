//! Tests of the live volumes of `Network` (PV, RV, GV, level profiles,
//! activity, frontline counts) against hand figures and a naive model.
//!
//! What they prove:
//! - the 12-partner worked example of `spec/example.md` comes out to the
//!   unit: PV, RV, GV, LV1..LV7, activity of every partner, A's partners per
//!   level, and the no-compression variant (A 290/1400/95/300, G 40/300);
//! - for random sequences of creations, imports (with cycles and terminated
//!   sponsors), orders (RETAIL/SELF/FEE, returns, two periods, idempotent
//!   repeats and conflicting repeats), moves (cycles refused), status changes,
//!   terminations, period closings and adjustments (orders of a closed
//!   2026-01 booked into 2026-02), under random plans (1..=4 levels,
//!   compression on/off, min_active_pv 0 or 50), every write answers what the
//!   model predicts (result or error kind), and after every step every live
//!   partner's `volumes` in every open period equals a from-scratch naive
//!   recomputation, and `RecalculateVolumes` (`recalc_snapshot().run`) finds
//!   no difference; closed periods refuse orders (FAILED_PRECONDITION);
//! - the parallel rollup of a 40,000-partner network (depths wider than one
//!   rayon task) gives identical results with 1 and with 4 threads, equal to
//!   the live values.

use crate::support::{expected_status_change, plan, U};
pub(crate) use crate::support::{kind_of, FP};
pub(crate) use crate::volume_model::{op, MOrder, MPartner, Model, Op};
use downline::engine::*;
use downline::engine::{personal_volumes, RollupInput};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::AtomicU64;
use std::time::Instant;

const DAY: &str = "2026-01-15";
pub(crate) const PERIODS: [&str; 2] = ["2026-01", "2026-02"];
const MAX_PARTNERS: usize = 30;
pub(crate) const KINDS: [OrderKind; 3] = [OrderKind::Retail, OrderKind::SelfPurchase, OrderKind::Fee];
const STATUSES: [PartnerStatus; 3] = [PartnerStatus::Enrolled, PartnerStatus::Suspended, PartnerStatus::Terminated];

fn create(net: &mut Network, id: &str, sponsor: &str) -> EngineResult<WriteOutcome> {
    net.create_partner(&NewPartner::parse(id, sponsor, DAY, "").unwrap(), Audit::default())
}

fn request(id: &str, partner: &str, period: &str, volume: &str, kind: OrderKind) -> OrderRequest {
    OrderRequest {
        order_id: id.into(),
        partner_id: partner.into(),
        period: period.into(),
        volume: volume.into(),
        kind,
        book_into_period: None,
    }
}

/// Units (multiples of 0.01) as a decimal string with two places.
fn volume_text(units: i64) -> String {
    let a = units.unsigned_abs();
    format!("{}{}.{:02}", if units < 0 { "-" } else { "" }, a / 10_000, a % 10_000 / 100)
}

// ---------------------------------------------------------------- example.md

pub(crate) fn example_network(plan: VolumePlan) -> Network {
    let mut net = Network::default();
    net.plan = plan;
    let tree = [("A", ""), ("B", "A"), ("C", "A"), ("D", "A"), ("E", "B"), ("F", "B")];
    let tree2 = [("G", "C"), ("H", "C"), ("I", "G"), ("J", "I"), ("K", "E"), ("L", "D")];
    for (id, sponsor) in tree.into_iter().chain(tree2) {
        create(&mut net, id, sponsor).unwrap();
    }
    // The 15 orders of example.md: partner, volume, kind (R retail, S self, F fee).
    let orders = "A 100.00 R|B 150.00 R|B 50.00 S|C 30.00 S|D 60.00 S|E 400.00 R|E 100.00 S|F 49.00 F|\
                  G 80.00 R|H 120.00 S|I 40.00 R|J 300.00 R|K 55.00 S|L 900.00 R|L -200.00 R";
    for (i, order) in orders.split('|').enumerate() {
        let [partner, volume, kind] = order.split(' ').collect::<Vec<_>>()[..] else { panic!("{order}") };
        let kind = KINDS["RSF".find(kind).unwrap()];
        let req = request(&format!("o{}", i + 1), partner, "2026-11", volume, kind);
        let (_, recorded) = net.record_order(&req).unwrap();
        assert!(matches!(recorded, Recorded::New(_)));
    }
    net
}

fn lv(view: &VolumeView) -> Vec<i64> {
    view.levels.iter().map(|l| l.volume_units / U).collect()
}

#[test]
fn worked_example_of_example_md() {
    let net = example_network(VolumePlan::default());
    // partner, PV, RV, GV, LV1, LV2, LV3, active
    let table = [
        ("A", 100, 100, 2185, 490, 1540, 55, true),
        ("B", 200, 150, 755, 500, 55, 0, true),
        ("C", 30, 0, 570, 200, 340, 0, false),
        ("D", 60, 0, 760, 700, 0, 0, true),
        ("E", 500, 400, 555, 55, 0, 0, true),
        ("F", 0, 0, 0, 0, 0, 0, false),
        ("G", 80, 80, 420, 340, 0, 0, true),
        ("H", 120, 0, 120, 0, 0, 0, true),
        ("I", 40, 40, 340, 300, 0, 0, false),
        ("J", 300, 300, 300, 0, 0, 0, true),
        ("K", 55, 0, 55, 0, 0, 0, true),
        ("L", 700, 700, 700, 0, 0, 0, true),
    ];
    for (id, pv, rv, gv, lv1, lv2, lv3, active) in table {
        let v = net.volumes(id, "2026-11").unwrap();
        assert_eq!((v.pv_units, v.rv_units, v.gv_units), (pv * U, rv * U, gv * U), "{id}");
        assert_eq!(v.levels.len(), 7, "{id}");
        assert!(v.levels.iter().all(|l| l.volume_units % U == 0), "{id}: whole figures");
        assert_eq!(lv(&v), vec![lv1, lv2, lv3, 0, 0, 0, 0], "{id}");
        assert_eq!(v.active, active, "{id}");
    }
    let a = net.volumes("A", "2026-11").unwrap();
    let totals = |v: i64, partners: u32, active: u32| LevelTotals { volume_units: v * U, partners, active };
    // Level 1: B C D G H (C inactive); level 2: E F L I J (F, I inactive); level 3: K.
    assert_eq!(a.levels[..3], [totals(490, 5, 4), totals(1540, 5, 3), totals(55, 1, 1)]);
    assert_eq!((a.frontline, a.active_frontline), (3, 2));
    assert_eq!(a.level_capped_units(), i128::from(2085 * U));
    let report = net.recalc_snapshot(Period::parse("period", "2026-11").unwrap()).unwrap().run(&AtomicU64::new(0));
    assert_eq!((report.partners, report.differences), (12, 0), "{:?}", report.first_difference);

    let plain = example_network(VolumePlan { compression: false, ..Default::default() });
    let a = plain.volumes("A", "2026-11").unwrap();
    assert_eq!(lv(&a), vec![290, 1400, 95, 300, 0, 0, 0]);
    assert_eq!(a.gv_units, 2185 * U);
    let g = plain.volumes("G", "2026-11").unwrap();
    assert_eq!(lv(&g), vec![40, 300, 0, 0, 0, 0, 0]);
    assert_eq!(a.levels[3], totals(300, 1, 1), "J alone at level 4");
}

type Outcome<T> = Result<T, &'static str>;

/// Applies one op to the engine and the model; the engine must answer what
/// the model predicts.
#[allow(clippy::too_many_lines)] // one arm per op of the model, each short: splitting it would scatter the model
pub(crate) fn step(net: &mut Network, m: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let n = m.ps.len();
    match op {
        Op::Create(reuse, sponsor) => {
            let sponsor = sponsor.filter(|_| n > 0).map(|s| s.index(n));
            let sponsor_id = sponsor.map_or(String::new(), |s| m.ps[s].id.clone());
            if let Some(x) = reuse.filter(|_| n > 0).map(|r| r.index(n)) {
                let expected = if m.live(x) && m.sponsor_id(x) == sponsor_id { Ok(true) } else { Err("AlreadyExists") };
                let got = create(net, &m.ps[x].id.clone(), &sponsor_id).map(|o| o.change.is_none()).map_err(kind_of);
                prop_assert_eq!(got, expected, "repeat create");
            } else if n < MAX_PARTNERS {
                let id = m.fresh("p");
                let expected: Outcome<bool> = if sponsor.is_some_and(|s| !m.live(s)) { Err(FP) } else { Ok(false) };
                let got = create(net, &id, &sponsor_id).map(|o| o.change.is_none()).map_err(kind_of);
                prop_assert_eq!(got, expected, "create");
                if expected.is_ok() {
                    m.ps.push(MPartner { id, sponsor, status: PartnerStatus::Enrolled });
                }
            }
        }
        Op::Import(rows) => {
            let k = rows.len().min(MAX_PARTNERS.saturating_sub(n));
            let ids: Vec<String> = (0..k).map(|_| m.fresh("p")).collect();
            // None: root; Some(Ok(existing)) or Some(Err(row of the batch)).
            let refs: Vec<Option<Result<usize, usize>>> = rows[..k]
                .iter()
                .map(|&(t, ix)| match t {
                    1 if n > 0 => Some(Ok(ix.index(n))),
                    2 => Some(Err(ix.index(k))),
                    _ => None,
                })
                .collect();
            let new_rows: Vec<NewPartner> = (0..k)
                .map(|i| {
                    let sponsor = match refs[i] {
                        None => "",
                        Some(Ok(e)) => m.ps[e].id.as_str(),
                        Some(Err(r)) => ids[r].as_str(),
                    };
                    NewPartner::parse(&ids[i], sponsor, DAY, "").unwrap()
                })
                .collect();
            let mut reached = vec![false; k];
            while let Some(i) =
                (0..k).find(|&i| !reached[i] && refs[i].is_none_or(|r| r.map_or_else(|r| reached[r], |_| true)))
            {
                reached[i] = true;
            }
            let dead_sponsor = refs.iter().any(|r| matches!(r, Some(Ok(e)) if !m.live(*e)));
            let expected = if dead_sponsor || reached.contains(&false) { Err(FP) } else { Ok(k) };
            let got = net.import(&new_rows).map(|o| o.created.len() as usize).map_err(kind_of);
            prop_assert_eq!(got, expected, "import");
            if expected.is_ok() {
                for (id, r) in ids.into_iter().zip(refs) {
                    let sponsor = r.map(|r| r.unwrap_or_else(|row| n + row));
                    m.ps.push(MPartner { id, sponsor, status: PartnerStatus::Enrolled });
                }
            }
        }
        Op::Order(reuse, partner, period, quarters, kind) => {
            let (order, expected) = if let Some((r, mode)) = reuse.filter(|_| !m.orders.is_empty()) {
                let stored = m.orders[r.index(m.orders.len())].clone();
                let mut o = stored.clone();
                match mode {
                    1 => o.units += 100,
                    2 => o.kind = (o.kind + 1) % 3,
                    // An adjustment sent as an ordinary order of the period it was booked into.
                    3 if o.origin.is_some() => o.origin = None,
                    3 => o.period = 1 - o.period,
                    _ => {}
                }
                let expected: Outcome<bool> = if o == stored { Ok(false) } else { Err("AlreadyExists") };
                (o, expected)
            } else if n > 0 {
                let (id, partner) = (m.fresh("o"), partner.index(n));
                let (period, origin) = if *period == 2 { (1, Some(0)) } else { (*period, None) };
                let o = MOrder { id, partner, period, units: quarters * 2500, kind: *kind, origin };
                let expected = expected_new_order(m, &o);
                (o, expected)
            } else {
                return Ok(());
            };
            let (text, kind) = (volume_text(order.units), KINDS[order.kind]);
            let mut req = request(&order.id, &m.ps[order.partner].id, PERIODS[order.period], &text, kind);
            if let Some(origin) = order.origin {
                req.book_into_period = Some(std::mem::replace(&mut req.period, PERIODS[origin].into()));
            }
            let got = net.record_order(&req).map(|(_, r)| matches!(r, Recorded::New(_))).map_err(kind_of);
            prop_assert_eq!(got, expected, "order {:?}", req);
            if expected == Ok(true) {
                m.has_orders[order.period] = true;
                m.orders.push(order);
            }
        }
        Op::Move(who, to) if n > 0 => {
            let (x, y) = (who.index(n), to.index(n));
            let expected = if !m.live(x) || !m.live(y) || m.is_self_or_ancestor(x, y) {
                Err(FP)
            } else {
                Ok(m.ps[x].sponsor != Some(y))
            };
            let (xid, yid) = (m.ps[x].id.clone(), m.ps[y].id.clone());
            let got = net.move_partner(&xid, &yid, Audit::default()).map(|o| o.change.is_some()).map_err(kind_of);
            prop_assert_eq!(got, expected, "move {} under {}", xid, yid);
            if expected == Ok(true) {
                m.ps[x].sponsor = Some(y);
            }
        }
        Op::SetStatus(who, s) if n > 0 => {
            let (x, status) = (who.index(n), STATUSES[*s]);
            let recruits: Vec<usize> = (0..n).filter(|&c| m.live(c) && m.ps[c].sponsor == Some(x)).collect();
            let (root, has_recruits) = (m.ps[x].sponsor.is_none(), !recruits.is_empty());
            let expected = expected_status_change(m.live(x), m.ps[x].status, status, root, has_recruits);
            let id = m.ps[x].id.clone();
            let got = net.set_status(&id, status, Audit::default()).map(|o| o.change.is_some()).map_err(kind_of);
            prop_assert_eq!(got, expected, "set {} {:?}", id, status);
            if expected == Ok(true) {
                if status == PartnerStatus::Terminated {
                    for c in recruits {
                        m.ps[c].sponsor = m.ps[x].sponsor;
                    }
                }
                m.ps[x].status = status;
            }
        }
        Op::Close(per) => {
            let expected = if m.has_orders[*per] { Ok(!m.closed[*per]) } else { Err("NotFound") };
            let got = net
                .close_period(Period::parse("period", PERIODS[*per]).unwrap(), None)
                .map(|f| f.is_some())
                .map_err(kind_of);
            prop_assert_eq!(got, expected, "close {}", PERIODS[*per]);
            m.closed[*per] |= expected.is_ok();
        }
        Op::Move(..) | Op::SetStatus(..) => {}
    }
    Ok(())
}

/// What recording a new order answers: a terminated partner or a closed
/// period refuses it; an adjustment needs its origin closed and the period
/// it is booked into open.
fn expected_new_order(m: &Model, o: &MOrder) -> Outcome<bool> {
    match o.origin {
        _ if !m.live(o.partner) => Err(FP),
        None if m.closed[o.period] => Err(FP),
        Some(origin) if !m.closed[origin] => Err(FP),
        Some(_) if m.closed[o.period] => Err("InvalidArgument"),
        _ => Ok(true),
    }
}

/// Every live partner in every open period with orders equals the model, and
/// the from-scratch recalculation finds nothing.
pub(crate) fn check(net: &Network, m: &Model) -> Result<(), TestCaseError> {
    for (per, text) in PERIODS.into_iter().enumerate() {
        let snapshot = net.recalc_snapshot(Period::parse("period", text).unwrap());
        if !m.has_orders[per] || m.closed[per] {
            let expected = if m.has_orders[per] { FP } else { "NotFound" };
            prop_assert_eq!(snapshot.err().map(kind_of), Some(expected), "snapshot of {}", text);
            if let Some(p) = (0..m.ps.len()).find(|&p| m.live(p)).filter(|_| !m.has_orders[per]) {
                prop_assert_eq!(net.volumes(&m.ps[p].id, text).err().map(kind_of), Some("NotFound"));
            }
            continue;
        }
        let report = snapshot.unwrap().run(&AtomicU64::new(0));
        prop_assert_eq!(report.differences, 0, "{}: {:?}", text, report.first_difference);
        prop_assert_eq!(report.partners as usize, (0..m.ps.len()).filter(|&p| m.live(p)).count());
        let personal = m.personal(per);
        for p in 0..m.ps.len() {
            let got = net.volumes(&m.ps[p].id, text);
            if m.live(p) {
                prop_assert_eq!(got.unwrap(), m.view(p, &personal), "{} in {}", &m.ps[p].id, text);
            } else {
                prop_assert_eq!(got.err().map(kind_of), Some(FP), "terminated {}", &m.ps[p].id);
            }
        }
    }
    Ok(())
}

proptest! {
    // 256 cases (proptest's default; PROPTEST_CASES overrides it).
    #[test]
    fn live_volumes_equal_a_naive_recomputation(plan in plan(), ops in prop::collection::vec(op(), 1..=60)) {
        let mut net = Network::default();
        net.plan = plan;
        let mut m = Model::new(plan);
        for (i, op) in ops.iter().enumerate() {
            step(&mut net, &mut m, op).map_err(|e| TestCaseError::fail(format!("step {i} {op:?}: {e}")))?;
            check(&net, &m).map_err(|e| TestCaseError::fail(format!("after step {i} {op:?}: {e}")))?;
        }
    }
}

// ---------------------------------------------------------------- threads

#[test]
fn rollup_is_identical_with_1_and_4_threads() {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(2026);
    let mut net = Network::default();
    let n = 40_000usize;
    let rows: Vec<NewPartner> = (0..n)
        .map(|i| {
            let sponsor = match i {
                0..=2 => String::new(),
                _ if rng.gen_bool(0.7) => format!("d{}", rng.gen_range(0..=i / 4)),
                _ => format!("d{}", rng.gen_range(i - 3..i)),
            };
            NewPartner::parse(&format!("d{i}"), &sponsor, DAY, "").unwrap()
        })
        .collect();
    net.import(&rows).unwrap();
    let periods = [Period::parse("period", "2026-03").unwrap(), Period::parse("period", "2026-04").unwrap()];
    for i in 0..n + n / 2 {
        let (p, per) = (rng.gen_range(0..n), periods[rng.gen_range(0..2)].to_string());
        let units = rng.gen_range(-20..=120) * 2500;
        let req = request(&format!("o{i}"), &format!("d{p}"), &per, &volume_text(units), KINDS[rng.gen_range(0..3)]);
        net.record_order(&req).unwrap();
    }
    for _ in 0..n / 50 {
        let (a, b) = (format!("d{}", rng.gen_range(0..n)), format!("d{}", rng.gen_range(0..n)));
        let _ = match rng.gen_range(0..4) {
            0 => net.set_status(&a, PartnerStatus::Terminated, Audit::default()),
            1 => net.set_status(&a, PartnerStatus::Suspended, Audit::default()),
            _ => net.move_partner(&a, &b, Audit::default()),
        };
    }
    // Some depth must hold more sponsors than one rayon task takes (4096).
    let live: Vec<PartnerIx> = (0..n as u32)
        .map(PartnerIx::new)
        .filter(|&x| net.genealogy.status_of(x) != PartnerStatus::Terminated)
        .collect();
    let mut width = vec![0usize; 1 + live.iter().map(|&x| net.genealogy.depth_of(x) as usize).max().unwrap()];
    live.iter().for_each(|&x| width[net.genealogy.depth_of(x) as usize] += 1);
    assert!(width.iter().filter(|&&w| w > 4096).count() >= 2, "widths {width:?}");

    let views = |net: &Network| -> Vec<VolumeView> {
        let ids = live.iter().map(|&x| net.genealogy.id(x));
        ids.flat_map(|id| periods.map(|p| net.volumes(id, &p.to_string()).unwrap())).collect()
    };
    let live_views = views(&net);
    let mut results = Vec::new();
    for threads in [1, 4] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let result = pool.install(|| {
            periods.map(|p| {
                let report = net.recalc_snapshot(p).unwrap().run(&AtomicU64::new(0));
                assert_eq!(report.differences, 0, "{threads} threads: {:?}", report.first_difference);
                let (pv, rv) = personal_volumes(&net.genealogy, &net.orders, p);
                // Timings differ from run to run; the findings must not.
                let findings = (report.partners, report.differences, report.first_difference);
                (findings, RollupInput::capture(&net.genealogy, &net.plan, &pv, &rv).compute(&AtomicU64::new(0)))
            })
        });
        pool.install(|| net.rebuild_periods()).unwrap();
        assert!(views(&net) == live_views, "{threads} threads: rebuilt volumes differ from the live ones");
        results.push(result);
    }
    assert!(results[0] == results[1], "1 and 4 threads disagree");
    eprintln!("determinism: {} live partners, widths {width:?}, {:?}", live.len(), started.elapsed());
}

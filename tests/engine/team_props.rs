//! Property tests of team support (`Network` mentors, training and team
//! progress) against a plain, deliberately naive model.
//!
//! What they prove: for random sequences of creations (joining days over
//! three months), orders in two periods, moves (cycles refused), status
//! changes and terminations, a closed period, training modules (created,
//! repeated, updated), completions (repeats, conflicting days, unknown
//! modules, days before joining or in the future) and mentor assignments
//! (self, outside the upline, the sponsor, roots, terminated partners;
//! mostly from the upline, and mentors get terminated on purpose),
//! under random plans (1..=4 levels, min_active_pv 0 or 50):
//! - every write answers what the model predicts (result or error kind);
//! - the team layout is rebuilt at random steps (as at start-up), so the
//!   counts run over its ranges, over partners whose recruits changed since
//!   and over partners created since, in every mix;
//! - after every step, for every partner, every period (with orders, without
//!   any, closed) and max_level (the plan's, and 1), `team_progress` equals a
//!   recomputation that walks up from every partner of the model (in half
//!   the cases the model's modules are the 30th to 33rd, so completions go
//!   through both the per-partner summary and the lists);
//! - every live partner's mentor is the model's (an assignment survives only
//!   while its mentor is live, strictly above, and not the sponsor, which the
//!   model re-checks globally after every write), every mentor's mentees,
//!   listed two per page, are the model's, and the mentor invariants hold.

use crate::support::{expected_status_change, kind_of, plan, FP, U};
use downline::engine::*;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::HashMap;

const PERIODS: [&str; 3] = ["2026-01", "2026-02", "2026-03"];
const MAX_PARTNERS: usize = 25;
const MAX_MODULES: usize = 4;
const STATUSES: [PartnerStatus; 3] = [PartnerStatus::Enrolled, PartnerStatus::Suspended, PartnerStatus::Terminated];

fn day(month: u32, d: u32) -> Date {
    Date::from_ymd(2026, month, d).unwrap()
}

/// 2026-03-15: completions after 2026-03-16 are in the future.
fn today() -> Date {
    day(3, 15)
}

#[derive(Clone, Debug)]
enum Op {
    /// Sponsor (none: a root; one of the last three partners when the flag
    /// is set, for deep trees), joining month 1..=3 and day.
    Create(Option<(bool, Index)>, u32, u32),
    /// Partner, period 0..2 (never 2026-03), volume in quarters of 25.00.
    Order(Index, usize, i64),
    Move(Index, Index),
    SetStatus(Index, usize),
    /// A module: create the next (0 to 2), repeat one (3), conflict with one
    /// (4), or update one (5).
    Module(u8, Index),
    /// Partner, module (possibly unknown), day offset from 2025-12-20.
    Complete(Index, usize, i32),
    /// Partner, mentor (from the partner's upline when the flag is set,
    /// else any partner).
    Assign(Index, Index, bool),
    /// Terminates a partner that mentors someone by assignment.
    TerminateMentor(Index),
    /// Close period 0 or 1.
    Close(usize),
    /// Lay the genealogy out for GetTeamProgress again (as at start-up), so
    /// the steps after it count ranges of the layout, relinked partners and
    /// partners created since.
    Relayout,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (option::weighted(0.85, (any::<bool>(), any::<Index>())), 1u32..=3, 1u32..=28)
            .prop_map(|(s, m, d)| Op::Create(s, m, d)),
        4 => (any::<Index>(), 0usize..2, -4i64..=12).prop_map(|(p, per, q)| Op::Order(p, per, q)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Op::Move(a, b)),
        2 => (any::<Index>(), 0usize..3).prop_map(|(a, s)| Op::SetStatus(a, s)),
        3 => (0u8..6, any::<Index>()).prop_map(|(k, i)| Op::Module(k, i)),
        5 => (any::<Index>(), 0usize..=MAX_MODULES, 0i32..115).prop_map(|(p, m, d)| Op::Complete(p, m, d)),
        5 => (any::<Index>(), any::<Index>(), any::<bool>()).prop_map(|(a, b, up)| Op::Assign(a, b, up)),
        1 => any::<Index>().prop_map(Op::TerminateMentor),
        1 => (0usize..2).prop_map(Op::Close),
        3 => Just(Op::Relayout),
    ]
}

struct MPartner {
    id: String,
    sponsor: Option<usize>,
    status: PartnerStatus,
    joined: Date,
}

/// Partners, PV per period, modules (by title version), completions and
/// mentor assignments; nothing derived is kept.
struct Model {
    plan: VolumePlan,
    ps: Vec<MPartner>,
    pv: Vec<[i64; 2]>,
    has_orders: [bool; 2],
    closed: [bool; 2],
    modules: Vec<u32>,
    /// Modules created before the model's own (never completed): with 29,
    /// the model's modules straddle the 31 modules of `CompletionSummary`.
    unused: usize,
    completions: HashMap<(usize, usize), Date>,
    mentors: HashMap<usize, usize>,
    orders: u32,
}

impl Model {
    fn live(&self, i: usize) -> bool {
        self.ps[i].status != PartnerStatus::Terminated
    }

    /// The number of sponsor steps from `top` down to `x`, if `top` is above `x`.
    fn steps_below(&self, top: usize, x: usize) -> Option<usize> {
        let (mut node, mut steps) = (self.ps[x].sponsor, 1);
        while let Some(n) = node {
            if n == top {
                return Some(steps);
            }
            node = self.ps[n].sponsor;
            steps += 1;
        }
        None
    }

    /// Drops every assignment that is no longer valid (the rule, checked globally).
    fn revalidate(&mut self) {
        let keep: Vec<(usize, usize)> = self
            .mentors
            .iter()
            .map(|(&x, &m)| (x, m))
            .filter(|&(x, m)| {
                self.live(x) && self.live(m) && self.ps[x].sponsor != Some(m) && self.steps_below(m, x).is_some()
            })
            .collect();
        self.mentors = keep.into_iter().collect();
    }

    fn mentor_of(&self, x: usize) -> Option<usize> {
        self.mentors.get(&x).copied().or(self.ps[x].sponsor)
    }

    fn module(&self, k: usize) -> TrainingModule {
        let version = self.modules[k];
        let title = format!("Module {k} v{version}");
        TrainingModule::parse(&format!("m{k}"), &title, &format!("https://learn.example/m{k}"), "").unwrap()
    }

    /// The team progress of `p`, by walking up from every partner.
    fn progress(&self, p: usize, per: usize, max_level: usize) -> TeamProgress {
        let period = Period::parse("period", PERIODS[per]).unwrap();
        let has_orders = per < 2 && self.has_orders[per];
        let empty =
            LevelProgress { completions: vec![0; self.unused + self.modules.len()], ..LevelProgress::default() };
        let (mut levels, mut totals) = (vec![empty.clone(); max_level], empty);
        let last_day = [day(1, 31), day(2, 28), day(3, 31)][per];
        for d in (0..self.ps.len()).filter(|&d| self.live(d)) {
            let Some(k) = self.steps_below(p, d).filter(|&k| k <= max_level) else { continue };
            let active = has_orders
                && self.ps[d].status == PartnerStatus::Enrolled
                && self.pv[d][per] >= self.plan.min_active_pv_units;
            let (y, m, _) = self.ps[d].joined.ymd();
            let joined = y == 2026 && m as usize == per + 1;
            for level in [&mut levels[k - 1], &mut totals] {
                level.partners += 1;
                level.active += u64::from(active);
                level.joined += u64::from(joined);
                for (module, count) in level.completions[self.unused..].iter_mut().enumerate() {
                    *count += u64::from(self.completions.get(&(d, module)).is_some_and(|&c| c <= last_day));
                }
            }
        }
        let plan_levels = self.plan.levels;
        TeamProgress { period, max_level, plan_levels, period_has_orders: has_orders, levels, totals }
    }
}

/// Applies one op to the engine and the model; the engine must answer what
/// the model predicts.
#[allow(clippy::too_many_lines)] // one arm per op of the model, each short: splitting it would scatter the model
fn step(net: &mut Network, m: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let n = m.ps.len();
    let pick = |i: &Index| i.index(n.max(1));
    match op {
        Op::Create(sponsor, month, d) => {
            if n == MAX_PARTNERS {
                return Ok(());
            }
            let sponsor = sponsor
                .filter(|_| n > 0)
                .map(|(recent, s)| if recent { n - 1 - s.index(n.min(3)) } else { s.index(n) });
            let id = format!("p{n}");
            let joined = day(*month, *d);
            let sponsor_id = sponsor.map_or(String::new(), |s| m.ps[s].id.clone());
            let new = NewPartner::parse(&id, &sponsor_id, &joined.to_string(), "").unwrap();
            let expected: Result<(), &str> = if sponsor.is_some_and(|s| !m.live(s)) { Err(FP) } else { Ok(()) };
            prop_assert_eq!(net.create_partner(&new, Audit::default()).map(drop).map_err(kind_of), expected);
            if expected.is_ok() {
                m.ps.push(MPartner { id, sponsor, status: PartnerStatus::Enrolled, joined });
                m.pv.push([0, 0]);
            }
        }
        Op::Order(p, per, quarters) if n > 0 => {
            let p = pick(p);
            m.orders += 1;
            let units = quarters * 25 * U;
            let volume = format!("{}.00", units / U);
            let req = OrderRequest {
                order_id: format!("o{}", m.orders),
                partner_id: m.ps[p].id.clone(),
                period: PERIODS[*per].into(),
                volume,
                kind: OrderKind::SelfPurchase,
                book_into_period: None,
            };
            let expected = if !m.live(p) || m.closed[*per] { Err(FP) } else { Ok(()) };
            prop_assert_eq!(net.record_order(&req).map(drop).map_err(kind_of), expected, "order");
            if expected.is_ok() {
                m.pv[p][*per] += units;
                m.has_orders[*per] = true;
            }
        }
        Op::Move(a, b) if n > 0 => {
            let (x, y) = (pick(a), pick(b));
            let cycle = x == y || m.steps_below(x, y).is_some();
            let expected = if !m.live(x) || !m.live(y) || cycle { Err(FP) } else { Ok(m.ps[x].sponsor != Some(y)) };
            let got = net.move_partner(&m.ps[x].id.clone(), &m.ps[y].id.clone(), Audit::default());
            prop_assert_eq!(got.map(|o| o.change.is_some()).map_err(kind_of), expected, "move");
            if expected == Ok(true) {
                m.ps[x].sponsor = Some(y);
            }
        }
        Op::SetStatus(a, s) if n > 0 => set_status(net, m, pick(a), STATUSES[*s])?,
        Op::TerminateMentor(i) => {
            let mut mentors: Vec<usize> = m.mentors.values().copied().collect();
            mentors.sort_unstable();
            mentors.dedup();
            if !mentors.is_empty() {
                set_status(net, m, mentors[i.index(mentors.len())], PartnerStatus::Terminated)?;
            }
        }
        Op::Module(kind, i) => {
            let k = i.index(m.modules.len().max(1));
            let unused = m.unused;
            let ordinal = |k: usize| (unused + k) as u32;
            match kind {
                0..=2 if m.modules.len() < MAX_MODULES => {
                    m.modules.push(0);
                    let got = net.create_module(m.module(m.modules.len() - 1)).map(|(o, c)| (o, c.is_some()));
                    prop_assert_eq!(got.map_err(kind_of), Ok((ordinal(m.modules.len() - 1), true)), "new module");
                }
                3 if !m.modules.is_empty() => {
                    let got = net.create_module(m.module(k)).map(|(o, c)| (o, c.is_some()));
                    prop_assert_eq!(got.map_err(kind_of), Ok((ordinal(k), false)), "repeated module");
                }
                4 if !m.modules.is_empty() => {
                    let other = TrainingModule { title: "Other".into(), ..m.module(k) };
                    prop_assert_eq!(net.create_module(other).map(drop).map_err(kind_of), Err("AlreadyExists"));
                }
                5 if !m.modules.is_empty() => {
                    m.modules[k] += 1;
                    let update = ModuleUpdate { title: Some(m.module(k).title), ..ModuleUpdate::default() };
                    let got = net.update_module(&format!("m{k}"), &update).map(|(o, c)| (o, c.is_some()));
                    prop_assert_eq!(got.map_err(kind_of), Ok((ordinal(k), true)), "updated module");
                }
                _ => {}
            }
        }
        Op::Complete(p, module, offset) if n > 0 => {
            let p = pick(p);
            let on = Date::from_days(day(1, 1).days() - 12 + offset);
            let stored = m.completions.get(&(p, *module)).copied();
            let expected = if on.days() > today().days() + 1 {
                Err("InvalidArgument")
            } else if *module >= m.modules.len() {
                Err("NotFound")
            } else if let Some(s) = stored {
                if s == on {
                    Ok(CompletionOutcome::Repeated)
                } else {
                    Err("AlreadyExists")
                }
            } else if !m.live(p) || on < m.ps[p].joined {
                Err(FP)
            } else {
                Ok(CompletionOutcome::New)
            };
            let got = net.record_completion(&m.ps[p].id.clone(), &format!("m{module}"), &on.to_string(), today());
            prop_assert_eq!(got.map(|(_, o, _)| o).map_err(kind_of), expected, "completion of m{} on {}", module, on);
            if expected == Ok(CompletionOutcome::New) {
                m.completions.insert((p, *module), on);
            }
        }
        Op::Assign(a, b, from_upline) if n > 0 => {
            let x = pick(a);
            let upline: Vec<usize> = (0..n).filter(|&u| m.steps_below(u, x).is_some()).collect();
            let y = if *from_upline && !upline.is_empty() { upline[b.index(upline.len())] } else { pick(b) };
            let expected = if x == y {
                Err("InvalidArgument")
            } else if !m.live(x) || !m.live(y) || m.ps[x].sponsor.is_none() || m.steps_below(y, x).is_none() {
                Err(FP)
            } else {
                let wanted = (m.ps[x].sponsor != Some(y)).then_some(y);
                Ok(m.mentors.get(&x).copied() != wanted)
            };
            let got = net.assign_mentor(&m.ps[x].id.clone(), &m.ps[y].id.clone(), Audit::default());
            prop_assert_eq!(got.map(|(_, c)| c.is_some()).map_err(kind_of), expected, "assign");
            if expected == Ok(true) {
                m.mentors.remove(&x);
                if m.ps[x].sponsor != Some(y) {
                    m.mentors.insert(x, y);
                }
            }
        }
        Op::Close(per) => {
            let expected = if m.has_orders[*per] { Ok(()) } else { Err("NotFound") };
            let got = net.close_period(Period::parse("period", PERIODS[*per]).unwrap(), None);
            prop_assert_eq!(got.map(drop).map_err(kind_of), expected, "close");
            m.closed[*per] |= expected.is_ok();
        }
        Op::Relayout => {
            net.rebuild_team_layout();
            let (laid_out, relinked, created) = net.team_layout().counts(&net.genealogy);
            let live = (0..n).filter(|&x| m.live(x)).count();
            prop_assert_eq!((laid_out, relinked, created), (live, 0, 0), "a fresh layout");
        }
        Op::Order(..) | Op::Move(..) | Op::SetStatus(..) | Op::Complete(..) | Op::Assign(..) => {}
    }
    m.revalidate();
    Ok(())
}

/// Sets a partner's status in the engine and the model.
fn set_status(net: &mut Network, m: &mut Model, x: usize, status: PartnerStatus) -> Result<(), TestCaseError> {
    let recruits: Vec<usize> = (0..m.ps.len()).filter(|&c| m.live(c) && m.ps[c].sponsor == Some(x)).collect();
    let (root, has_recruits) = (m.ps[x].sponsor.is_none(), !recruits.is_empty());
    let expected = expected_status_change(m.live(x), m.ps[x].status, status, root, has_recruits);
    let got = net.set_status(&m.ps[x].id.clone(), status, Audit::default());
    prop_assert_eq!(got.map(|o| o.change.is_some()).map_err(kind_of), expected, "status");
    if expected == Ok(true) {
        if status == PartnerStatus::Terminated {
            recruits.iter().for_each(|&c| m.ps[c].sponsor = m.ps[x].sponsor);
            m.pv[x] = [0, 0];
        }
        m.ps[x].status = status;
    }
    Ok(())
}

/// Every partner's team progress and mentor equal the model's.
fn check(net: &Network, m: &Model) -> Result<(), TestCaseError> {
    let g = &net.genealogy;
    net.team.check_invariants(g).map_err(TestCaseError::fail)?;
    prop_assert!(net.team_layout_is_in_step(), "every write told the team layout what it changed");
    for p in 0..m.ps.len() {
        let id = &m.ps[p].id;
        prop_assert_eq!(g.find(id), Some(PartnerIx::new(p as u32)));
        for (per, period) in PERIODS.into_iter().enumerate() {
            for max_level in [0, 1] {
                let got = net.team_progress(id, period, max_level as u32).map_err(kind_of);
                let expected = if !m.live(p) || (per < 2 && m.closed[per]) {
                    Err(FP)
                } else {
                    Ok(m.progress(p, per, if max_level == 0 { m.plan.levels } else { 1 }))
                };
                prop_assert_eq!(got, expected, "progress of {} in {} to level {}", id, period, max_level);
            }
        }
        if !m.live(p) {
            prop_assert_eq!(net.mentor(id).map(drop).map_err(kind_of), Err(FP));
            continue;
        }
        let view = net.mentor(id).unwrap();
        prop_assert_eq!(
            view.mentor_ix,
            m.mentor_of(p).map_or(PartnerIx::NONE, |s| PartnerIx::new(s as u32)),
            "mentor of {}",
            id
        );
        let source = match (m.mentors.contains_key(&p), m.ps[p].sponsor) {
            (true, _) => MentorSource::Assigned,
            (false, Some(_)) => MentorSource::Sponsor,
            (false, None) => MentorSource::None,
        };
        prop_assert_eq!(view.source, source);
        let expected: Vec<u32> =
            (0..m.ps.len()).filter(|&y| m.live(y) && m.mentor_of(y) == Some(p)).map(|y| y as u32).collect();
        let (mut listed, mut cursor) = (Vec::new(), None);
        loop {
            let page = net.mentees(PartnerIx::new(p as u32), cursor, 2);
            prop_assert!(page.mentees.len() <= 2);
            listed.extend(page.mentees.iter().map(|ix| ix.get()));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        prop_assert_eq!(listed, expected, "mentees of {}", id);
    }
    Ok(())
}

proptest! {
    // 256 cases (proptest's default; PROPTEST_CASES overrides it).
    #[test]
    fn team_support_equals_a_naive_recomputation(
        plan in plan(),
        unused in prop_oneof![Just(0usize), Just(29)],
        ops in prop::collection::vec(op(), 1..=60),
    ) {
        let mut net = Network::default();
        net.plan = plan;
        for k in 0..unused {
            let module = TrainingModule::parse(&format!("unused{k}"), "Unused", "https://learn.example/u", "").unwrap();
            net.create_module(module).unwrap();
        }
        let mut m = Model {
            plan,
            ps: Vec::new(),
            pv: Vec::new(),
            has_orders: [false; 2],
            closed: [false; 2],
            modules: Vec::new(),
            unused,
            completions: HashMap::new(),
            mentors: HashMap::new(),
            orders: 0,
        };
        for (i, op) in ops.iter().enumerate() {
            step(&mut net, &mut m, op).map_err(|e| TestCaseError::fail(format!("step {i} {op:?}: {e}")))?;
            check(&net, &m).map_err(|e| TestCaseError::fail(format!("after step {i} {op:?}: {e}")))?;
        }
    }
}

//! Property tests of the genealogy engine against a deliberately plain model:
//! a `Vec` of partners with a sponsor index and a status, from which every
//! depth, count and listing is recomputed naively at every step. They prove:
//! - random creations, moves, status changes and imports (rows shuffled; with
//!   cycles, unknown or terminated sponsors, taken ids, roots with recruits
//!   terminated) get the model's answer or error (variant and field), keep
//!   `check_invariants` green and every partner's view equal to the model's;
//!   a refused write changes nothing, a change set names every changed record;
//! - `downline_page`s chained by their (valid) cursors are the model's
//!   breadth-first listing, with levels;
//! - `GenealogyLoader` rebuilds an identical genealogy from the `record`s;
//! - a chain of 1,000,000 partners imported deepest first has the right depths
//!   and counts, pages in linear time, and survives a move and a termination.

use crate::genealogy_model::{kind, MResult, Model};
use downline::engine::DownlineCursor;
use downline::engine::{
    Audit, Date, EngineResult, Genealogy, GenealogyLoader, NewPartner, PartnerIx, PartnerRange, PartnerRecord,
    PartnerStatus, PartnerView, WriteOutcome,
};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::time::Instant;

#[derive(Clone, Debug)]
enum Target {
    Root,
    Pick(usize),
    /// `who` itself or someone in its downline (a cycle for a move).
    Below(usize),
    Unknown,
}

#[derive(Clone, Debug)]
enum RowSpec {
    New(Target),
    /// Sponsored by an earlier row of the batch (before shuffling): no cycle.
    UnderEarlier(usize),
    /// Sponsored by any row, itself included: maybe a cycle.
    UnderAny(usize),
    /// Repeats an existing partner exactly (unchanged, or taken if terminated).
    RepeatExisting(usize),
    /// Repeats an earlier row, exactly or with another date.
    RepeatRow(usize, bool),
}

#[derive(Clone, Debug)]
enum Op {
    Create { sponsor: Target, retry: Option<(usize, bool)> },
    Move { who: Option<usize>, to: Target },
    SetStatus { who: Option<usize>, status: PartnerStatus },
    Import { rows: Vec<RowSpec>, perm: Vec<usize> },
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        1 => Just(Target::Root),
        6 => any::<usize>().prop_map(Target::Pick),
        2 => any::<usize>().prop_map(Target::Below),
        1 => Just(Target::Unknown),
    ]
}

fn row_spec() -> impl Strategy<Value = RowSpec> {
    prop_oneof![
        4 => target().prop_map(RowSpec::New),
        5 => any::<usize>().prop_map(RowSpec::UnderEarlier),
        1 => any::<usize>().prop_map(RowSpec::UnderAny),
        1 => any::<usize>().prop_map(RowSpec::RepeatExisting),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(k, same)| RowSpec::RepeatRow(k, same)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let status =
        prop_oneof![Just(PartnerStatus::Enrolled), Just(PartnerStatus::Suspended), Just(PartnerStatus::Terminated)];
    let who = prop::option::weighted(0.95, any::<usize>());
    let rows = prop::collection::vec(row_spec(), 1..=6).prop_flat_map(|rows| {
        let perm: Vec<usize> = (0..rows.len()).collect();
        (Just(rows), Just(perm).prop_shuffle())
    });
    prop_oneof![
        4 => (target(), prop::option::weighted(0.15, (any::<usize>(), any::<bool>())))
            .prop_map(|(sponsor, retry)| Op::Create { sponsor, retry }),
        3 => (who.clone(), target()).prop_map(|(who, to)| Op::Move { who, to }),
        2 => (who, status).prop_map(|(who, status)| Op::SetStatus { who, status }),
        2 => rows.prop_map(|(rows, perm)| Op::Import { rows, perm }),
    ]
}

/// The partner id a target names (`who`: the partner a `Below` is relative to).
fn resolve(m: &Model, t: &Target, who: Option<usize>) -> String {
    let n = m.ps.len();
    match (t, who) {
        (Target::Root, _) => String::new(),
        (Target::Unknown, _) => "nobody".into(),
        _ if n == 0 => String::new(),
        (Target::Below(k), Some(w)) => {
            let below = m.self_and_downline(w);
            m.ps[below[k % below.len()]].row.partner_id.clone()
        }
        (Target::Pick(k) | Target::Below(k), _) => m.ps[k % n].row.partner_id.clone(),
    }
}

fn import_rows(m: &mut Model, specs: &[RowSpec], perm: &[usize]) -> Vec<NewPartner> {
    let n = m.ps.len();
    let mut rows: Vec<NewPartner> = Vec::with_capacity(specs.len());
    for (k, spec) in specs.iter().enumerate() {
        let row = match spec {
            RowSpec::New(t) => {
                let sponsor = resolve(m, t, None);
                m.fresh(sponsor)
            }
            RowSpec::RepeatExisting(j) if n > 0 => m.same_row(j % n),
            RowSpec::RepeatRow(j, same) if k > 0 => {
                let mut row = rows[j % k].clone();
                if !same {
                    row.joined_on = Date::from_days(row.joined_on.days() + 1);
                }
                row
            }
            RowSpec::UnderEarlier(j) if k > 0 => m.fresh(rows[j % k].partner_id.clone()),
            _ => m.fresh(String::new()),
        };
        rows.push(row);
    }
    // UnderAny rows point at any row, so they are resolved once every id is known.
    for (k, spec) in specs.iter().enumerate() {
        if let RowSpec::UnderAny(j) = spec {
            rows[k].sponsor_id = rows[j % specs.len()].partner_id.clone();
        }
    }
    perm.iter().map(|&k| rows[k].clone()).collect()
}

/// Everything observable about the genealogy, to prove a refused write changed nothing.
fn snapshot(g: &Genealogy) -> (u64, Vec<(PartnerView, [PartnerIx; 5])>) {
    let links =
        |i| [g.sponsor_of(i), g.first_child_of(i), g.last_child_of(i), g.next_sibling_of(i), g.prev_sibling_of(i)];
    (g.structure_version(), (0..g.len() as u32).map(PartnerIx::new).map(|i| (g.view(i), links(i))).collect())
}

fn check_against_model(g: &Genealogy, m: &Model) {
    g.check_invariants().unwrap();
    assert_eq!(g.len(), m.ps.len());
    for i in 0..m.ps.len() {
        let ix = PartnerIx::new(i as u32);
        assert_eq!(g.view(ix), m.view(i), "partner {i}");
        assert_eq!(g.find(&m.ps[i].row.partner_id), Some(ix));
        let upline: Vec<PartnerIx> = m.ancestors(i).iter().map(|&a| PartnerIx::new(a as u32)).collect();
        assert_eq!(g.upline(ix, usize::MAX), upline, "upline of {i}");
    }
}

/// A single write's result as (partner, 0, changed). Its change set must name
/// every partner whose stored record changed: the store persists only those.
fn written(res: EngineResult<WriteOutcome>, g: &Genealogy, before: &[PartnerRecord]) -> MResult<(u32, u32, u64)> {
    let out = res.map_err(|e| kind(&e))?;
    let (n, len) = (before.len() as u32, g.len() as u32);
    let changed: Vec<u32> = (0..n).filter(|&ix| g.record(PartnerIx::new(ix)) != before[ix as usize]).collect();
    match &out.change {
        None => assert!(changed.is_empty() && len == n, "a write without change set changed {changed:?}"),
        Some(change) => {
            assert!(
                change.created.iter().map(PartnerIx::get).eq(n..len),
                "created {:?}, new partners {n}..{len}",
                change.created
            );
            assert!(
                changed.iter().all(|&ix| change.touched.contains(&PartnerIx::new(ix))),
                "touched {:?}, changed {changed:?}",
                change.touched
            );
            assert!(change.events.iter().all(|e| g.id(e.partner_ix) == e.partner_id), "{:?}", change.events);
        }
    }
    Ok((out.ix.get(), 0, u64::from(out.change.is_some())))
}

const MAX_PARTNERS: usize = 40;

/// Applies one op to engine and model; both must agree, and a refusal must change nothing.
fn step(g: &mut Genealogy, m: &mut Model, op: &Op) {
    let n = m.ps.len();
    let before = snapshot(g);
    let records: Vec<PartnerRecord> = (0..g.len() as u32).map(|ix| g.record(PartnerIx::new(ix))).collect();
    let who_id =
        |who: &Option<usize>| who.filter(|_| n > 0).map_or("nobody".into(), |k| m.ps[k % n].row.partner_id.clone());
    let one = |r: MResult<(usize, bool)>| r.map(|(i, changed)| (i as u32, 0, u64::from(changed)));
    let (got, want, bumps) = match op {
        Op::Create { .. } | Op::Import { .. } if n >= MAX_PARTNERS => return,
        Op::Create { sponsor, retry } => {
            let sponsor_id = resolve(m, sponsor, None);
            let mut new = m.fresh(sponsor_id);
            if let Some((k, same)) = retry.filter(|_| n > 0) {
                let taken = m.same_row(k % n);
                new = if same { taken } else { NewPartner { partner_id: taken.partner_id, ..new } };
            }
            let got = written(g.create_partner(&new, Audit::default()), g, &records);
            (got, one(m.create(&new)), false)
        }
        Op::Move { who, to } => {
            let partner_id = who_id(who);
            let to = resolve(m, to, m.find(&partner_id));
            let got = written(g.move_partner(&partner_id, &to, Audit::default()), g, &records);
            (got, one(m.move_to(&partner_id, &to)), true)
        }
        Op::SetStatus { who, status } => {
            let partner_id = who_id(who);
            let got = written(g.set_status(&partner_id, *status, Audit::default()), g, &records);
            (got, one(m.set_status(&partner_id, *status)), *status == PartnerStatus::Terminated)
        }
        Op::Import { rows, perm } => {
            let rows = import_rows(m, rows, perm);
            let got = g
                .import(&rows)
                .map(|o| (o.created.start().get(), o.created.end().get(), o.unchanged))
                .map_err(|e| kind(&e));
            (got, m.import(&rows).map(|(r, u)| (r.start, r.end, u)), false)
        }
    };
    assert_eq!(got, want, "{op:?}");
    match want {
        Err(_) => assert!(snapshot(g) == before, "refused {op:?} changed the genealogy"),
        Ok((_, _, changed)) => {
            let bump = u64::from(bumps && changed == 1);
            assert_eq!(g.structure_version(), before.0 + bump, "structure version after {op:?}");
        }
    }
    check_against_model(g, m);
}

fn run(ops: &[Op]) -> (Genealogy, Model) {
    let (mut g, mut m) = (Genealogy::new(), Model::default());
    for op in ops {
        step(&mut g, &mut m, op);
    }
    (g, m)
}

/// The whole listing, following `next` cursors; every `validate_every`-th
/// cursor must be valid (`cursor_is_valid` costs O(level)).
fn all_pages(g: &Genealogy, root: u32, max_depth: u32, page_size: usize, validate_every: usize) -> Vec<(u32, u32)> {
    let (mut out, mut cursor): (Vec<(u32, u32)>, Option<DownlineCursor>) = (Vec::new(), None);
    for page_no in 1..=g.len() + 2 {
        let page = g.downline_page(PartnerIx::new(root), max_depth, cursor, page_size);
        assert!(page.members.len() <= page_size);
        assert!(!page.members.is_empty() || cursor.is_none(), "an empty page after a cursor");
        out.extend(page.members.iter().map(|&(ix, level)| (ix.get(), level)));
        match page.next {
            None => return out,
            Some(c) => {
                assert_eq!(page.members.len(), page_size, "a short page before the end");
                assert!(
                    page_no % validate_every != 0 || g.cursor_is_valid(PartnerIx::new(root), &c),
                    "invalid cursor {c:?}"
                );
                cursor = Some(c);
            }
        }
    }
    panic!("the listing of {root} does not end")
}

proptest! {
    #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]

    #[test]
    fn writes_match_the_plain_model(ops in prop::collection::vec(op(), 1..=60)) {
        run(&ops);
    }

    #[test]
    fn downline_pages_are_the_breadth_first_listing(
        ops in prop::collection::vec(op(), 1..=60),
        queries in prop::collection::vec((any::<usize>(), prop_oneof![Just(0u32), 1..=5u32], 1..=7usize), 1..=8),
    ) {
        let (g, m) = run(&ops);
        prop_assume!(!m.ps.is_empty());
        for (root, max_depth, page_size) in queries {
            let root = root % m.ps.len();
            let got = all_pages(&g, root as u32, max_depth, page_size, 1);
            prop_assert_eq!(got, m.bfs(root, max_depth), "root {} max_depth {} page {}", root, max_depth, page_size);
        }
    }

    #[test]
    fn loader_rebuilds_the_same_genealogy(ops in prop::collection::vec(op(), 1..=60)) {
        let (g, _) = run(&ops);
        let mut loader = GenealogyLoader::with_capacity(g.len());
        for ix in 0..g.len() as u32 {
            let r = g.record(PartnerIx::new(ix));
            loader.push(r.ix, &r.partner_id, r.sponsor_ix, r.status, r.joined_on, &r.display_name).unwrap();
        }
        let loaded = loader.finish(g.structure_version()).unwrap();
        loaded.check_invariants().unwrap();
        prop_assert!(snapshot(&loaded) == snapshot(&g), "the loaded genealogy differs");
        for ix in 0..g.len() as u32 {
            prop_assert_eq!(loaded.record(PartnerIx::new(ix)), g.record(PartnerIx::new(ix)));
            prop_assert_eq!(all_pages(&loaded, ix, 0, 3, 1), all_pages(&g, ix, 0, 3, 1));
        }
    }
}

/// A chain of a million partners, imported deepest first.
#[test]
fn million_partner_chain() {
    const N: u32 = 1_000_000;
    let started = Instant::now();
    let day = Date::from_days(20_000);
    let rows: Vec<NewPartner> = (0..N)
        .rev()
        .map(|i| NewPartner {
            partner_id: format!("c{i}"),
            sponsor_id: if i == 0 { String::new() } else { format!("c{}", i - 1) },
            joined_on: day,
            display_name: String::new(),
        })
        .collect();
    let mut g = Genealogy::new();
    let out = g.import(&rows).unwrap();
    drop(rows);
    assert_eq!((out.created, out.unchanged), (PartnerRange::new(PartnerIx::new(0), PartnerIx::new(N)), 0));
    let imported = started.elapsed();
    let ix = |g: &Genealogy, i: u32| g.find(&format!("c{i}")).unwrap().get();
    // Breadth-first creation gives the chain its indices top-down.
    assert_eq!((ix(&g, 0), ix(&g, N / 2), ix(&g, N - 1)), (0, N / 2, N - 1));
    assert_eq!((g.depth_of(PartnerIx::new(N - 1)), g.downline_count_of(PartnerIx::new(0))), (N - 1, N - 1));
    g.check_invariants().unwrap();

    // 1,000 pages in O(page) each. Only every 100th cursor is validated:
    // `cursor_is_valid` climbs to the root, O(level), 13 s for all pages in debug.
    let paging = Instant::now();
    let listing = all_pages(&g, 0, 0, 1000, 100);
    let paging = paging.elapsed();
    assert_eq!(listing.len() as u32, N - 1);
    assert!(listing.iter().zip(1..).all(|(&m, i)| m == (i, i)), "the listing must be c1, c2, ... at levels 1, 2, ...");
    drop(listing);

    // Paging the root again after this move would take hours: with two deep
    // legs, finding the next partner of a level climbs O(depth) per partner.
    let (mid, quarter) = (N / 2, N / 4);
    g.move_partner(&format!("c{mid}"), "c0", Audit::default()).unwrap();
    assert_eq!((g.depth_of(PartnerIx::new(mid)), g.depth_of(PartnerIx::new(N - 1))), (1, N - 1 - mid + 1));
    assert_eq!(
        (
            g.view(PartnerIx::new(0)).frontline_count,
            g.downline_count_of(PartnerIx::new(0)),
            g.downline_count_of(PartnerIx::new(mid - 1))
        ),
        (2, N - 1, 0)
    );
    g.set_status(&format!("c{quarter}"), PartnerStatus::Terminated, Audit::default()).unwrap();
    assert_eq!(g.sponsor_of(PartnerIx::new(quarter + 1)), PartnerIx::new(quarter - 1));
    assert_eq!((g.depth_of(PartnerIx::new(quarter + 1)), g.depth_of(PartnerIx::new(mid - 1))), (quarter, mid - 2));
    assert_eq!(
        (g.downline_count_of(PartnerIx::new(0)), g.downline_count_of(PartnerIx::new(quarter - 1))),
        (N - 2, mid - quarter - 1)
    );
    g.check_invariants().unwrap();
    // The moved half is a chain again: its listing is linear too.
    let moved: Vec<(u32, u32)> = all_pages(&g, mid, 0, 1000, 100);
    assert_eq!(moved.len() as u32, N - 1 - mid);
    assert_eq!(moved.last(), Some(&(N - 1, N - 1 - mid)));
    eprintln!("million chain: import {imported:?}, paging {paging:?}, total {:?}", started.elapsed());
}

//! Copy-on-write snapshots (issue #16): a snapshot never changes, whatever
//! the live network writes after it, and one that no write touched costs
//! under 1 % of the network's memory.
//!
//! The network spans several chunks of every column (70,000 partners), so
//! the writes land in shared chunks on both sides of chunk boundaries.

use downline::engine::*;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

const PARTNERS: usize = 70_000;
const PERIOD: &str = "2026-11";
const NEW_PERIOD: &str = "2026-12";

fn network() -> Network {
    let mut net = Network::new(Default::default(), VolumePlan::default());
    net.import(&downline::synth::partners(PARTNERS, 7)).unwrap();
    for order in downline::synth::orders(PARTNERS, 7, PERIOD) {
        net.record_order(&order).unwrap();
    }
    net.create_module(module("m1")).unwrap();
    net.rebuild_team_layout();
    net
}

fn module(id: &str) -> TrainingModule {
    TrainingModule { module_id: id.into(), title: format!("Module {id}"), link: String::new(), rank: String::new() }
}

fn hash_of(value: impl std::fmt::Debug) -> u64 {
    let mut hasher = DefaultHasher::new();
    format!("{value:?}").hash(&mut hasher);
    hasher.finish()
}

/// What the network answers, one hash per domain (so a failure names it).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Fingerprint {
    partners: u64,
    orders: u64,
    volumes: u64,
    ranks: u64,
    mentors: u64,
    training: u64,
    team_progress: u64,
}

fn fingerprint(net: &Network) -> Fingerprint {
    let g = &net.genealogy;
    let n = g.len() as u32;
    let partners = hash_of((0..n).map(PartnerIx::new).map(|x| g.view(x)).collect::<Vec<_>>());
    let orders = hash_of((0..net.orders.len() as u32).map(|i| net.orders.get(i)).collect::<Vec<_>>());
    let periods = net.periods();
    let open: Vec<&volumes::PeriodVolumes> =
        periods.iter().filter(|p| !p.1).map(|p| net.period(p.0).unwrap()).collect();
    let views: Vec<Vec<VolumeView>> = open.iter().map(|v| (0..n).map(|x| v.view(g, &net.plan, x)).collect()).collect();
    let volumes = hash_of((&periods, views));
    let ranks = hash_of(
        open.iter()
            .map(|v| (0..n).map(|x| (v.ranks().rank_of(x), v.ranks().best_of(x), v.ranks().slots_of(x).to_vec())))
            .map(Vec::from_iter)
            .collect::<Vec<_>>(),
    );
    let mentors = hash_of((0..n).map(PartnerIx::new).map(|x| net.mentor(g.id(x)).ok()).collect::<Vec<_>>());
    let training = &net.team.training;
    let training = hash_of((
        training.modules(),
        (0..n).map(PartnerIx::new).map(|x| training.completions_of(x)).collect::<Vec<_>>(),
    ));
    let roots = ["1", "2", "3", "500", "69000"];
    let team_progress = hash_of(roots.map(|id| net.team_progress(id, PERIOD, 7).ok()));
    Fingerprint { partners, orders, volumes, ranks, mentors, training, team_progress }
}

/// Writes of every kind into the live network, on both sides of a chunk
/// boundary (16,384 is a multiple of every chunk size: 64 to 16,384 rows,
/// powers of two).
fn write_everything(net: &mut Network) {
    let audit = Audit::default;
    for (i, partner) in ["3", "16383", "16386", "69999"].into_iter().enumerate() {
        let order = OrderRequest {
            order_id: format!("after-{i}"),
            partner_id: partner.into(),
            period: if i == 0 { NEW_PERIOD.into() } else { PERIOD.into() },
            volume: "250.00".into(),
            kind: OrderKind::SelfPurchase,
            book_into_period: None,
        };
        net.record_order(&order).unwrap();
    }
    for (id, sponsor) in [("new-1", "2"), ("new-2", "65540"), ("new-3", "")] {
        net.create_partner(&NewPartner::parse(id, sponsor, "2026-11-02", "A Name").unwrap(), audit()).unwrap();
    }
    let leaf = (1..=PARTNERS).rev().map(|i| i.to_string()).find(|id| {
        let x = net.genealogy.find(id).unwrap();
        net.genealogy.frontline_count_of(x) == 0 && net.genealogy.sponsor_id_of(x) != "1"
    });
    net.move_partner(&leaf.unwrap(), "1", audit()).unwrap();
    net.set_status("65600", PartnerStatus::Suspended, audit()).unwrap();
    net.set_status("69998", PartnerStatus::Terminated, audit()).unwrap();
    let mentee = net.genealogy.find("65601").unwrap();
    let grand_sponsor = net.genealogy.upline(mentee, 2);
    if let [_, above] = grand_sponsor[..] {
        let above = net.genealogy.id(above).to_owned();
        net.assign_mentor("65601", &above, audit()).unwrap();
    }
    net.create_module(module("m2")).unwrap();
    let today = Date::from_ymd(2026, 11, 20).unwrap();
    net.record_completion("65602", "m1", "2026-11-03", today).unwrap();
    net.record_completion("4", "m2", "2026-11-04", today).unwrap();
}

#[test]
fn a_snapshot_never_changes_whatever_the_live_network_writes() {
    let mut net = network();
    let before = fingerprint(&net);
    let snapshot = net.snapshot();
    write_everything(&mut net);
    let live = fingerprint(&net);
    assert_eq!(fingerprint(&snapshot), before, "the snapshot is as the network was");
    // Every domain was written to, so the comparison above could fail.
    let pairs = [
        (live.partners, before.partners),
        (live.orders, before.orders),
        (live.volumes, before.volumes),
        (live.ranks, before.ranks),
        (live.mentors, before.mentors),
        (live.training, before.training),
        (live.team_progress, before.team_progress),
    ];
    for (i, (now, then)) in pairs.into_iter().enumerate() {
        assert_ne!(now, then, "domain {i} of {live:?} changed in the live network");
    }
    // Ids the live network created after the snapshot are unknown to it.
    assert_eq!(snapshot.genealogy.find("new-1"), None);
    assert!(net.genealogy.find("new-1").is_some());
    assert_eq!(snapshot.orders.find("after-1"), None);
    // And a second snapshot of the live network sees everything.
    assert_eq!(fingerprint(&net.snapshot()), live);
}

#[test]
fn an_untouched_snapshot_costs_under_one_percent_of_the_network() {
    let mut net = network();
    let alone = net.bytes();
    let snapshot = net.snapshot();
    let cost = snapshot.bytes();
    assert_eq!(alone.shared_bytes, 0, "nothing is shared before a snapshot");
    assert!(cost.owned_bytes * 100 < alone.owned_bytes, "{cost:?} of {alone:?}");
    // An order copies the chunks its walk touches, not the network: the
    // genealogy and the other chunks stay shared.
    let order = OrderRequest {
        order_id: "after".into(),
        partner_id: "3".into(),
        period: PERIOD.into(),
        volume: "250.00".into(),
        kind: OrderKind::SelfPurchase,
        book_into_period: None,
    };
    net.record_order(&order).unwrap();
    let after = net.bytes();
    assert!(after.owned_bytes < after.shared_bytes, "{after:?}");
    drop(snapshot);
    assert_eq!(net.bytes().shared_bytes, 0, "every chunk is the network's alone again");
}

fn an_order(id: &str, partner: &str) -> OrderRequest {
    OrderRequest {
        order_id: id.into(),
        partner_id: partner.into(),
        period: PERIOD.into(),
        volume: "250.00".into(),
        kind: OrderKind::SelfPurchase,
        book_into_period: None,
    }
}

/// Bytes the live network copies for `snapshot`'s sake when it records an
/// order of a deep partner (its upline walk touches many chunks).
fn bytes_an_order_copies(net: &mut Network, snapshot: &Network, id: &str) -> usize {
    let deep = (1..=PARTNERS).rev().map(|i| i.to_string()).max_by_key(|id| {
        let x = net.genealogy.find(id).unwrap();
        net.genealogy.upline(x, 64).len()
    });
    let before = net.bytes().shared_bytes;
    net.record_order(&an_order(id, &deep.unwrap())).unwrap();
    let copied = before - net.bytes().shared_bytes;
    assert!(snapshot.genealogy.len() == PARTNERS);
    copied
}

#[test]
fn an_inputs_snapshot_gives_the_same_run_and_spares_the_writes_the_upline_copies() {
    let mut net = network();
    let full = net.snapshot();
    let inputs = net.inputs_snapshot(None);
    let run = |snapshot: &Network| snapshot.commission_snapshot(PERIOD).unwrap().run(&RunProgress::default());
    let (by_full, by_inputs) = (run(&full), run(&inputs));
    assert_eq!(by_inputs.totals, by_full.totals);
    assert!(by_full.totals.payable_cents > 0, "the run pays someone, so the comparison could fail");
    let payables = |r: &RunResult| (0..r.partners()).map(|pos| r.payable_at(pos)).collect::<Vec<_>>();
    assert_eq!(payables(&by_inputs), payables(&by_full));
    drop(full);
    // With only the inputs shared, an order copies a chunk of PV and RV
    // and the order book's last chunks, not the GV, level and rank chunks
    // of its whole upline.
    let spared = bytes_an_order_copies(&mut net, &inputs, "spared");
    drop(inputs);
    let full = net.snapshot();
    let copied = bytes_an_order_copies(&mut net, &full, "copied");
    assert!(spared * 4 < copied, "an order copied {spared} bytes for an inputs snapshot, {copied} for a full one");
}

#[test]
fn a_recalculation_on_an_unshared_snapshot_finds_the_live_figures_and_shares_nothing_with_them() {
    let mut net = network();
    let period = Period::parse("period", PERIOD).unwrap();
    let mut snapshot = net.inputs_snapshot(Some(period));
    snapshot.unshare_period(period);
    assert_eq!(net.period(period).unwrap().bytes().shared_bytes, 0, "the live period shares no chunk");
    // Writes after the unshare do not reach the snapshot's copy.
    net.record_order(&an_order("later", "3")).unwrap();
    let report = snapshot.recalc_snapshot(period).unwrap().run(&std::sync::atomic::AtomicU64::new(0));
    assert_eq!((report.partners, report.differences), (PARTNERS as u64, 0), "{:?}", report.first_difference);
    assert_ne!(
        snapshot.period(period).unwrap().view(&snapshot.genealogy, &snapshot.plan, 2),
        net.period(period).unwrap().view(&net.genealogy, &net.plan, 2),
        "the live network moved on: the comparison above used the snapshot's own copy"
    );
}

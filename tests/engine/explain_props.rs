//! ExplainLevel against a naive reading of the spec: on random networks,
//! with and without compression, every partner's every level, read in
//! pages of random sizes, lists exactly the partners whose compressed
//! level is k (members) and the inactive partners above them that
//! compression skipped, in depth-first order, and the members' PV adds up
//! to LV_k.

use downline::engine::{Audit, Network, NewPartner, OrderKind, OrderRequest, PartnerIx, PartnerStatus, PlanDraft};
use downline::engine::{LevelCursor, LevelRole};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PERIOD: &str = "2026-03";

fn network(rng: &mut StdRng, partners: usize, compression: bool, levels: u32) -> Network {
    let mut net = Network::default();
    let mut draft = PlanDraft::reference();
    draft.compression = compression;
    draft.levels = levels;
    draft.level_rates.truncate(levels as usize);
    for rank in &mut draft.ranks {
        rank.paid_levels = rank.paid_levels.min(levels);
    }
    net.update_plan(&draft, 0).unwrap();
    for i in 0..partners {
        let sponsor = if i == 0 { String::new() } else { format!("p{}", rng.gen_range(0..i)) };
        let new = NewPartner::parse(&format!("p{i}"), &sponsor, "2026-01-01", "").unwrap();
        net.create_partner(&new, Audit::default()).unwrap();
    }
    for o in 0..partners * 2 {
        let partner = format!("p{}", rng.gen_range(0..partners));
        let volume = format!("{}", rng.gen_range(-20..120));
        let kind = [OrderKind::Retail, OrderKind::SelfPurchase, OrderKind::Fee][rng.gen_range(0..3)];
        let req = OrderRequest {
            order_id: format!("o{o}"),
            partner_id: partner,
            period: PERIOD.into(),
            volume,
            kind,
            book_into_period: None,
        };
        net.record_order(&req).unwrap();
    }
    for _ in 0..partners / 8 {
        let id = format!("p{}", rng.gen_range(1..partners));
        net.set_status(&id, PartnerStatus::Suspended, Audit::default()).unwrap();
    }
    net
}

/// (partner, member?) in depth-first order, from the spec.
fn naive(net: &Network, root: PartnerIx, k: u32) -> (Vec<(PartnerIx, bool)>, i64) {
    let g = &net.genealogy;
    let compression = net.plan.compression;
    let active = |x: PartnerIx| net.volumes(g.id(x), PERIOD).unwrap().active;
    let level = |d: PartnerIx| -> u32 {
        let (mut between, mut depth, mut a) = (0, 1, g.sponsor_of(d));
        while a != root {
            between += u32::from(active(a));
            depth += 1;
            a = g.sponsor_of(a);
        }
        if compression {
            1 + between
        } else {
            depth
        }
    };
    let mut preorder = Vec::new();
    let mut stack = vec![root];
    while let Some(x) = stack.pop() {
        if x != root {
            preorder.push(x);
        }
        let mut children = Vec::new();
        let mut c = g.first_child_of(x);
        while !c.is_none() {
            children.push(c);
            c = g.next_sibling_of(c);
        }
        stack.extend(children.into_iter().rev());
    }
    let members: Vec<PartnerIx> = preorder.iter().copied().filter(|&d| level(d) == k).collect();
    let has_member_below = |s: PartnerIx| members.iter().any(|&m| g.is_self_or_ancestor(s, m) && m != s);
    let mut out = Vec::new();
    let mut lv = 0;
    for &d in &preorder {
        if level(d) == k {
            out.push((d, true));
            lv += net.volumes(g.id(d), PERIOD).unwrap().pv_units;
        } else if compression && !active(d) && level(d) < k && has_member_below(d) {
            out.push((d, false));
        }
    }
    (out, lv)
}

fn paged(net: &Network, rng: &mut StdRng, root: PartnerIx, k: u32) -> (Vec<(PartnerIx, bool)>, i64) {
    let id = net.genealogy.id(root).to_owned();
    let mut cursor: Option<LevelCursor> = None;
    let mut out = Vec::new();
    let mut lv = None;
    for _ in 0..10_000 {
        let page = net.explain_level(&id, PERIOD, k, rng.gen_range(1..6), cursor).unwrap();
        assert!(lv.is_none() || lv == Some(page.level_volume_units));
        lv = Some(page.level_volume_units);
        out.extend(page.entries.iter().map(|e| (e.partner_ix, e.role == LevelRole::Member)));
        match page.next {
            None => return (out, lv.unwrap()),
            Some(next) => cursor = Some(next),
        }
    }
    panic!("the listing does not end");
}

#[test]
fn explain_level_equals_a_naive_reading_of_the_spec() {
    for seed in 0..40u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let compression = seed % 2 == 0;
        let levels = rng.gen_range(1..=4);
        let partners = rng.gen_range(2..40);
        let net = network(&mut rng, partners, compression, levels);
        for root in (0..net.genealogy.len() as u32).map(PartnerIx::new) {
            for k in 1..=levels {
                let want = naive(&net, root, k);
                assert_eq!(paged(&net, &mut rng, root, k), want, "seed {seed}, root {root}, level {k}");
            }
        }
    }
}

#[test]
fn explain_level_refuses_bad_levels_and_unknown_partners() {
    let mut rng = StdRng::seed_from_u64(7);
    let net = network(&mut rng, 5, true, 3);
    let field = |e: downline::engine::EngineError| e.to_string().split(':').next().unwrap().to_owned();
    assert_eq!(field(net.explain_level("p0", PERIOD, 0, 10, None).unwrap_err()), "level");
    assert_eq!(field(net.explain_level("p0", PERIOD, 4, 10, None).unwrap_err()), "level");
    assert_eq!(field(net.explain_level("nobody", PERIOD, 1, 10, None).unwrap_err()), "partner_id");
    assert_eq!(field(net.explain_level("p0", "2026-04", 1, 10, None).unwrap_err()), "period");
}

//! GetTeamProgress over the breadth-first team layout, through the real
//! server.
//!
//! A restart lays the genealogy out afresh (start-up builds the layout);
//! every write after it must reach the layout at once. What it proves:
//! after a restart, then a creation under a laid-out partner, a move of a
//! subtree, a suspension, a termination that hands recruits to the
//! sponsor, completions by a laid-out and by a new partner, and an order
//! that makes a partner active, GetTeamProgress answers the hand-worked
//! levels (partners, joined, completions) and, per level, exactly the
//! active partners GetVolumes reports; and a second restart (a fresh
//! layout without any of those changes pending) answers the same for every
//! partner and both periods.

use crate::genealogy_support::*;
use crate::team_support::*;
use crate::volume_support::*;
use downline::proto::v1 as pb;
use pb::PartnerStatus::{Suspended, Terminated};

/// Partners, joined and completions (intro, retail, lead) of one level.
type Level = (u64, u64, [u64; 3]);

fn level_of(level: &pb::TeamLevel) -> Level {
    let counts: Vec<u64> = level.completions.iter().map(|c| c.completed_count).collect();
    (level.partner_count, level.joined_count, counts.try_into().expect("three modules"))
}

/// Every partner's progress in both periods, to every level.
async fn everyone(t: &mut TeamClient, ids: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        for period in [TEAM_PERIOD, "2026-10"] {
            out.push(format!("{id} {period}: {:?}", progress(t, id, period, 0).await.map_err(|s| s.code())));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_progress_follows_every_write_after_a_restart() {
    let (mut h, _t, _v) = team_network().await;
    assert_eq!(h.restart().await, 12);
    let (mut t, mut v) = (team_client(h.addr).await, volume_client(h.addr).await);

    // M is new (no place in the layout) under K, which has one.
    let m = pb::CreatePartnerRequest { joined_on: "2026-09-10".into(), ..row("M", "K") };
    h.client.create_partner(m).await.expect("create M");
    move_partner(&mut h.client, "G", "B", "restructure").await.expect("G (with I and J) under B");
    set_status(&mut h.client, "F", Suspended, "paused").await.expect("suspend F");
    set_status(&mut h.client, "D", Terminated, "left").await.expect("terminate D: L goes to A");
    complete(&mut t, "H", "retail", "2026-09-14").await.expect("H");
    complete(&mut t, "M", "intro", "2026-09-12").await.expect("M");
    record_ok(&mut v, order("layout-1", "M", TEAM_PERIOD, "150.00", pb::OrderKind::Retail)).await;

    // A: B, C, L / E, F, G (B's), H (C's) / K (E's), I (G's) / M (K's), J (I's).
    let members: [&[&str]; 4] = [&["B", "C", "L"], &["E", "F", "G", "H"], &["K", "I"], &["M", "J"]];
    let expected: [Level; 4] = [(3, 1, [3, 0, 0]), (4, 2, [1, 2, 2]), (2, 1, [1, 0, 0]), (2, 2, [1, 0, 0])];
    let got = progress(&mut t, "A", TEAM_PERIOD, 0).await.expect("A");
    for (k, level) in got.levels.iter().enumerate() {
        let want = expected.get(k).copied().unwrap_or((0, 0, [0; 3]));
        assert_eq!(level_of(level), want, "level {} of A", k + 1);
        let mut active = 0;
        for id in members.get(k).copied().unwrap_or_default() {
            active += u64::from(volumes_ok(&mut v, id, TEAM_PERIOD).await.active);
        }
        assert_eq!(level.active_count, active, "active at level {} of A, as GetVolumes says", k + 1);
    }
    let totals = got.totals.expect("totals");
    assert_eq!((totals.partner_count, totals.joined_count), (11, 6));
    assert!(volumes_ok(&mut v, "M", TEAM_PERIOD).await.active, "M's order makes it active");

    let ids = ["A", "B", "C", "E", "F", "G", "H", "I", "J", "K", "L", "M"];
    let before = everyone(&mut t, &ids).await;
    assert_eq!(h.restart().await, 13);
    let mut t = team_client(h.addr).await;
    assert_eq!(everyone(&mut t, &ids).await, before, "a fresh layout answers what the changed one did");
}

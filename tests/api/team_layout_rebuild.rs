//! The team layout rebuilt off the lock (issue #16) through the real
//! server: an import makes the layout stale, so the server rebuilds it in
//! the background while sign-ups and a termination go on; after each
//! write, GetTeamProgress answers the exact level counts, whether the
//! stale layout (changed partners read live) or the rebuilt one (told the
//! changes made during its build) answers.

use crate::genealogy_support::*;
use crate::harness::*;
use crate::team_support::*;
use downline::proto::v1 as pb;
use pb::PartnerStatus::Terminated;

/// Hubs under the root, each with `RECRUITS` recruits: 4,200 partners,
/// past the layout's staleness threshold (4,096 changes).
const HUBS: usize = 42;
const RECRUITS: usize = 99;

fn hub(h: usize) -> String {
    format!("i{}", h * (RECRUITS + 1))
}

/// The partner counts of levels 1 and 2 below the root.
async fn levels_of_root(t: &mut TeamClient) -> (u64, u64) {
    let answer = progress(t, "r", TEAM_PERIOD, 2).await.unwrap();
    (answer.levels[0].partner_count, answer.levels[1].partner_count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_progress_stays_exact_while_the_layout_is_rebuilt_off_the_lock() {
    let mut h = Harness::new().await;
    create(&mut h.client, "r", "").await;
    let rows: Vec<pb::CreatePartnerRequest> = (0..HUBS * (RECRUITS + 1))
        .map(|k| {
            let sponsor = if k % (RECRUITS + 1) == 0 { "r".to_owned() } else { hub(k / (RECRUITS + 1)) };
            row(&format!("i{k}"), &sponsor)
        })
        .collect();
    let chunks: Vec<pb::ImportPartnersRequest> =
        rows.chunks(500).map(|c| pb::ImportPartnersRequest { partners: c.to_vec() }).collect();
    h.client.import_partners(tokio_stream::iter(chunks)).await.unwrap();
    let mut t = team_client(h.addr).await;
    let (hubs, recruits) = (HUBS as u64, (HUBS * RECRUITS) as u64);
    assert_eq!(levels_of_root(&mut t).await, (hubs, recruits));
    // Sign-ups under the hubs while the rebuild runs (4,200 partners: a
    // few milliseconds of work, so both layouts answer some of these).
    for j in 0..60 {
        create(&mut h.client, &format!("n{j}"), &hub(j % HUBS)).await;
        assert_eq!(levels_of_root(&mut t).await, (hubs, recruits + j as u64 + 1), "after sign-up {j}");
    }
    // A hub's termination hands its recruits (99 + its sign-ups) to the root.
    let status = pb::SetPartnerStatusRequest { partner_id: hub(0), status: Terminated as i32, reason: "left".into() };
    h.client.set_partner_status(status).await.unwrap();
    let moved_up = (RECRUITS + 2) as u64;
    assert_eq!(levels_of_root(&mut t).await, (hubs - 1 + moved_up, recruits + 60 - moved_up));
    h.stop().await;
}

//! A chain of 1,000,000 partners (each the only recruit of the one
//! before) through the real server: the worst case for every walk.
//!
//! What it proves: ImportPartners builds the chain in 10 calls of 100,000
//! rows (the per-call limit), each call continuing the chain from the last
//! one's deepest partner with its rows deepest first; depths and counts are
//! exact at both ends and in the middle; GetUpline of the deepest partner
//! is cut at 10,000 sponsors, nearest first; ListDownline pages down the
//! chain level by level and lists a deep partner's downline completely;
//! moving the middle partner under the root re-depths half a million
//! partners; and a restart recovers exactly that. The phases' times are
//! printed (run with --nocapture to see them).

use crate::genealogy_support::*;
use crate::harness::*;
use downline::proto::v1 as pb;
use pb::PartnerStatus::Enrolled;
use std::time::Instant;

const N: u32 = 1_000_000;
const PER_CALL: u32 = 100_000;
const PER_MESSAGE: usize = 10_000;
const MIDDLE: u32 = 500_000;

fn id(i: u32) -> String {
    format!("d{i:07}")
}

fn sponsor(i: u32) -> String {
    if i == 0 {
        String::new()
    } else {
        id(i - 1)
    }
}

/// The rows of one call, deepest first: sponsors come after their recruits.
fn call_rows(call: u32) -> Vec<Vec<pb::CreatePartnerRequest>> {
    let rows: Vec<pb::CreatePartnerRequest> =
        (call * PER_CALL..(call + 1) * PER_CALL).rev().map(|i| row(&id(i), &sponsor(i))).collect();
    rows.chunks(PER_MESSAGE).map(<[_]>::to_vec).collect()
}

fn chain_partner(i: u32, depth: u32, frontline: u32, downline: u64) -> pb::Partner {
    partner(&id(i), &sponsor(i), Enrolled, depth, frontline, downline)
}

async fn upline_of_deepest(c: &mut Client) {
    let upline = upline_ids(c, &id(N - 1), 0).await;
    assert_eq!(upline.len(), 10_000);
    for (k, (level, partner_id)) in upline.iter().enumerate() {
        assert_eq!((*level, partner_id.as_str()), (k as u32 + 1, id(N - 2 - k as u32).as_str()));
    }
}

async fn check_moved(c: &mut Client) {
    assert_eq!(get(c, &id(0)).await, chain_partner(0, 0, 2, u64::from(N - 1)));
    assert_eq!(get(c, &id(MIDDLE - 1)).await, chain_partner(MIDDLE - 1, MIDDLE - 1, 0, 0));
    assert_eq!(get(c, &id(MIDDLE)).await, partner(&id(MIDDLE), &id(0), Enrolled, 1, 1, u64::from(N - MIDDLE - 1)));
    assert_eq!(get(c, &id(MIDDLE + 1)).await, chain_partner(MIDDLE + 1, 2, 1, u64::from(N - MIDDLE - 2)));
    assert_eq!(get(c, &id(N - 1)).await, chain_partner(N - 1, N - MIDDLE, 0, 0));
    assert_eq!(get(c, &id(1)).await, chain_partner(1, 1, 1, u64::from(MIDDLE - 2)));
    let first = downline_page(c, &id(0), 0, 4, "").await.expect("root page");
    let listed: Vec<(u32, String)> =
        first.members.into_iter().map(|m| (m.level, m.partner.unwrap().partner_id)).collect();
    assert_eq!(listed, [(1, id(1)), (1, id(MIDDLE)), (2, id(2)), (2, id(MIDDLE + 1))]);
    let upline = upline_ids(c, &id(N - 1), 0).await;
    assert_eq!(upline.len(), 10_000);
    assert_eq!(upline[0], (1, id(N - 2)));
    assert_eq!(upline[9_999], (10_000, id(N - 10_001)));
    let upline = upline_ids(c, &id(MIDDLE + 2), 0).await;
    assert_eq!(upline, [(1, id(MIDDLE + 1)), (2, id(MIDDLE)), (3, id(0))]);
    let events = events_all(c, &id(MIDDLE), 10).await;
    let events: Vec<(u64, String, String)> =
        events.into_iter().map(|e| (e.sequence, e.old_sponsor_id, e.new_sponsor_id)).collect();
    assert_eq!(
        events,
        [(u64::from(MIDDLE) + 1, String::new(), id(MIDDLE - 1)), (u64::from(N) + 1, id(MIDDLE - 1), id(0))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_deep_chain() {
    let started = Instant::now();
    let mut h = Harness::new().await;
    let c = &mut h.client;
    let t = Instant::now();
    for call in 0..N / PER_CALL {
        let done = import(c, call_rows(call)).await.unwrap_or_else(|s| panic!("import call {call}: {s:?}"));
        assert_eq!((done.created_count, done.unchanged_count), (u64::from(PER_CALL), 0), "call {call}");
    }
    eprintln!("import of {N}: {:?}", t.elapsed());
    // Retrying the last call changes nothing.
    let again = import(c, call_rows(N / PER_CALL - 1)).await.expect("retry");
    assert_eq!((again.created_count, again.unchanged_count), (0, u64::from(PER_CALL)));

    let t = Instant::now();
    assert_eq!(get(c, &id(N - 1)).await, chain_partner(N - 1, N - 1, 0, 0));
    assert_eq!(get(c, &id(0)).await, chain_partner(0, 0, 1, u64::from(N - 1)));
    assert_eq!(get(c, &id(MIDDLE)).await, chain_partner(MIDDLE, MIDDLE, 1, u64::from(N - MIDDLE - 1)));
    assert_eq!(get(c, &id(PER_CALL)).await, chain_partner(PER_CALL, PER_CALL, 1, u64::from(N - PER_CALL - 1)));
    upline_of_deepest(c).await;
    assert_eq!(upline_ids(c, &id(N - 1), 3).await, [(1, id(N - 2)), (2, id(N - 3)), (3, id(N - 4))]);

    // The root's downline, a level per partner, page after page.
    let mut token = String::new();
    for page_number in 0..3u32 {
        let page = downline_page(c, &id(0), 0, 1000, &token).await.expect("root page");
        assert_eq!(page.members.len(), 1000);
        for (k, m) in page.members.iter().enumerate() {
            let level = page_number * 1000 + k as u32 + 1;
            assert_eq!((m.level, m.partner.as_ref().unwrap().partner_id.as_str()), (level, id(level).as_str()));
        }
        assert!(!page.next_page_token.is_empty());
        token = page.next_page_token;
    }
    assert_eq!(downline_ids(c, &id(0), 5, 2).await, (1..=5).map(|l| (l, id(l))).collect::<Vec<_>>());
    // A deep partner's downline, completely.
    let deep = downline_ids(c, &id(N - 10), 0, 4).await;
    assert_eq!(deep, (1..=9).map(|l| (l, id(N - 10 + l))).collect::<Vec<_>>());
    eprintln!("reads: {:?}", t.elapsed());

    let t = Instant::now();
    let moved = move_partner(c, &id(MIDDLE), &id(0), "flatten").await.expect("move the middle");
    assert_eq!(moved, partner(&id(MIDDLE), &id(0), Enrolled, 1, 1, u64::from(N - MIDDLE - 1)));
    eprintln!("move of {} partners: {:?}", N - MIDDLE, t.elapsed());
    check_moved(c).await;

    let t = Instant::now();
    assert_eq!(h.restart().await, N as usize);
    eprintln!("restart: {:?}", t.elapsed());
    check_moved(&mut h.client).await;
    upline_of_moved_deepest(&mut h.client).await;
    eprintln!("total: {:?}", started.elapsed());
    h.stop().await;
}

/// After the move the deepest partner's upline runs up the moved half.
async fn upline_of_moved_deepest(c: &mut Client) {
    let upline = upline_ids(c, &id(N - 1), 0).await;
    assert_eq!(upline.len(), 10_000);
    assert!(upline.iter().enumerate().all(|(k, (l, p))| *l == k as u32 + 1 && *p == id(N - 2 - k as u32)));
    let last = upline_ids(c, &id(MIDDLE + 9_999), 0).await;
    assert_eq!(last.len(), 10_000);
    assert_eq!(last[9_998], (9_999, id(MIDDLE)));
    assert_eq!(last[9_999], (10_000, id(0)));
}

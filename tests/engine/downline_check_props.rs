//! Property tests of the object-level access check: `is_in_downline_of`
//! (jump pointers, O(log depth)) answers exactly what a naive walk up the
//! sponsor column answers, for every pair of partners, after every step of
//! random histories of creations, moves (to any depth, the same depth
//! included), suspensions and terminations, and after a reload through
//! `GenealogyLoader`. A chain of 200,000 partners checks the deep case
//! (`benches/auth.rs` measures the check's cost there).

use downline::engine::{Audit, Date, Genealogy, GenealogyLoader, NewPartner, PartnerIx, PartnerStatus};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// One step of a history; numbers pick partners modulo the current count.
#[derive(Debug, Clone)]
enum Step {
    Create { sponsor: Option<usize> },
    Move { partner: usize, new_sponsor: usize },
    Suspend { partner: usize },
    Terminate { partner: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => proptest::option::weighted(0.9, any::<usize>()).prop_map(|sponsor| Step::Create { sponsor }),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(partner, new_sponsor)| Step::Move { partner, new_sponsor }),
        1 => any::<usize>().prop_map(|partner| Step::Suspend { partner }),
        1 => any::<usize>().prop_map(|partner| Step::Terminate { partner }),
    ]
}

fn joined() -> Date {
    Date::parse("2026-01-15").expect("a date")
}

fn id(ix: usize) -> String {
    format!("p{ix}")
}

/// Applies a step; refusals (cycles, terminated partners) are fine here:
/// the genealogy's own property tests check them.
fn apply(g: &mut Genealogy, step: &Step) {
    let n = g.len();
    let pick = |k: usize| id(k % n.max(1));
    let _ = match step {
        Step::Create { sponsor } => {
            let sponsor_id = match sponsor {
                Some(k) if n > 0 => pick(*k),
                _ => String::new(),
            };
            let new = NewPartner { partner_id: id(n), sponsor_id, joined_on: joined(), display_name: String::new() };
            g.create_partner(&new, Audit::default()).map(|_| ())
        }
        Step::Move { partner, new_sponsor } if n > 0 => {
            g.move_partner(&pick(*partner), &pick(*new_sponsor), Audit::default()).map(|_| ())
        }
        Step::Suspend { partner } if n > 0 => {
            g.set_status(&pick(*partner), PartnerStatus::Suspended, Audit::default()).map(|_| ())
        }
        Step::Terminate { partner } if n > 0 => {
            g.set_status(&pick(*partner), PartnerStatus::Terminated, Audit::default()).map(|_| ())
        }
        _ => Ok(()),
    };
}

/// The naive answer: walk up from `ix` through live partners.
fn naive(g: &Genealogy, ancestor: PartnerIx, ix: PartnerIx) -> bool {
    let live = |x: PartnerIx| g.status_of(x) != PartnerStatus::Terminated;
    if !live(ancestor) || !live(ix) || ancestor == ix {
        return false;
    }
    let mut node = g.sponsor_of(ix);
    while !node.is_none() {
        if node == ancestor {
            return true;
        }
        node = g.sponsor_of(node);
    }
    false
}

fn check_all_pairs(g: &Genealogy) -> Result<(), TestCaseError> {
    prop_assert_eq!(g.check_invariants(), Ok(()));
    let n = g.len() as u32;
    for a in (0..n).map(PartnerIx::new) {
        for x in (0..n).map(PartnerIx::new) {
            prop_assert_eq!(g.is_in_downline_of(a, x), naive(g, a, x), "ancestor {} of {}", g.id(a), g.id(x));
        }
        if g.status_of(a) != PartnerStatus::Terminated {
            prop_assert_eq!(g.ancestor_at_depth(a, 0), root_of(g, a));
        }
    }
    Ok(())
}

fn root_of(g: &Genealogy, mut ix: PartnerIx) -> PartnerIx {
    while !g.sponsor_of(ix).is_none() {
        ix = g.sponsor_of(ix);
    }
    ix
}

/// The genealogy rebuilt from its records, as a restart does.
fn reload(g: &Genealogy) -> Genealogy {
    let mut loader = GenealogyLoader::with_capacity(g.len());
    for ix in (0..g.len() as u32).map(PartnerIx::new) {
        let r = g.record(ix);
        loader.push(r.ix, &r.partner_id, r.sponsor_ix, r.status, r.joined_on, &r.display_name).expect("a record");
    }
    loader.finish(g.structure_version()).expect("a forest")
}

proptest! {
    #![proptest_config(Config::with_cases(64))]

    #[test]
    fn the_jump_check_equals_the_naive_walk(steps in proptest::collection::vec(step(), 1..120)) {
        let mut g = Genealogy::new();
        for (k, s) in steps.iter().enumerate() {
            apply(&mut g, s);
            if k % 8 == 0 || k + 1 == steps.len() {
                check_all_pairs(&g)?;
            }
        }
        check_all_pairs(&reload(&g))?;
    }
}

/// A 200,000-deep chain, then its middle moved under the root and a
/// partner near the top terminated: the check stays exact at both ends.
#[test]
fn a_deep_chain_is_checked_exactly_and_in_few_steps() {
    const N: usize = 200_000;
    let mut g = Genealogy::new();
    // One import: creating them one by one would climb the whole chain each time.
    let rows: Vec<NewPartner> = (0..N)
        .map(|i| {
            let sponsor_id = if i == 0 { String::new() } else { id(i - 1) };
            NewPartner { partner_id: id(i), sponsor_id, joined_on: joined(), display_name: String::new() }
        })
        .collect();
    g.import(&rows).expect("an import");
    let ix = PartnerIx::new;
    let last = ix((N - 1) as u32);
    assert!(g.is_in_downline_of(ix(0), last));
    assert!(g.is_in_downline_of(ix(1), last));
    assert!(!g.is_in_downline_of(last, ix(0)));
    assert!(!g.is_in_downline_of(last, last));
    assert_eq!(g.ancestor_at_depth(last, 12_345), ix(12_345));
    g.move_partner(&id(N / 2), &id(0), Audit::default()).expect("a move");
    g.set_status(&id(3), PartnerStatus::Terminated, Audit::default()).expect("a termination");
    assert_eq!(g.check_invariants(), Ok(()));
    assert!(g.is_in_downline_of(ix(0), last));
    assert!(!g.is_in_downline_of(ix(1), last), "the lower half left 1's downline");
    assert!(g.is_in_downline_of(ix((N / 2) as u32), last));
    assert!(g.is_in_downline_of(ix(2), ix((N / 2 - 1) as u32)), "4.. moved up under 2");
    assert!(!g.is_in_downline_of(ix(3), ix(4)), "a terminated partner has no downline");
    assert_eq!(g.ancestor_at_depth(ix((N / 2 - 1) as u32), 2), ix(2));
    assert_eq!(g.check_invariants(), Ok(()));
}

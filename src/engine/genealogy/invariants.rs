//! The O(n) check of the genealogy's architecture invariants, run by tests
//! after every step and by recovery after a load.

use super::forest::{Genealogy, NONE};
use super::partner_status::PartnerStatus;

/// Returns the first violated invariant, described.
pub fn check(g: &Genealogy) -> Result<(), String> {
    let n = g.len();
    let columns = [
        g.first_child.len(),
        g.last_child.len(),
        g.next_sibling.len(),
        g.prev_sibling.len(),
        g.depth.len(),
        g.jump.len(),
        g.status.len(),
        g.joined_on.len(),
        g.frontline.len(),
        g.downline.len(),
        g.ids.len(),
    ];
    if columns.iter().any(|&len| len != n) {
        return Err(format!("column lengths differ: {n} partners, columns {columns:?}"));
    }
    let mut frontline = vec![0u32; n];
    let mut subtree = vec![1u64; n];
    // Children lists: linked both ways, in index order, each child's sponsor the owner.
    for p in 0..n as u32 {
        let mut prev = NONE;
        let mut child = g.first_child_at(p);
        while child != NONE {
            if g.sponsor_at(child) != p || g.status_at(child) == PartnerStatus::Terminated {
                return Err(format!(
                    "{} is in the child list of {} but its sponsor is another",
                    g.id_at(child),
                    g.id_at(p)
                ));
            }
            if g.prev_sibling_at(child) != prev || (prev != NONE && prev >= child) {
                return Err(format!("child list of {} is broken or out of order at {}", g.id_at(p), g.id_at(child)));
            }
            frontline[p as usize] += 1;
            prev = child;
            child = g.next_sibling_at(child);
        }
        if g.last_child_at(p) != prev {
            return Err(format!("last_child of {} is wrong", g.id_at(p)));
        }
    }
    // Depths and subtree sizes, breadth-first from the roots: O(n), no recursion.
    let mut order: Vec<u32> = Vec::with_capacity(n);
    for p in 0..n as u32 {
        let live = g.status_at(p) != PartnerStatus::Terminated;
        if !live
            && (g.first_child_at(p) != NONE
                || g.depth_at(p) != 0
                || g.downline_count_at(p) != 0
                || g.jump[p as usize] != p)
        {
            return Err(format!("terminated {} still has children or counts", g.id_at(p)));
        }
        if live && g.sponsor_at(p) == NONE {
            if g.depth_at(p) != 0 || g.jump[p as usize] != p {
                return Err(format!("root {} has depth {} or a jump elsewhere", g.id_at(p), g.depth_at(p)));
            }
            order.push(p);
        }
    }
    let mut head = 0;
    while head < order.len() {
        let p = order[head];
        head += 1;
        let mut child = g.first_child_at(p);
        while child != NONE {
            if g.depth_at(child) != g.depth_at(p) + 1 {
                return Err(format!("depth of {} is not its sponsor's plus one", g.id_at(child)));
            }
            if g.jump[child as usize] != g.jump_target(p, child) {
                return Err(format!("jump pointer of {} is stale", g.id_at(child)));
            }
            order.push(child);
            child = g.next_sibling_at(child);
        }
    }
    let live = g.status.iter().filter(|&&s| s != PartnerStatus::Terminated).count();
    if order.len() != live {
        return Err(format!(
            "{} live partners, {} reachable from the roots: a cycle or a lost child",
            live,
            order.len()
        ));
    }
    for &p in order.iter().rev() {
        let sponsor = g.sponsor_at(p);
        if sponsor != NONE {
            subtree[sponsor as usize] += subtree[p as usize];
        }
    }
    for p in 0..n {
        if g.status[p] == PartnerStatus::Terminated {
            continue;
        }
        if frontline[p] != g.frontline[p] || subtree[p] - 1 != u64::from(g.downline[p]) {
            return Err(format!(
                "counts of {}: frontline {} (real {}), downline {} (real {})",
                g.id_at(p as u32),
                g.frontline[p],
                frontline[p],
                g.downline[p],
                subtree[p] - 1
            ));
        }
    }
    Ok(())
}

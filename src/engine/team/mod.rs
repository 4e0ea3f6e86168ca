//! The team room: mentors, training modules and completions, and
//! GetTeamProgress over the team layout.
//!
//! Public surface: [`Team`], [`CompletionOutcome`], [`Assignment`],
//! [`Mentors`], [`MentorSource`], [`MentorView`], [`MenteeCursor`],
//! [`MenteePage`], [`Training`], [`TrainingModule`], [`ModuleUpdate`],
//! [`Completion`], [`CompletionSummary`],
//! [`TeamProgress`], [`LevelProgress`] and [`TeamLayout`]; the tally of a
//! level is private to the room.
//!
//! | file | responsibility |
//! | --- | --- |
//! | `mentors.rs` | explicit mentor assignments: validity, clearing after moves and terminations, mentee pages |
//! | `training.rs` | training modules and each partner's completions |
//! | `network_team.rs` | the team data (`Team`), the `impl Network` part of the team writes (assign, modules, completions) and the hook after genealogy writes |
//! | `layout.rs` | the breadth-first copy of the genealogy GetTeamProgress reads: each level of a team is a few ranges of positions; writes mark what changed instead of moving anything |
//! | `layout_rebuild.rs` | the layout rebuilt off the lock (the server's mode): due, snapshot, build, install with the changes logged meanwhile told again |
//! | `progress.rs` | GetTeamProgress: one pass over the team, level by level, cut at `max_level`; keeps the layout in step with every write, rebuilds it when stale |
//! | `tally.rs` | the counting of one level of that pass: branch-free loops over the layout's copied columns, completions summed eight modules at a time |
//!
//! # Mentors and training
//! A partner's mentor is its sponsor unless it has an explicit assignment;
//! only assignments are stored (`Mentors`: by mentee, and by mentor for
//! ListMentees), so the default follows every move and termination by
//! itself. An assignment is kept only while it means something.
//!
//! **Architecture invariant:** every mentor assignment `x → m` has `x` and `m`
//! live (not terminated), `m` strictly above `x`, and `m` not `x`'s sponsor.
//! A move or a termination that breaks one clears it in the same change set
//! (`Team::after_genealogy_write`): a move looks only at the moved subtree
//! (by walking it or by testing each assignment, whichever is cheaper: at
//! most O(subtree), like the move), a termination at the assignments to the
//! terminated partner, its own, and its recruits'. `Mentors::check_invariants`
//! checks it; the store refuses to start on data that breaks it.
//!
//! Training modules are a dense ordinal in creation order (never deleted, at
//! most 500). Completions are kept per partner, sorted by module (a map of
//! lists), and summed up in one dense 8-byte `CompletionSummary` per partner:
//! the first 31 modules as bits, their latest day, and a bit for "later
//! modules too". Memory: 8 bytes per partner (up to the last one with a
//! completion), plus ~60 bytes per partner with completions and 8 per
//! completion; ~100 bytes per mentor assignment.
//!
//! GetTeamProgress is computed on demand, level by level down to
//! `max_level`, over the *team layout* (`layout.rs`): a breadth-first
//! copy of the genealogy (roots, then depth 1, ...; each partner's recruits
//! contiguous). In that order the partners of one level below any partner
//! form one range of positions, and the next level's range is
//! `child_start[lo]..child_start[hi]`. The layout copies the columns the
//! count reads (status, joining day, completion summary) in position order,
//! so a level is counted by streaming through a few arrays; only the PV of
//! the period is read at the partner's own index. The list of completions
//! is read only for modules after the 31st, or for a period that ended
//! before the partner's latest completion. O(partners within `max_level` +
//! their completions), no recursion, no cache: the answer reflects every
//! acknowledged write.
//!
//! Writes never move anything in the layout; they mark what changed:
//! - a partner whose list of recruits changed since the build (a recruit
//!   created, moved in or out, terminated) is *relinked*: its recruits are
//!   read from the live genealogy, each at its own position when it has one;
//! - a partner created since the build has no position (*loose*): it and its
//!   recruits are read live (the pass of before the layout);
//! - a status change or a completion updates the copied column at once.
//!
//! So a level is a list of ranges plus a list of loose partners; an unchanged
//! team is one range per level. Every creation, move, status change and
//! completion reports to `Network::team_layout_heard`; when the relinked and
//! new partners reach 1/16 of the laid-out ones (at least 4,096), the
//! layout is rebuilt (O(n): 56-80 ms at 1.26M partners, 0.33-0.46 s at 10M,
//! most of it the walk of the child links; ~26 bytes per partner, 247 MiB
//! at 10M): by that write under the write lock, or, in the server, off the
//! lock (`layout_rebuild.rs`: the write only marks it due, the stale layout
//! answers meanwhile). The store builds it at start-up.
//!
//! **Architecture invariant:** a position that is not relinked has exactly
//! the recruits it had at the build, at `child_start[p]..child_start[p+1]`,
//! and the copied columns equal the live ones for every laid-out partner
//! still in the tree. The property test rebuilds the layout at random steps
//! and compares every partner's progress with a naive recomputation after
//! every write. A guard keeps a forgotten report from giving a wrong answer:
//! the layout records the partners, moves and status changes
//! (`Network::changes`) and completions it heard of, and a query that finds
//! the network further along reads everything live
//! (`Network::team_layout_is_in_step`, asserted after every step of the
//! property test).
//!
//! **Architecture invariant:** team support reads the plan's levels only
//! through `Network::team_levels` (one place to change for a versioned plan).

pub(crate) mod layout;
pub(crate) mod layout_rebuild;
pub(crate) mod mentors;
pub(crate) mod network_team;
pub(crate) mod progress;
mod tally;
pub(crate) mod training;

pub use layout::TeamLayout;
pub use layout_rebuild::LayoutJob;
pub use mentors::{Assignment, MenteeCursor, MenteePage, MentorSource, MentorView, Mentors};
pub use network_team::{CompletionOutcome, Team};
pub use progress::{LevelProgress, TeamProgress};
pub use training::{Completion, CompletionSummary, ModuleUpdate, Training, TrainingModule};

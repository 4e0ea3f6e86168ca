//! The genealogy room: the sponsor forest in flat columns, its writes
//! (create, move, status change), imports and the loader, and its reads
//! (partners, upline, downline pages, the "is in the downline of" check).
//!
//! Public surface: [`Genealogy`] and its reads, [`NewPartner`],
//! [`WriteOutcome`], [`GenealogyLoader`], [`ImportOutcome`],
//! [`DownlineCursor`], [`PartnerView`] and [`PartnerStatus`]. The
//! column edits (`links.rs`) and the invariant check (`invariants.rs`) are
//! private to the room.
//!
//! | file | responsibility |
//! | --- | --- |
//! | `forest.rs` | the sponsor forest in flat columns indexed by a dense partner index (creation order); reads; the O(log depth) "is in the downline of" check |
//! | `links.rs` | column edits: append, child lists in index order, depth, jump pointer and count maintenance |
//! | `write.rs` | create, move, status change: validate everything, then mutate; return a `ChangeSet` |
//! | `bulk.rs` | imports (rows in any order, breadth-first placement) and the loader used at start-up |
//! | `downline_cursor.rs` | breadth-first downline pages that resume from a 4-number cursor |
//! | `invariants.rs` | the O(n) check of every genealogy invariant (tests, debug imports) |
//! | `partner_status.rs` | `PartnerStatus`: enrolled, suspended, terminated |
//! | `network_genealogy.rs` | the `impl Network` part of the genealogy writes: each one carried to the open periods' volumes and the team |
//!
//! # The columns
//!
//! A partner is an index (`PartnerIx` in every public read, a raw `u32`
//! position in the `_at` twins the engine's loops use). Its sponsor, first/last child, next/previous
//! sibling, depth, jump pointer, status, joining day, frontline and downline
//! counts are one [`CowColumn`](crate::engine::cow_column::CowColumn) each
//! (about 64 bytes per partner with its id), so a snapshot shares them.
//! Display names live in a side map ([`CowMap`](crate::engine::cow_map::CowMap))
//! because bulk data rarely has them.
//!
//! **Architecture invariant:** the sponsor relation of live partners is a
//! forest; a partner's children are exactly the live partners it sponsors,
//! linked in increasing index order; `depth`, `frontline` and `downline` are
//! exact; a terminated partner is in no child list and has no children. Indices
//! are never reused: a terminated partner keeps its id reserved forever. Each
//! live partner's jump pointer is the ancestor Myers' skew-binary rule picks
//! from its sponsor's jumps (roots and terminated partners point to
//! themselves), so any ancestor is reached in O(log depth) steps.

pub(crate) mod bulk;
pub(crate) mod downline_cursor;
pub(crate) mod forest;
mod invariants;
mod links;
mod network_genealogy;
pub(crate) mod partner_status;
pub(crate) mod write;

pub use bulk::{GenealogyLoader, ImportOutcome};
pub use downline_cursor::{DownlineCursor, DownlinePage};
pub use forest::{Genealogy, PartnerView};
pub use partner_status::PartnerStatus;
pub use write::{NewPartner, WriteOutcome};

//! The genealogy room: the sponsor forest, its writes, imports and reads.

pub mod bulk;
pub mod downline_cursor;
pub mod forest;
mod network_genealogy;
mod invariants;
mod links;
pub mod partner_status;
pub mod write;

pub use bulk::{GenealogyLoader, ImportOutcome};
pub use downline_cursor::{DownlineCursor, DownlinePage};
pub use forest::{Genealogy, PartnerView, NONE};
pub use partner_status::PartnerStatus;
pub use write::{NewPartner, WriteOutcome};

//! The status of a partner (`PartnerStatus`).

/// The status of a partner (see the spec: partners and the genealogy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PartnerStatus {
    /// A normal partner.
    Enrolled = 1,
    /// In the tree, its volume counts for its upline, but it earns nothing.
    Suspended = 2,
    /// Out of the tree for good; its id stays reserved.
    Terminated = 3,
}

impl PartnerStatus {
    /// The status from its stored code.
    pub fn from_code(code: u8) -> Option<PartnerStatus> {
        match code {
            1 => Some(PartnerStatus::Enrolled),
            2 => Some(PartnerStatus::Suspended),
            3 => Some(PartnerStatus::Terminated),
            _ => None,
        }
    }

    /// The stored code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            PartnerStatus::Enrolled => "ENROLLED",
            PartnerStatus::Suspended => "SUSPENDED",
            PartnerStatus::Terminated => "TERMINATED",
        }
    }
}

//! The manifest: what a data directory must hold. Every batch that adds
//! data carries the manifest updated by it (key `m:manifest`, same batch),
//! so whatever state sled recovers, the manifest inside it describes it.
//! Start-up counts what it loaded and compares; the sidecar file
//! (`sidecar.rs`) keeps a copy outside sled that the recovered state may
//! never fall behind.
//!
//! Every counted figure only grows (partners and orders are never removed,
//! sequence numbers never reused, plans and closes never undone), so
//! "behind" is well defined figure by figure.

/// The figures of a data directory, as of one committed batch.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Manifest {
    /// A random number chosen when the directory was created: a sidecar of
    /// another directory never matches.
    #[prost(uint64, tag = "1")]
    pub instance: u64,
    /// Batches committed with a manifest since creation.
    #[prost(uint64, tag = "2")]
    pub generation: u64,
    /// Partners (terminated ones included).
    #[prost(uint64, tag = "3")]
    pub partners: u64,
    /// Orders.
    #[prost(uint64, tag = "4")]
    pub orders: u64,
    /// Keys of order blocks.
    #[prost(uint64, tag = "5")]
    pub order_blocks: u64,
    /// The seq the next audit event gets (one past the last one).
    #[prost(uint64, tag = "6")]
    pub next_event_seq: u64,
    /// The last stored version of the compensation plan (0: none).
    #[prost(uint64, tag = "7")]
    pub plans: u64,
    /// Closed periods.
    #[prost(uint64, tag = "8")]
    pub closed_periods: u64,
    /// Training modules.
    #[prost(uint64, tag = "9")]
    pub modules: u64,
}

/// One figure: its name in messages and its value.
type Figure = (&'static str, u64);

impl Manifest {
    /// The manifest of a directory created now.
    pub fn fresh() -> Manifest {
        Manifest { instance: rand::random(), next_event_seq: 1, ..Manifest::default() }
    }

    /// The counted figures, named as in error messages.
    fn figures(&self) -> [Figure; 7] {
        [
            ("partners", self.partners),
            ("orders", self.orders),
            ("order blocks", self.order_blocks),
            ("as next event seq", self.next_event_seq),
            ("as last plan version", self.plans),
            ("closed periods", self.closed_periods),
            ("training modules", self.modules),
        ]
    }

    /// Compares the manifest stored in the database (`self`) with what
    /// start-up found: any difference is damage.
    pub fn check_found(&self, found: &Manifest) -> Result<(), String> {
        for ((name, said), (_, seen)) in self.figures().into_iter().zip(found.figures()) {
            if said != seen {
                return Err(format!("the manifest says {} {name}, {} found", grouped(said), grouped(seen)));
            }
        }
        Ok(())
    }

    /// Checks that the database's manifest (`self`) is not behind the
    /// sidecar's: the database may be ahead (batches flushed after the
    /// sidecar was written), never behind, and never of another directory.
    pub fn check_not_behind(&self, sidecar: &Manifest) -> Result<(), String> {
        if self.instance != sidecar.instance {
            return Err("the MANIFEST file belongs to another data directory".into());
        }
        for ((name, in_db), (_, at_least)) in self.figures().into_iter().zip(sidecar.figures()) {
            if in_db < at_least {
                return Err(format!(
                    "the MANIFEST file says {} {name}, the database holds {}",
                    grouped(at_least),
                    grouped(in_db)
                ));
            }
        }
        if self.generation < sidecar.generation {
            return Err(format!(
                "the MANIFEST file says {} committed batches, the database holds {}",
                grouped(sidecar.generation),
                grouped(self.generation)
            ));
        }
        if self.generation == sidecar.generation && self != sidecar {
            return Err(format!("the database and the MANIFEST file differ at batch {}", grouped(self.generation)));
        }
        Ok(())
    }

    /// A one-line summary for `downline verify` and the logs.
    pub fn describe(&self) -> String {
        format!(
            "{} partners, {} orders in {} blocks, {} audit event seqs, plan version {}, {} closed periods, \
             {} training modules; {} committed batches",
            grouped(self.partners),
            grouped(self.orders),
            grouped(self.order_blocks),
            grouped(self.next_event_seq.saturating_sub(1)),
            grouped(self.plans),
            grouped(self.closed_periods),
            grouped(self.modules),
            grouped(self.generation)
        )
    }
}

/// `20000` as `20,000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(
            (grouped(0), grouped(999), grouped(20_000), grouped(1_234_567)),
            ("0".into(), "999".into(), "20,000".into(), "1,234,567".into())
        );
    }

    #[test]
    fn a_database_behind_its_sidecar_is_refused_and_one_ahead_accepted() {
        let sidecar = Manifest { orders: 20_000, generation: 7, ..Manifest::fresh() };
        let behind = Manifest { orders: 19_800, generation: 6, ..sidecar };
        assert_eq!(
            behind.check_not_behind(&sidecar),
            Err("the MANIFEST file says 20,000 orders, the database holds 19,800".into())
        );
        let ahead = Manifest { orders: 20_100, generation: 8, ..sidecar };
        assert_eq!(ahead.check_not_behind(&sidecar), Ok(()));
        let other = Manifest { instance: sidecar.instance ^ 1, ..sidecar };
        assert!(other.check_not_behind(&sidecar).is_err());
        let same_batch_other_figures = Manifest { orders: 20_001, ..sidecar };
        assert!(same_batch_other_figures.check_not_behind(&sidecar).is_err());
    }

    #[test]
    fn a_found_figure_that_differs_is_named() {
        let said = Manifest { partners: 3, orders: 20_000, ..Manifest::fresh() };
        let found = Manifest { orders: 19_800, ..said };
        assert_eq!(said.check_found(&found), Err("the manifest says 20,000 orders, 19,800 found".into()));
        assert_eq!(said.check_found(&said), Ok(()));
    }
}

//! Which transactions had committed at one instant: PostgreSQL's `pg_snapshot`, kept as text.
//! A subscription made "from now" remembers the snapshot of its making, so that exactly the
//! changes committed before it (visible in the snapshot) are not delivered, while a change in
//! flight at that instant (not visible, whatever its position) still is.

use crate::StoreError;

/// A `pg_snapshot`: every transaction below `xmin` had ended; none from `xmax` on had started;
/// those in `in_progress` were running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxSnapshot {
    xmin: u64,
    xmax: u64,
    in_progress: Vec<u64>,
}

impl TxSnapshot {
    /// Reads PostgreSQL's text form, `xmin:xmax:xip,xip,…`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for any other text.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::Corrupt(format!("{text:?} is not a pg_snapshot"));
        let mut parts = text.split(':');
        let xmin = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let xmax = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let xip = parts.next().ok_or_else(bad)?;
        if parts.next().is_some() || xmax < xmin {
            return Err(bad());
        }
        let in_progress = xip
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            xmin,
            xmax,
            in_progress,
        })
    }

    /// Whether the transaction had committed (or aborted) when the snapshot was taken: its
    /// events, if any, were already in the log.
    #[must_use]
    pub fn saw(&self, transaction_id: u64) -> bool {
        transaction_id < self.xmin
            || (transaction_id < self.xmax && !self.in_progress.contains(&transaction_id))
    }
}

impl std::fmt::Display for TxSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let xip: Vec<String> = self.in_progress.iter().map(u64::to_string).collect();
        write!(f, "{}:{}:{}", self.xmin, self.xmax, xip.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::TxSnapshot;

    #[test]
    fn sees_what_had_ended_and_not_what_was_running() {
        let s = TxSnapshot::parse("100:105:101,103").unwrap_or_else(|e| panic!("{e}"));
        assert!(s.saw(99));
        assert!(s.saw(100));
        assert!(!s.saw(101));
        assert!(s.saw(102));
        assert!(!s.saw(103));
        assert!(s.saw(104));
        assert!(!s.saw(105));
        assert!(!s.saw(1000));
        assert_eq!(s.to_string(), "100:105:101,103");
    }

    #[test]
    fn refuses_other_text() {
        for bad in ["", "1", "1:2", "2:1:", "a:b:", "1:2:x", "1:2:3:4"] {
            assert!(TxSnapshot::parse(bad).is_err(), "{bad}");
        }
        assert!(TxSnapshot::parse("7:7:").is_ok());
    }
}

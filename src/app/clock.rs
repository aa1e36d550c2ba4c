//! The run's clock: now, or a pinned instant for reproducible bags.
//!
//! `--bagging-date` (or `SOURCE_DATE_EPOCH`) pins the instant used for Bagging-Date and for
//! every record's `source.fetched_at`, so two runs over an unchanged portal write the same
//! bytes. Unpinned, both are the real time of the run.

use crate::error::Error;
use crate::text::dates::PortalZone;
use jiff::Timestamp;

/// The instant a run stamps on what it writes.
#[derive(Debug, Clone)]
pub struct RunClock {
    /// The instant.
    pub instant: Timestamp,
    /// Whether it was pinned by the user.
    pub pinned: bool,
}

impl RunClock {
    /// From `--bagging-date YYYY-MM-DD` (midnight in the portal's zone), else
    /// `SOURCE_DATE_EPOCH` (seconds), else now.
    pub fn from_options(
        bagging_date: Option<&str>,
        source_date_epoch: Option<&str>,
        zone: &PortalZone,
    ) -> Result<Self, Error> {
        if let Some(d) = bagging_date {
            let date: jiff::civil::Date = d.parse().map_err(|_| {
                Error::Usage(format!(
                    "--bagging-date `{d}` is not a date: write it as YYYY-MM-DD, e.g. 2025-07-01"
                ))
            })?;
            let instant = zone
                .local(date.to_datetime(jiff::civil::Time::midnight()))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--bagging-date `{d}` does not exist in {}",
                        zone.name()
                    ))
                })?;
            return Ok(Self {
                instant,
                pinned: true,
            });
        }
        if let Some(s) = source_date_epoch.filter(|s| !s.trim().is_empty()) {
            let secs: i64 = s.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "SOURCE_DATE_EPOCH `{s}` is not a number of seconds since 1970"
                ))
            })?;
            let instant = Timestamp::from_second(secs)
                .map_err(|_| Error::Usage(format!("SOURCE_DATE_EPOCH `{s}` is out of range")))?;
            return Ok(Self {
                instant,
                pinned: true,
            });
        }
        Ok(Self {
            instant: Timestamp::now(),
            pinned: false,
        })
    }

    /// The instant as RFC 3339 in the portal's zone.
    pub fn stamp(&self, zone: &PortalZone) -> String {
        zone.format(self.instant)
    }

    /// The date (YYYY-MM-DD) in the portal's zone.
    pub fn date(&self, zone: &PortalZone) -> String {
        self.stamp(zone)[..10].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_dates_and_epochs() {
        let z = PortalZone::vietnam();
        let c = RunClock::from_options(Some("2025-07-01"), None, &z).unwrap();
        assert!(c.pinned);
        assert_eq!(c.stamp(&z), "2025-07-01T00:00:00+07:00");
        let c = RunClock::from_options(None, Some("1751302800"), &z).unwrap();
        assert_eq!(c.stamp(&z), "2025-07-01T00:00:00+07:00");
        assert_eq!(c.date(&z), "2025-07-01");
        assert!(RunClock::from_options(Some("01/07/2025"), None, &z).is_err());
        assert!(!RunClock::from_options(None, Some(""), &z).unwrap().pinned);
    }
}

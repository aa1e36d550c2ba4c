//! Instants with the portal's offset.
//!
//! SharePoint REST returns UTC (`…Z`); `/versions` drops the `Z`; OData v4 adds an offset.
//! Records carry RFC 3339 with the portal's own offset (+07:00 for Vietnam), so a reader
//! sees the local time the portal showed and can still compare instants exactly.

use jiff::{Timestamp, civil, tz::TimeZone};
use std::fmt;

/// The time zone a portal displays its dates in.
#[derive(Clone)]
pub struct PortalZone {
    name: String,
    tz: TimeZone,
}

impl fmt::Debug for PortalZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortalZone({})", self.name)
    }
}

/// A zone name that neither the time-zone database nor the `+HH:MM` form accepts.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown time zone `{0}`: use an IANA name such as Asia/Ho_Chi_Minh or a fixed offset such as +07:00"
)]
pub struct UnknownZone(pub String);

impl PortalZone {
    /// Looks up an IANA name (`Asia/Ho_Chi_Minh`) or a fixed offset (`+07:00`).
    pub fn new(name: &str) -> Result<Self, UnknownZone> {
        let tz = match parse_fixed_offset(name) {
            Some(seconds) => jiff::tz::Offset::from_seconds(seconds)
                .map(TimeZone::fixed)
                .map_err(|_| UnknownZone(name.to_string()))?,
            None => TimeZone::get(name).map_err(|_| UnknownZone(name.to_string()))?,
        };
        Ok(Self {
            name: name.to_string(),
            tz,
        })
    }

    /// Vietnam: Asia/Ho_Chi_Minh, +07:00 all year.
    pub fn vietnam() -> Self {
        Self::new("Asia/Ho_Chi_Minh").unwrap_or_else(|_| Self {
            name: "+07:00".into(),
            tz: TimeZone::fixed(jiff::tz::offset(7)),
        })
    }

    /// The configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// RFC 3339 with this zone's offset for an instant.
    pub fn format(&self, ts: Timestamp) -> String {
        ts.to_zoned_datetime(self.tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// A SharePoint date value (`2023-01-05T03:00:00Z`, without `Z` meaning UTC, or with an
    /// offset) as RFC 3339 in this zone. `None` when it is not a date.
    pub fn from_sharepoint(&self, value: &str) -> Option<String> {
        parse_sharepoint_instant(value).map(|ts| self.format(ts))
    }

    /// A local wall-clock time in this zone, as an instant.
    pub fn local(&self, dt: civil::DateTime) -> Option<Timestamp> {
        self.tz.to_timestamp(dt).ok()
    }
}

/// Parses the instants SharePoint emits: RFC 3339 with `Z` or an offset, or a bare
/// `YYYY-MM-DDTHH:MM:SS` that SharePoint means as UTC.
pub fn parse_sharepoint_instant(value: &str) -> Option<Timestamp> {
    let v = value.trim();
    if let Ok(ts) = v.parse::<Timestamp>() {
        return Some(ts);
    }
    let dt: civil::DateTime = v.parse().ok()?;
    TimeZone::UTC.to_timestamp(dt).ok()
}

fn parse_fixed_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_becomes_plus_seven_and_keeps_the_instant() {
        let z = PortalZone::vietnam();
        assert_eq!(
            z.from_sharepoint("2023-01-05T03:00:00Z").as_deref(),
            Some("2023-01-05T10:00:00+07:00")
        );
        // Local midnight of a date-only field arrives as the previous day in UTC.
        assert_eq!(
            z.from_sharepoint("2023-01-04T17:00:00Z").as_deref(),
            Some("2023-01-05T00:00:00+07:00")
        );
    }

    #[test]
    fn versions_style_without_z_is_utc_and_offsets_are_honoured() {
        let z = PortalZone::vietnam();
        assert_eq!(
            z.from_sharepoint("2022-11-14T13:37:26").as_deref(),
            Some("2022-11-14T20:37:26+07:00")
        );
        assert_eq!(
            z.from_sharepoint("2020-02-19T09:28:39-08:00").as_deref(),
            Some("2020-02-20T00:28:39+07:00")
        );
        assert_eq!(z.from_sharepoint("not a date"), None);
    }

    #[test]
    fn fixed_offsets_and_unknown_zones() {
        let z = PortalZone::new("+07:00").unwrap();
        assert_eq!(
            z.from_sharepoint("2023-01-05T03:00:00Z").as_deref(),
            Some("2023-01-05T10:00:00+07:00")
        );
        assert!(PortalZone::new("Mars/Olympus").is_err());
    }
}

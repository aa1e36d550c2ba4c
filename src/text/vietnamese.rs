//! Dates and numbers as Vietnamese portals print them.
//!
//! Pages show dates in day/month order with many decorations: "Thứ 5, Ngày 05/01/2023,
//! 10:00", "5/1/2023 10:0" (unpadded minutes), "07/04/2017 11:00 SA" (SA/CH for AM/PM),
//! "( Ngày 05-01-2023 )". When a weekday is printed it is checked against the date, which
//! catches a page whose dates were read month-first. Counts such as "Lượt người xem:   20"
//! may carry NBSP and dot thousands separators.

use super::dates::PortalZone;
use jiff::civil::{Date, DateTime, Time, Weekday};

/// Why a date string was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VnDateError {
    /// No day/month/year in the text.
    #[error("no date (dd/mm/yyyy) in `{0}`")]
    NoDate(String),
    /// Day, month or time out of range.
    #[error("`{0}` is not a valid date or time")]
    OutOfRange(String),
    /// The printed weekday contradicts the date.
    #[error(
        "`{text}`: the weekday says {printed:?} but {date} is a {actual:?}; the date may be misread"
    )]
    WeekdayMismatch {
        /// The input.
        text: String,
        /// The weekday on the page.
        printed: Weekday,
        /// The weekday of the parsed date.
        actual: Weekday,
        /// The parsed date.
        date: String,
    },
}

/// A parsed local date and time, with the instant in the portal's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VnDate {
    /// The local wall-clock time as printed (midnight when no time was printed).
    pub local: DateTime,
    /// Whether a time of day was printed.
    pub has_time: bool,
    /// RFC 3339 with the zone's offset.
    pub rfc3339: String,
}

/// Parses a Vietnamese date (day/month order) in `zone`, checking a printed weekday.
pub fn parse_date(text: &str, zone: &PortalZone) -> Result<VnDate, VnDateError> {
    let norm = super::clean_line(text).to_lowercase();
    let chars: Vec<char> = norm.chars().collect();
    let (date_at, date_end, (d, m, y)) =
        find_date(&chars).ok_or_else(|| VnDateError::NoDate(text.to_string()))?;
    let date = Date::new(y as i16, m as i8, d as i8)
        .map_err(|_| VnDateError::OutOfRange(text.to_string()))?;
    let (time, has_time) =
        match find_time(&chars[date_end..]).or_else(|| find_time(&chars[..date_at])) {
            Some((h, mi, s, meridiem)) => {
                let h = match meridiem {
                    Some(Meridiem::Am) if h == 12 => 0,
                    Some(Meridiem::Pm) if h < 12 => h + 12,
                    _ => h,
                };
                let t = Time::new(h as i8, mi as i8, s as i8, 0)
                    .map_err(|_| VnDateError::OutOfRange(text.to_string()))?;
                (t, true)
            }
            None => (Time::midnight(), false),
        };
    if let Some(printed) = find_weekday(&norm) {
        let actual = date.weekday();
        if printed != actual {
            return Err(VnDateError::WeekdayMismatch {
                text: text.to_string(),
                printed,
                actual,
                date: date.to_string(),
            });
        }
    }
    let local = date.to_datetime(time);
    let ts = zone
        .local(local)
        .ok_or_else(|| VnDateError::OutOfRange(text.to_string()))?;
    Ok(VnDate {
        local,
        has_time,
        rfc3339: zone.format(ts),
    })
}

/// The first integer in `text`, allowing thousands separators (`.`, `,`, NBSP, thin space)
/// between groups of three digits: "Lượt người xem:   1.234" → 1234.
pub fn parse_count(text: &str) -> Option<i64> {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.iter().position(|c| c.is_ascii_digit())?;
    let mut digits = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            digits.push(c);
            i += 1;
        } else if matches!(c, '.' | ',' | '\u{a0}' | '\u{202f}' | ' ')
            && chars
                .get(i + 1..i + 4)
                .is_some_and(|g| g.iter().all(|c| c.is_ascii_digit()))
            && !chars.get(i + 4).is_some_and(|c| c.is_ascii_digit())
        {
            i += 1;
        } else {
            break;
        }
    }
    digits.parse().ok()
}

#[derive(Debug, Clone, Copy)]
enum Meridiem {
    Am,
    Pm,
}

fn digits_at(chars: &[char], i: usize, max: usize) -> Option<(u32, usize)> {
    let mut n = 0u32;
    let mut j = i;
    while j < chars.len() && j - i < max && chars[j].is_ascii_digit() {
        n = n * 10 + chars[j].to_digit(10)?;
        j += 1;
    }
    (j > i).then_some((n, j))
}

/// `d/m/yyyy` with `/`, `-` or `.` separators: (start, end, (d, m, y)).
fn find_date(chars: &[char]) -> Option<(usize, usize, (u32, u32, u32))> {
    for i in 0..chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            continue;
        }
        let Some((d, j)) = digits_at(chars, i, 2) else {
            continue;
        };
        let Some(&sep) = chars.get(j) else { continue };
        if !matches!(sep, '/' | '-' | '.') {
            continue;
        }
        let Some((m, k)) = digits_at(chars, j + 1, 2) else {
            continue;
        };
        if chars.get(k) != Some(&sep) {
            continue;
        }
        let Some((y, l)) = digits_at(chars, k + 1, 4) else {
            continue;
        };
        if l - (k + 1) != 4 || chars.get(l).is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        return Some((i, l, (d, m, y)));
    }
    None
}

/// `h:m[:s]` with an optional SA/CH/AM/PM after it.
fn find_time(chars: &[char]) -> Option<(u32, u32, u32, Option<Meridiem>)> {
    for i in 0..chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_digit()) {
            continue;
        }
        let Some((h, j)) = digits_at(chars, i, 2) else {
            continue;
        };
        if chars.get(j) != Some(&':') {
            continue;
        }
        let Some((mi, k)) = digits_at(chars, j + 1, 2) else {
            continue;
        };
        let (s, mut end) = match (chars.get(k), digits_at(chars, k + 1, 2)) {
            (Some(':'), Some((s, e))) => (s, e),
            _ => (0, k),
        };
        while chars.get(end) == Some(&' ') {
            end += 1;
        }
        let rest: String = chars[end..].iter().take(2).collect();
        let meridiem = match rest.as_str() {
            "sa" | "am" => Some(Meridiem::Am),
            "ch" | "pm" => Some(Meridiem::Pm),
            _ => None,
        };
        return Some((h, mi, s, meridiem));
    }
    None
}

/// "thứ 5", "thứ năm", "thứ hai", "t2", "th 2", "chủ nhật", "cn" (input lowercase NFC).
fn find_weekday(norm: &str) -> Option<Weekday> {
    if norm.contains("chủ nhật")
        || norm
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == "cn")
    {
        return Some(Weekday::Sunday);
    }
    let words = ["hai", "ba", "tư", "năm", "sáu", "bảy"];
    for prefix in ["thứ ", "thứ", "th ", "t"] {
        let mut from = 0;
        while let Some(pos) = norm[from..].find(prefix) {
            let at = from + pos;
            from = at + prefix.len();
            if at > 0
                && norm[..at]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric)
            {
                continue;
            }
            let rest = &norm[at + prefix.len()..];
            let n = if let Some(d) = rest.chars().next().and_then(|c| c.to_digit(10)) {
                let next_is_digit = rest.chars().nth(1).is_some_and(|c| c.is_ascii_digit());
                if next_is_digit { None } else { Some(d) }
            } else if prefix.starts_with("thứ") {
                words
                    .iter()
                    .position(|w| {
                        rest.starts_with(w) && !rest[w.len()..].starts_with(char::is_alphanumeric)
                    })
                    .map(|i| i as u32 + 2)
            } else {
                None
            };
            if let Some(n @ 2..=7) = n {
                return Some(match n {
                    2 => Weekday::Monday,
                    3 => Weekday::Tuesday,
                    4 => Weekday::Wednesday,
                    5 => Weekday::Thursday,
                    6 => Weekday::Friday,
                    _ => Weekday::Saturday,
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<String, VnDateError> {
        parse_date(s, &PortalZone::vietnam()).map(|d| d.rfc3339)
    }

    #[test]
    fn every_form_seen_on_portals() {
        assert_eq!(
            p("Thứ 5, Ngày 05/01/2023, 10:00").unwrap(),
            "2023-01-05T10:00:00+07:00"
        );
        assert_eq!(p("05/01/2023").unwrap(), "2023-01-05T00:00:00+07:00");
        assert_eq!(p("5/1/2023 10:0").unwrap(), "2023-01-05T10:00:00+07:00");
        assert_eq!(
            p("07/04/2017 11:00 SA").unwrap(),
            "2017-04-07T11:00:00+07:00"
        );
        assert_eq!(
            p("07/04/2017 11:00 CH").unwrap(),
            "2017-04-07T23:00:00+07:00"
        );
        assert_eq!(
            p("07/04/2017 12:30 SA").unwrap(),
            "2017-04-07T00:30:00+07:00"
        );
        assert_eq!(
            p("( Ngày 05-01-2023 )").unwrap(),
            "2023-01-05T00:00:00+07:00"
        );
        assert_eq!(
            p("Thứ Hai, 16/06/2025 18:06 (GMT +7)").unwrap(),
            "2025-06-16T18:06:00+07:00"
        );
        assert_eq!(
            p("Thứ 6, 20/03/2020 | 15:48:00 [GMT +7]").unwrap(),
            "2020-03-20T15:48:00+07:00"
        );
        assert_eq!(
            p("Chủ nhật, 08/01/2023").unwrap(),
            "2023-01-08T00:00:00+07:00"
        );
        assert_eq!(p("T7 07/01/2023").unwrap(), "2023-01-07T00:00:00+07:00");
    }

    #[test]
    fn nfd_and_nbsp_do_not_matter() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(
            "Thứ 5,\u{a0}Ngày 05/01/2023,\u{a0}10:00",
        )
        .collect();
        assert_eq!(p(&nfd).unwrap(), "2023-01-05T10:00:00+07:00");
    }

    #[test]
    fn a_weekday_that_contradicts_the_date_is_refused() {
        // 05/01/2023 is a Thursday; read month-first it would be 1 May 2023, a Monday.
        let err = p("Thứ 2, Ngày 05/01/2023, 10:00").unwrap_err();
        assert!(
            matches!(
                err,
                VnDateError::WeekdayMismatch {
                    printed: Weekday::Monday,
                    actual: Weekday::Thursday,
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            p("Chủ nhật, 05/01/2023"),
            Err(VnDateError::WeekdayMismatch { .. })
        ));
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(matches!(p("hôm nay"), Err(VnDateError::NoDate(_))));
        assert!(matches!(p("31/02/2023"), Err(VnDateError::OutOfRange(_))));
        assert!(matches!(p("05/13/2023"), Err(VnDateError::OutOfRange(_))));
        assert!(matches!(
            p("05/01/2023 25:00"),
            Err(VnDateError::OutOfRange(_))
        ));
    }

    #[test]
    fn counts_with_nbsp_and_separators() {
        assert_eq!(parse_count("Lượt người xem:   20"), Some(20));
        assert_eq!(parse_count("Lượt người xem:\u{a0}\u{a0}1.234"), Some(1234));
        assert_eq!(parse_count("Lượt xem: 12,345,678 lần"), Some(12_345_678));
        assert_eq!(parse_count("3.5"), Some(3));
        assert_eq!(parse_count("không có"), None);
    }
}

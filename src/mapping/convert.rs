//! Conversions from raw SharePoint values to neutral values.
//!
//! Each conversion accepts every encoding the sources produce for its type: REST values in
//! nometadata form (numbers that may carry `.0`, expanded lookup objects, `{Url,
//! Description}` hyperlinks, publishing `<img>` markup) and the `;#`-joined strings of
//! SOAP and list views. A value that fits none is an error naming what was found.

use super::spec::Conversion;
use crate::record::ApprovalStatus;
use crate::text::{self, dates::PortalZone};
use serde_json::Value;

/// A converted value.
#[derive(Debug, Clone, PartialEq)]
pub enum Neutral {
    /// No value.
    Null,
    /// Text, NFC.
    Text(String),
    /// HTML as served and text derived from it.
    Html {
        /// As served.
        html: String,
        /// Derived, NFC.
        text: String,
    },
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// RFC 3339 with the portal's offset.
    Instant(String),
    /// Several texts (lookup titles, choices).
    List(Vec<String>),
    /// A URL with an optional description (hyperlinks, images).
    Link {
        /// The URL as served.
        url: String,
        /// Description, caption or alt text.
        description: Option<String>,
    },
    /// A content approval state.
    Approval(ApprovalStatus),
}

/// Why a raw value did not convert. Each variant carries the value as found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvertError {
    /// A value of another JSON kind than the conversion reads.
    #[error("expected {expected}, found {}", kind(found))]
    WrongKind {
        /// What the conversion reads, e.g. `a date`.
        expected: &'static str,
        /// The value found.
        found: Value,
    },
    /// A string that is not a SharePoint date.
    #[error("`{0}` is not a SharePoint date")]
    NotADate(String),
    /// A lookup id where the lookup's value was expected.
    #[error("a lookup id without its value: the lookup was not expanded")]
    LookupNotExpanded(Value),
    /// A number with a fraction where a whole one was expected.
    #[error("`{0}` is not a whole number")]
    NotWhole(Value),
    /// Text that is not a number.
    #[error("`{0}` is not a number")]
    NotANumber(String),
    /// Text that is not yes or no.
    #[error("`{0}` is not a yes/no value")]
    NotYesNo(String),
    /// `<img>` markup without a source.
    #[error("`{0}` has no image source")]
    NoImageSource(String),
    /// A value that is no moderation status.
    #[error("`{0}` is not a moderation status (0–4 or Approved/Rejected/Pending/Draft/Scheduled)")]
    NotAModerationStatus(Value),
}

fn wrong(expected: &'static str, found: &Value) -> ConvertError {
    ConvertError::WrongKind {
        expected,
        found: found.clone(),
    }
}

/// Converts `raw` (absent = `None`) with `conversion`.
pub fn convert(
    conversion: Conversion,
    raw: Option<&Value>,
    zone: &PortalZone,
) -> Result<Neutral, ConvertError> {
    let v = match raw {
        None | Some(Value::Null) => return Ok(Neutral::Null),
        Some(v) => v,
    };
    use Conversion as C;
    match conversion {
        C::Text | C::Choice => text_of(v).map(|t| opt_text(&t)),
        C::Html => match v {
            Value::String(s) if s.trim().is_empty() => Ok(Neutral::Null),
            Value::String(s) => Ok(Neutral::Html {
                html: s.clone(),
                text: text::html::to_text(s),
            }),
            other => Err(wrong("HTML text", other)),
        },
        C::Integer => integer(v).map(Neutral::Int),
        C::Number => number(v).map(Neutral::Float),
        C::Boolean => boolean(v).map(Neutral::Bool),
        C::Datetime => match v {
            Value::String(s) if s.trim().is_empty() => Ok(Neutral::Null),
            Value::String(s) => zone
                .from_sharepoint(s)
                .map(Neutral::Instant)
                .ok_or_else(|| ConvertError::NotADate(s.clone())),
            other => Err(wrong("a date", other)),
        },
        C::Lookup | C::Multichoice => list_of(v).map(|l| {
            if l.is_empty() {
                Neutral::Null
            } else {
                Neutral::List(l)
            }
        }),
        C::User => list_of(v).map(|l| {
            if l.is_empty() {
                Neutral::Null
            } else {
                Neutral::Text(l.join(", "))
            }
        }),
        C::Url | C::Image => link(v),
        C::ModerationStatus => approval(v).map(Neutral::Approval),
        C::Attachments => Ok(Neutral::Null),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn opt_text(t: &str) -> Neutral {
    let t = text::nfc(t.trim());
    if t.is_empty() {
        Neutral::Null
    } else {
        Neutral::Text(t)
    }
}

fn text_of(v: &Value) -> Result<String, ConvertError> {
    match v {
        Value::String(s) => Ok(strip_lookup_prefix(s).to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Object(_) | Value::Array(_) => list_of(v).map(|l| l.join(", ")),
        Value::Null => Ok(String::new()),
    }
}

/// `12;#Nguyễn Văn A` → `Nguyễn Văn A`; other strings unchanged.
fn strip_lookup_prefix(s: &str) -> &str {
    match s.split_once(";#") {
        Some((id, rest))
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !rest.contains(";#") =>
        {
            rest
        }
        _ => s,
    }
}

fn list_of(v: &Value) -> Result<Vec<String>, ConvertError> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(one_title)
            .filter_map(|r| r.transpose())
            .collect(),
        Value::Object(_) => one_title(v).map(|t| t.into_iter().collect()),
        Value::String(s) => Ok(split_sharepoint_multi(s)),
        Value::Number(_) => Err(ConvertError::LookupNotExpanded(v.clone())),
        other => Err(wrong("lookup or choice values", other)),
    }
}

fn one_title(v: &Value) -> Result<Option<String>, ConvertError> {
    match v {
        Value::String(s) => Ok(Some(text::nfc(s.trim()))),
        Value::Object(m) => Ok(m
            .get("Title")
            .or_else(|| m.get("LookupValue"))
            .or_else(|| m.get("Label"))
            .and_then(Value::as_str)
            .map(|s| text::nfc(s.trim()))),
        Value::Null => Ok(None),
        Value::Number(_) => Err(ConvertError::LookupNotExpanded(v.clone())),
        other => Err(wrong("a lookup value", other)),
    }
}

/// `;#A;#B;#` (multi-choice) and `1;#A;#2;#B` (multi-lookup) → `[A, B]`.
fn split_sharepoint_multi(s: &str) -> Vec<String> {
    if !s.contains(";#") {
        let t = text::nfc(s.trim());
        return if t.is_empty() { vec![] } else { vec![t] };
    }
    let parts: Vec<&str> = s.split(";#").collect();
    let lookup_style = parts.len() >= 2
        && parts
            .iter()
            .step_by(2)
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let values: Vec<&str> = if lookup_style {
        parts.into_iter().skip(1).step_by(2).collect()
    } else {
        parts
    };
    values
        .into_iter()
        .map(|p| text::nfc(p.trim()))
        .filter(|p| !p.is_empty())
        .collect()
}

fn integer(v: &Value) -> Result<i64, ConvertError> {
    let f = number(v)?;
    if f.fract() != 0.0 || !f.is_finite() || f.abs() > 9.0e15 {
        return Err(ConvertError::NotWhole(v.clone()));
    }
    Ok(f as i64)
}

fn number(v: &Value) -> Result<f64, ConvertError> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| ConvertError::NotANumber(n.to_string())),
        Value::String(s) => {
            let cleaned: String = strip_lookup_prefix(s)
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
                .collect();
            let cleaned = cleaned
                .strip_prefix("float;#")
                .unwrap_or(&cleaned)
                .to_string();
            cleaned
                .parse::<f64>()
                .map_err(|_| ConvertError::NotANumber(s.clone()))
        }
        other => Err(wrong("a number", other)),
    }
}

fn boolean(v: &Value) -> Result<bool, ConvertError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        Value::String(s) => match text::match_key(s).as_str() {
            "1" | "true" | "yes" | "có" => Ok(true),
            "0" | "false" | "no" | "không" => Ok(false),
            _ => Err(ConvertError::NotYesNo(s.clone())),
        },
        other => Err(wrong("a yes/no value", other)),
    }
}

fn link(v: &Value) -> Result<Neutral, ConvertError> {
    match v {
        Value::Object(m) => {
            let url = m
                .get("Url")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_string();
            if url.is_empty() {
                return Ok(Neutral::Null);
            }
            let description = m
                .get("Description")
                .and_then(Value::as_str)
                .map(|d| text::nfc(d.trim()))
                .filter(|d| !d.is_empty() && *d != url);
            Ok(Neutral::Link { url, description })
        }
        Value::String(s) if s.trim().is_empty() => Ok(Neutral::Null),
        Value::String(s) if s.trim_start().to_ascii_lowercase().starts_with("<img") => {
            let src = text::html::image_sources(s)
                .into_iter()
                .next()
                .ok_or_else(|| ConvertError::NoImageSource(s.clone()))?;
            let alt = img_alt(s);
            Ok(Neutral::Link {
                url: src,
                description: alt,
            })
        }
        Value::String(s) => {
            // SOAP and list views write `url, description`.
            let (url, description) = match s.split_once(", ") {
                Some((u, d)) => (
                    u.trim().to_string(),
                    Some(text::nfc(d.trim())).filter(|d| !d.is_empty()),
                ),
                None => (s.trim().to_string(), None),
            };
            Ok(Neutral::Link { url, description })
        }
        other => Err(wrong("a hyperlink", other)),
    }
}

fn img_alt(html: &str) -> Option<String> {
    let doc = text::html::parse_fragment(html);
    let sel = scraper::Selector::parse("img").ok()?;
    let alt = doc.select(&sel).next()?.value().attr("alt")?;
    let alt = text::nfc(alt.trim());
    (!alt.is_empty()).then_some(alt)
}

fn approval(v: &Value) -> Result<ApprovalStatus, ConvertError> {
    let code = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            let s = s.trim();
            let head = s.split(";#").next().unwrap_or(s);
            head.parse::<i64>()
                .ok()
                .or_else(|| match text::match_key(s).as_str() {
                    "approved" => Some(0),
                    "rejected" => Some(1),
                    "pending" => Some(2),
                    "draft" => Some(3),
                    "scheduled" => Some(4),
                    _ => None,
                })
        }
        _ => None,
    };
    match code {
        Some(0) => Ok(ApprovalStatus::Approved),
        Some(1) => Ok(ApprovalStatus::Rejected),
        Some(2) => Ok(ApprovalStatus::Pending),
        Some(3) => Ok(ApprovalStatus::Draft),
        Some(4) => Ok(ApprovalStatus::Scheduled),
        _ => Err(ConvertError::NotAModerationStatus(v.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(conv: Conversion, v: Value) -> Result<Neutral, ConvertError> {
        convert(conv, Some(&v), &PortalZone::vietnam())
    }

    #[test]
    fn text_is_nfc_and_trimmed() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Hội nghị").collect();
        assert_eq!(
            c(Conversion::Text, json!(format!(" {nfd} "))),
            Ok(Neutral::Text("Hội nghị".into()))
        );
        assert_eq!(c(Conversion::Text, json!("")), Ok(Neutral::Null));
        assert_eq!(
            convert(Conversion::Text, None, &PortalZone::vietnam()),
            Ok(Neutral::Null)
        );
    }

    #[test]
    fn html_is_kept_and_text_derived() {
        let html = "<div class=\"ExternalClass1\"><p>Đối&nbsp;với</p></div>";
        assert_eq!(
            c(Conversion::Html, json!(html)),
            Ok(Neutral::Html {
                html: html.into(),
                text: "Đối với".into()
            })
        );
    }

    #[test]
    fn integers_accept_point_zero_and_refuse_fractions() {
        assert_eq!(c(Conversion::Integer, json!(20.0)), Ok(Neutral::Int(20)));
        assert_eq!(c(Conversion::Integer, json!(134)), Ok(Neutral::Int(134)));
        assert_eq!(
            c(Conversion::Integer, json!("1.00000000000000")),
            Ok(Neutral::Int(1))
        );
        assert_eq!(
            c(Conversion::Integer, json!(20.5)),
            Err(ConvertError::NotWhole(json!(20.5)))
        );
        assert_eq!(
            c(Conversion::Integer, json!("nhiều")),
            Err(ConvertError::NotANumber("nhiều".into()))
        );
        assert_eq!(
            c(Conversion::Integer, json!([1])).unwrap_err().to_string(),
            "expected a number, found an array"
        );
        assert_eq!(c(Conversion::Number, json!(2.5)), Ok(Neutral::Float(2.5)));
    }

    #[test]
    fn booleans_in_every_encoding() {
        assert_eq!(c(Conversion::Boolean, json!(true)), Ok(Neutral::Bool(true)));
        assert_eq!(c(Conversion::Boolean, json!("0")), Ok(Neutral::Bool(false)));
        assert_eq!(c(Conversion::Boolean, json!(1)), Ok(Neutral::Bool(true)));
        assert_eq!(
            c(Conversion::Boolean, json!("maybe")),
            Err(ConvertError::NotYesNo("maybe".into()))
        );
    }

    #[test]
    fn datetimes_get_the_portal_offset() {
        assert_eq!(
            c(Conversion::Datetime, json!("2023-01-05T03:00:00Z")),
            Ok(Neutral::Instant("2023-01-05T10:00:00+07:00".into()))
        );
        assert!(c(Conversion::Datetime, json!("hôm qua")).is_err());
    }

    #[test]
    fn lookups_users_and_choices() {
        assert_eq!(
            c(
                Conversion::Lookup,
                json!([{"Id":1,"Title":"Tin tức - Sự kiện"},{"Id":3,"Title":"Thông báo"}])
            ),
            Ok(Neutral::List(vec![
                "Tin tức - Sự kiện".into(),
                "Thông báo".into()
            ]))
        );
        assert_eq!(
            c(Conversion::Lookup, json!({"Id":1,"Title":"Văn bản mới"})),
            Ok(Neutral::List(vec!["Văn bản mới".into()]))
        );
        assert_eq!(
            c(Conversion::Lookup, json!("1;#A;#2;#B")),
            Ok(Neutral::List(vec!["A".into(), "B".into()]))
        );
        assert!(c(Conversion::Lookup, json!([1, 2])).is_err());
        assert_eq!(
            c(
                Conversion::User,
                json!({"Id":7,"Title":"Nguyễn Thị Thu Hà"})
            ),
            Ok(Neutral::Text("Nguyễn Thị Thu Hà".into()))
        );
        assert_eq!(
            c(Conversion::User, json!("12;#Nguyễn Văn A")),
            Ok(Neutral::Text("Nguyễn Văn A".into()))
        );
        assert_eq!(
            c(Conversion::Choice, json!("Đã ban hành")),
            Ok(Neutral::Text("Đã ban hành".into()))
        );
        assert_eq!(
            c(Conversion::Multichoice, json!(["A", "B"])),
            Ok(Neutral::List(vec!["A".into(), "B".into()]))
        );
        assert_eq!(
            c(Conversion::Multichoice, json!(";#A;#B;#")),
            Ok(Neutral::List(vec!["A".into(), "B".into()]))
        );
    }

    #[test]
    fn urls_and_images_in_every_encoding() {
        assert_eq!(
            c(
                Conversion::Image,
                json!({"Description":"Hội nghị","Url":"http://x/PublishingImages/a.jpg"})
            ),
            Ok(Neutral::Link {
                url: "http://x/PublishingImages/a.jpg".into(),
                description: Some("Hội nghị".into())
            })
        );
        assert_eq!(
            c(
                Conversion::Image,
                json!(
                    "<IMG alt=\"Ảnh\" src=\"/PublishingImages/a.jpg\" style=\"BORDER: 0px solid; \">"
                )
            ),
            Ok(Neutral::Link {
                url: "/PublishingImages/a.jpg".into(),
                description: Some("Ảnh".into())
            })
        );
        assert_eq!(
            c(
                Conversion::Url,
                json!("https://baolongan.vn/x, Báo Long An")
            ),
            Ok(Neutral::Link {
                url: "https://baolongan.vn/x".into(),
                description: Some("Báo Long An".into())
            })
        );
        assert_eq!(
            c(Conversion::Url, json!({"Url": "", "Description": ""})),
            Ok(Neutral::Null)
        );
    }

    #[test]
    fn moderation_status_codes_and_names() {
        assert_eq!(
            c(Conversion::ModerationStatus, json!(0)),
            Ok(Neutral::Approval(ApprovalStatus::Approved))
        );
        assert_eq!(
            c(Conversion::ModerationStatus, json!(3)),
            Ok(Neutral::Approval(ApprovalStatus::Draft))
        );
        assert_eq!(
            c(Conversion::ModerationStatus, json!("2;#Pending")),
            Ok(Neutral::Approval(ApprovalStatus::Pending))
        );
        assert_eq!(
            c(Conversion::ModerationStatus, json!("Scheduled")),
            Ok(Neutral::Approval(ApprovalStatus::Scheduled))
        );
        assert!(c(Conversion::ModerationStatus, json!(9)).is_err());
    }
}

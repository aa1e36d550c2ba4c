//! What the sections of a mapping file say: the list to read, the bag's description, and for
//! each neutral field the portal field it comes from and the conversion that reads it.

use crate::record::NeutralField;
use serde::Deserialize;

/// Which list to read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// The list title as the portal shows it.
    pub title: String,
    /// Only items of this content type are archived (by name).
    pub content_type: Option<String>,
    /// The portal's time zone: an IANA name or `+HH:MM`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
}

fn default_time_zone() -> String {
    "Asia/Ho_Chi_Minh".into()
}

/// Values for `bag-info.txt`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BagSpec {
    /// Source-Organization.
    pub source_organization: Option<String>,
    /// External-Description.
    pub external_description: Option<String>,
    /// Contact-Name.
    pub contact_name: Option<String>,
    /// Contact-Email.
    pub contact_email: Option<String>,
}

/// Where a neutral field's value comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The display name as the portal shows it.
    pub field: Option<String>,
    /// The internal name, when the display name is ambiguous or unknown.
    pub internal: Option<String>,
    /// How to read the value.
    #[serde(rename = "as")]
    pub conversion: Conversion,
    /// The value moves without the item changing (a view count): `sharc backup` leaves it
    /// out of the content hash that tells a changed item.
    #[serde(default)]
    pub volatile: bool,
}

impl FieldSpec {
    /// How the mapping names the field, for messages.
    pub fn describe(&self) -> String {
        match (&self.field, &self.internal) {
            (Some(f), _) => f.clone(),
            (None, Some(i)) => format!("internal `{i}`"),
            (None, None) => "(nothing)".into(),
        }
    }

    /// The name the field is looked up by: the display name, else the internal name.
    pub fn name(&self) -> Option<&str> {
        self.field.as_deref().or(self.internal.as_deref())
    }
}

/// How a raw SharePoint value becomes a neutral value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversion {
    /// A string, NFC.
    Text,
    /// HTML kept as served, with NFC text derived from it.
    Html,
    /// An integer; `20.0` is accepted, `20.5` is not.
    Integer,
    /// A number.
    Number,
    /// `true`/`false` (also `1`/`0`, `Yes`/`No`).
    Boolean,
    /// A SharePoint instant, written with the portal's offset.
    Datetime,
    /// Lookup titles (expanded), single or multi.
    Lookup,
    /// A person's display name (expanded).
    User,
    /// A hyperlink field `{Url, Description}` or a plain URL.
    Url,
    /// An image: a picture hyperlink, a publishing `<img>` or a URL; the file is archived.
    Image,
    /// A choice value.
    Choice,
    /// Several choice values.
    Multichoice,
    /// `_ModerationStatus`: approved, rejected, pending, draft, scheduled.
    ModerationStatus,
    /// The item's attachments; the files are archived.
    Attachments,
}

impl Conversion {
    /// Every conversion.
    pub const ALL: [Conversion; 14] = [
        Self::Text,
        Self::Html,
        Self::Integer,
        Self::Number,
        Self::Boolean,
        Self::Datetime,
        Self::Lookup,
        Self::User,
        Self::Url,
        Self::Image,
        Self::Choice,
        Self::Multichoice,
        Self::ModerationStatus,
        Self::Attachments,
    ];

    /// The name written in mapping files (`as = "…"`).
    pub fn name(self) -> &'static str {
        use Conversion as C;
        match self {
            C::Text => "text",
            C::Html => "html",
            C::Integer => "integer",
            C::Number => "number",
            C::Boolean => "boolean",
            C::Datetime => "datetime",
            C::Lookup => "lookup",
            C::User => "user",
            C::Url => "url",
            C::Image => "image",
            C::Choice => "choice",
            C::Multichoice => "multichoice",
            C::ModerationStatus => "moderation_status",
            C::Attachments => "attachments",
        }
    }

    /// The conversions that can fill `field`.
    pub fn accepted_by(field: NeutralField) -> &'static [Conversion] {
        use Conversion as C;
        use NeutralField::*;
        match field {
            Title | Summary | Author | History | ImageCaption => {
                &[C::Text, C::Html, C::Choice, C::Lookup, C::User]
            }
            ArticleType | Status => &[C::Choice, C::Text, C::Lookup],
            Body => &[C::Html, C::Text],
            PublishedAt | CreatedAt | ModifiedAt => &[C::Datetime],
            Featured => &[C::Boolean],
            Categories => &[C::Lookup, C::Multichoice, C::Choice, C::Text],
            ApprovalStatus => &[C::ModerationStatus],
            ViewCount | PageCount | ImageCount => &[C::Integer, C::Number],
            AlternateUrl => &[C::Url, C::Text],
            Image => &[C::Image, C::Url],
            Attachments => &[C::Attachments],
            CreatedBy | ModifiedBy => &[C::User, C::Text],
        }
    }

    /// A SharePoint field type (`TypeAsString`) this conversion reads, and whether such a
    /// field holds several values: what a list read without its own schema (the public
    /// pages) is described as, so that binding accepts it (see `resolve`).
    pub fn field_type(self) -> (&'static str, bool) {
        use Conversion as C;
        match self {
            C::Lookup => ("LookupMulti", true),
            C::User => ("User", false),
            C::Attachments => ("Attachments", false),
            C::Datetime => ("DateTime", false),
            C::ModerationStatus => ("ModStat", false),
            C::Multichoice => ("MultiChoice", true),
            C::Choice => ("Choice", false),
            C::Html => ("Note", false),
            C::Integer | C::Number => ("Number", false),
            C::Boolean => ("Boolean", false),
            C::Url | C::Image => ("URL", false),
            C::Text => ("Text", false),
        }
    }
}

impl std::fmt::Display for Conversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

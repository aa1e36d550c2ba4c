//! The names of the neutral record's fields, as a mapping fills them.
//!
//! A mapping file says, for each neutral field, where its value comes from; the names here
//! are the record's own, so they live with the record and every layer that speaks of a field
//! (the mapping, the crawl report) uses the same list.

use serde::Deserialize;

/// A neutral record field a mapping can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum NeutralField {
    Title,
    Summary,
    Body,
    PublishedAt,
    Featured,
    Author,
    Categories,
    ArticleType,
    Status,
    ApprovalStatus,
    ViewCount,
    PageCount,
    ImageCount,
    History,
    AlternateUrl,
    Image,
    ImageCaption,
    Attachments,
    CreatedAt,
    CreatedBy,
    ModifiedAt,
    ModifiedBy,
}

impl NeutralField {
    /// Every neutral field, in the record's order.
    pub const ALL: [NeutralField; 22] = [
        Self::Title,
        Self::Summary,
        Self::Body,
        Self::PublishedAt,
        Self::Featured,
        Self::Author,
        Self::Categories,
        Self::ArticleType,
        Self::Status,
        Self::ApprovalStatus,
        Self::ViewCount,
        Self::PageCount,
        Self::ImageCount,
        Self::History,
        Self::AlternateUrl,
        Self::Image,
        Self::ImageCaption,
        Self::Attachments,
        Self::CreatedAt,
        Self::CreatedBy,
        Self::ModifiedAt,
        Self::ModifiedBy,
    ];

    /// The name used in mapping files.
    pub fn name(self) -> &'static str {
        use NeutralField::*;
        match self {
            Title => "title",
            Summary => "summary",
            Body => "body",
            PublishedAt => "published_at",
            Featured => "featured",
            Author => "author",
            Categories => "categories",
            ArticleType => "article_type",
            Status => "status",
            ApprovalStatus => "approval_status",
            ViewCount => "view_count",
            PageCount => "page_count",
            ImageCount => "image_count",
            History => "history",
            AlternateUrl => "alternate_url",
            Image => "image",
            ImageCaption => "image_caption",
            Attachments => "attachments",
            CreatedAt => "created_at",
            CreatedBy => "created_by",
            ModifiedAt => "modified_at",
            ModifiedBy => "modified_by",
        }
    }
}

impl std::fmt::Display for NeutralField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

//! What an incremental backup asks of a REST list: a narrow listing of every item's id,
//! `Modified`, version and whether it has attachments, and single items read by id.
//!
//! The listing selects four columns and orders by `ID` only: a `$filter` or `$orderby` on a
//! column that is not indexed makes SharePoint refuse a list of more than 5,000 items (the
//! list view threshold), whatever the page size. `ID` is the one column always indexed.

use super::{RestSource, item_from, malformed, protocol};
use crate::fetch::FetchError;
use crate::source::{ItemQuery, RawItem, SourceError};
use serde_json::Value;

/// Items per page of the narrow listing: SharePoint's largest page.
pub const LISTING_PAGE: usize = 5000;

/// One item as the narrow listing gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedItem {
    /// The item id.
    pub id: i64,
    /// `OData__UIVersionString`, as served.
    pub version: Option<String>,
    /// `Modified`, as served.
    pub modified: Option<String>,
    /// `Attachments`: whether the item has any.
    pub attachments: Option<bool>,
}

impl RestSource {
    /// Every item of the described list with its version and `Modified`, in id order,
    /// following next links as the item pages do (in scope, not repeated, bounded). Also
    /// returns how many pages were read.
    pub async fn list_versions(&mut self) -> Result<(Vec<ListedItem>, usize), SourceError> {
        let id = self.list_id.clone().ok_or_else(|| {
            SourceError::BadUrl("items listed before the list was described".into())
        })?;
        let query = ItemQuery {
            page_size: LISTING_PAGE,
            ..ItemQuery::default()
        };
        let mut next = Some(self.api(&format!(
            "_api/web/lists(guid'{id}')/items?$select=ID,Modified,OData__UIVersionString,Attachments&$orderby=ID&$top={LISTING_PAGE}"
        ))?);
        let (mut items, mut pages) = (Vec::new(), 0);
        while let Some(url) = next.take() {
            self.pages_read.insert(url.to_string());
            let page = self.get_page(&url).await?;
            pages += 1;
            if let Some(n) = &page.next {
                next = self.next_link(&url, n, &query)?;
            }
            for (i, e) in page.entities.into_iter().enumerate() {
                match item_from(e) {
                    Ok(item) => items.push(listed(&item)),
                    Err(props) => self.malformed.push(malformed(&props, &url, i + 1)),
                }
            }
        }
        Ok((items, pages))
    }

    /// The item `item_id` of the described list, read as a page of items reads it (the same
    /// fields, lookups and attachments); `None` when it is gone (404).
    pub async fn item(
        &mut self,
        item_id: i64,
        query: &ItemQuery,
    ) -> Result<Option<RawItem>, SourceError> {
        let url = self.item_url(item_id, query)?;
        let entity = match self.get_entity(&url).await {
            Ok(e) => e,
            Err(SourceError::Fetch(FetchError::Status { status: 404, .. })) => return Ok(None),
            Err(e) => return Err(e),
        };
        item_from(entity)
            .map(Some)
            .map_err(|_| protocol(&url, format!("item {item_id} came back without its id")))
    }
}

fn listed(item: &RawItem) -> ListedItem {
    let text = |k: &str| {
        item.props
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    ListedItem {
        id: item.id,
        version: text("OData__UIVersionString"),
        modified: text("Modified"),
        attachments: item.props.get("Attachments").and_then(Value::as_bool),
    }
}

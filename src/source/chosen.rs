//! A REST source that reads only the items it is given, by id: what an incremental backup
//! reads after the narrow listing named the new and changed items. Without ids it reads the
//! whole list, page by page, as a crawl does.

use super::rest::RestSource;
use super::{ItemQuery, ListSchema, RawItem, Source, SourceError, SourceFacts, Via};
use std::collections::VecDeque;
use url::Url;

/// Items read one request each, handed over this many at a time.
const BATCH: usize = 50;

/// A REST source over the whole list, or over chosen items.
pub struct ChosenItems {
    rest: RestSource,
    schema: Option<ListSchema>,
    ids: Option<VecDeque<i64>>,
}

impl ChosenItems {
    /// The whole list, read by `rest` (already described: `schema`).
    pub fn all(rest: RestSource, schema: ListSchema) -> Self {
        ChosenItems {
            rest,
            schema: Some(schema),
            ids: None,
        }
    }

    /// Only the items `ids`, each read by id.
    pub fn only(rest: RestSource, schema: ListSchema, ids: Vec<i64>) -> Self {
        ChosenItems {
            rest,
            schema: Some(schema),
            ids: Some(ids.into()),
        }
    }
}

impl Source for ChosenItems {
    fn via(&self) -> Via {
        Via::Rest
    }

    fn site(&self) -> &Url {
        self.rest.site()
    }

    fn protocol(&self) -> Option<String> {
        self.rest.protocol()
    }

    async fn describe(&mut self) -> Result<ListSchema, SourceError> {
        match self.schema.take() {
            Some(s) => Ok(s),
            None => self.rest.describe().await,
        }
    }

    async fn next_page(&mut self, query: &ItemQuery) -> Result<Option<Vec<RawItem>>, SourceError> {
        let Some(ids) = &mut self.ids else {
            return self.rest.next_page(query).await;
        };
        if ids.is_empty() {
            return Ok(None);
        }
        let batch: Vec<i64> = ids.drain(..ids.len().min(BATCH)).collect();
        let mut items = Vec::with_capacity(batch.len());
        for id in batch {
            // An item deleted between the listing and its read is simply not there: the
            // next run sees it gone.
            if let Some(item) = self.rest.item(id, query).await? {
                items.push(item);
            }
        }
        Ok(Some(items))
    }

    fn file_url(&self, server_relative: &str) -> Option<Url> {
        self.rest.file_url(server_relative)
    }

    fn facts(&mut self) -> SourceFacts {
        self.rest.facts()
    }
}

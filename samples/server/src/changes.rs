//! The portal changing between two runs of a client: a fixed edit of the largest list, so
//! that incremental backups can be tested against a farm whose content moves.
//!
//! With [`PortalOptions::allow_changes`](crate::PortalOptions::allow_changes) the farm answers
//! two control requests, which are not part of it (they are neither logged nor counted):
//!
//! - `POST /_sharc/change` applies the change once: the two items with the
//!   lowest ids are edited (title), two items are added after the last id (copies of the
//!   third and fourth, with their attachments), the two items with the highest ids are
//!   deleted, and the first attachment of the first other item that has one is replaced by
//!   other bytes. Every touched item gets a new version and `Modified`, as SharePoint gives
//!   it. A second call answers 409: the change is the same every time it is made, from the
//!   portal as loaded.
//! - `POST /_sharc/views` counts one more view of every item (the field titled
//!   "Số lượt người đọc"), saving each item as a workflow would: new version, new
//!   `Modified`, nothing else.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};

use super::body::{self, Response};
use super::data::{Item, List, Portal};
use super::state::Live;

/// `Modified` of every item the change touches.
pub const CHANGED_AT: &str = "2025-06-01T08:00:00Z";

/// The title of the field `POST /_sharc/views` counts in.
pub const VIEWS_FIELD: &str = "Số lượt người đọc";

/// What the change did, by item id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSummary {
    /// Items whose title was edited.
    pub edited: Vec<i64>,
    /// Items added.
    pub added: Vec<i64>,
    /// Items deleted.
    pub deleted: Vec<i64>,
    /// The item whose first attachment was replaced, and that attachment's name.
    pub replaced: Option<(i64, String)>,
}

/// Answers a control request when the farm allows changes and `request` is one; `None`
/// lets the farm answer it as any other path.
pub(crate) fn control(live: &Live, request: &Request<Incoming>) -> Option<Response> {
    let allowed = crate::state::snapshot(live).opts.allow_changes;
    if !allowed || request.method() != Method::POST {
        return None;
    }
    match request.uri().path() {
        "/_sharc/change" => Some(if change(live).is_some() {
            text(StatusCode::OK, "changed\n")
        } else {
            text(
                StatusCode::CONFLICT,
                "the change was made already; restart the portal to make it again\n",
            )
        }),
        "/_sharc/views" => {
            views(live);
            Some(text(StatusCode::OK, "views counted\n"))
        }
        _ => None,
    }
}

fn text(status: StatusCode, message: &'static str) -> Response {
    let mut response = body::response(body::full(message));
    *response.status_mut() = status;
    response
}

/// Applies the change once; `None` when it was applied already.
pub(crate) fn change(live: &Live) -> Option<ChangeSummary> {
    let mut guard = live.write().unwrap_or_else(|e| e.into_inner());
    if guard.changes > 0 {
        return None;
    }
    let mut portal = (*guard.portal).clone();
    let tree = portal.tree.clone();
    let summary = largest_list(&mut portal).map(|list| {
        apply(list, &|stored: &str| {
            tree.file("", stored).map(|b| b.len).unwrap_or_default()
        })
    });
    guard.portal = Arc::new(portal);
    guard.changes += 1;
    Some(summary.unwrap_or_default())
}

/// Counts one more view of every item of the largest list.
pub(crate) fn views(live: &Live) {
    update(live, |portal| {
        if let Some(list) = largest_list(portal) {
            count_views(list);
        }
    });
}

/// Replaces the live portal with `edit` applied to a copy of it.
fn update(live: &Live, edit: impl FnOnce(&mut Portal)) {
    let mut guard = live.write().unwrap_or_else(|e| e.into_inner());
    let mut portal = (*guard.portal).clone();
    edit(&mut portal);
    guard.portal = Arc::new(portal);
}

/// The list with the most items (the first such in `portal.json`'s order).
fn largest_list(portal: &mut Portal) -> Option<&mut List> {
    let most = portal.lists.iter().map(|l| l.items.len()).max()?;
    portal.lists.iter_mut().find(|l| l.items.len() == most)
}

/// The change itself, on `list`; `len` gives the size of a stored file.
pub(crate) fn apply(list: &mut List, len: &dyn Fn(&str) -> u64) -> ChangeSummary {
    let ids: Vec<i64> = list.items.keys().copied().collect();
    let mut summary = ChangeSummary::default();
    if ids.len() < 6 {
        return summary;
    }
    let last = ids[ids.len() - 1];
    summary.deleted = vec![ids[ids.len() - 2], last];
    for id in &ids[..2] {
        if let Some(item) = list.items.get_mut(id) {
            let title = item.values.get("Title").and_then(Value::as_str);
            let edited = format!("{} (đã cập nhật)", title.unwrap_or_default());
            item.values.insert("Title".into(), json!(edited));
            save(item);
            summary.edited.push(*id);
        }
    }
    for (n, source) in ids[2..4].iter().enumerate() {
        let Some(mut item) = list.items.get(source).cloned() else {
            continue;
        };
        let id = last + 1 + n as i64;
        item.id = id;
        for key in ["ID", "Id"] {
            item.values.insert(key.into(), json!(id));
        }
        let title = item.values.get("Title").and_then(Value::as_str);
        let title = format!("Tin mới: {}", title.unwrap_or_default());
        item.values.insert("Title".into(), json!(title));
        item.values.insert(
            "GUID".into(),
            json!(crate::files::guid_from(&(list.id.as_str(), id))),
        );
        item.values.insert("Created".into(), json!(CHANGED_AT));
        item.values.insert("owshiddenversion".into(), json!(0));
        item.values
            .insert("OData__UIVersionString".into(), json!("0.0"));
        save(&mut item);
        list.items.insert(id, item);
        summary.added.push(id);
    }
    let untouched = |id: &i64| !summary.edited.contains(id) && !summary.deleted.contains(id);
    let holder = ids
        .iter()
        .filter(|id| untouched(id) && !ids[2..4].contains(id))
        .find(|id| {
            list.items
                .get(id)
                .is_some_and(|i| !i.attachments.is_empty())
        })
        .copied();
    if let Some(id) = holder {
        let current = list.items[&id].attachments[0].stored.clone();
        // Other bytes of another size: the first attachment elsewhere that differs.
        let other = list
            .items
            .values()
            .flat_map(|i| i.attachments.iter())
            .map(|a| a.stored.clone())
            .find(|s| *s != current && len(s) != len(&current));
        if let (Some(other), Some(item)) = (other, list.items.get_mut(&id)) {
            item.attachments[0].stored = other;
            save(item);
            summary.replaced = Some((id, item.attachments[0].file_name.clone()));
        }
    }
    for id in &summary.deleted {
        list.items.remove(id);
    }
    summary
}

/// Grows the largest list to `n` items (never shrinks it): copies of its items in turn,
/// with new ids after the last, new GUIDs and titles numbered. The copies keep their images
/// (the same files as the originals') but not their attachments, so that a full crawl of a
/// grown list stays quick on a test machine. For measuring against a list of a realistic
/// size.
pub(crate) fn grow(portal: &mut Portal, n: usize) {
    let Some(list) = largest_list(portal) else {
        return;
    };
    let originals: Vec<Item> = list.items.values().cloned().collect();
    let Some(mut next) = list.items.keys().next_back().map(|id| id + 1) else {
        return;
    };
    let list_id = list.id.clone();
    for source in originals
        .iter()
        .cycle()
        .take(n.saturating_sub(list.items.len()))
    {
        let mut item = source.clone();
        item.id = next;
        item.attachments.clear();
        item.values.insert("Attachments".into(), json!(false));
        for key in ["ID", "Id"] {
            item.values.insert(key.into(), json!(next));
        }
        let title = item.values.get("Title").and_then(Value::as_str);
        let title = format!("{} (bản {next})", title.unwrap_or_default());
        item.values.insert("Title".into(), json!(title));
        item.values.insert(
            "GUID".into(),
            json!(crate::files::guid_from(&(list_id.as_str(), next))),
        );
        list.items.insert(next, item);
        next += 1;
    }
}

/// Edits the title of every `step`th item of the largest list (from the first), saving each
/// as SharePoint does; returns the ids edited.
pub(crate) fn edit_every(live: &Live, step: usize) -> Vec<i64> {
    let mut edited = Vec::new();
    update(live, |portal| {
        if let Some(list) = largest_list(portal) {
            for (id, item) in list.items.iter_mut().step_by(step.max(1)) {
                let title = item.values.get("Title").and_then(Value::as_str);
                let title = format!("{} (sửa)", title.unwrap_or_default());
                item.values.insert("Title".into(), json!(title));
                save(item);
                edited.push(*id);
            }
        }
    });
    edited
}

/// One more view of every item that has the views field.
fn count_views(list: &mut List) {
    let Some(field) = list
        .fields
        .iter()
        .find(|f| f.title == VIEWS_FIELD)
        .map(|f| f.entity_property_name.clone())
    else {
        return;
    };
    for item in list.items.values_mut() {
        if let Some(views) = item.values.get(&field).and_then(Value::as_f64) {
            item.values.insert(field.clone(), json!(views + 1.0));
            save(item);
        }
    }
}

/// Saves an item as SharePoint does: the next version, `Modified` now.
fn save(item: &mut Item) {
    let version = item.version() + 1;
    item.values
        .insert("owshiddenversion".into(), json!(version));
    let major = item
        .values
        .get("OData__UIVersionString")
        .and_then(Value::as_str)
        .and_then(|v| v.split('.').next()?.parse::<i64>().ok())
        .unwrap_or(0);
    item.values.insert(
        "OData__UIVersionString".into(),
        json!(format!("{}.0", major + 1)),
    );
    item.values.insert("Modified".into(), json!(CHANGED_AT));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_is_the_same_every_time() {
        let portal = Portal::built_in().expect("the built-in sample loads");
        let run = || {
            let mut p = portal.clone();
            let tree = p.tree.clone();
            let list = largest_list(&mut p).expect("a list");
            let summary = apply(list, &|s: &str| {
                tree.file("", s).map(|b| b.len).unwrap_or_default()
            });
            (summary, list.items.len())
        };
        let (a, len_a) = run();
        let (b, len_b) = run();
        assert_eq!(a, b);
        assert_eq!(len_a, len_b);
        assert_eq!(a.edited.len(), 2);
        assert_eq!(a.added.len(), 2);
        assert_eq!(a.deleted.len(), 2);
        assert!(a.replaced.is_some(), "{a:?}");
    }
}

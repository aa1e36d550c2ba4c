//! The sample portal's public HTML pages: what an anonymous citizen sees when `/_api` is
//! closed.
//!
//! The pages are rendered from the same sample data as the REST answers, shaped like the
//! Long An article page in `shared/seed` (a Lạc Việt CMS2013 news web part on top of
//! SharePoint 2013's display form), so the HTML source can be tested against REST item by
//! item. Routes (under the web's path):
//!
//! - `Lists/<list>/TongQuat.aspx?Page=n` — the news list, newest first,
//!   [`PortalOptions::html_page_size`] items a page, a "Trang sau" link until the last page.
//!   Only items the public sees are listed: approved, `Trạng thái` "Đã ban hành", published
//!   (`Ngày xuất bản` set and past). `SortField`/`SortDir` reorder it (a query-string
//!   permutation a careless crawler could wander through). With
//!   [`PortalOptions::html_endless_paging`] every page, even past the end, links to the next.
//! - `Lists/<list>/DispForm.aspx?ID=n` — the article: breadcrumb, date line
//!   `Thứ N, Ngày dd/MM/yyyy, HH:mm` (+07:00), `<h1>` title, short date, summary, the body
//!   HTML exactly as stored, image, attachment links, by-line, "Lượt người xem:&nbsp;&nbsp; N"
//!   (N counts up on every GET from the stored "Số lượt người đọc"), a "Tin khác" list, the
//!   ribbon leftovers, and the hidden `ms-formtable` with its `<!-- FieldName=… -->` comments,
//!   "Content Type:", "Version:", "Created  at … by", "Last modified at … by". An item the
//!   public cannot see answers **404** (SharePoint's "Item does not exist" text), not a soft
//!   200. The item [`PortalOptions::html_windows_1258_item`] is served in windows-1258, tones
//!   as combining marks, declared only by `<meta http-equiv>`.
//! - `Lists/<list>/Calendar.aspx?Month=yyyy-MM` — a month view with links to the months
//!   before and after, forever: the calendar trap, disallowed by robots.txt.
//! - `/` (and `default.aspx`) — the home page: links to the five newest public articles and
//!   to the news list.
//! - `/robots.txt` — disallows `/_layouts/`, `/_vti_bin/`, `/_catalogs/` and the calendar;
//!   `Crawl-delay` from [`PortalOptions::html_crawl_delay`].
//!
//! Pages link off-site (`https://baolongan.vn/…`) and to `/_layouts/15/userdisp.aspx?ID=…`
//! (the by-line of list entries), which a crawler must not follow.

use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use super::api::{item_content_type, substitute};
use super::body::{self, Response};
use super::data::{Field, Item, List};
use super::odata::encode_path;
use super::render::xml_escape as esc;
use super::state::{PortalOptions, Shared};

/// Answers the HTML routes; `None` for any other path.
pub(crate) fn route(
    shared: &Shared,
    method: &Method,
    segments: &[String],
    query: Option<&str>,
) -> Option<Response> {
    let rest = super::files::under_web(&shared.web_path, segments)?;
    if shared.web_path.split('/').all(str::is_empty) && rest.len() == 1 && rest[0] == "robots.txt" {
        return Some(robots(shared));
    }
    let home = match rest {
        [] => true,
        [page] => page.is_empty() || page.eq_ignore_ascii_case("default.aspx"),
        _ => false,
    };
    if home {
        return shared
            .portal
            .lists
            .iter()
            .find(|l| l.fields.iter().any(|f| f.title == PUBLISHED))
            .map(|list| Pages { shared, list }.home());
    }
    if rest.len() != 3 || !rest[0].eq_ignore_ascii_case("Lists") {
        return None;
    }
    let list = shared.portal.list_by_url_name(&rest[1])?;
    let params = Params::parse(query);
    let page = Pages { shared, list };
    match rest[2].to_ascii_lowercase().as_str() {
        "tongquat.aspx" => Some(page.list_page(&params)),
        "dispform.aspx" => Some(page.article(&params, method == Method::GET)),
        "calendar.aspx" => Some(page.calendar(&params)),
        _ => None,
    }
}

/// Query parameters, names compared case-insensitively as ASP.NET does.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn robots(shared: &Shared) -> Response {
    let mut txt = String::from(
        "# Sở Tư pháp tỉnh Long An\nUser-agent: *\nDisallow: /_layouts/\nDisallow: /_vti_bin/\nDisallow: /_catalogs/\n",
    );
    for list in &shared.portal.lists {
        txt.push_str(&format!(
            "Disallow: {}/Lists/{}/Calendar.aspx\n",
            shared.web_path, list.def.url_name
        ));
    }
    for path in &shared.opts.html_robots_disallow {
        txt.push_str(&format!("Disallow: {path}\n"));
    }
    if let Some(d) = shared.opts.html_crawl_delay {
        txt.push_str(&format!("Crawl-delay: {d}\n"));
    }
    body::text_response(200, "text/plain; charset=utf-8", txt)
}

/// An HTML answer in UTF-8.
fn html(status: StatusCode, body: String) -> Response {
    let mut r = body::response(body::full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// The news fields the pages show, by display name.
const TITLE: &str = "Tiêu đề";
const IMAGE: &str = "Hình ảnh";
const CAPTION: &str = "Hình ảnh mô tả";
const SUMMARY: &str = "Tóm tắt";
const BODY: &str = "Nội dung";
const ALTERNATE: &str = "Link thay thế nội dung";
const PUBLISHED: &str = "Ngày xuất bản";
const AUTHOR: &str = "Tác giả";
const STATUS: &str = "Trạng thái";
const VIEWS: &str = "Số lượt người đọc";

/// Fields the display form does not show as rows.
const SYSTEM_FIELDS: &[&str] = &[
    "ID",
    "ContentType",
    "ContentTypeId",
    "Created",
    "Modified",
    "Author",
    "Editor",
    "_UIVersionString",
    "GUID",
];

/// Renders the pages of one list.
struct Pages<'a> {
    shared: &'a Shared,
    list: &'a List,
}

impl<'a> Pages<'a> {
    fn opts(&self) -> &PortalOptions {
        &self.shared.opts
    }

    fn field(&self, title: &str) -> Option<&'a Field> {
        self.list.fields.iter().find(|f| f.title == title)
    }

    fn value(&self, item: &'a Item, title: &str) -> Option<&'a Value> {
        let f = self.field(title)?;
        item.values
            .get(&f.entity_property_name)
            .filter(|v| !v.is_null())
    }

    fn text(&self, item: &Item, title: &str) -> Option<String> {
        self.value(item, title)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn published(&self, item: &Item) -> Option<Timestamp> {
        self.value(item, PUBLISHED)
            .and_then(Value::as_str)
            .and_then(instant)
    }

    fn list_url(&self) -> String {
        format!(
            "{}/Lists/{}",
            self.shared.web_path,
            encode_path(&self.list.def.url_name)
        )
    }

    /// Whether an anonymous reader sees the item: approved, issued, published.
    fn public(&self, item: &Item) -> bool {
        let approved = item
            .values
            .get("OData__ModerationStatus")
            .and_then(Value::as_i64)
            .is_none_or(|s| s == 0);
        let issued = match self.field(STATUS) {
            None => true,
            Some(_) => self.text(item, STATUS).as_deref() == Some("Đã ban hành"),
        };
        let published = self.published(item).is_some_and(|t| t <= Timestamp::now());
        approved && issued && published
    }

    /// Public items, newest first (or as `SortField`/`SortDir` ask).
    fn public_items(&self, params: &Params) -> Vec<&'a Item> {
        let mut items: Vec<&Item> = self
            .list
            .items
            .values()
            .filter(|i| self.public(i))
            .collect();
        let by_title = params
            .get("SortField")
            .is_some_and(|f| f.eq_ignore_ascii_case("Title"));
        let ascending = params
            .get("SortDir")
            .is_some_and(|d| d.eq_ignore_ascii_case("Asc"));
        items.sort_by(|a, b| {
            let o = if by_title {
                title_order(&self.text(a, TITLE).unwrap_or_default())
                    .cmp(&title_order(&self.text(b, TITLE).unwrap_or_default()))
            } else {
                self.published(a)
                    .cmp(&self.published(b))
                    .then(a.id.cmp(&b.id))
            };
            if ascending { o } else { o.reverse() }
        });
        items
    }

    fn zone(&self) -> TimeZone {
        self.shared
            .portal
            .site
            .time_zone
            .as_deref()
            .and_then(|z| TimeZone::get(z).ok())
            .unwrap_or_else(|| TimeZone::fixed(jiff::tz::offset(7)))
    }

    /// `05/01/2023`.
    fn short_date(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.zone())
            .strftime("%d/%m/%Y")
            .to_string()
    }

    /// `Thứ 5, Ngày 05/01/2023, 10:00`.
    fn date_line(&self, t: Timestamp) -> String {
        let z = t.to_zoned_datetime(self.zone());
        let day = match z.weekday().to_monday_one_offset() {
            7 => "Chủ nhật".to_string(),
            n => format!("Thứ {}", n + 1),
        };
        format!("{day}, Ngày {}", z.strftime("%d/%m/%Y, %H:%M"))
    }

    /// vi-VN with SA/CH, as the display form shows dates: `05/01/2023 9:40 SA`.
    fn form_date(&self, t: Timestamp) -> String {
        let z = t.to_zoned_datetime(self.zone());
        let h = z.hour();
        let (h12, tt) = match h {
            0 => (12, "SA"),
            1..=11 => (h, "SA"),
            12 => (12, "CH"),
            _ => (h - 12, "CH"),
        };
        format!("{} {h12}:{:02} {tt}", z.strftime("%d/%m/%Y"), z.minute())
    }

    fn user_name(&self, item: &Item, key: &str) -> String {
        item.values
            .get(key)
            .and_then(Value::as_i64)
            .and_then(|id| self.shared.portal.user(id))
            .and_then(|u| u.props.get("Title"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    fn head(&self, title: &str, charset: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html dir=\"ltr\" lang=\"vi-VN\">\n<head>\n<meta http-equiv=\"X-UA-Compatible\" content=\"IE=10\"/>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset={charset}\"/>\n<title>{}</title>\n<link rel=\"stylesheet\" type=\"text/css\" href=\"{web}/Style%20Library/LacViet/CMS2013/css/style.css\"/>\n<script type=\"text/javascript\">var _spPageContextInfo = {{webServerRelativeUrl: \"{web}/\", webLanguage: 1066, pageListId: \"{{{}}}\", siteClientTag: \"0$$15.0.4701.1000\"}};</script>\n</head>\n",
            esc(title),
            self.list.id,
            web = self.shared.web_path,
        )
    }

    /// The page chrome above the content: ribbon, skip links, menu.
    fn top(&self) -> String {
        format!(
            "<body>\n<div id=\"s4-ribbonrow\"><a href=\"javascript:;\" class=\"ms-skip\">Skip Ribbon Commands</a><a href=\"#mainContent\" class=\"ms-skip\">Skip to main content</a></div>\n<div id=\"s4-workspace\">\n<div class=\"header\"><a href=\"{web}/\"><img src=\"{web}/Style%20Library/LacViet/CMS2013/Images/logo.png\" alt=\"{site}\"/></a>\n<ul class=\"menu\"><li><a href=\"{web}/\">Trang chủ</a></li><li><a href=\"{list}/TongQuat.aspx\">Tin tức Sự kiện</a></li><li><a href=\"{web}/Pages/GioiThieu.aspx\">Giới thiệu</a></li><li><a href=\"https://baolongan.vn/\">Báo Long An</a></li></ul></div>\n<a name=\"mainContent\"></a>\n",
            web = self.shared.web_path,
            site = esc(&self.shared.portal.site.title),
            list = self.list_url(),
        )
    }

    fn bottom(&self) -> &'static str {
        "<div class=\"footer\">Sở Tư pháp tỉnh Long An · Liên kết: <a href=\"https://baolongan.vn/\">Báo Long An</a></div>\n</div>\n</body>\n</html>\n"
    }

    /// One `<li>` linking an article by its title.
    fn article_entry(&self, item: &Item) -> String {
        format!(
            "<li><a href=\"{}/DispForm.aspx?ID={}\">{}</a></li>\n",
            self.list_url(),
            item.id,
            esc(&self.text(item, TITLE).unwrap_or_default())
        )
    }

    /// The home page: the newest public articles of the news list and a link to all of them.
    fn home(&self) -> Response {
        let mut out = self.head(&self.shared.portal.site.title, "utf-8");
        out.push_str(&self.top());
        out.push_str("<div class=\"home-news\">\n<h2>Tin mới</h2>\n<ul>\n");
        for item in self.public_items(&Params(Vec::new())).iter().take(5) {
            out.push_str(&self.article_entry(item));
        }
        out.push_str(&format!(
            "</ul>\n<a class=\"more\" href=\"{}/TongQuat.aspx\">Xem tất cả</a>\n</div>\n",
            self.list_url()
        ));
        out.push_str(self.bottom());
        html(StatusCode::OK, out)
    }

    fn list_page(&self, params: &Params) -> Response {
        let per_page = self.opts().html_page_size.max(1);
        let n: usize = params
            .get("Page")
            .and_then(|p| p.trim().parse().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(1);
        let items = self.public_items(params);
        let last = items.len().div_ceil(per_page).max(1);
        let shown: Vec<&Item> = items
            .iter()
            .skip((n - 1).saturating_mul(per_page))
            .take(per_page)
            .copied()
            .collect();
        let keep = |k: &str| {
            params
                .get(k)
                .map(|v| format!("&amp;{k}={}", esc(v)))
                .unwrap_or_default()
        };
        let sort = format!("{}{}", keep("SortField"), keep("SortDir"));
        let page_url = |p: usize| format!("{}/TongQuat.aspx?Page={p}{sort}", self.list_url());
        let mut out = self.head("Tin tức Sự kiện", "utf-8");
        out.push_str(&self.top());
        out.push_str(&format!(
            "<div class=\"path\"><span class=\"breadcrumb\">Tin tức Sự kiện</span></div>\n<div class=\"news-list\" id=\"ctl00_ctl50_g_{}\">\n",
            self.list.id.replace('-', "_")
        ));
        if shown.is_empty() {
            out.push_str("<p class=\"empty\">Không có tin nào.</p>\n");
        }
        for item in &shown {
            let title = self.text(item, TITLE).unwrap_or_default();
            out.push_str(&format!(
                "<div class=\"news-item\">\n<a class=\"news-link\" href=\"{}/DispForm.aspx?ID={}\">{}</a>\n",
                self.list_url(),
                item.id,
                esc(&title)
            ));
            if let Some(t) = self.published(item) {
                out.push_str(&format!(
                    "<span class=\"news-date\">({})</span>\n",
                    self.short_date(t)
                ));
            }
            if let Some(s) = self.text(item, SUMMARY) {
                out.push_str(&format!("<div class=\"news-desc\">{}</div>\n", esc(&s)));
            }
            if let Some(author) = item.values.get("AuthorId").and_then(Value::as_i64) {
                out.push_str(&format!(
                    "<div class=\"news-by\">Người đăng: <a href=\"{}/_layouts/15/userdisp.aspx?ID={author}\">{}</a></div>\n",
                    self.shared.web_path,
                    esc(&self.user_name(item, "AuthorId"))
                ));
            }
            if let Some((url, desc)) = self.alternate(item) {
                out.push_str(&format!(
                    "<a class=\"news-source\" href=\"{}\">Nguồn: {}</a>\n",
                    esc(&url),
                    esc(&desc)
                ));
            }
            out.push_str("</div>\n");
        }
        out.push_str("</div>\n<div class=\"paging\">Trang:");
        for p in 1..=last {
            if p == n {
                out.push_str(&format!(" <span class=\"current\">{p}</span>"));
            } else {
                out.push_str(&format!(" <a href=\"{}\">{p}</a>", page_url(p)));
            }
        }
        if n < last || self.opts().html_endless_paging {
            out.push_str(&format!(
                " <a class=\"next\" href=\"{}\">Trang sau ›</a>",
                page_url(n + 1)
            ));
        }
        let newest_month = items
            .first()
            .and_then(|i| self.published(i))
            .map(|t| {
                t.to_zoned_datetime(self.zone())
                    .strftime("%Y-%m")
                    .to_string()
            })
            .unwrap_or_else(|| "2025-01".into());
        out.push_str(&format!(
            "</div>\n<div class=\"sort\">Sắp xếp: <a href=\"{list}/TongQuat.aspx?Page={n}&amp;SortField=Title&amp;SortDir=Asc\">Tiêu đề</a> · <a href=\"{list}/TongQuat.aspx?Page={n}&amp;SortField=Date&amp;SortDir=Asc\">Cũ nhất</a></div>\n<div class=\"calendar\"><a href=\"{list}/Calendar.aspx?Month={newest_month}\">Xem theo lịch</a></div>\n",
            list = self.list_url(),
        ));
        out.push_str(self.bottom());
        html(StatusCode::OK, out)
    }

    fn alternate(&self, item: &Item) -> Option<(String, String)> {
        let v = substitute(self.value(item, ALTERNATE)?, &self.shared.origin);
        let url = v.get("Url")?.as_str()?.to_string();
        let desc = v
            .get("Description")
            .and_then(Value::as_str)
            .unwrap_or(&url)
            .to_string();
        (!url.is_empty()).then_some((url, desc))
    }

    fn calendar(&self, params: &Params) -> Response {
        let month = params
            .get("Month")
            .and_then(|m| {
                let (y, mo) = m.split_once('-')?;
                Some((y.parse::<i16>().ok()?, mo.parse::<i8>().ok()?))
            })
            .filter(|(y, m)| (1900..=2999).contains(y) && (1..=12).contains(m))
            .unwrap_or((2025, 1));
        let (prev, next) = match month {
            (y, 1) => ((y - 1, 12), (y, 2)),
            (y, 12) => ((y, 11), (y + 1, 1)),
            (y, m) => ((y, m - 1), (y, m + 1)),
        };
        let label = format!("{:04}-{:02}", month.0, month.1);
        let mut out = self.head(&format!("Lịch tin {label}"), "utf-8");
        out.push_str(&self.top());
        out.push_str(&format!(
            "<div class=\"calendar-month\"><h2>Tháng {label}</h2><ul>\n"
        ));
        for item in self.public_items(&Params(Vec::new())) {
            let Some(t) = self.published(item) else {
                continue;
            };
            if t.to_zoned_datetime(self.zone())
                .strftime("%Y-%m")
                .to_string()
                == label
            {
                out.push_str(&self.article_entry(item));
            }
        }
        out.push_str(&format!(
            "</ul><a class=\"prev-month\" href=\"{list}/Calendar.aspx?Month={:04}-{:02}\">‹ Tháng trước</a> <a class=\"next-month\" href=\"{list}/Calendar.aspx?Month={:04}-{:02}\">Tháng sau ›</a></div>\n",
            prev.0,
            prev.1,
            next.0,
            next.1,
            list = self.list_url(),
        ));
        out.push_str(self.bottom());
        html(StatusCode::OK, out)
    }

    fn article(&self, params: &Params, count_view: bool) -> Response {
        let item = params
            .get("ID")
            .and_then(|id| id.trim().parse::<i64>().ok())
            .and_then(|id| self.list.items.get(&id))
            .filter(|i| self.public(i));
        let Some(item) = item else {
            let mut out = self.head("Error", "utf-8");
            out.push_str(&self.top());
            out.push_str("<div id=\"ms-error\"><h1>Sorry, something went wrong</h1><p>Item does not exist. It may have been deleted by another user.</p></div>\n");
            out.push_str(self.bottom());
            return html(StatusCode::NOT_FOUND, out);
        };
        let stored = self
            .value(item, VIEWS)
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as i64;
        let views = stored
            + if count_view {
                self.shared.page_views.bump(&self.list.id, item.id)
            } else {
                0
            };
        let legacy = self.opts().html_windows_1258_item == Some(item.id);
        let page = self.article_html(item, views, if legacy { "windows-1258" } else { "utf-8" });
        if !legacy {
            return html(StatusCode::OK, page);
        }
        let spelled = cp1258_form(&page);
        let (bytes, _, _) = encoding_rs::WINDOWS_1258.encode(&spelled);
        let mut r = body::response(body::full(bytes.into_owned()));
        // The charset is declared only in the page's <meta>, as on many old portals.
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        r
    }

    fn article_html(&self, item: &Item, views: i64, charset: &str) -> String {
        let title = self.text(item, TITLE).unwrap_or_default();
        let list = self.list_url();
        let mut out = self.head(&title, charset);
        out.push_str(&self.top());
        out.push_str(&format!(
            "<div class=\"news-detail\" id=\"ctl00_ctl50_g_{}\">\n<div class=\"path\"><span class=\"breadcrumb\"><a href=\"{list}/TongQuat.aspx\">Tin tức Sự kiện</a></span></div>\n",
            self.list.id.replace('-', "_")
        ));
        if let Some(t) = self.published(item) {
            out.push_str(&format!(
                "<div class=\"date-line\">{}</div>\n",
                self.date_line(t)
            ));
        }
        out.push_str(&format!("<h1 class=\"news-title\">{}</h1>\n", esc(&title)));
        if let Some(t) = self.published(item) {
            out.push_str(&format!(
                "<div class=\"short-date\">{}</div>\n",
                self.short_date(t)
            ));
        }
        if let Some(s) = self.text(item, SUMMARY) {
            out.push_str(&format!("<div class=\"news-summary\">{}</div>\n", esc(&s)));
        }
        if let Some(img) = self
            .value(item, IMAGE)
            .map(|v| substitute(v, &self.shared.origin))
            && let Some(src) = img.get("Url").and_then(Value::as_str)
        {
            let caption = self.text(item, CAPTION).unwrap_or_default();
            out.push_str(&format!(
                "<div class=\"news-image\"><img src=\"{}\" alt=\"{}\"/><div class=\"comment\">{}</div></div>\n",
                esc(src),
                esc(&caption),
                esc(&caption)
            ));
        }
        // The body exactly as stored: the page is where an archiver must find it unchanged.
        if let Some(body) = self.text(item, BODY) {
            out.push_str(&format!("<div class=\"news-content\">{body}</div>\n"));
        }
        if !item.attachments.is_empty() {
            out.push_str("<div class=\"news-attachments\"><span>Tài liệu kèm theo:</span><table>");
            for a in &item.attachments {
                out.push_str(&format!(
                    "<tr><td><a href=\"{}\">{}</a></td></tr>",
                    self.attachment_url(item, &a.file_name),
                    esc(&a.file_name)
                ));
            }
            out.push_str("</table></div>\n");
        }
        if let Some(a) = self.text(item, AUTHOR) {
            out.push_str(&format!("<div class=\"news-author\">{}</div>\n", esc(&a)));
        }
        if let Some((url, desc)) = self.alternate(item) {
            out.push_str(&format!(
                "<div class=\"news-source\">Nguồn: <a href=\"{}\">{}</a></div>\n",
                esc(&url),
                esc(&desc)
            ));
        }
        out.push_str(&format!(
            "<div class=\"news-views\">Lượt người xem:&nbsp;&nbsp; {views}</div>\n</div>\n"
        ));
        out.push_str("<div class=\"other-news\"><div class=\"top_F\">Tin khác</div><ul>\n");
        for other in self
            .public_items(&Params(Vec::new()))
            .into_iter()
            .filter(|o| o.id != item.id)
            .take(5)
        {
            out.push_str(&format!(
                "<li><a href=\"{list}/DispForm.aspx?ID={}\">{}</a> <span>({})</span></li>\n",
                other.id,
                esc(&self.text(other, TITLE).unwrap_or_default()),
                self.published(other)
                    .map(|t| self.short_date(t))
                    .unwrap_or_default()
            ));
        }
        out.push_str("</ul></div>\n");
        out.push_str(&self.display_form(item, views));
        out.push_str(self.bottom());
        out
    }

    fn attachment_url(&self, item: &Item, name: &str) -> String {
        format!(
            "{}/Attachments/{}/{}",
            self.list_url(),
            item.id,
            encode_path(name)
        )
    }

    /// SharePoint's own display form, hidden under the vendor web part.
    fn display_form(&self, item: &Item, views: i64) -> String {
        let web = &self.shared.web_path;
        let mut out = format!(
            "<div style=\"display:none\" class=\"ms-hidden-listform\">\n<div class=\"ms-cui-ribbon\"><a href=\"{web}/_layouts/15/User.aspx?List=%7B{id}%7D&amp;obj=%7B{id}%7D,{item},LISTITEM\"><span>Manage Permissions</span><span class=\"ms-cui-hidden\">Manage Permissions</span></a> | <a href=\"{web}/_layouts/15/Versions.aspx?list=%7B{id}%7D&amp;ID={item}\"><span>Version History</span><span class=\"ms-cui-hidden\">Version History</span></a></div>\n<table class=\"ms-formtable\" style=\"margin-top: 8px;\" border=\"0\" cellpadding=\"0\" cellspacing=\"0\" width=\"100%\">\n",
            id = self.list.id,
            item = item.id
        );
        for f in &self.list.fields {
            if SYSTEM_FIELDS.contains(&f.internal_name.as_str())
                || f.raw.get("Hidden").and_then(Value::as_bool) == Some(true)
            {
                continue;
            }
            let value = if f.title == VIEWS {
                group_thousands(views)
            } else if f.type_as_string == "Attachments" {
                let mut t = String::from(
                    "<table border=\"0\" cellpadding=\"0\" cellspacing=\"0\" id=\"idAttachmentsTable\">",
                );
                for a in &item.attachments {
                    t.push_str(&format!(
                        "<tr><td class=\"ms-vb\"><a href=\"{}\">{}</a></td></tr>",
                        self.attachment_url(item, &a.file_name),
                        esc(&a.file_name)
                    ));
                }
                t.push_str("</table>");
                t
            } else {
                self.form_value(item, f)
            };
            let row_id = if f.type_as_string == "Attachments" {
                " id=\"idAttachmentsRow\""
            } else {
                ""
            };
            out.push_str(&format!(
                "<tr{row_id}>\n<td nowrap=\"true\" valign=\"top\" width=\"113px\" class=\"ms-formlabel\"><h3 class=\"ms-standardheader\"><a name=\"SPBookmark_{internal}\"></a>{title}</h3></td>\n<td valign=\"top\" class=\"ms-formbody\" width=\"350px\" id=\"SPField{kind}\">\n<!-- FieldName=\"{title}\"\n     FieldInternalName=\"{internal}\"\n     FieldType=\"SPField{kind}\"\n   -->\n{value}\n</td>\n</tr>\n",
                internal = esc(&f.internal_name),
                title = esc(&f.title),
                kind = esc(&f.type_as_string),
            ));
        }
        let content_type = item_content_type(self.list, item)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let version = item
            .values
            .get("OData__UIVersionString")
            .and_then(Value::as_str)
            .unwrap_or("1.0");
        let stamp = |key: &str| {
            item.values
                .get(key)
                .and_then(Value::as_str)
                .and_then(instant)
                .map(|t| self.form_date(t))
                .unwrap_or_default()
        };
        let by = |key: &str| {
            let id = item.values.get(key).and_then(Value::as_i64).unwrap_or(0);
            format!(
                "<a class=\"ms-subtleLink\" href=\"{web}/_layouts/15/userdisp.aspx?ID={id}\">{}</a>",
                esc(&self.user_name(item, key))
            )
        };
        out.push_str(&format!(
            "</table>\n<table class=\"ms-formtoolbar\" cellpadding=\"2\" cellspacing=\"0\" border=\"0\" width=\"100%\">\n<tr><td class=\"ms-descriptiontext\" id=\"onetidinfoblockCT\">Content Type: {}</td></tr>\n<tr><td class=\"ms-descriptiontext\" id=\"onetidinfoblockV\">Version: {}</td></tr>\n<tr><td nowrap=\"nowrap\" class=\"ms-descriptiontext\" id=\"onetidinfoblock1\"><span>Created  at {}&nbsp; by <nobr>{}</nobr></span></td></tr>\n<tr><td nowrap=\"nowrap\" class=\"ms-descriptiontext\" id=\"onetidinfoblock2\"><span>Last modified at {}&nbsp; by <nobr>{}</nobr></span></td></tr>\n</table>\n</div>\n",
            esc(&content_type),
            esc(version),
            stamp("Created"),
            by("AuthorId"),
            stamp("Modified"),
            by("EditorId"),
        ));
        out
    }

    /// A value as the display form shows it.
    fn form_value(&self, item: &Item, f: &Field) -> String {
        let key = &f.entity_property_name;
        match f.type_as_string.as_str() {
            "Lookup" | "LookupMulti" => {
                let ids: Vec<i64> = match item.values.get(&format!("{key}Id")) {
                    Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
                    Some(v) => v.as_i64().into_iter().collect(),
                    None => Vec::new(),
                };
                let target = f
                    .lookup_list()
                    .and_then(|id| self.shared.portal.list_by_id(&id));
                ids.iter()
                    .filter_map(|id| {
                        let t = target?;
                        let title = t.items.get(id)?.values.get(&f.lookup_field())?.as_str()?;
                        Some(format!(
                            "<a href=\"{}/Lists/{}/DispForm.aspx?ID={id}&amp;RootFolder=*\">{}</a>",
                            self.shared.web_path,
                            encode_path(&t.def.url_name),
                            esc(title)
                        ))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            "ModStat" => match item.values.get(key).and_then(Value::as_i64) {
                Some(0) => "Approved",
                Some(1) => "Rejected",
                Some(2) => "Pending",
                Some(3) => "Draft",
                Some(4) => "Scheduled",
                _ => "",
            }
            .to_string(),
            _ => {
                let Some(v) = item.values.get(key).filter(|v| !v.is_null()) else {
                    return String::new();
                };
                let v = substitute(v, &self.shared.origin);
                match (f.type_as_string.as_str(), &v) {
                    ("Boolean", Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_string(),
                    ("Number" | "Integer" | "Counter", Value::Number(n)) => n
                        .as_f64()
                        .filter(|x| x.fract() == 0.0)
                        .map(|x| group_thousands(x as i64))
                        .unwrap_or_else(|| n.to_string()),
                    ("DateTime", Value::String(s)) => {
                        instant(s).map(|t| self.form_date(t)).unwrap_or_default()
                    }
                    ("URL", Value::Object(o)) => {
                        let url = o.get("Url").and_then(Value::as_str).unwrap_or("");
                        let desc = o.get("Description").and_then(Value::as_str).unwrap_or(url);
                        if f.raw.get("DisplayFormat").and_then(Value::as_i64) == Some(1) {
                            format!("<img src=\"{}\" alt=\"{}\"/>", esc(url), esc(desc))
                        } else {
                            format!("<a href=\"{}\">{}</a>", esc(url), esc(desc))
                        }
                    }
                    ("Note", Value::String(s))
                        if f.raw.get("RichText").and_then(Value::as_bool) == Some(true) =>
                    {
                        format!("<div class=\"ms-rtestate-field\">{s}</div>")
                    }
                    ("Note", Value::String(s)) => format!(
                        "<div dir=\"\">{}</div>",
                        s.lines().map(esc).collect::<Vec<_>>().join("<br>")
                    ),
                    (_, Value::String(s)) => esc(s),
                    (_, other) => esc(&other.to_string()),
                }
            }
        }
    }
}

/// `1248` → `1.248`, as vi-VN groups digits.
/// An instant as SharePoint stores it: RFC 3339 with `Z` or an offset, or a bare date and
/// time, which REST means as UTC.
fn instant(value: &str) -> Option<Timestamp> {
    let v = value.trim();
    v.parse::<Timestamp>().ok().or_else(|| {
        let civil: jiff::civil::DateTime = v.parse().ok()?;
        TimeZone::UTC.to_timestamp(civil).ok()
    })
}

/// The key the public list sorts titles by: case and Unicode form ignored.
fn title_order(title: &str) -> String {
    title.nfc().collect::<String>().to_lowercase()
}

fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Text as windows-1258 spells it: letters with their shape (â, ê, ô, ơ, ư, ă) precomposed,
/// tones (grave, acute, tilde, hook, dot below) as combining marks after them.
fn cp1258_form(s: &str) -> String {
    const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
    fn flush(base: &mut String, tones: &mut String, out: &mut String) {
        out.extend(base.nfc());
        out.push_str(tones);
        base.clear();
        tones.clear();
    }
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    let mut base = String::new();
    let mut tones = String::new();
    for c in s.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            if TONES.contains(&c) {
                tones.push(c);
            } else {
                base.push(c);
            }
        } else {
            flush(&mut base, &mut tones, &mut out);
            base.push(c);
        }
    }
    flush(&mut base, &mut tones, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp1258_spelling_encodes_without_loss() {
        let text = "Hướng dẫn đăng ký khai sinh, khai tử trực tuyến — Thủ Đức";
        let spelled = cp1258_form(text);
        assert_ne!(spelled, text);
        assert!(spelled.contains("\u{1b0}\u{301}"), "ướ = ươ + acute");
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&spelled);
        assert!(!unmappable);
        let (back, _, _) = encoding_rs::WINDOWS_1258.decode(&bytes);
        assert_eq!(back.nfc().collect::<String>(), text);
    }

    #[test]
    fn thousands_group_with_dots() {
        assert_eq!(group_thousands(20), "20");
        assert_eq!(group_thousands(1248), "1.248");
        assert_eq!(group_thousands(12_345_678), "12.345.678");
    }
}

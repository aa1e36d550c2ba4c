//! The `/_api` REST endpoints: route resolution, entity building, paging and errors.
//!
//! A request goes through four steps: the path is decoded and split into OData segments;
//! the `Accept` header picks a shape (or a 406, as an old farm would); the segments resolve to
//! a [`Route`] that borrows the portal data; the route builds [`Entity`] values that
//! [`Projection`] and the renderer turn into the answer. Each failure is an [`ApiError`] with
//! SharePoint's code and message, written in the shape the client asked for.

use hyper::Method;
use serde_json::{Map, Value, json};

use super::body::{Response, text_response};
use super::data::{ContentTypeDef, Field, FieldKind, Item, List, User};
use super::faults;
use super::files::{self, FileTarget, Lookup};
use super::filter::Filter;
use super::odata::{
    Accept, Format, Literal, Query, Segment, decode, encode_lower, encode_path, named_arg,
    parse_accept, parse_literal, quote_literal, split_segments,
};
use super::render::{
    ApiError, Entity, ErrorShape, Kind, Meta, Nav, NavValue, Node, Projection, Prop, collection,
    error_body, function_result, single,
};
use super::state::Shared;

/// `-1, System.ArgumentException` (a list that does not exist, by title).
const ARGUMENT: &str = "-1, System.ArgumentException";
/// `-2147024809, System.ArgumentException` (an item or a column that does not exist).
const ARGUMENT_E_INVALIDARG: &str = "-2147024809, System.ArgumentException";
/// `-2130246362, System.ArgumentException` (a list id that does not exist).
const ARGUMENT_LIST_ID: &str = "-2130246362, System.ArgumentException";
/// `-2130575338, Microsoft.SharePoint.SPException` (a file that does not exist).
const FILE_NOT_FOUND: &str = "-2130575338, Microsoft.SharePoint.SPException";
/// `-1, Microsoft.SharePoint.Client.ClientServiceException` (a bad `Accept`).
const CLIENT_SERVICE: &str = "-1, Microsoft.SharePoint.Client.ClientServiceException";
/// `-1, Microsoft.SharePoint.Client.ResourceNotFoundException`.
const RESOURCE_NOT_FOUND: &str = "-1, Microsoft.SharePoint.Client.ResourceNotFoundException";
/// `-2147024891, System.UnauthorizedAccessException`.
const ACCESS_DENIED: &str = "-2147024891, System.UnauthorizedAccessException";
/// `-2130575251, Microsoft.SharePoint.SPException` (a write without a request digest).
const SECURITY_VALIDATION: &str = "-2130575251, Microsoft.SharePoint.SPException";
/// `-1, System.NotImplementedException`: a real endpoint this sample does not emulate.
const NOT_IMPLEMENTED: &str = "-1, System.NotImplementedException";

/// The form digest `POST /_api/contextinfo` (and `Sites.asmx` `GetUpdatedFormDigest`) hands
/// out: SharePoint's shape (hex, then the time it was issued), fixed so answers repeat.
pub(crate) const FORM_DIGEST: &str = "0x5CA1AB1E0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000,01 Jan 2010 00:00:00 -0000";

/// Navigation properties a list item has besides its lookups, in SharePoint's order.
const ITEM_NAVS: [&str; 10] = [
    "FirstUniqueAncestorSecurableObject",
    "RoleAssignments",
    "AttachmentFiles",
    "ContentType",
    "FieldValuesAsHtml",
    "FieldValuesAsText",
    "FieldValuesForEdit",
    "File",
    "Folder",
    "ParentList",
];

/// Answers one `/_api` request; `rest` is the raw path after `_api/`.
pub(crate) async fn handle(
    shared: &Shared,
    method: &Method,
    rest: &str,
    query: Option<&str>,
    accept: Option<&str>,
) -> Response {
    let accept = parse_accept(accept);
    let shape = error_shape(accept, shared.opts.json_light);
    match answer(shared, method, rest, query, accept).await {
        Ok(response) => response,
        Err(err) => error_response(shape, &err),
    }
}

/// The 403 of a farm that denies the anonymous client, in the shape it asked for.
pub(crate) fn access_denied(shared: &Shared, accept: Option<&str>) -> Response {
    let shape = error_shape(parse_accept(accept), shared.opts.json_light);
    error_response(
        shape,
        &ApiError {
            status: 403,
            code: ACCESS_DENIED,
            message: "Access denied. You do not have permission to perform this action or \
                      access this resource."
                .to_owned(),
        },
    )
}

fn error_shape(accept: Accept, json_light: bool) -> ErrorShape {
    match accept {
        Accept::NoJson => ErrorShape::Xml,
        Accept::Json {
            format: Format::Verbose,
            ..
        } => ErrorShape::Verbose,
        Accept::Json { .. } if !json_light => ErrorShape::Verbose,
        Accept::Json { format, .. } => ErrorShape::Light(format),
    }
}

fn error_response(shape: ErrorShape, err: &ApiError) -> Response {
    let (content_type, body) = error_body(shape, err.code, &err.message);
    text_response(err.status, content_type, body)
}

/// The shape to answer in, or the 406 an old farm gives.
fn negotiate(accept: Accept, json_light: bool) -> Result<Format, ApiError> {
    match accept {
        Accept::Json {
            format: Format::Verbose,
            ..
        } => Ok(Format::Verbose),
        Accept::Json { format, .. } if json_light => Ok(format),
        _ => Err(ApiError {
            status: 406,
            code: CLIENT_SERVICE,
            message: "The HTTP header ACCEPT is missing or its value is invalid.".to_owned(),
        }),
    }
}

async fn answer(
    shared: &Shared,
    method: &Method,
    rest: &str,
    query: Option<&str>,
    accept: Accept,
) -> Result<Response, ApiError> {
    if method == Method::POST && rest.eq_ignore_ascii_case("contextinfo") {
        let format = negotiate(accept, shared.opts.json_light)?;
        return Ok(text_response(
            200,
            format.content_type(),
            context_info(shared, format).to_json(),
        ));
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError {
            status: 403,
            code: SECURITY_VALIDATION,
            message: "The security validation for this page is invalid and might be corrupted. \
                      Please use your web browser's Back button to try your operation again."
                .to_owned(),
        });
    }
    let decoded = decode(rest).map_err(|_| invalid_expression(rest))?;
    let segments = split_segments(&decoded).map_err(|_| invalid_expression(&decoded))?;
    let query = Query::parse(query);
    let is_value = segments.last().is_some_and(|s| s.is("$value"));
    // File bytes are served whatever the Accept header says, as on a real farm.
    let format = if is_value {
        Format::Verbose
    } else {
        negotiate(accept, shared.opts.json_light)?
    };
    let route = resolve(shared, &segments, &query, &decoded)?;
    if let Route::Value(target) = &route {
        if faults::fails(&shared.opts.faults, target) {
            return Err(faults::failed_item_error(target));
        }
        return Ok(files::respond(target, "application/octet-stream").await);
    }
    let node = build(shared, route, &query, format)?;
    Ok(text_response(200, format.content_type(), node.to_json()))
}

/// `POST /_api/contextinfo`: the form digest a client sends back as `X-RequestDigest`, and
/// the farm's version. SharePoint answers it to any reader without a digest of its own.
fn context_info(shared: &Shared, format: Format) -> Node {
    let plain = |v: Value| Prop::Plain(v);
    // `15.0.0.4701` in MicrosoftSharePointTeamServices is `15.0.4701.1000` here.
    let parts: Vec<&str> = shared.portal.site.version.split('.').collect();
    let library = match parts.as_slice() {
        [major, minor, _, build] => format!("{major}.{minor}.{build}.1000"),
        _ => shared.portal.site.version.clone(),
    };
    let info = Prop::Complex {
        type_name: "SP.ContextWebInformation".to_owned(),
        fields: vec![
            ("FormDigestTimeoutSeconds".to_owned(), plain(json!(1800))),
            ("FormDigestValue".to_owned(), plain(json!(FORM_DIGEST))),
            ("LibraryVersion".to_owned(), plain(json!(library))),
            ("SiteFullUrl".to_owned(), plain(json!(shared.web_url))),
            (
                "SupportedSchemaVersions".to_owned(),
                Prop::infer(json!(["14.0.0.0", "15.0.0.0"])),
            ),
            ("WebFullUrl".to_owned(), plain(json!(shared.web_url))),
        ],
    };
    let metadata = format!("{}/_api/$metadata#SP.ContextWebInformation", shared.web_url);
    function_result(format, &metadata, "GetContextWebInformation", &info)
}

fn invalid_expression(expr: &str) -> ApiError {
    ApiError::bad_query(format!("The expression \"{expr}\" is not valid."))
}

/// What a request path points to.
enum Route<'p> {
    Web,
    Lists,
    WebContentTypes,
    List(&'p List),
    RootFolder(&'p List),
    Fields(&'p List),
    Field(&'p List, &'p Field),
    ContentTypes(&'p List),
    ContentType(&'p List, &'p ContentTypeDef),
    ContentTypeFields(&'p List, &'p ContentTypeDef),
    Items(&'p List),
    Item(&'p List, &'p Item),
    ItemContentType(&'p List, &'p Item),
    Attachments(&'p List, &'p Item),
    Attachment(&'p List, &'p Item, FileTarget),
    File(FileTarget),
    Value(FileTarget),
}

fn resolve<'p>(
    shared: &'p Shared,
    segments: &[Segment],
    query: &Query,
    expr: &str,
) -> Result<Route<'p>, ApiError> {
    let invalid = || invalid_expression(expr);
    let mut it = segments.iter();
    let Some(first) = it.next() else {
        return Err(ApiError {
            status: 404,
            code: RESOURCE_NOT_FOUND,
            message: "Cannot find resource for the request .".to_owned(),
        });
    };
    let list = if first.is("web") && first.args.is_none() {
        match it.next() {
            None => return Ok(Route::Web),
            Some(s) if s.is("lists") && s.args.is_none() => match it.next() {
                None => return Ok(Route::Lists),
                Some(s) if s.is("getbytitle") => list_by_title(shared, s, query, expr)?,
                Some(_) => return Err(invalid()),
            },
            Some(s) if s.is("lists") => list_by_guid(shared, s, query, expr)?,
            Some(s)
                if (s.is("contenttypes") || s.is("availablecontenttypes"))
                    && s.args.is_none()
                    && it.len() == 0 =>
            {
                return Ok(Route::WebContentTypes);
            }
            Some(s) if s.is("getfilebyserverrelativeurl") => {
                let path = string_arg(s, query, expr)?;
                return file_route(shared, &path, true, it.as_slice(), expr);
            }
            Some(s)
                if s.is("getfilebyserverrelativepath")
                    && shared.portal.site.version.starts_with("16") =>
            {
                let raw = s.args.as_deref().ok_or_else(invalid)?;
                let value = named_arg(raw, "decodedurl").ok_or_else(invalid)?;
                let Literal::Str(path) = parse_literal(value, query).map_err(|_| invalid())? else {
                    return Err(invalid());
                };
                return file_route(shared, &path, false, it.as_slice(), expr);
            }
            Some(_) => return Err(invalid()),
        }
    } else if first.is("lists") {
        if first.args.is_some() {
            list_by_guid(shared, first, query, expr)?
        } else {
            match it.next() {
                None => return Ok(Route::Lists),
                Some(s) if s.is("getbytitle") => list_by_title(shared, s, query, expr)?,
                Some(_) => return Err(invalid()),
            }
        }
    } else {
        return Err(ApiError {
            status: 404,
            code: RESOURCE_NOT_FOUND,
            message: format!("Cannot find resource for the request {}.", first.name),
        });
    };
    list_route(shared, list, it.as_slice(), query, expr)
}

fn string_arg(segment: &Segment, query: &Query, expr: &str) -> Result<String, ApiError> {
    match segment.args.as_deref().map(|a| parse_literal(a, query)) {
        Some(Ok(Literal::Str(s))) => Ok(s),
        _ => Err(invalid_expression(expr)),
    }
}

fn int_arg(segment: &Segment, query: &Query, expr: &str) -> Result<i64, ApiError> {
    match segment.args.as_deref().map(|a| parse_literal(a, query)) {
        Some(Ok(Literal::Int(n))) => Ok(n),
        _ => Err(invalid_expression(expr)),
    }
}

fn list_by_title<'p>(
    shared: &'p Shared,
    segment: &Segment,
    query: &Query,
    expr: &str,
) -> Result<&'p List, ApiError> {
    let title = string_arg(segment, query, expr)?;
    shared.portal.list_by_title(&title).ok_or_else(|| ApiError {
        status: 404,
        code: ARGUMENT,
        message: format!(
            "List '{title}' does not exist at site with URL '{}'.",
            shared.web_url
        ),
    })
}

fn list_by_guid<'p>(
    shared: &'p Shared,
    segment: &Segment,
    query: &Query,
    expr: &str,
) -> Result<&'p List, ApiError> {
    let id = match segment.args.as_deref().map(|a| parse_literal(a, query)) {
        Some(Ok(Literal::Guid(id))) => id,
        _ => return Err(invalid_expression(expr)),
    };
    shared.portal.list_by_id(&id).ok_or_else(|| ApiError {
        status: 404,
        code: ARGUMENT_LIST_ID,
        message: "List does not exist.\n\nThe page you selected contains a list that does not \
                  exist.  It may have been deleted by another user."
            .to_owned(),
    })
}

fn list_route<'p>(
    shared: &'p Shared,
    list: &'p List,
    rest: &[Segment],
    query: &Query,
    expr: &str,
) -> Result<Route<'p>, ApiError> {
    let invalid = || invalid_expression(expr);
    let Some((first, rest)) = rest.split_first() else {
        return Ok(Route::List(list));
    };
    match (first, rest) {
        (s, []) if s.is("rootfolder") && s.args.is_none() => Ok(Route::RootFolder(list)),
        (s, []) if s.is("items") && s.args.is_none() => Ok(Route::Items(list)),
        (s, rest) if s.is("items") || s.is("getitembyid") => {
            let id = int_arg(s, query, expr)?;
            let item = list.items.get(&id).ok_or_else(|| ApiError {
                status: 404,
                code: ARGUMENT_E_INVALIDARG,
                message: "Item does not exist. It may have been deleted by another user."
                    .to_owned(),
            })?;
            item_route(shared, list, item, rest, query, expr)
        }
        (s, []) if s.is("fields") && s.args.is_none() => Ok(Route::Fields(list)),
        (s, [by]) if s.is("fields") && s.args.is_none() => {
            let wanted = if by.is("getbyinternalnameortitle") || by.is("getbytitle") {
                string_arg(by, query, expr)?
            } else {
                return Err(invalid());
            };
            let by_title = by.is("getbytitle");
            list.fields
                .iter()
                .find(|f| f.internal_name == wanted && !by_title)
                .or_else(|| list.fields.iter().find(|f| f.title == wanted))
                .map(|f| Route::Field(list, f))
                .ok_or_else(|| column_missing(&wanted))
        }
        (s, []) if s.is("fields") => match s.args.as_deref().map(|a| parse_literal(a, query)) {
            Some(Ok(Literal::Guid(id))) => list
                .fields
                .iter()
                .find(|f| f.id == id)
                .map(|f| Route::Field(list, f))
                .ok_or_else(|| column_missing(&id)),
            _ => Err(invalid()),
        },
        (s, []) if s.is("contenttypes") && s.args.is_none() => Ok(Route::ContentTypes(list)),
        (s, rest) if s.is("contenttypes") && s.args.is_some() => {
            let id = string_arg(s, query, expr)?;
            let ct = list
                .def
                .content_types
                .iter()
                .find(|c| c.id.eq_ignore_ascii_case(&id))
                .ok_or_else(|| ApiError {
                    status: 404,
                    code: RESOURCE_NOT_FOUND,
                    message: format!("Content type '{id}' does not exist."),
                })?;
            match rest {
                [] => Ok(Route::ContentType(list, ct)),
                [f] if f.is("fields") && f.args.is_none() => Ok(Route::ContentTypeFields(list, ct)),
                _ => Err(invalid()),
            }
        }
        _ => Err(invalid()),
    }
}

fn column_missing(name: &str) -> ApiError {
    ApiError {
        status: 404,
        code: ARGUMENT_E_INVALIDARG,
        message: format!(
            "Column '{name}' does not exist. It may have been deleted by another user."
        ),
    }
}

fn item_route<'p>(
    shared: &'p Shared,
    list: &'p List,
    item: &'p Item,
    rest: &[Segment],
    query: &Query,
    expr: &str,
) -> Result<Route<'p>, ApiError> {
    let invalid = || invalid_expression(expr);
    let Some((first, rest)) = rest.split_first() else {
        return Ok(Route::Item(list, item));
    };
    if first.is("attachmentfiles") {
        let (name, rest) = match (&first.args, rest) {
            (None, []) => return Ok(Route::Attachments(list, item)),
            (Some(_), rest) => (string_arg(first, query, expr)?, rest),
            (None, [by, rest @ ..]) if by.is("getbyfilename") => {
                (string_arg(by, query, expr)?, rest)
            }
            _ => return Err(invalid()),
        };
        let target =
            match files::attachment_target(&shared.portal, list, item, &name, &shared.web_path) {
                Some(Lookup::Found(target)) => target,
                _ => {
                    let url = format!(
                        "{}/{}/Attachments/{}/{name}",
                        shared.web_path,
                        list.root_folder(),
                        item.id
                    );
                    return Err(file_missing(&url));
                }
            };
        return match rest {
            [] => Ok(Route::Attachment(list, item, target)),
            [v] if v.is("$value") => Ok(Route::Value(target)),
            _ => Err(invalid()),
        };
    }
    if first.is("contenttype") && rest.is_empty() {
        return Ok(Route::ItemContentType(list, item));
    }
    if ITEM_NAVS.iter().any(|n| first.is(n)) || first.is("versions") {
        return Err(not_implemented(&format!(
            "the endpoint items({})/{}",
            item.id, first.name
        )));
    }
    Err(invalid())
}

fn not_implemented(what: &str) -> ApiError {
    ApiError {
        status: 501,
        code: NOT_IMPLEMENTED,
        message: format!("The sample portal does not implement {what}."),
    }
}

fn file_missing(server_relative_url: &str) -> ApiError {
    ApiError {
        status: 404,
        code: FILE_NOT_FOUND,
        message: format!("The file {server_relative_url} does not exist."),
    }
}

/// `GetFileByServerRelativeUrl('…')` (`by_url`) or `GetFileByServerRelativePath(decodedurl='…')`.
fn file_route<'p>(
    shared: &'p Shared,
    path: &str,
    by_url: bool,
    rest: &[Segment],
    expr: &str,
) -> Result<Route<'p>, ApiError> {
    let absolute = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{}/{path}", shared.web_path)
    };
    // SharePoint 2013 treats the literal as a URL: `#` cuts it and `%` is decoded again, so
    // such names are not found this way (they are with GetFileByServerRelativePath, 2019+).
    if by_url && absolute.contains(['#', '%']) {
        return Err(file_missing(&absolute));
    }
    let segments: Vec<String> = absolute.split('/').skip(1).map(str::to_owned).collect();
    let target = match files::resolve(&shared.portal, &shared.web_path, &segments) {
        Lookup::Found(target) => target,
        Lookup::NotFound | Lookup::Refused => return Err(file_missing(&absolute)),
    };
    match rest {
        [] => Ok(Route::File(target)),
        [v] if v.is("$value") => Ok(Route::Value(target)),
        _ => Err(invalid_expression(expr)),
    }
}

// ---------------------------------------------------------------------------------------
// Building answers
// ---------------------------------------------------------------------------------------

fn build(
    shared: &Shared,
    route: Route<'_>,
    query: &Query,
    format: Format,
) -> Result<Node, ApiError> {
    let proj = Projection::from_query(query);
    let api = format!("{}/_api/", shared.web_url);
    let metadata = |set: &str| format!("{api}$metadata#{set}");
    let one = |entity: Entity, set: &str| -> Result<Node, ApiError> {
        Ok(single(format, &metadata(set), &proj.apply(entity)?))
    };
    let many = |entities: Vec<Entity>, set: &str| -> Result<Node, ApiError> {
        let entities = entities
            .into_iter()
            .map(|e| proj.apply(e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(collection(format, &metadata(set), &entities, None))
    };
    match route {
        Route::Web => one(web_entity(shared, &proj), "SP.ApiData.Webs"),
        Route::Lists => {
            let filter = query.option("$filter").and_then(parse_filter);
            let lists = shared
                .portal
                .lists
                .iter()
                .map(|l| list_entity(shared, l, &proj))
                .filter(|e| filter.as_ref().is_none_or(|f| passes(f, e)))
                .collect();
            many(lists, "SP.ApiData.Lists")
        }
        Route::WebContentTypes => {
            let mut seen = Vec::new();
            let mut cts = Vec::new();
            for list in &shared.portal.lists {
                for ct in &list.def.content_types {
                    if !seen.contains(&ct.id) {
                        seen.push(ct.id.clone());
                        cts.push(content_type_entity(shared, None, ct));
                    }
                }
            }
            many(cts, "SP.ApiData.ContentTypes")
        }
        Route::List(list) => one(list_entity(shared, list, &proj), "SP.ApiData.Lists"),
        Route::RootFolder(list) => one(folder_entity(shared, list), "SP.ApiData.Folders"),
        Route::Fields(list) => {
            let filter = query.option("$filter").and_then(parse_filter);
            let fields = list
                .fields
                .iter()
                .map(|f| field_entity(shared, list, f))
                .filter(|e| filter.as_ref().is_none_or(|f| passes(f, e)))
                .collect();
            many(fields, "SP.ApiData.Fields")
        }
        Route::Field(list, field) => one(field_entity(shared, list, field), "SP.ApiData.Fields"),
        Route::ContentTypes(list) => {
            let cts = list
                .def
                .content_types
                .iter()
                .map(|c| content_type_entity(shared, Some(list), c))
                .collect();
            many(cts, "SP.ApiData.ContentTypes")
        }
        Route::ContentType(list, ct) => one(
            content_type_entity(shared, Some(list), ct),
            "SP.ApiData.ContentTypes",
        ),
        Route::ContentTypeFields(list, ct) => {
            let fields = list
                .fields
                .iter()
                .filter(|f| {
                    ct.fields
                        .as_ref()
                        .is_none_or(|names| names.contains(&f.internal_name))
                })
                .map(|f| field_entity(shared, list, f))
                .collect();
            many(fields, "SP.ApiData.Fields")
        }
        Route::ItemContentType(list, item) => match item_content_type(list, item) {
            Some(ct) => one(
                content_type_entity(shared, Some(list), ct),
                "SP.ApiData.ContentTypes",
            ),
            None => Err(ApiError {
                status: 404,
                code: RESOURCE_NOT_FOUND,
                message: "The item has no content type of its list.".to_owned(),
            }),
        },
        Route::Items(list) => items_page(
            shared,
            list,
            query,
            &proj,
            format,
            &metadata(&items_set(list)),
        ),
        Route::Item(list, item) => one(item_entity(shared, list, item, &proj)?, &items_set(list)),
        Route::Attachments(list, item) => {
            let atts = attachment_entities(shared, list, item);
            many(atts, "SP.ApiData.Attachments")
        }
        Route::Attachment(list, item, target) => one(
            attachment_entity(shared, list, item, &target.name),
            "SP.ApiData.Attachments",
        ),
        Route::File(target) => one(file_entity(shared, &target), "SP.ApiData.Files"),
        Route::Value(_) => Err(invalid_expression("$value")),
    }
}

fn items_set(list: &List) -> String {
    format!("SP.ListData.{}Items", list.entity_type_name)
}

fn parse_filter(expr: &str) -> Option<Filter> {
    let filter = Filter::parse(expr);
    if filter.is_none() {
        tracing::debug!(
            filter = expr,
            "sample portal ignores an unsupported $filter"
        );
    }
    filter
}

/// Whether an entity's plain properties pass a filter.
fn passes(filter: &Filter, entity: &Entity) -> bool {
    filter.matches(|name| {
        entity
            .props
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, p)| match p {
                Prop::Plain(v) => Some(v),
                _ => None,
            })
    })
}

fn list_path(list: &List) -> String {
    format!("Web/Lists(guid'{}')", list.id)
}

fn api_url(shared: &Shared, relative: &str) -> String {
    format!("{}/_api/{relative}", shared.web_url)
}

fn nav(shared: &Shared, edit_link: String) -> Nav {
    Nav {
        uri: api_url(shared, &edit_link),
        edit_link,
        requires_expand: false,
        deferred: true,
        value: None,
    }
}

fn plain(name: &str, value: Value) -> (String, Prop) {
    (name.to_owned(), Prop::Plain(value))
}

fn web_entity(shared: &Shared, proj: &Projection) -> Entity {
    let site = &shared.portal.site;
    let last_modified = shared
        .portal
        .lists
        .iter()
        .filter_map(last_item_modified)
        .max();
    let ui_version = if site.version.starts_with("16") {
        16
    } else {
        15
    };
    let mut navs = Vec::new();
    for name in [
        "AvailableContentTypes",
        "ContentTypes",
        "Lists",
        "RootFolder",
    ] {
        let mut n = nav(shared, format!("Web/{name}"));
        if name == "Lists" && proj.expands(name) {
            n.value = Some(NavValue::Many(
                shared
                    .portal
                    .lists
                    .iter()
                    .map(|l| list_entity(shared, l, &Projection::default()))
                    .collect(),
            ));
        }
        navs.push((name.to_owned(), n));
    }
    let uri = api_url(shared, "Web");
    Entity {
        meta: Meta {
            id: uri.clone(),
            uri: Some(uri.clone()),
            etag: None,
            type_name: "SP.Web".to_owned(),
            odata_id: uri,
            edit_link: Some("Web".to_owned()),
        },
        kind: Kind::Object,
        props: vec![
            plain("Description", json!(site.description)),
            plain("Id", json!(site.web_id)),
            plain("Language", json!(site.language)),
            plain("LastItemModifiedDate", json!(last_modified)),
            plain(
                "ServerRelativeUrl",
                json!(if shared.web_path.is_empty() {
                    "/"
                } else {
                    &shared.web_path
                }),
            ),
            plain("Title", json!(site.title)),
            plain("UIVersion", json!(ui_version)),
            plain("Url", json!(shared.web_url)),
            plain("WebTemplate", json!("BLANKINTERNET")),
        ],
        navs,
        default_props: None,
    }
}

fn last_item_modified(list: &List) -> Option<String> {
    list.items
        .values()
        .filter_map(|i| i.values.get("Modified").and_then(Value::as_str))
        .max()
        .map(str::to_owned)
}

fn list_entity(shared: &Shared, list: &List, proj: &Projection) -> Entity {
    let path = list_path(list);
    let uri = api_url(shared, &path);
    let created = list
        .items
        .values()
        .filter_map(|i| i.values.get("Created").and_then(Value::as_str))
        .min()
        .unwrap_or("2013-01-01T00:00:00Z")
        .to_owned();
    let modified = last_item_modified(list).unwrap_or_else(|| created.clone());
    let mut navs = Vec::new();
    for name in ["ContentTypes", "Fields", "Items", "RootFolder"] {
        let mut n = nav(shared, format!("{path}/{name}"));
        if proj.expands(name) {
            n.value = match name {
                "RootFolder" => Some(NavValue::One(Some(Box::new(folder_entity(shared, list))))),
                "Fields" => Some(NavValue::Many(
                    list.fields
                        .iter()
                        .map(|f| field_entity(shared, list, f))
                        .collect(),
                )),
                "ContentTypes" => Some(NavValue::Many(
                    list.def
                        .content_types
                        .iter()
                        .map(|c| content_type_entity(shared, Some(list), c))
                        .collect(),
                )),
                _ => None,
            };
        }
        navs.push((name.to_owned(), n));
    }
    let def = &list.def;
    Entity {
        meta: Meta {
            id: uri.clone(),
            uri: Some(uri.clone()),
            etag: Some(format!("\"{}\"", list.items.len() + 1)),
            type_name: "SP.List".to_owned(),
            odata_id: uri,
            edit_link: Some(path),
        },
        kind: Kind::Object,
        props: vec![
            plain("AllowContentTypes", json!(true)),
            plain("BaseTemplate", json!(def.base_template)),
            plain("BaseType", json!(list.base_type())),
            plain("ContentTypesEnabled", json!(!def.content_types.is_empty())),
            plain("Created", json!(created)),
            plain("Description", json!(def.description)),
            plain("EnableAttachments", json!(list.base_type() == 0)),
            plain("EnableModeration", json!(false)),
            plain("EnableVersioning", json!(true)),
            plain("EntityTypeName", json!(list.entity_type_name)),
            plain("Hidden", json!(def.hidden)),
            plain("Id", json!(list.id)),
            plain("ItemCount", json!(list.items.len())),
            plain("LastItemModifiedDate", json!(modified)),
            plain(
                "ListItemEntityTypeFullName",
                json!(format!("SP.Data.{}Item", list.entity_type_name)),
            ),
            plain(
                "ParentWebUrl",
                json!(if shared.web_path.is_empty() {
                    "/"
                } else {
                    &shared.web_path
                }),
            ),
            plain("Title", json!(def.title)),
        ],
        navs,
        default_props: None,
    }
}

fn folder_entity(shared: &Shared, list: &List) -> Entity {
    let path = format!("{}/RootFolder", list_path(list));
    let uri = api_url(shared, &path);
    Entity {
        meta: Meta {
            id: uri.clone(),
            uri: Some(uri.clone()),
            etag: None,
            type_name: "SP.Folder".to_owned(),
            odata_id: uri,
            edit_link: Some(path),
        },
        kind: Kind::Object,
        props: vec![
            plain("ItemCount", json!(list.items.len())),
            plain("Name", json!(list.def.url_name)),
            plain(
                "ServerRelativeUrl",
                json!(format!("{}/{}", shared.web_path, list.root_folder())),
            ),
            plain(
                "UniqueId",
                json!(files::guid_from(&(list.id.as_str(), "root"))),
            ),
        ],
        navs: Vec::new(),
        default_props: None,
    }
}

fn field_type_name(type_as_string: &str) -> &'static str {
    match type_as_string {
        "Text" => "SP.FieldText",
        "Note" => "SP.FieldMultiLineText",
        "DateTime" => "SP.FieldDateTime",
        "Number" => "SP.FieldNumber",
        "Currency" => "SP.FieldCurrency",
        "Choice" => "SP.FieldChoice",
        "MultiChoice" => "SP.FieldMultiChoice",
        "Lookup" | "LookupMulti" => "SP.FieldLookup",
        "User" | "UserMulti" => "SP.FieldUser",
        "URL" => "SP.FieldUrl",
        "Calculated" => "SP.FieldCalculated",
        "Computed" => "SP.FieldComputed",
        "Guid" => "SP.FieldGuid",
        "Geolocation" => "SP.FieldGeolocation",
        "TaxonomyFieldType" | "TaxonomyFieldTypeMulti" => "SP.Taxonomy.TaxonomyField",
        _ => "SP.Field",
    }
}

fn field_entity(shared: &Shared, list: &List, field: &Field) -> Entity {
    let path = if field.id.is_empty() {
        format!(
            "{}/Fields/getbyinternalnameortitle({})",
            list_path(list),
            quote_literal(&field.internal_name)
        )
    } else {
        format!("{}/Fields(guid'{}')", list_path(list), field.id)
    };
    let uri = api_url(shared, &path);
    let mut props: Vec<(String, Prop)> = field
        .raw
        .iter()
        .map(|(k, v)| (k.clone(), Prop::infer(v.clone())))
        .collect();
    if !field.raw.contains_key("EntityPropertyName") {
        props.push(plain(
            "EntityPropertyName",
            json!(field.entity_property_name),
        ));
    }
    Entity {
        meta: Meta {
            id: uri.clone(),
            uri: Some(uri.clone()),
            etag: None,
            type_name: field_type_name(&field.type_as_string).to_owned(),
            odata_id: uri,
            edit_link: Some(path),
        },
        kind: Kind::Object,
        props,
        navs: Vec::new(),
        default_props: None,
    }
}

fn content_type_entity(shared: &Shared, list: Option<&List>, ct: &ContentTypeDef) -> Entity {
    let path = match list {
        Some(list) => format!("{}/ContentTypes('{}')", list_path(list), ct.id),
        None => format!("Web/ContentTypes('{}')", ct.id),
    };
    let uri = api_url(shared, &path);
    let navs = ["FieldLinks", "Fields", "Parent", "WorkflowAssociations"]
        .iter()
        .map(|n| ((*n).to_owned(), nav(shared, format!("{path}/{n}"))))
        .collect();
    Entity {
        meta: Meta {
            id: uri.clone(),
            uri: Some(uri.clone()),
            etag: None,
            type_name: "SP.ContentType".to_owned(),
            odata_id: uri,
            edit_link: Some(path),
        },
        kind: Kind::Object,
        props: vec![
            plain("Description", json!(ct.description)),
            plain(
                "Group",
                json!(ct.group.as_deref().unwrap_or("Custom Content Types")),
            ),
            plain("Hidden", json!(ct.hidden)),
            (
                "Id".to_owned(),
                Prop::Complex {
                    type_name: "SP.ContentTypeId".to_owned(),
                    fields: vec![plain("StringValue", json!(ct.id))],
                },
            ),
            plain("Name", json!(ct.name)),
            plain("ReadOnly", json!(false)),
            plain("Sealed", json!(false)),
            plain("StringId", json!(ct.id)),
        ],
        navs,
        default_props: None,
    }
}

/// The list content type an item belongs to: exact id, else the longest id it starts with.
pub(crate) fn item_content_type<'p>(list: &'p List, item: &Item) -> Option<&'p ContentTypeDef> {
    let id = item.values.get("ContentTypeId").and_then(Value::as_str)?;
    let id = id.to_ascii_lowercase();
    list.def
        .content_types
        .iter()
        .filter(|c| id.starts_with(&c.id.to_ascii_lowercase()))
        .max_by_key(|c| c.id.len())
}

fn attachment_entities(shared: &Shared, list: &List, item: &Item) -> Vec<Entity> {
    item.attachments
        .iter()
        .map(|a| attachment_entity(shared, list, item, &a.file_name))
        .collect()
}

fn attachment_entity(shared: &Shared, list: &List, item: &Item, file_name: &str) -> Entity {
    let path = format!(
        "{}/Items({})/AttachmentFiles({})",
        list_path(list),
        item.id,
        quote_literal(file_name)
    );
    let uri = api_url(
        shared,
        &format!(
            "{}/Items({})/AttachmentFiles('{}')",
            list_path(list),
            item.id,
            encode_path(&file_name.replace('\'', "''"))
        ),
    );
    Entity {
        meta: Meta {
            id: uri.clone(),
            uri: Some(uri.clone()),
            etag: None,
            type_name: "SP.Attachment".to_owned(),
            odata_id: uri,
            edit_link: Some(path),
        },
        kind: Kind::Object,
        props: vec![
            plain("FileName", json!(file_name)),
            plain(
                "ServerRelativeUrl",
                json!(format!(
                    "{}/{}/Attachments/{}/{file_name}",
                    shared.web_path,
                    list.root_folder(),
                    item.id
                )),
            ),
        ],
        navs: Vec::new(),
        default_props: None,
    }
}

fn file_entity(shared: &Shared, target: &FileTarget) -> Entity {
    let path = format!(
        "Web/GetFileByServerRelativeUrl({})",
        quote_literal(&target.server_relative_url)
    );
    let uri = api_url(
        shared,
        &format!(
            "Web/GetFileByServerRelativeUrl('{}')",
            encode_path(&target.server_relative_url.replace('\'', "''"))
        ),
    );
    let time = jiff::Timestamp::try_from(target.modified)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    Entity {
        meta: Meta {
            id: uri.clone(),
            uri: Some(uri.clone()),
            etag: Some(target.etag.clone()),
            type_name: "SP.File".to_owned(),
            odata_id: uri,
            edit_link: Some(path),
        },
        kind: Kind::Object,
        props: vec![
            plain("CheckInComment", json!("")),
            plain("CheckOutType", json!(2)),
            plain("ContentTag", json!(target.etag.trim_matches('"'))),
            plain("ETag", json!(target.etag)),
            plain("Exists", json!(true)),
            plain("Length", json!(target.len.to_string())),
            plain("Level", json!(1)),
            plain("MajorVersion", json!(1)),
            plain("MinorVersion", json!(0)),
            plain("Name", json!(target.name)),
            plain("ServerRelativeUrl", json!(target.server_relative_url)),
            plain("TimeCreated", json!(time)),
            plain("TimeLastModified", json!(time)),
            plain("Title", Value::Null),
            plain("UIVersion", json!(512)),
            plain("UIVersionLabel", json!("1.0")),
            plain("UniqueId", json!(target.unique_id)),
        ],
        navs: Vec::new(),
        default_props: None,
    }
}

// ---------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------

/// Replaces `{{site}}` in every string with the server's origin.
pub(crate) fn substitute(value: &Value, origin: &str) -> Value {
    match value {
        Value::String(s) if s.contains("{{site}}") => Value::String(s.replace("{{site}}", origin)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, origin)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, origin)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A lookup or user field as a navigation property of items.
struct LookupNav<'p> {
    name: String,
    field: Option<&'p Field>,
    user: bool,
    multi: bool,
}

fn lookup_navs<'p>(list: &'p List, item: &Item) -> Vec<LookupNav<'p>> {
    let mut out: Vec<LookupNav<'p>> = list
        .fields
        .iter()
        .filter_map(|f| match f.kind() {
            FieldKind::Lookup { multi } => Some(LookupNav {
                name: f.entity_property_name.clone(),
                field: Some(f),
                user: false,
                multi,
            }),
            FieldKind::User { multi } => Some(LookupNav {
                name: f.entity_property_name.clone(),
                field: Some(f),
                user: true,
                multi,
            }),
            _ => None,
        })
        .collect();
    // Author and Editor exist on every list even when fields.json leaves them out.
    for name in ["Author", "Editor"] {
        if item.values.contains_key(&format!("{name}Id")) && !out.iter().any(|n| n.name == name) {
            out.push(LookupNav {
                name: name.to_owned(),
                field: None,
                user: true,
                multi: false,
            });
        }
    }
    out
}

/// Converts one stored value to a property with the type information verbose needs.
fn item_prop(list: &List, key: &str, value: Value) -> Prop {
    let field = list.field_by_property(key);
    let id_of_lookup = key
        .strip_suffix("Id")
        .and_then(|base| list.field_by_property(base))
        .is_some_and(|f| matches!(f.kind(), FieldKind::Lookup { .. } | FieldKind::User { .. }));
    match (field.map(Field::kind), value) {
        (_, Value::Array(items)) if id_of_lookup => Prop::Collection {
            type_name: "Collection(Edm.Int32)".to_owned(),
            items: items.into_iter().map(Prop::Plain).collect(),
        },
        (Some(FieldKind::Url), Value::Object(map)) => complex("SP.FieldUrlValue", map),
        (Some(FieldKind::Taxonomy { .. }), Value::Object(map)) => {
            complex("SP.Taxonomy.TaxonomyFieldValue", map)
        }
        (Some(FieldKind::Taxonomy { .. }), Value::Array(items)) => Prop::Collection {
            type_name: "Collection(SP.Taxonomy.TaxonomyFieldValue)".to_owned(),
            items: items
                .into_iter()
                .map(|v| match v {
                    Value::Object(map) => complex("SP.Taxonomy.TaxonomyFieldValue", map),
                    other => Prop::Plain(other),
                })
                .collect(),
        },
        (_, value) => Prop::infer(value),
    }
}

fn complex(type_name: &str, map: Map<String, Value>) -> Prop {
    // URL values read best as Description then Url, the order SharePoint writes.
    let mut fields: Vec<(String, Prop)> =
        map.into_iter().map(|(k, v)| (k, Prop::Plain(v))).collect();
    fields.sort_by_key(|(k, _)| k != "Description");
    Prop::Complex {
        type_name: type_name.to_owned(),
        fields,
    }
}

/// Values for properties that are not stored but can be asked for by `$select`.
fn computed_prop(shared: &Shared, list: &List, item: &Item, name: &str) -> Option<Prop> {
    let dir = format!("{}/{}", shared.web_path, list.root_folder());
    let value = match name {
        "FileRef" => json!(format!("{dir}/{}_.000", item.id)),
        "FileLeafRef" => json!(format!("{}_.000", item.id)),
        "FileDirRef" => json!(dir),
        "FSObjType" => json!("0"),
        "FileSystemObjectType" => json!(0),
        "Id" | "ID" => json!(item.id),
        _ => {
            if let Some(field) = list.field_by_property(name)
                && !matches!(
                    field.kind(),
                    FieldKind::Lookup { .. } | FieldKind::User { .. }
                )
            {
                return Some(Prop::Plain(Value::Null));
            }
            let base = name.strip_suffix("Id")?;
            let field = list.field_by_property(base)?;
            return match field.kind() {
                FieldKind::Lookup { multi: true } | FieldKind::User { multi: true } => {
                    Some(Prop::infer(json!([])))
                }
                FieldKind::Lookup { .. } | FieldKind::User { .. } => Some(Prop::Plain(Value::Null)),
                _ => None,
            };
        }
    };
    Some(Prop::Plain(value))
}

fn item_guid(item: &Item, list: &List) -> String {
    item.values
        .get("GUID")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| files::guid_from(&(list.id.as_str(), item.id)))
}

fn item_entity(
    shared: &Shared,
    list: &List,
    item: &Item,
    proj: &Projection,
) -> Result<Entity, ApiError> {
    let path = format!("{}/Items({})", list_path(list), item.id);
    let uri = api_url(shared, &path);
    let mut props: Vec<(String, Prop)> = Vec::with_capacity(item.order.len());
    for key in item.order.iter().filter(|k| !k.starts_with('_')) {
        if let Some(value) = item.values.get(key) {
            let value = substitute(value, &shared.origin);
            props.push((key.clone(), item_prop(list, key, value)));
        }
    }
    let mut navs = Vec::new();
    for name in ITEM_NAVS {
        let mut n = nav(shared, format!("{path}/{name}"));
        if proj.expands(name) {
            n.value = match name {
                "AttachmentFiles" => Some(NavValue::Many(attachment_entities(shared, list, item))),
                "ContentType" => {
                    Some(NavValue::One(item_content_type(list, item).map(|c| {
                        Box::new(content_type_entity(shared, Some(list), c))
                    })))
                }
                other => {
                    return Err(not_implemented(&format!("$expand={other}")));
                }
            };
        }
        navs.push((name.to_owned(), n));
    }
    for lookup in lookup_navs(list, item) {
        let mut n = nav(shared, format!("{path}/{}", lookup.name));
        n.requires_expand = true;
        n.deferred = false;
        if proj.expands(&lookup.name) {
            n.value = Some(expand_lookup(shared, item, &lookup));
        }
        navs.push((lookup.name, n));
    }
    // Stored values for $select that are not in the file (never a navigation property).
    for name in proj.selected() {
        if !props.iter().any(|(n, _)| n == name)
            && !navs.iter().any(|(n, _)| n == name)
            && let Some(prop) = computed_prop(shared, list, item, name)
        {
            props.push((name.to_owned(), prop));
        }
    }
    Ok(Entity {
        meta: Meta {
            id: path.clone(),
            uri: Some(uri),
            etag: Some(format!("\"{}\"", item.version())),
            type_name: format!("SP.Data.{}Item", list.entity_type_name),
            odata_id: item_guid(item, list),
            edit_link: Some(path),
        },
        kind: Kind::Item,
        props,
        navs,
        default_props: None,
    })
}

fn expand_lookup(shared: &Shared, item: &Item, lookup: &LookupNav<'_>) -> NavValue {
    let ids: Vec<i64> = match item.values.get(&format!("{}Id", lookup.name)) {
        Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_i64).collect(),
        Some(v) => v.as_i64().into_iter().collect(),
        None => Vec::new(),
    };
    let entity = |id: i64| -> Option<Entity> {
        if lookup.user {
            shared.portal.user(id).map(user_entity)
        } else {
            lookup_target_entity(shared, lookup.field, id)
        }
    };
    if lookup.multi {
        NavValue::Many(ids.into_iter().filter_map(entity).collect())
    } else {
        NavValue::One(ids.first().and_then(|id| entity(*id)).map(Box::new))
    }
}

fn user_entity(user: &User) -> Entity {
    let mut props: Vec<(String, Prop)> = Vec::new();
    for key in ["Id", "Title", "Name", "EMail"] {
        if let Some(v) = user.props.get(key) {
            props.push(plain(key, v.clone()));
        }
    }
    for (k, v) in &user.props {
        if !["Id", "Title", "Name", "EMail"].contains(&k.as_str()) {
            props.push((k.clone(), Prop::infer(v.clone())));
        }
    }
    let guid = files::guid_from(&("user", user.id));
    Entity {
        meta: Meta {
            id: guid.clone(),
            uri: None,
            etag: None,
            type_name: "SP.Data.UserInfoItem".to_owned(),
            odata_id: guid,
            edit_link: None,
        },
        kind: Kind::Item,
        props,
        navs: Vec::new(),
        default_props: None,
    }
}

fn lookup_target_entity(shared: &Shared, field: Option<&Field>, id: i64) -> Option<Entity> {
    let field = field?;
    let target_field = field.lookup_field();
    let target_list = field
        .lookup_list()
        .and_then(|l| shared.portal.list_by_id(&l));
    let (props, type_name, guid) = match target_list {
        Some(list) => {
            let item = list.items.get(&id)?;
            let props = item
                .order
                .iter()
                .filter(|k| !k.starts_with('_'))
                .filter_map(|k| {
                    let v = substitute(item.values.get(k)?, &shared.origin);
                    Some((k.clone(), item_prop(list, k, v)))
                })
                .collect();
            (
                props,
                format!("SP.Data.{}Item", list.entity_type_name),
                item_guid(item, list),
            )
        }
        None => {
            tracing::warn!(
                field = %field.internal_name,
                "lookup target list is not in the sample; expanding to the id only"
            );
            (
                vec![plain("Id", json!(id)), plain(&target_field, Value::Null)],
                "SP.Data.ListItem".to_owned(),
                files::guid_from(&(field.internal_name.as_str(), id)),
            )
        }
    };
    let mut defaults = vec!["Id".to_owned(), "Title".to_owned()];
    if !defaults.contains(&target_field) {
        defaults.push(target_field);
    }
    Some(Entity {
        meta: Meta {
            id: guid.clone(),
            uri: None,
            etag: None,
            type_name,
            odata_id: guid,
            edit_link: None,
        },
        kind: Kind::Item,
        props,
        navs: Vec::new(),
        default_props: Some(defaults),
    })
}

/// One page of `/items`: `$top`, `$skiptoken`, `$filter`, projection, and the next link.
fn items_page(
    shared: &Shared,
    list: &List,
    query: &Query,
    proj: &Projection,
    format: Format,
    metadata: &str,
) -> Result<Node, ApiError> {
    let top = page_size(shared, query)?;
    let after = skiptoken(query)?;
    if let Some(order) = query.option("$orderby") {
        let by_id = matches!(order.trim().to_ascii_lowercase().as_str(), "id" | "id asc");
        if !by_id {
            tracing::debug!(
                orderby = order,
                "sample portal answers in ID order regardless"
            );
        }
    }
    let filter = query.option("$filter").and_then(parse_filter);
    if let Some(filter) = &filter {
        for name in filter.properties() {
            let known = list.field_by_property(name).is_some()
                || list.items.values().any(|i| i.values.contains_key(name))
                || matches!(name, "Id" | "ID");
            if !known {
                return Err(ApiError::bad_query(format!(
                    "The field or property '{name}' does not exist."
                )));
            }
        }
    }
    let mut entities = Vec::new();
    let mut last = None;
    let mut more = false;
    for item in list.items.range(after.saturating_add(1)..).map(|(_, i)| i) {
        let keep = filter.as_ref().is_none_or(|f| {
            f.matches(|name| match name {
                "Id" | "ID" => item.values.get("ID").or_else(|| item.values.get("Id")),
                _ => item.values.get(name),
            })
        });
        if !keep {
            continue;
        }
        if entities.len() >= top {
            more = true;
            break;
        }
        entities.push(proj.apply(item_entity(shared, list, item, proj)?)?);
        last = Some(item.id);
    }
    // $select and $expand are checked against the list even when the page is empty.
    if entities.is_empty()
        && let Some(item) = list.items.values().next()
    {
        proj.apply(item_entity(shared, list, item, proj)?)?;
    }
    let next = match (more, last) {
        (true, Some(last)) => Some(next_link(shared, list, query, last, top)),
        _ => None,
    };
    Ok(collection(format, metadata, &entities, next))
}

fn page_size(shared: &Shared, query: &Query) -> Result<usize, ApiError> {
    let Some(raw) = query.option("$top") else {
        return Ok(shared.opts.default_page_size);
    };
    let top = raw.trim().parse::<usize>().map_err(|_| {
        ApiError::bad_query(format!(
            "The $top query option requires a non-negative integer value, not '{raw}'."
        ))
    })?;
    if top > shared.opts.max_page_size {
        return Err(ApiError::bad_query(format!(
            "The $top query option value {top} exceeds the maximum of {} items per page.",
            shared.opts.max_page_size
        )));
    }
    Ok(top)
}

/// The `p_ID` of `$skiptoken=Paged=TRUE&p_ID=N` (0 when there is no token).
fn skiptoken(query: &Query) -> Result<i64, ApiError> {
    let Some(token) = query.option("$skiptoken") else {
        return Ok(0);
    };
    let from_token = token.split('&').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("p_ID")
            .then_some(value.trim())
    });
    // A token sent unencoded (`$skiptoken=Paged=TRUE&p_ID=5`) leaves p_ID as its own parameter.
    let raw = from_token.or_else(|| query.option("p_ID"));
    raw.and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| ApiError::bad_query(format!("The skip token '{token}' is not valid.")))
}

/// The next-page link as SharePoint writes it: rewritten to `lists(guid'…')`, the token first,
/// the other options echoed, all percent-encoded with lowercase hex.
fn next_link(shared: &Shared, list: &List, query: &Query, last: i64, top: usize) -> String {
    let mut parts = vec![format!(
        "%24skiptoken={}",
        encode_lower(&format!("Paged=TRUE&p_ID={last}"))
    )];
    let mut had_top = false;
    for (key, value) in query.pairs() {
        if key.eq_ignore_ascii_case("$skiptoken")
            || key.eq_ignore_ascii_case("p_ID")
            || key.starts_with('@')
        {
            continue;
        }
        let value = if key.eq_ignore_ascii_case("$top") {
            had_top = true;
            top.to_string()
        } else {
            value.clone()
        };
        parts.push(format!("{}={}", encode_lower(key), encode_lower(&value)));
    }
    if !had_top {
        parts.push(format!("%24top={top}"));
    }
    format!(
        "{}/_api/web/lists(guid%27{}%27)/items?{}",
        shared.web_url,
        list.id,
        parts.join("&")
    )
}

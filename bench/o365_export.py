#!/usr/bin/env python3
"""Exports one SharePoint list with Office365-REST-Python-Client: items as JSON, attachments
and images as files. No bag, no fixity, no resume.

    o365_export.py SITE_URL --mapping M.toml --out DIR --token-env VAR

This is the script an IT person would write instead of running sharc, and `bench/run` times it
beside `sharc crawl` (the `o365` pair). It reads the columns the mapping names (display names
resolved through the list's fields, as sharc does), expands lookups, people and attachments,
follows the server's next links to the end, then downloads each attachment, each picture and
each image the HTML columns show from the site, one after another through the client's own
file calls. It prints one JSON line: items, files, bytes.
"""

import argparse
import json
import os
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from office365.runtime.auth.token_response import TokenResponse
from office365.runtime.client_request_exception import ClientRequestException
from office365.runtime.http.request_options import RequestOptions
from office365.sharepoint.client_context import ClientContext

# Types whose values are ids unless expanded, as SharePoint returns them from /items.
EXPANDED = {"Lookup", "LookupMulti", "User", "UserMulti"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", help="the site URL, e.g. http://127.0.0.1:8765/")
    ap.add_argument("--mapping", type=Path, required=True, help="a sharc mapping file")
    ap.add_argument("--out", type=Path, required=True, help="the directory to write")
    ap.add_argument("--token-env", required=True, help="the variable holding the access token")
    ap.add_argument("--page-size", type=int, default=100, help="items per request")
    args = ap.parse_args()
    token = os.environ.get(args.token_env)
    if not token:
        sys.exit(f"o365_export: ${args.token_env} is empty; export the access token there")
    mapping = tomllib.loads(args.mapping.read_text(encoding="utf-8"))

    ctx = ClientContext(args.site).with_access_token(lambda: TokenResponse(token, "Bearer"))
    lst = ctx.web.lists.get_by_title(mapping["list"]["title"])
    fields = lst.fields.get().execute_query()
    by_title = {f.title: f for f in fields}
    by_internal = {f.internal_name: f for f in fields}

    select, expand = ["Id"], ["AttachmentFiles"]
    pictures, bodies = [], []
    for key, spec in mapping["fields"].items():
        field = by_internal.get(spec["internal"]) if "internal" in spec else by_title.get(spec["field"])
        if field is None:
            sys.exit(f"o365_export: the list has no column for mapping field {key!r} ({spec})")
        # Items carry a column under its entity property name (`OData__ModerationStatus`).
        name, kind = field.entity_property_name or field.internal_name, field.type_as_string
        if kind in EXPANDED:
            select += [f"{name}/Id", f"{name}/Title"]
            expand.append(name)
        elif name != "Attachments":
            select.append(name)
        if spec.get("as") == "image":
            pictures.append(name)
        if spec.get("as") == "html":
            bodies.append(name)
    select.append("AttachmentFiles")

    items = lst.items.select(select).expand(expand).get_all(args.page_size).execute_query()

    site = urlsplit(args.site).netloc
    out = args.out
    (out / "items").mkdir(parents=True, exist_ok=True)
    files = size = 0
    for item in items:
        item_id = item.properties["Id"]
        values = {k: v for k, v in item.properties.items() if k != "AttachmentFiles"}
        urls = [a.server_relative_url for a in item.attachment_files]
        for name in pictures:
            url = (item.properties.get(name) or {}).get("Url")
            if url:
                urls.append(unquote(urlsplit(url).path))
        for name in bodies:
            urls += [p for p in images_in(item.properties.get(name) or "", site) if p not in urls]
        for url in urls:
            target = out / "files" / str(item_id) / Path(url).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(download(ctx, url))
            files, size = files + 1, size + target.stat().st_size
        body = json.dumps(values, ensure_ascii=False, indent=1, default=str)
        (out / "items" / f"{item_id}.json").write_text(body, encoding="utf-8")
    print(json.dumps({"items": len(items), "files": files, "bytes": size}))


class Images(HTMLParser):
    """The `src` of each `<img>` in an HTML value."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        src = dict(attrs).get("src") if tag == "img" else None
        if src:
            self.found.append(src)


def images_in(html, site):
    """Server-relative paths of the images an HTML value shows from the site itself."""
    parser = Images()
    parser.feed(html)
    paths = []
    for src in parser.found:
        url = urlsplit(src)
        if url.netloc in ("", site) and url.path.startswith("/"):
            paths.append(unquote(url.path))
    return paths


def download(ctx, path):
    """The bytes of the file at the server-relative `path`, through the client.

    `GetFileByServerRelativeUrl(…)/$value` works on every farm from 2013 on, except for names
    with `#` or `%`, which a 2013 farm does not find that way (404) and which need
    `GetFileByServerRelativePath`, a 2019 and SharePoint Online call. For those the file's own
    URL is read with the client's signed-in session.
    """
    try:
        return ctx.web.get_file_by_server_relative_url(path).get_content().execute_query().value
    except ClientRequestException as e:
        if e.response is None or e.response.status_code != 404 or not any(c in path for c in "#%"):
            raise
    url = urlsplit(ctx.base_url)._replace(path=quote(path), query="").geturl()
    return ctx.pending_request().execute_request_direct(RequestOptions(url)).content


if __name__ == "__main__":
    main()

"""Atom feeds of check-ins (site-wide and per team) and the sitemap.

Feeds use links relative to the feed file unless the site sets `base_url`,
in which case every link (and every entry id) is absolute. A sitemap must hold
absolute URLs (sitemaps.org), so it is written only when `base_url` is set.
Every piece of author text is XML-escaped; check-in bodies are the same
sanitised HTML the pages show, escaped again as Atom `type="html"` content.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable

from okrsite import urls, views
from okrsite.escaping import escape
from okrsite.model import CheckIn, KeyResult, Model

SITE_FEED_ENTRIES = 50


def _stamp(date: dt.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def _link(model: Model, feed_path: str, target: str) -> str:
    base = model.config.base_url
    return urls.absolute(base, target) if base else urls.relative(feed_path, target)


def _entry_id(model: Model, checkin: CheckIn) -> str:
    page = urls.checkin_page(checkin.cycle, checkin.team, checkin.date)
    if model.config.base_url:
        return urls.absolute(model.config.base_url, page)
    return f"urn:okrsite:checkin:{checkin.cycle}:{checkin.team}:{checkin.date.isoformat()}"


def _key_results(model: Model, checkin: CheckIn) -> dict[str, KeyResult]:
    file = model.okrs.get((checkin.cycle, checkin.team))
    if file is None:
        return {}
    return file.key_results_by_id()


def _updates_html(model: Model, checkin: CheckIn) -> str:
    krs = _key_results(model, checkin)
    items = []
    for u in checkin.updates:
        kr = krs.get(u.key_result)
        name = kr.title if kr else u.key_result
        bits = []
        if u.value is not None:
            bits.append(f"{u.value:g}" + (f" {kr.unit}" if kr and kr.unit else ""))
        if u.done is not None:
            bits.append("done" if u.done else "not done")
        if u.progress is not None:
            bits.append(f"{round(u.progress * 100)}% done")
        if u.confidence is not None:
            bits.append(f"confidence {round(u.confidence * 100)}%")
        if u.note:
            bits.append(u.note)
        items.append(f"<li>{escape(name)}: {escape(' · '.join(bits))}</li>")
    return "<ul>" + "".join(items) + "</ul>" if items else ""


def atom_feed(
    model: Model, feed_path: str, title: str, page: str, checkins: list[CheckIn], entries: list[str]
) -> str:
    """An Atom 1.0 document of `checkins` (newest first) whose `entries` are made by
    `atom_entry` (so the preview server can keep them), linking to `page`."""
    updated = max((c.date for c in checkins), default=None)
    feed_id = (
        urls.absolute(model.config.base_url, feed_path)
        if model.config.base_url
        else f"urn:okrsite:feed:{feed_path}"
    )
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        f"<id>{escape(feed_id)}</id>",
        f"<updated>{_stamp(updated) if updated else '1970-01-01T00:00:00Z'}</updated>",
        f"<author><name>{escape(model.config.title)}</name></author>",
        f'<link rel="self" type="application/atom+xml" href="{escape(_link(model, feed_path, feed_path))}"/>',
        f'<link rel="alternate" type="text/html" href="{escape(_link(model, feed_path, page))}"/>',
        '<generator uri="https://pypi.org/project/okrsite/">okrsite</generator>',
        *entries,
        "</feed>",
    ]
    return "\n".join(out) + "\n"


def atom_entry(model: Model, feed_path: str, c: CheckIn, markdown: Callable[[str], str]) -> str:
    """One check-in as an entry of the feed at `feed_path`: it shows the check-in and
    the titles and units of its team's key results."""
    team = model.teams[c.team].name
    href = _link(model, feed_path, urls.checkin_page(c.cycle, c.team, c.date))
    content = _updates_html(model, c) + str(markdown(c.body))
    out = [
        "<entry>",
        f"<title>{escape(team)} check-in, {escape(c.date.strftime('%-d %b %Y'))} ({escape(c.cycle)})</title>",
        f"<id>{escape(_entry_id(model, c))}</id>",
        f"<updated>{_stamp(c.date)}</updated>",
        f'<link rel="alternate" type="text/html" href="{escape(href)}"/>',
    ]
    if c.author:
        out.append(f"<author><name>{escape(c.author)}</name></author>")
    out += [f'<content type="html">{escape(content)}</content>', "</entry>"]
    return "\n".join(out)


def counted_checkins(
    model: Model,
    today: dt.date,
    team: str | None = None,
    limit: int | None = None,
    memo: dict | None = None,
) -> list[CheckIn]:
    """Check-ins dated on or before today, newest first (optionally of one team; the
    newest `limit` only). `memo`: as views.days_of_cycle's."""
    found = views.newest_first(model, today, team_id=team, memo=memo)
    return list(itertools.islice(found, limit))


def sitemap(base_url: str, pages: Iterable[str]) -> str:
    """sitemaps.org XML of the HTML `pages` (output paths) under `base_url`."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for path in pages:
        out.append(f"<url><loc>{escape(urls.absolute(base_url, path))}</loc></url>")
    out.append("</urlset>")
    return "\n".join(out) + "\n"

"""Linked work's decisions: link an item (checked against the settings and read once, outside any
transaction), apply what a webhook says, and reconcile due links over REST within the rate limits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.core.config import WorkspaceSettings
from bot.core.errors import Invalid, NotFound
from bot.core.integrations import TrackerSettings
from bot.core.mrkdwn import truncate
from bot.core.services import Services
from bot.trackers.models import (
    TRACKER_NAMES,
    URL_FIELD,
    Item,
    ItemGone,
    Kind,
    Linked,
    RateLimited,
    Ref,
    Tracker,
    TrackerUnreachable,
)
from bot.trackers.service import backlinks, comments, links, reading, urls
from bot.trackers.service.remote import Remote, TrackerRefused
from storage.models import Initiative

log = logging.getLogger(__name__)
LINK_BUDGET = 2.0  # seconds a link check may spend asking (Slack waits 3 s for the answer)
LINKS_AT_ONCE = 5  # links the intake form checks in one submission


def link_work(services: Services, *, team_id: str, key: str, url: str, actor_id: str) -> Linked:
    """Link the item at `url` to initiative `key`. Raises NotFound / NotAllowed / Conflict (the
    initiative), Invalid on URL_FIELD (the link: not one, a site not set up, no such item),
    TrackerUnreachable or TrackerRefused; nothing is written unless it all holds. The tracker is
    asked between two short transactions, so no row is held while it answers."""
    settings = services.settings
    with services.db.read() as session:
        initiative = links.initiative_to_link(
            session, team_id, key, actor_id, services.workspace(session, team_id)
        )
        initiative_key = initiative.key
    ref = urls.parse(url, settings)
    now = services.clock.now()
    item = _read_to_link(settings, ref, now)
    with services.db.session() as session:
        initiative = links.initiative_to_link(
            session, team_id, initiative_key, actor_id, services.workspace(session, team_id)
        )
        new = links.store(session, initiative, item, actor_id, now, _every(services))
    return Linked(initiative_key, item, new)


def _read_to_link(settings: TrackerSettings, ref: Ref, now: datetime) -> Item:
    """The item `ref` names, read once to link it. Raises Invalid (on URL_FIELD: no such item) or
    TrackerUnreachable / TrackerRefused."""
    try:
        return Remote(settings, now, budget=LINK_BUDGET).read(ref)
    except ItemGone:
        raise Invalid(
            f"{TRACKER_NAMES[ref.tracker]} has no {ref.label} that Throughline can see: check the link "
            "(or that Throughline's account may read it). Nothing was linked.",
            URL_FIELD,
        ) from None
    except RateLimited as limited:
        raise TrackerUnreachable(
            f"{TRACKER_NAMES[ref.tracker]} asks Throughline to wait {limited.seconds:.0f} s (rate limit); "
            "nothing was linked. Try again then."
        ) from None
    except ValueError:
        raise TrackerUnreachable(
            f"{TRACKER_NAMES[ref.tracker]} sent an answer Throughline can't read."
        ) from None


def read_links(services: Services, text: str, *, field: str) -> list[Item]:
    """The items of `text` (links, one per line, at most LINKS_AT_ONCE), each checked against the
    settings and read once, all at the same time, so the whole check fits Slack's 3 s as one link's
    does. Raises Invalid on `field` naming the first link that fails and why; nothing is stored."""
    lines = list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))
    if len(lines) > LINKS_AT_ONCE:
        raise Invalid(f"At most {LINKS_AT_ONCE} links here; link more from the status card later.", field)
    settings, now = services.settings, services.clock.now()
    refs = []
    for line in lines:
        try:
            refs.append(urls.parse(line, settings))
        except Invalid as exc:
            raise Invalid(f"{truncate(line, 60)}: {exc.message}", field) from None
    if not refs:
        return []
    with ThreadPoolExecutor(max_workers=len(refs), thread_name_prefix="link-check") as pool:
        futures = [pool.submit(_read_to_link, settings, ref, now) for ref in refs]
        items: list[Item] = []
        for line, future in zip(lines, futures, strict=True):
            try:
                items.append(future.result())
            except Invalid as exc:
                raise Invalid(f"{truncate(line, 60)}: {exc.message}", field) from None
    return items


def attach(
    session: Session,
    initiative: Initiative,
    items: Iterable[Item],
    actor_id: str,
    now: datetime,
    every: timedelta,
) -> None:
    """Link `items` (read by `read_links`) to a new initiative, in the caller's transaction."""
    for item in items:
        links.store(session, initiative, item, actor_id, now, every)


def reconcile_every(settings: TrackerSettings) -> timedelta:
    return timedelta(minutes=settings.tracker_reconcile_minutes)


def _every(services: Services) -> timedelta:
    return timedelta(minutes=services.settings.tracker_reconcile_minutes)


# -- webhooks --------------------------------------------------------------------------------------


def jira_news(payload: dict[str, Any], sites: Iterable[str]) -> tuple[list[Item], list[Ref], list[Ref]]:
    """(items to apply, items gone, epics to read again) in a Jira webhook's payload; nothing for an
    event or a site that is not ours. Raises ValueError on a payload that is not Jira's."""
    event = str(payload.get("webhookEvent") or "")
    issue = payload.get("issue")
    if not event.startswith("jira:issue_") or not isinstance(issue, dict):
        return [], [], []
    site = reading.jira_site_of(issue)
    if site not in {s.lower() for s in sites}:
        return [], [], []
    item = reading.jira_item(site, issue)
    epic = [Ref(Tracker.JIRA, Kind.EPIC, site, item.parent)] if item.parent else []
    if event == "jira:issue_deleted":
        return [], [item.ref], epic
    return [item], [], epic


def github_news(event: str, payload: dict[str, Any]) -> tuple[list[Item], list[Ref]]:
    """(items to apply, items gone) in a GitHub webhook's payload. Raises ValueError on a payload
    that is not GitHub's."""
    found = {"issues": ("issue", Kind.ISSUE), "pull_request": ("pull_request", Kind.PULL)}.get(event)
    action = str(payload.get("action") or "")
    if event == "milestone":
        repo = reading.github_repo_of(payload)
        item = reading.github_item(repo, payload.get("milestone") or {}, Kind.MILESTONE)
        return ([], [item.ref]) if action == "deleted" else ([item], [])
    if found is None:
        return [], []
    repo = reading.github_repo_of(payload)
    data = payload.get(found[0])
    if not isinstance(data, dict):
        raise ValueError(f"the {event} payload has no {found[0]}")
    item = reading.github_item(repo, data, found[1])
    news = [item]
    if isinstance(data.get("milestone"), dict):  # its counts changed with it
        news.append(reading.github_item(repo, data["milestone"], Kind.MILESTONE))
    return ([], [item.ref]) if action == "deleted" else (news, [])


def apply_news(session: Session, items: list[Item], gone: list[Ref], epics: list[Ref], now: datetime) -> int:
    """Apply a webhook's news in `session`; how many links changed."""
    changed = sum(links.apply(session, item, now, webhook=True) for item in items)
    changed += sum(links.mark_gone(session, ref, now) for ref in gone)
    for epic in epics:
        links.check_soon(session, epic, now)
    return changed


# -- the reconcile ---------------------------------------------------------------------------------


def reconcile(services: Services, now: datetime) -> dict[str, int]:
    """Read the due links again (a page of them a tick), apply what changed. A site that rate-limits
    us is left alone until it says; one that does not answer, until the next interval."""
    settings = services.settings
    with services.db.session() as session:
        refs = links.claim_due(session, now, settings.tracker_reconcile_batch, _every(services))
    remote = Remote(settings, now)
    counts = {"read": 0, "changed": 0, "gone": 0, "deferred": 0, "unreachable": 0}
    paused: dict[str, datetime] = {}
    skipped: set[str] = set()
    deferred: list[Ref] = []
    for ref in refs:
        where = _limit_of(ref)
        if where in paused:
            deferred.append(ref)
            continue
        if where in skipped:
            counts["unreachable"] += 1
            continue
        try:
            item = remote.read(ref)
        except RateLimited as limited:
            paused[where] = now + timedelta(seconds=limited.seconds)
            deferred.append(ref)
            continue
        except ItemGone:
            with services.db.session() as session:
                counts["gone"] += links.mark_gone(session, ref, now)
            continue
        except (TrackerUnreachable, TrackerRefused, ValueError, NotFound) as exc:
            log.warning("reconcile: %s %s: %s", ref.tracker.value, ref.label, exc)
            skipped.add(where)
            counts["unreachable"] += 1
            continue
        counts["read"] += 1
        with services.db.session() as session:
            counts["changed"] += links.apply(session, item, now)
    if deferred:
        with services.db.session() as session:
            for ref in deferred:
                links.defer(session, [ref], paused[_limit_of(ref)])
        counts["deferred"] = len(deferred)
    return counts


def _limit_of(ref: Ref) -> str:
    """What a rate limit is counted on: GitHub's, the token (every repository); Jira's, the site."""
    return "github" if ref.tracker is Tracker.GITHUB else ref.site


# -- back-links ------------------------------------------------------------------------------------


def tell_linked_work(
    session: Session,
    initiative: Initiative,
    change: str,
    text: str,
    settings: WorkspaceSettings,
    now: datetime,
) -> int:
    """Queue a back-link comment on `initiative`'s linked items, in the caller's transaction, when
    the workspace opted in (`tracker_backlinks`). Returns how many were queued."""
    if not settings.tracker_backlinks:
        return 0
    return backlinks.enqueue(session, initiative, change, text, now)


def send_backlinks(services: Services, now: datetime) -> dict[str, int]:
    """Send due back-link comments: a few claimed in a short transaction; each claim renewed (on
    the clock, not the tick's start) before every request to the tracker, and a row no longer ours
    left alone; the outcome recorded in another transaction, only while the claim is still ours. A
    row tried before is looked for on the item first."""
    settings, clock = services.settings, services.clock
    with services.db.session() as session:
        claimed = backlinks.claim(session, max(now, clock.now()))
    counts: dict[str, int] = {}
    for row in claimed:
        state = _send_backlink(services, settings, row)
        counts[state] = counts.get(state, 0) + 1
    return counts


def _send_backlink(services: Services, settings: TrackerSettings, row: backlinks.Claimed) -> str:
    mark = comments.marker(row.team_id, row.key)
    held: backlinks.Claimed | None = row
    try:
        outcome: comments.Outcome | None = None
        if row.attempted:
            held = _hold(services, row)
            outcome = comments.find(settings, row.ref, mark) if held else None
        if held is not None and (
            outcome is None or (outcome.kind == "refused" and outcome.error == "absent")
        ):
            held = _hold(services, held)
            outcome = comments.post(settings, row.ref, row.body, mark) if held else None
    except Exception:  # a bug or an odd answer: unclear, looked for next time; the batch goes on
        log.exception("back-link %s on %s", row.key, row.ref.label)
        outcome = comments.Outcome("unclear", error="failed unexpectedly (see the log)")
    if held is None or outcome is None:
        return backlinks.SENDING  # another replica holds it now
    with services.db.session() as session:
        return backlinks.finish(session, held, outcome, services.clock.now())


def _hold(services: Services, row: backlinks.Claimed) -> backlinks.Claimed | None:
    with services.db.session() as session:
        return backlinks.hold(session, row, services.clock.now())

"""An OKR's link: the one form it is stored and compared in, and the workspace's OKR tools."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from bot.core.config import WorkspaceSettings
from bot.okrs.models import URL_LIMIT


def normalise_url(url: str) -> str:
    """A link in the one form we store and compare: scheme and host in lower case, no trailing
    slash on the path, query and fragment kept as they are."""
    parts = urlsplit((url or "").strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, parts.fragment)
    )


def is_link(url: str) -> bool:
    parts = urlsplit((url or "").strip())
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.netloc)
        and not any(c.isspace() for c in url.strip())
        and len(url) <= URL_LIMIT
    )


def url_allowed(settings: WorkspaceSettings, url: str) -> bool:
    """Is `url` in one of the workspace's OKR tools (`okr_url_patterns`, matched part by part)?"""
    return settings.okr_url_allowed(normalise_url(url))


def allowed_hosts(settings: WorkspaceSettings) -> list[str]:
    return sorted({urlsplit(p).netloc.lower() for p in settings.okr_url_patterns if urlsplit(p).netloc})

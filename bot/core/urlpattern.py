"""URL patterns matched part by part, so a wildcard never reaches past the part it stands in.

`https://okr.example.com/o/*/kr/*` matches scheme, host (and port) and path separately:
- the scheme and the host compare without regard to case; a `*` in the host stands for one label
  (`https://*.okr.example.com/...` matches `a.okr.example.com`, never `evil.com/x.okr.example.com`
  nor `okr.example.com.evil.com`);
- in the path a `*` stands for characters within one segment and `**` for any number of segments;
  a pattern ending in `/*` means anything under that path (what everyone means by it);
- a link with a user name or password in it (`https://okr.example.com@evil.com/`), a host with any
  character but letters, digits, dots and hyphens (`https://1\\.okr.example.com/`, which browsers
  open as host `1`), or a path with `.` or `..` segments never matches; `:443` is no port;
- query and fragment are not compared.

A whole-string shell match (`fnmatch`, as before) would let `https://okr.example.com*` match
`https://okr.example.com.evil.com/` and `https://*.example.com/*` match `https://evil.com/x.example.com/`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")  # letters, digits, dots, hyphens (IDNs as xn--)
_DEFAULT_PORTS = {"https": 443, "http": 80}


class PatternError(ValueError):
    """A pattern that is not an http(s) URL pattern; the message says why."""


@dataclass(frozen=True)
class UrlPattern:
    scheme: str
    host: re.Pattern[str]
    port: int | None
    path: re.Pattern[str]

    def matches(self, url: str) -> bool:
        try:
            parts = urlsplit((url or "").strip())
            port = parts.port
        except ValueError:
            return False
        if parts.scheme.lower() != self.scheme or parts.username is not None or parts.password is not None:
            return False
        host = (parts.hostname or "").lower()
        if port == _DEFAULT_PORTS[self.scheme]:
            port = None  # https://host:443/ is https://host/
        if not _HOST.fullmatch(host) or not self.host.fullmatch(host) or port != self.port:
            return False  # a backslash, a space, an odd character: browsers read hosts differently
        path = parts.path or "/"
        if "\\" in path or any(seg in (".", "..") for seg in path.split("/")):
            return False  # /o/../admin would be another page than it looks like
        return bool(self.path.fullmatch(path))


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> UrlPattern:
    """`pattern` ready to match; raises PatternError for anything but an http(s) URL pattern."""
    text = pattern.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise PatternError(f"{pattern!r} should start with https:// (e.g. https://okrs.example.com/**)")
    netloc, slash, path = rest.partition("/")
    if "@" in netloc or not netloc:
        raise PatternError(f"{pattern!r} needs a host after https:// (e.g. https://okrs.example.com/**)")
    if "?" in path or "#" in path or "?" in netloc or "#" in netloc:
        raise PatternError(f"{pattern!r}: leave out the query and fragment; only the path is compared")
    host, colon, port_text = netloc.rpartition(":") if netloc.count(":") == 1 else (netloc, "", "")
    if colon and not port_text.isdigit():
        raise PatternError(f"{pattern!r}: the port should be a number")
    return UrlPattern(
        scheme=scheme.lower(),
        host=re.compile(_glob(host.lower(), stop=".")),
        port=None
        if colon and int(port_text) == _DEFAULT_PORTS[scheme.lower()]
        else int(port_text)
        if colon
        else None,
        path=re.compile(_path_regex("/" + path if slash else "/")),
    )


def matches(pattern: str, url: str) -> bool:
    return compile_pattern(pattern).matches(url)


def matches_any(patterns: Sequence[str], url: str) -> bool:
    return any(matches(p, url) for p in patterns)


def _path_regex(path: str) -> str:
    if path.endswith("/*"):
        path = path[:-1] + "**"
    segments = path.split("/")[1:]
    regex = ""
    for segment in segments:
        if segment == "**":
            regex += "(?:/[^/]*)*"
        else:
            regex += "/" + _glob(segment, stop="/")
    return regex + "/?"


def _glob(part: str, *, stop: str) -> str:
    """A shell glob of one part (`*` any run, `?` one character) as a regex whose wildcards never
    match `stop` or `/`; in a host, only letters, digits and hyphens."""
    other = "[a-z0-9-]" if stop == "." else "[^/]"
    return "".join(other + "*" if ch == "*" else other if ch == "?" else re.escape(ch) for ch in part)

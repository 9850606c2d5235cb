"""`/checkin`: each form of the command, parsed from the text Slack sends (carried out by
`flows.command.execute`).

    /checkin                                   my check-ins to answer, and the next ones
    /checkin snooze REQ-17 <reason>            skip one slot (the open one, else the next)
    /checkin ooo 2026-04-10 [note]             out of office through that day
    /checkin back                              back early
    /checkin cadence REQ-17 weekly:tue@10:00   how often the owner is asked (or `default`)
    /checkin owner REQ-17 @someone             hand it to a new owner
    /checkin cancel REQ-17 <reason>            nobody needs it any more: stop it
    /checkin help

The command is declared with `should_escape: true`, so a mention arrives as `<@U123|name>` and
`&`, `<`, `>` in free text as entities (undone here; the text is escaped again when shown).
"""

from __future__ import annotations

import re
from datetime import date

from bot.checkins.models import CheckinCommand, CommandKind
from bot.core import mrkdwn
from bot.core.calendar import Cadence
from bot.core.errors import Invalid

_KEY = re.compile(r"^[A-Za-z]{2,8}-\d{1,9}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _shown(word: str) -> str:
    return mrkdwn.escape(mrkdwn.truncate(_unescape(word), 40)).replace("`", "'")


def parse(text: str) -> CheckinCommand:
    """What `/checkin <text>` asks for. Raises Invalid with a message saying the right form."""
    raw = (text or "").strip()
    words = raw.split()
    if not words:
        return CheckinCommand(CommandKind.LIST)
    first, rest = words[0].lower(), words[1:]
    if first in ("help", "?", "-h", "--help"):
        return CheckinCommand(CommandKind.HELP)
    if first in ("list", "pending") and not rest:
        return CheckinCommand(CommandKind.LIST)
    if first == "back" and not rest:
        return CheckinCommand(CommandKind.BACK)
    if first == "snooze":
        if not rest or not _KEY.match(rest[0]):
            raise Invalid("Say which initiative and why: `/checkin snooze REQ-17 at the offsite all week`.")
        key = rest[0].upper()
        reason = _unescape(" ".join(rest[1:]))
        if not reason:
            raise Invalid(f"Add a reason: `/checkin snooze {key} at the offsite all week`.")
        return CheckinCommand(CommandKind.SNOOZE, key=key, text=reason)
    if first in ("ooo", "away"):
        args = rest[1:] if rest and rest[0].lower() == "until" else rest
        if not args:
            raise Invalid("Say through which day: `/checkin ooo 2026-04-10 back after Easter`.")
        until: date | None = None
        if _DATE.match(args[0]):
            try:
                until = date.fromisoformat(args[0])
            except ValueError:
                until = None
        if until is None:
            raise Invalid(
                f"`{_shown(args[0])}` isn't a date; use YYYY-MM-DD, e.g. `/checkin ooo 2026-04-10`."
            )
        return CheckinCommand(CommandKind.OOO, until=until, text=_unescape(" ".join(args[1:])))
    if first == "cadence":
        if len(rest) != 2 or not _KEY.match(rest[0]):
            raise Invalid(
                "Say which initiative and how often: `/checkin cadence REQ-17 weekly:tue@10:00` "
                "(or `workdays@09:00`, `biweekly:mon@09:00`, `monthly:mon@09:00`, `default`)."
            )
        cadence = rest[1]
        if cadence.lower() != "default":
            try:
                cadence = str(Cadence.parse(cadence))
            except ValueError:
                raise Invalid(
                    f"`{_shown(cadence)}` isn't a cadence; use `workdays@09:00`, `weekly:tue@10:00`, "
                    "`biweekly:mon@09:00`, `monthly:mon@09:00` (the first Monday) or `default`."
                ) from None
        return CheckinCommand(CommandKind.CADENCE, key=rest[0].upper(), text=cadence.lower())
    if first == "owner":
        remainder = raw.split(None, 2)[2] if len(words) >= 3 else ""
        mentions = _MENTION.findall(remainder)
        user_id = mentions[0] if len(mentions) == 1 else None
        if user_id is None and _USER_ID.match(remainder.strip()):
            user_id = remainder.strip()
        if not rest or not _KEY.match(rest[0]) or user_id is None:
            raise Invalid("Say which initiative and who takes it: `/checkin owner REQ-17 @dana`.")
        return CheckinCommand(CommandKind.OWNER, key=rest[0].upper(), user_id=user_id)
    if first == "cancel":
        if not rest or not _KEY.match(rest[0]):
            raise Invalid("Say which initiative and why: `/checkin cancel REQ-17 the customer dropped it`.")
        key = rest[0].upper()
        reason = _unescape(" ".join(rest[1:]))
        if not reason.strip():
            raise Invalid(f"Add a reason: `/checkin cancel {key} the customer dropped it`.")
        return CheckinCommand(CommandKind.CANCEL, key=key, text=reason)
    raise Invalid(f"I don't know `/checkin {_shown(words[0])}`.")

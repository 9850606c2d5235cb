"""The OKR surfaces: the `/okr` replies and the "add an OKR" modal."""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.models.blocks import (
    Block,
    ChannelSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UrlInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blockkit.blocks import MESSAGE_BLOCKS, context, header, plain, section
from bot.core import mrkdwn
from bot.okrs.models import Archived, OkrGroup, progress
from storage.models import Okr


class OkrCallback(StrEnum):
    ADD = "okr_add"


class OkrBlock(StrEnum):
    """Input blocks of the add modal: "okr_" + the file column they fill."""

    KEY = "okr_key"
    TITLE = "okr_title"
    PARENT = "okr_parent"
    OWNER = "okr_owner"
    PERIOD = "okr_period"
    URL = "okr_url"
    PRIORITY = "okr_priority"
    METRIC_UNIT = "okr_metric_unit"
    METRIC_START = "okr_metric_start"
    METRIC_TARGET = "okr_metric_target"
    METRIC_CURRENT = "okr_metric_current"
    GOVERNANCE_CHANNEL = "okr_governance_channel"

    @property
    def column(self) -> str:
        return self.value.removeprefix("okr_")


def block_of(column: str) -> str:
    """The input block showing errors about `column` (the key block for anything else)."""
    block = "okr_" + column
    return block if block in {b.value for b in OkrBlock} else OkrBlock.KEY.value


USAGE = (
    "*Usage*\n"
    "• `/okr` – the active OKRs, objective by objective\n"
    "• `/okr words` – search OKRs by key or title\n"
    "• `/okr add` – add an objective (admins) or a key result (admins and the objective's owner)\n"
    "• `/okr archive O1` – archive an OKR whose period is over (it stays in history)\n"
    "• `/okr digest` – preview the leadership digest\n"
    "• `/okr help` – this help\n"
    "Admins import the whole registry from a file: `throughline okr import okrs.csv`."
)
_SECTION_BUDGET = 2800
_MAX_GROUPS = MESSAGE_BLOCKS - 4


def usage() -> tuple[str, list[Block]]:
    return "How to use /okr", [section(USAGE)]


def number(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def metric(okr: Okr) -> str:
    """`14 of 20 deals (25%)`, escaped; empty when the OKR has no metric."""
    unit = f" {mrkdwn.escape(okr.metric_unit)}" if okr.metric_unit else ""
    if okr.metric_target is None:
        return f"now {number(okr.metric_current)}{unit}" if okr.metric_current is not None else ""
    if okr.metric_current is None:
        return f"target {number(okr.metric_target)}{unit}"
    done = progress(okr)
    share = f" ({round(done * 100)}%)" if done is not None else ""
    return f"{number(okr.metric_current)} of {number(okr.metric_target)}{unit}{share}"


def _objective_line(okr: Okr) -> str:
    parts = [f"*{mrkdwn.escape(okr.key)}* {mrkdwn.escape(okr.title)}"]
    if okr.owner_id:
        parts.append(mrkdwn.user(okr.owner_id))
    if okr.period:
        parts.append(mrkdwn.escape(okr.period))
    parts.append(f"priority {okr.priority}")
    if okr.url:
        parts.append(mrkdwn.link(okr.url, "open"))
    return " · ".join(parts)


def _kr_line(okr: Okr) -> str:
    parts = [f"• *{mrkdwn.escape(okr.key)}* {mrkdwn.escape(okr.title)}"]
    shown = metric(okr)
    if shown:
        parts.append(shown)
    if okr.owner_id:
        parts.append(mrkdwn.user(okr.owner_id))
    if okr.url:
        parts.append(mrkdwn.link(okr.url, "open"))
    return " · ".join(parts)


def _group_text(group: OkrGroup) -> str:
    lines = [_objective_line(group.objective)]
    size = len(lines[0])
    for index, kr in enumerate(group.key_results):
        line = _kr_line(kr)
        if size + len(line) + 1 > _SECTION_BUDGET:
            lines.append(f"_…and {len(group.key_results) - index} more key results_")
            break
        lines.append(line)
        size += len(line) + 1
    if not group.key_results:
        lines.append("_no key results yet_")
    return "\n".join(lines)


def listing(groups: list[OkrGroup], query: str) -> tuple[str, list[Block]]:
    """The reply to `/okr` and `/okr words`: (fallback text, blocks)."""
    if not groups:
        if query:
            text = f"No active OKR matches “{mrkdwn.escape(query)}”."
            return text, [section(f":mag: {text} `/okr` lists them all."), context("`/okr help` for more")]
        text = "There are no active OKRs yet."
        return text, [
            section(
                f":seedling: {text} An admin can import them (`throughline okr import okrs.csv`) or add "
                "one with `/okr add`. Requests need an OKR to link to."
            )
        ]
    title = f"OKRs matching “{query}”" if query else "Active OKRs"
    blocks: list[Block] = [header(title)]
    for group in groups[:_MAX_GROUPS]:
        blocks.append(section(_group_text(group)))
    more = len(groups) - _MAX_GROUPS
    note = f"{more} more objective(s) not shown: narrow with `/okr words`. " if more > 0 else ""
    blocks.append(context(note + "`/okr help` for more · `/request` links a request to one of these"))
    count = sum(1 + len(g.key_results) for g in groups)
    return f"{count} OKR(s) in {len(groups)} objective(s)", blocks


def archived(result: Archived) -> str:
    krs = f" and its key results {', '.join(result.key_results)}" if result.key_results else ""
    return (
        f":file_cabinet: Archived *{mrkdwn.escape(result.key)}* {mrkdwn.escape(result.title)}"
        f"{mrkdwn.escape(krs)}. Requests linked to it keep their history; it can't be picked for new "
        "requests."
    )


_PRIORITIES = [
    Option(value="5", label="5 – highest"),
    Option(value="4", label="4 – high"),
    Option(value="3", label="3 – medium"),
    Option(value="2", label="2 – low"),
    Option(value="1", label="1 – lowest"),
]


def add_modal(*, quarter: str, key: str = "") -> View:
    """The "add an OKR" modal. The period starts empty: an objective left so gets `quarter` (the
    current one), a key result its objective's."""

    def text_input(
        block: OkrBlock,
        label: str,
        *,
        optional: bool = False,
        hint: str | None = None,
        initial: str | None = None,
        max_length: int | None = None,
    ) -> InputBlock:
        return InputBlock(
            block_id=block.value,
            label=plain(label, 2000),
            optional=optional,
            hint=plain(hint, 2000) if hint else None,
            element=PlainTextInputElement(
                action_id="value", initial_value=initial or None, max_length=max_length
            ),
        )

    def number_input(block: OkrBlock, label: str) -> InputBlock:
        return InputBlock(
            block_id=block.value,
            label=plain(label, 2000),
            optional=True,
            element=NumberInputElement(action_id="value", is_decimal_allowed=True),
        )

    blocks: list[Block] = [
        text_input(
            OkrBlock.KEY,
            "Key",
            hint="O3 for an objective, O1-KR4 for a key result of O1.",
            initial=key[:40],
            max_length=40,
        ),
        text_input(OkrBlock.TITLE, "Title", max_length=300),
        text_input(
            OkrBlock.PARENT,
            "Objective (for a key result)",
            optional=True,
            hint="Its objective's key; O1-KR4 is read as a key result of O1 anyway.",
            max_length=40,
        ),
        InputBlock(
            block_id=OkrBlock.OWNER.value,
            label=plain("Owner"),
            optional=True,
            hint=plain("Needed for an objective; a key result without one is its objective owner's."),
            element=UserSelectElement(action_id="value", placeholder=plain("Who answers for it")),
        ),
        text_input(
            OkrBlock.PERIOD,
            "Period",
            optional=True,
            max_length=20,
            hint=(
                f"2026-Q1, 2026-H2, 2026-03 or 2026. Left empty: an objective gets this quarter "
                f"({quarter}), a key result its objective's."
            ),
        ),
        InputBlock(
            block_id=OkrBlock.URL.value,
            label=plain("Link in your OKR tool"),
            optional=True,
            element=UrlInputElement(action_id="value"),
        ),
        InputBlock(
            block_id=OkrBlock.PRIORITY.value,
            label=plain("Priority"),
            optional=True,
            hint=plain("Ranks requests in the queue. A key result left empty takes its objective's."),
            element=StaticSelectElement(
                action_id="value", placeholder=plain("3 – medium"), options=_PRIORITIES
            ),
        ),
        text_input(OkrBlock.METRIC_UNIT, "Metric unit", optional=True, hint="%, deals, ms …", max_length=40),
        number_input(OkrBlock.METRIC_START, "Metric start"),
        number_input(OkrBlock.METRIC_TARGET, "Metric target"),
        number_input(OkrBlock.METRIC_CURRENT, "Metric now"),
        InputBlock(
            block_id=OkrBlock.GOVERNANCE_CHANNEL.value,
            label=plain("Governance channel"),
            optional=True,
            hint=plain("Where stalled work under this OKR escalates (default: the workspace's)."),
            element=ChannelSelectElement(action_id="value"),
        ),
    ]
    return View(
        type="modal",
        callback_id=OkrCallback.ADD.value,
        title=plain("Add an OKR", 24),
        submit=plain("Add", 24),
        close=plain("Cancel", 24),
        blocks=blocks,
    )


def added_modal(okr: Okr) -> View:
    kind = "key result" if okr.parent_id else "objective"
    return View(
        type="modal",
        title=plain("OKR added", 24),
        close=plain("Done", 24),
        blocks=[
            section(
                f":white_check_mark: Added the {kind} *{mrkdwn.escape(okr.key)}* {mrkdwn.escape(okr.title)} "
                f"(priority {okr.priority}). Requests can link to it now."
            )
        ],
    )

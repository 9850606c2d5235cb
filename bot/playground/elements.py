"""Block Kit's interactive elements (buttons, selects, inputs, pickers) as HTML controls.

Every control carries what the page's script needs to build Slack's payloads: `data-type`,
`data-block-id`, `data-action-id`, `data-value` on buttons and options, `data-confirm` (the confirm
object as JSON), and form controls are named `state::<block_id>::<action_id>` so a submitted form
turns into `view.state.values`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from bot.playground.emoji import emojify
from bot.playground.environment import Context, as_json, raw_text, template, text
from bot.playground.mrkdwn_html import safe_url

SELECTS = {
    "static_select",
    "multi_static_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
}
TEXT_INPUTS = {
    "plain_text_input": "text",
    "number_input": "number",
    "url_text_input": "url",
    "email_text_input": "email",
    "datepicker": "date",
    "timepicker": "time",
    "datetimepicker": "datetime-local",
}
DEFAULT_PLACEHOLDER = {
    "users_select": "Select a person",
    "multi_users_select": "Select people",
    "conversations_select": "Select a conversation",
    "multi_conversations_select": "Select conversations",
    "channels_select": "Select a channel",
    "multi_channels_select": "Select channels",
    "datepicker": "Select a date",
    "timepicker": "Select time",
}


def element(el: dict[str, Any], ctx: Context, block_id: str, index: int) -> Markup:
    """One element of an actions, section (accessory) or input block."""
    kind = str(el.get("type", ""))
    action_id = str(el.get("action_id") or f"{block_id}-{index}")
    attrs: dict[str, str] = {"data-type": kind, "data-block-id": block_id, "data-action-id": action_id}
    if el.get("confirm"):
        attrs["data-confirm"] = as_json(el["confirm"])
    name = f"state::{block_id}::{action_id}"
    placeholder = raw_text(el.get("placeholder")) or DEFAULT_PLACEHOLDER.get(kind, "Select an item")
    if kind == "button":
        return _button(el, ctx, attrs)
    if kind == "image":
        return image(el)
    if kind == "overflow":
        return template("el_overflow", attrs=attrs, options=_options(el.get("options") or [], ctx, set()))
    if kind in SELECTS:
        return _select(el, ctx, attrs, name, placeholder)
    if kind in ("external_select", "multi_external_select"):
        return _external(el, attrs, name, placeholder)
    if kind in ("radio_buttons", "checkboxes"):
        chosen = [el["initial_option"]] if el.get("initial_option") else el.get("initial_options") or []
        values = {str(o.get("value", "")) for o in chosen}
        return template(
            "el_choices",
            attrs=attrs,
            name=name,
            input_type="radio" if kind == "radio_buttons" else "checkbox",
            options=_options(el.get("options") or [], ctx, values),
        )
    if kind in TEXT_INPUTS:
        return _text_input(el, kind, attrs, name, placeholder)
    return template("el_unsupported", kind=kind or "?")


def image(el: dict[str, Any], css: str = "sk-image") -> Markup:
    url = safe_url(str(el.get("image_url") or ""))
    return template("el_image", url=url, alt=str(el.get("alt_text", "")), css=css)


def _button(el: dict[str, Any], ctx: Context, attrs: dict[str, str]) -> Markup:
    if "value" in el:
        attrs["data-value"] = str(el["value"])
    style = el.get("style")
    return template(
        "el_button",
        attrs=attrs,
        label=text(el.get("text"), ctx),
        style=style if style in ("primary", "danger") else None,
        url=safe_url(str(el.get("url") or "")) if el.get("url") else None,
    )


def _options(options: list[dict[str, Any]], ctx: Context, selected: set[str]) -> list[dict[str, Any]]:
    out = []
    for option in options:
        value = str(option.get("value", ""))
        out.append(
            {
                "html": text(option.get("text"), ctx),
                "label": emojify(raw_text(option.get("text"))),
                "value": value,
                "selected": value in selected,
                "description": text(option["description"], ctx) if option.get("description") else None,
                "url": safe_url(str(option.get("url") or "")) if option.get("url") else None,
            }
        )
    return out


def _select(el: dict[str, Any], ctx: Context, attrs: dict[str, str], name: str, placeholder: str) -> Markup:
    kind = str(el["type"])
    multi = kind.startswith("multi_")
    base = kind.removeprefix("multi_")
    groups: list[dict[str, Any]] = []
    if base == "static_select":
        chosen = [el["initial_option"]] if el.get("initial_option") else el.get("initial_options") or []
        selected = {str(o.get("value", "")) for o in chosen}
        if el.get("option_groups"):
            for group in el["option_groups"]:
                groups.append(
                    {
                        "label": raw_text(group.get("label")),
                        "options": _options(group.get("options") or [], ctx, selected),
                    }
                )
        else:
            groups.append({"label": None, "options": _options(el.get("options") or [], ctx, selected)})
    else:
        people = base == "users_select"
        names = ctx.directory.users if people else ctx.directory.channels
        key = "user" if people else ("channel" if base == "channels_select" else "conversation")
        initial = el.get(f"initial_{key}s") if multi else [el.get(f"initial_{key}")]
        selected = {str(v) for v in initial or [] if v}
        prefix = "" if people else "#"
        pairs = sorted(names.items(), key=lambda item: item[1].lower())
        # an initial id the directory does not know is still shown, by its id
        pairs += [(v, v) for v in sorted(selected - names.keys())]
        options = [
            {"label": prefix + shown, "value": vid, "selected": vid in selected, "description": None}
            for vid, shown in pairs
        ]
        groups.append({"label": None, "options": options})
    return template(
        "el_select",
        attrs=attrs,
        name=name,
        multi=multi,
        placeholder=placeholder,
        groups=groups,
        nothing_selected=not any(o["selected"] for g in groups for o in g["options"]),
    )


def _external(el: dict[str, Any], attrs: dict[str, str], name: str, placeholder: str) -> Markup:
    multi = el["type"] == "multi_external_select"
    given = el.get("initial_options") if multi else [el.get("initial_option")]
    chosen: list[dict[str, Any]] = [o for o in given or [] if isinstance(o, dict)]
    attrs["data-min-query-length"] = str(el.get("min_query_length", 3))
    attrs["data-multi"] = "true" if multi else "false"
    initial = [{"label": emojify(raw_text(o.get("text"))), "value": str(o.get("value", ""))} for o in chosen]
    return template(
        "el_external",
        attrs=attrs,
        name=name,
        placeholder=placeholder,
        initial=initial,
        initial_json=as_json([{"text": o.get("text"), "value": o.get("value")} for o in chosen]),
    )


def _text_input(el: dict[str, Any], kind: str, attrs: dict[str, str], name: str, placeholder: str) -> Markup:
    control: dict[str, str] = {"type": TEXT_INPUTS[kind], "name": name, "class": "sk-textbox"}
    value = el.get("initial_value")
    if kind == "datepicker":
        value = el.get("initial_date")
    elif kind == "timepicker":
        value = el.get("initial_time")
    elif kind == "datetimepicker" and el.get("initial_date_time"):
        value = datetime.fromtimestamp(int(el["initial_date_time"]), UTC).strftime("%Y-%m-%dT%H:%M")
    if value is not None:
        control["value"] = str(value)
    if el.get("placeholder") or kind not in ("datepicker", "timepicker", "datetimepicker"):
        control["placeholder"] = raw_text(el.get("placeholder"))
    for key, attr in (("min_length", "minlength"), ("max_length", "maxlength")):
        if el.get(key) is not None:
            control[attr] = str(el[key])
    if kind == "number_input":
        control["inputmode"] = "decimal" if el.get("is_decimal_allowed") else "numeric"
        control["step"] = "any" if el.get("is_decimal_allowed") else "1"
        for key, attr in (("min_value", "min"), ("max_value", "max")):
            if el.get(key) is not None:
                control[attr] = str(el[key])
    if el.get("focus_on_load"):
        control["autofocus"] = "autofocus"
    multiline = kind == "plain_text_input" and bool(el.get("multiline"))
    if multiline:
        control.pop("type")
        control.pop("value", None)
        control["rows"] = "4"
    return template("el_text_input", attrs={**attrs, **control}, multiline=multiline, value=value or "")

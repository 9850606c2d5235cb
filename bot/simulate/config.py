"""`--config FILE`: the workspace settings to simulate, in throughline.toml's form (the same keys;
the process's own, such as tokens or the database, are not used by the simulation). A bad file is
one line naming the file and the setting (`ConfigError`)."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.core.config import ConfigError, Settings, WorkspaceSettings, describe_validation_error


def load(path: str | Path) -> dict[str, Any]:
    """The workspace settings the file sets, validated. Raises ConfigError."""
    where = f"--config {path}"
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    known = set(Settings.model_fields)
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else "; docs/configuration.md lists the settings"
            raise ConfigError(f"{where}: unknown setting {key!r}{hint}")
    chosen = {k: v for k, v in data.items() if k in WorkspaceSettings.model_fields}
    try:
        settings = WorkspaceSettings.model_validate(chosen)
    except ValidationError as exc:
        first = describe_validation_error(exc).splitlines()[0]
        raise ConfigError(f"{where}: {first}") from None
    if settings.escalate_level3_days <= settings.escalate_level2_days:
        raise ConfigError(
            f"{where}: escalate_level3_days ({settings.escalate_level3_days}) must be more than "
            f"escalate_level2_days ({settings.escalate_level2_days})"
        )
    return chosen

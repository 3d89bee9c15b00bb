"""docs/configuration.md, generated from `Settings`: `python -m cms.settings_reference`."""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic.fields import FieldInfo

from cms.settings import Settings

__all__ = ["configuration_reference"]

COMMAND = "python -m cms.settings_reference > docs/configuration.md"

INTRO = """\
# Configuration

<!-- Generated from cms/settings.py by `{command}`; edit the descriptions there. -->

The CMS reads its configuration once at start from environment variables, or from a `.env` file
in the working directory (`cms/settings.py`). Each setting's variable is its name in capitals
with the prefix `{prefix}`. Lists are written as JSON (`["a", "b"]`), booleans as `true` or
`false`, durations in seconds unless the name says otherwise.

| variable | default | meaning |
| --- | --- | --- |
"""


def _default(field: FieldInfo) -> str:
    value: Any = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def configuration_reference() -> str:
    """The whole Markdown of docs/configuration.md: one table row per `Settings` field."""
    prefix = Settings.model_config.get("env_prefix", "")
    rows = []
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise ValueError(f"Settings.{name} has no description=; the reference needs one")
        variable = f"{prefix}{name}".upper()
        rows.append(f"| `{variable}` | {_default(field)} | {_cell(field.description)} |\n")
    return INTRO.format(command=COMMAND, prefix=prefix) + "".join(rows)


if __name__ == "__main__":
    sys.stdout.write(configuration_reference())

"""Regenerate the README's config reference from the config models' field docstrings and
defaults, and the table of each game's own defaults from the game specs (the one place they
are written).

python scripts/config_reference.py          # rewrite README.md in place
python scripts/config_reference.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import BaseModel  # noqa: E402

from config import RunConfig, default_config, flatten  # noqa: E402
from envs.registry import SPECS  # noqa: E402

START = "<!-- config-reference:start -->"
END = "<!-- config-reference:end -->"


def _rows(model: type[BaseModel], prefix: str, lines: list[str]) -> None:
    instance = model()
    nested: list[tuple[str, type[BaseModel], str]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((name, annotation, description))
            continue
        members = model_union(annotation)
        if members:  # a discriminated union: one table per member, named by its kind
            for member in members:
                kind = member.model_fields["kind"].default
                nested.append((name, member, f"{description} With `kind: {kind}`:"))
            continue
        value = getattr(instance, name)
        shown = value if isinstance(value, str) else repr(value)
        lines.append(f"| `{prefix}{name}` | `{shown}` | {description} |")
    for name, sub_model, description in nested:
        lines += ["", f"**`{prefix}{name}`**: {description}", "", "| key | default | meaning |"]
        lines.append("| --- | --- | --- |")
        _rows(sub_model, f"{prefix}{name}.", lines)


def model_union(annotation: object) -> list[type[BaseModel]]:
    """The config models of a union annotation (``AtariConfig | TetrisConfig``), else []."""
    members = [a for a in typing.get_args(annotation) if isinstance(a, type)]
    if members and all(issubclass(a, BaseModel) for a in members):
        return members
    return []


def game_defaults() -> list[str]:
    """A table of the values each named game sets over the defaults above (its spec's
    ``DEFAULTS``), one column per game; a blank cell keeps the default."""
    core = flatten({k: v for k, v in RunConfig().model_dump().items() if k not in ("env", "game")})
    games = [name for spec in SPECS for name in spec.games]
    values = {}
    for name in games:
        config = default_config(name).model_dump()
        values[name] = flatten({k: v for k, v in config.items() if k not in ("env", "game")})
    keys = [key for key in core if any(values[name].get(key) != core[key] for name in games)]
    lines = [
        "",
        "**Each game's defaults**: what `--game` sets over the defaults above, from the game's "
        "spec (`DEFAULTS` in `envs/<game>/__init__.py`, the only place they are written); a "
        "blank cell keeps the default.",
        "",
        f"| key | default | {' | '.join(games)} |",
        f"| --- | --- |{' --- |' * len(games)}",
    ]
    for key in keys:
        cells = [
            "" if values[name][key] == core[key] else f"`{values[name][key]}`" for name in games
        ]
        lines.append(f"| `{key}` | `{core[key]}` | {' | '.join(cells)} |")
    return lines


def reference() -> str:
    """The Markdown tables for every key of RunConfig, then each game's own defaults."""
    lines = ["| key | default | meaning |", "| --- | --- | --- |"]
    _rows(RunConfig, "", lines)
    lines += game_defaults()
    return "\n".join(lines)


def render(readme: str) -> str:
    """README text with the section between the markers replaced."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference()}\n{END}{tail}"


def main() -> int:
    path = ROOT / "README.md"
    current = path.read_text(encoding="utf-8")
    updated = render(current)
    if "--check" in sys.argv:
        if updated != current:
            print("README.md config reference is stale: run python scripts/config_reference.py")
            return 1
        return 0
    path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

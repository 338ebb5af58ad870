"""Config resolution and CLI errors: exit code 2, one line, no traceback, before ZenML."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from config import ConfigError, RunConfig, resolve_config

ROOT = Path(__file__).resolve().parent.parent


def _cli(args: list[str], zenml_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ZENML_CONFIG_PATH": str(zenml_dir),
        "ZENML_ANALYTICS_OPT_IN": "false",
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "run_pipeline.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# Bad flags and config files, each refused in one line before ZenML starts, are a table in
# tests/bad_inputs.py, run by tests/test_bad_inputs.py.


def test_help_lists_the_flags(tmp_path):
    result = _cli(["--help"], tmp_path / "zenml")
    assert result.returncode == 0
    for flag in (
        "--game",
        "--config",
        "--steps",
        "--seed",
        "--buffer-size",
        "--run-name",
        "--no-cache",
    ):
        assert flag in result.stdout


def test_priority_defaults_then_yaml_then_flags(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("train: {steps: 500}\nseed: 3\nreplay: {capacity: 5000}\n")
    config = resolve_config("breakout", config_file, {"seed": 9})
    assert config.train.steps == 500  # from YAML
    assert config.seed == 9  # flag beats YAML
    assert config.replay.capacity == 5000
    assert config.dqn.target_sync_steps == RunConfig().dqn.target_sync_steps  # default


def test_defaults_follow_the_atari_100k_protocol():
    config = resolve_config("breakout")
    assert config.train.steps == 100_000
    assert config.train.steps * config.env.frame_skip == 400_000
    assert config.evaluate.episodes == 10 and config.evaluate.epsilon == 0.05


def test_no_game_restates_a_core_default():
    """Each default is written once: a game's spec sets only values that differ from the core
    defaults (agents.config), and no shipped YAML restates its game's defaults."""
    from config import RunConfig, flatten, load_yaml
    from envs.registry import SPECS

    core = flatten(RunConfig().model_dump())
    restated = [
        f"{name}: {key}={value!r}"
        for spec in SPECS
        for name, defaults in spec.games.items()
        for key, value in flatten({k: v for k, v in defaults.items() if k != "env"}).items()
        if core[key] == value
    ]
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        values = load_yaml(path)
        game = flatten(resolve_config(values.get("game", "breakout")).model_dump())
        restated += [
            f"{path.name}: {key}={value!r}"
            for key, value in flatten(values).items()
            if key != "game" and game[key] == value
        ]
    assert not restated, f"defaults written twice: {restated}"


def test_breakout_defaults_are_the_core_defaults():
    from config import RunConfig

    config = resolve_config("breakout")
    assert config.env.rom == "breakout"
    assert config.model_dump(exclude={"game"}) == RunConfig().model_dump(exclude={"game"})


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_validates(path):
    from config import load_yaml

    game = load_yaml(path).get("game", "breakout")
    resolve_config(game, path)


def test_any_ale_game_resolves_by_name():
    assert resolve_config("atari:Pong").env.rom == "pong"
    assert resolve_config("atari:SpaceInvaders").env.rom == "space_invaders"
    with pytest.raises(ConfigError, match="did you mean"):
        resolve_config("atari:Pongg")


def test_every_field_has_a_docstring():
    from pydantic import BaseModel

    def walk(model: type[BaseModel]) -> None:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation)

    walk(RunConfig)


def test_memory_check_refuses_a_buffer_larger_than_memory(tmp_path):
    result = _cli(["--buffer-size", "900000000"], tmp_path / "zenml")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "replay.capacity=900000000 needs" in line and "use --buffer-size" in line
    assert not (tmp_path / "zenml").exists()


def test_readme_documents_every_config_key():
    from pydantic import BaseModel

    readme = (ROOT / "README.md").read_text()
    missing = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            members = [a for a in typing.get_args(annotation) if isinstance(a, type)]
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name}.")
            elif members and all(issubclass(a, BaseModel) for a in members):
                for member in members:  # the env union: every game family's keys
                    walk(member, f"{prefix}{name}.")
            elif f"`{prefix}{name}`" not in readme:
                missing.append(prefix + name)

    walk(RunConfig, "")
    assert not missing, f"README config reference lacks {missing}"
    import importlib.util

    spec = importlib.util.spec_from_file_location("ref", ROOT / "scripts" / "config_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render(readme) == readme, "run: python scripts/config_reference.py"


def test_every_flag_lands_in_its_config_field():
    from run_pipeline import parse_config

    config = parse_config(
        [
            "--game",
            "atari:Pong",
            "--steps",
            "5_000",
            "--seed",
            "3",
            "--buffer-size",
            "20000",
            "--run-name",
            "pong-1",
            "--no-cache",
        ]
    )
    assert config.game == "atari:Pong" and config.env.rom == "pong"
    assert config.train.steps == 5_000 and config.seed == 3
    assert config.replay.capacity == 20_000
    assert config.run_name == "pong-1" and config.enable_cache is False

"""The game registry: the CLI's choices, the config union, the wrappers, the artifact
allowlist, the gymnasium ids, the model names and the defaults all come from ``SPECS``."""

from __future__ import annotations

import typing

import gymnasium as gym
import pytest

import envs
from config import ConfigError, RunConfig, default_config, resolve_config
from envs.base import GameWrapper
from envs.registry import (
    SPECS,
    artifact_classes,
    find_game,
    game_choices,
    legacy_artifact_classes,
    model_name,
    resolve_game,
    spec_for,
)
from envs.spec import EnvConfig
from materializers.unpickler import ARTIFACT_CLASSES, MOVED_ARTIFACT_CLASSES, allowed_class_key

NAMES = [name for spec in SPECS for name in spec.games]


def test_the_choices_are_every_named_game_then_the_patterns() -> None:
    assert game_choices() == ["breakout", "tetris", "connect4", "tictactoe", "atari:<Name>"]
    with pytest.raises(
        ConfigError, match=r"allowed: breakout, tetris, connect4, tictactoe, atari:<Name>"
    ):
        resolve_game("chess")
    assert find_game("chess") is None


@pytest.mark.parametrize("name", [*NAMES, "atari:Pong"])
def test_every_name_resolves_to_its_family_and_valid_defaults(name: str) -> None:
    found = resolve_game(name)
    config = default_config(name)
    assert config.game == name and config.env.kind == found.kind
    assert isinstance(config.env, found.spec.config)
    for section, values in found.defaults.items():
        if section != "env":
            assert getattr(config, section).model_dump().items() >= dict(values).items()


def test_the_env_union_is_the_registered_games_config_models() -> None:
    annotation = RunConfig.model_fields["env"].annotation
    assert list(typing.get_args(annotation)) == [spec.config for spec in SPECS]
    assert all(issubclass(spec.config, EnvConfig) for spec in SPECS)
    assert type(RunConfig().env) is SPECS[0].config
    assert "``atari``, ``tetris``, ``connect4`` or ``tictactoe``" in str(
        RunConfig.model_fields["env"].description
    )


@pytest.mark.parametrize("spec", SPECS, ids=[spec.kind for spec in SPECS])
def test_each_spec_names_its_wrapper_gym_id_and_allowlisted_class(spec) -> None:  # type: ignore[no-untyped-def]
    wrapper = spec.wrapper_class()
    assert issubclass(wrapper, GameWrapper)
    assert (wrapper.__module__, wrapper.__qualname__) == spec.wrapper_path
    assert spec.wrapper_path in artifact_classes() and spec.wrapper_path in ARTIFACT_CLASSES
    assert envs.ENV_IDS[spec.kind] == spec.env_id and spec.env_id in gym.registry
    assert spec_for(spec.config.model_validate({})) is spec
    for old in spec.legacy_wrapper_paths:
        assert legacy_artifact_classes()[old] == spec.wrapper_path
        assert allowed_class_key(".".join(old)) == spec.wrapper_path
        # ZenML records an artifact's data type by its class path: the old one still imports
        module, name = old
        assert getattr(__import__(module, fromlist=[name]), name) is wrapper


def test_moved_classes_map_only_onto_allowlisted_ones() -> None:
    assert set(MOVED_ARTIFACT_CLASSES.values()) <= set(ARTIFACT_CLASSES)
    assert not set(MOVED_ARTIFACT_CLASSES) & set(ARTIFACT_CLASSES)
    assert allowed_class_key("envs.atari.NOOP") is None
    assert allowed_class_key("builtins.eval") is None


def test_model_names_and_game_specific_config_rules() -> None:
    assert model_name("breakout") == "dqn_breakout"
    assert model_name("atari:SpaceInvaders") == "dqn_atari_spaceinvaders"
    breakout, tetris = resolve_config("breakout"), resolve_config("tetris")
    assert breakout.env.frames_per_step() == 4 and tetris.env.frames_per_step() is None
    assert breakout.env.gif_fps() == 15 and tetris.env.gif_fps() == 8
    with pytest.raises(ConfigError, match=r"mirror-symmetric games.*allowed: connect4"):
        resolve_config("tetris", overrides={"dqn": {"mirror_augment": True}})

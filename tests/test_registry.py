"""The Model Control Plane: a model version per run, promotion, and --evaluate-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TENSORBOARD_DIR
from zenml.client import Client
from zenml.enums import ModelStages

from config import resolve_config

pytestmark = [pytest.mark.timeout(600)]

GAME = "atari:Boxing"
"""A game no other test trains, so this module owns its model's versions."""

OVERRIDES: dict[str, Any] = {
    "train": {"steps": 200, "log_every": 100, "tensorboard_dir": TENSORBOARD_DIR},
    "replay": {"capacity": 500, "warmup_steps": 100},
    "dqn": {"train_frequency": 4, "target_sync_steps": 100, "n_step": 3, "hidden_units": 32},
    "evaluate": {"episodes": 2, "max_episode_frames": 800},
    "enable_cache": False,
}


@pytest.fixture(scope="module")
def runs(zenml_client: Client) -> dict[str, Any]:
    """Two identical runs (same seed: the same evaluation scores)."""
    from pipelines import training_run

    config = resolve_config(GAME, overrides=OVERRIDES)
    found = {}
    for name in ("boxing_one", "boxing_two"):
        named = config.model_copy(update={"run_name": name})
        run = training_run(named)(config=named)
        found[name] = zenml_client.get_pipeline_run(run.id)
    return {"config": config, **found}


def _promotion(run: Any) -> dict[str, Any]:
    return run.steps["promote_model"].outputs["promotion"][0].load()


def test_first_version_becomes_production(runs: dict[str, Any]) -> None:
    first = _promotion(runs["boxing_one"])
    assert first["promoted"] is True and first["reason"] == "no production version yet"
    assert first["model"] == "dqn_atari_boxing"


def test_equal_score_does_not_replace_production(runs: dict[str, Any]) -> None:
    first, second = _promotion(runs["boxing_one"]), _promotion(runs["boxing_two"])
    assert second["mean_score"] == first["mean_score"]  # same seed, deterministic
    assert second["promoted"] is False
    assert "does not beat" in second["reason"] and "recorded evaluation" in second["reason"]
    production = Client().get_model_version("dqn_atari_boxing", ModelStages.PRODUCTION)
    assert str(production.number) == first["version"]
    assert production.run_metadata["eval_protocol"]["seeds"] == [10_000, 10_001]


def test_evaluate_only_evaluates_the_production_agent(
    runs: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from run_pipeline import main

    config_file = tmp_path / "eval.yaml"
    config_file.write_text(yaml.safe_dump({"game": GAME, "evaluate": {"episodes": 3}}))
    argv = ["--config", str(config_file), "--evaluate-only", "--run-name", "boxing_eval"]
    code = main(argv)
    assert code == 0
    out = capsys.readouterr().out
    assert "evaluating production version" in out and "## Evaluation: atari:Boxing" in out
    run = Client().get_pipeline_run("boxing_eval")
    assert "train" not in run.steps
    evaluation = run.steps["evaluate"].outputs["evaluation"][0].load()
    assert evaluation["agent"]["episodes"] == 3
    loaded = run.steps["load_agent"].outputs["trained_agent"][0].load()
    original = runs["boxing_one"].steps["train"].outputs["trained_agent"][0].load()
    assert loaded.steps == original.steps == 200


def test_evaluate_only_a_named_run_and_missing_sources(
    runs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from run_pipeline import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--game", "atari:Alien", "--evaluate-only"])
    assert exit_info.value.code == 2
    assert "has no production version yet" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--game", GAME, "--evaluate-only", "no-such-run"])
    assert "no pipeline run of that name" in capsys.readouterr().err

"""The real training pipeline, end to end, on ZenML's default local stack.

One in-process run (shared by the module) is inspected through ``zenml.client.Client``: every
step completed, every output artifact loads back from disk with our materializers and holds
what it should, the files on disk are ours, and the step metadata and stored logs are right.
A second run goes through the CLI as a real subprocess with its own ZenML home, and its full
terminal output is checked for ZenML's Pickle-materializer warning.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import yaml
from conftest import PIPELINE_STEPS, TINY_OVERRIDES
from zenml.client import Client
from zenml.log_stores.artifact.artifact_log_store import fetch_log_records
from zenml.models import PipelineRunResponse
from zenml.types import MarkdownString

from agents.dqn import DQNAgent
from agents.exported import OnnxModel, SavedModel
from agents.replay import ReplayBuffer
from config import RunConfig, resolve_config
from envs.atari.game import AtariGame
from materializers import (
    AgentMaterializer,
    GameWrapperMaterializer,
    GifMaterializer,
    KerasModelMaterializer,
    OnnxModelMaterializer,
    PngMaterializer,
    ReplayBufferMaterializer,
    SavedModelMaterializer,
)
from materializers.keras_model import MODEL_FILE
from materializers.safe_pickle import FORMAT_VERSION, META_FILE, PAYLOAD_FILE
from reporting.media import Gif, Png

pytestmark = [pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent


STEPS = PIPELINE_STEPS

EXPECTED_OUTPUTS: dict[tuple[str, str], tuple[type, type | None]] = {
    ("game_wrap", "game_wrapper"): (AtariGame, GameWrapperMaterializer),
    ("build_dqn", "q_network"): (keras.Model, KerasModelMaterializer),
    ("replay_buffer", "replay_buffer"): (ReplayBuffer, ReplayBufferMaterializer),
    ("agent", "agent"): (DQNAgent, AgentMaterializer),
    ("get_information_meta", "information_meta"): (dict, None),
    ("train", "trained_agent"): (DQNAgent, AgentMaterializer),
    ("train", "training_history"): (dict, None),
    ("evaluate", "evaluation"): (dict, None),
    ("evaluate", "evaluation_table"): (MarkdownString, None),
    ("evaluate", "episode_gif"): (Gif, GifMaterializer),
    ("evaluate", "learning_curve"): (Png, PngMaterializer),
    ("export", "onnx_model"): (OnnxModel, OnnxModelMaterializer),
    ("export", "saved_model"): (SavedModel, SavedModelMaterializer),
    ("promote_model", "promotion"): (dict, None),
}
"""(step, output) -> (type of the loaded value, our materializer or None for ZenML's own)."""

PICKLE_WARNING = "No materializer is registered"
FALLBACK_MATERIALIZERS = {
    "zenml.materializers.cloudpickle_materializer.CloudpickleMaterializer",
}


def _expected_updates(config: RunConfig) -> int:
    """Gradient updates: one every ``train_frequency`` agent steps once warm-up is over."""
    return len(range(config.replay.warmup_steps, config.train.steps, config.dqn.train_frequency))


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------------------- shared run
@pytest.fixture(scope="module")
def run_config() -> RunConfig:
    return resolve_config("breakout", overrides=TINY_OVERRIDES)


@pytest.fixture(scope="module")
def pipeline_run(zenml_client: Client, run_config: RunConfig) -> PipelineRunResponse:
    from pipelines import training_run

    run_name = f"test-pipeline-{uuid.uuid4().hex[:8]}"
    # conftest sets ZENML_LOGGING_VERBOSITY=WARN; ZenML stores only what the root logger lets
    # through, so open it to INFO for this run to keep the full logs a user's run would have.
    level = logging.root.level
    logging.root.setLevel(logging.INFO)
    try:
        config = run_config.model_copy(update={"run_name": run_name})
        training_run(config)(config=config)
    finally:
        logging.root.setLevel(level)
    return zenml_client.get_pipeline_run(run_name)


@pytest.fixture(scope="module")
def loaded_outputs(pipeline_run: PipelineRunResponse) -> dict[tuple[str, str], Any]:
    """Every output artifact of every step, loaded back from the artifact store."""
    return {
        (step_name, output_name): versions[0].load(disable_cache=True)
        for step_name, step in pipeline_run.steps.items()
        for output_name, versions in step.outputs.items()
    }


def test_shared_run_uses_the_tiny_config(tiny_config: RunConfig, run_config: RunConfig) -> None:
    assert run_config == tiny_config


def test_all_steps_completed(pipeline_run: PipelineRunResponse) -> None:
    assert pipeline_run.status.value == "completed"
    assert tuple(pipeline_run.steps) == STEPS
    for name, step in pipeline_run.steps.items():
        assert step.status.value == "completed", name


def test_every_output_loads_with_our_materializers(
    pipeline_run: PipelineRunResponse, loaded_outputs: dict[tuple[str, str], Any]
) -> None:
    assert set(EXPECTED_OUTPUTS) <= set(loaded_outputs)
    for step_name, output_name in loaded_outputs:
        artifact = pipeline_run.steps[step_name].outputs[output_name][0]
        materializer = artifact.materializer.import_path
        assert materializer not in FALLBACK_MATERIALIZERS, (step_name, output_name)
        if (step_name, output_name) in EXPECTED_OUTPUTS:
            data_type, ours = EXPECTED_OUTPUTS[step_name, output_name]
            assert isinstance(loaded_outputs[step_name, output_name], data_type)
            if ours is not None:
                assert materializer == _qualified(ours), (step_name, output_name)


def test_artifacts_on_disk_are_our_files(pipeline_run: PipelineRunResponse) -> None:
    store = Client().active_stack.artifact_store
    for (step_name, output_name), (_, ours) in EXPECTED_OUTPUTS.items():
        artifact = pipeline_run.steps[step_name].outputs[output_name][0]
        if ours in (None, GifMaterializer, PngMaterializer):  # media: plain files, tested apart
            continue
        files = set(store.listdir(artifact.uri))
        meta = json.loads(Path(artifact.uri, META_FILE).read_text())
        assert meta["format_version"] == FORMAT_VERSION
        if ours is KerasModelMaterializer:
            assert files == {MODEL_FILE, META_FILE}
            assert meta["size"] == Path(artifact.uri, MODEL_FILE).stat().st_size
        elif ours is OnnxModelMaterializer:
            assert files == {"model.onnx", META_FILE, "card.md"}
            assert meta["size"] == Path(artifact.uri, "model.onnx").stat().st_size
        elif ours is SavedModelMaterializer:
            assert files == {"saved_model", "manifest.json", META_FILE, "card.md"}
            manifest = json.loads(Path(artifact.uri, "manifest.json").read_text())
            assert {"saved_model.pb", "zenrl_card.json"} <= set(manifest)
        else:
            assert files == {PAYLOAD_FILE, META_FILE}, (step_name, output_name)
            assert meta["class"] == artifact.data_type.import_path
            assert meta["size"] == Path(artifact.uri, PAYLOAD_FILE).stat().st_size


def test_setup_artifacts_hold_the_starting_point(
    run_config: RunConfig, loaded_outputs: dict[tuple[str, str], Any]
) -> None:
    game = loaded_outputs["game_wrap", "game_wrapper"]
    assert game.num_actions == 4 and game.config == run_config.env
    assert not game.needs_reset and game.episode_steps == 0

    q_network = loaded_outputs["build_dqn", "q_network"]
    assert tuple(q_network.output_shape) == (None, 4)

    buffer = loaded_outputs["replay_buffer", "replay_buffer"]
    assert (buffer.capacity, len(buffer), buffer.n_step) == (1_000, 0, 3)

    agent = loaded_outputs["agent", "agent"]
    assert (agent.steps, agent.updates, agent.target_syncs) == (0, 0, 0)
    for agent_weight, network_weight in zip(
        agent.online.get_weights(), q_network.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(agent_weight, network_weight)

    information = loaded_outputs["get_information_meta", "information_meta"]
    assert information["game"] == "breakout"
    assert information["train_steps"] == 300
    assert information["replay_capacity"] == 1_000
    assert information["start_agent_step"] == 0
    assert information["network_parameters"] == q_network.count_params()


def test_trained_agent_learned_for_the_configured_steps(
    run_config: RunConfig, loaded_outputs: dict[tuple[str, str], Any]
) -> None:
    trained = loaded_outputs["train", "trained_agent"]
    initial = loaded_outputs["agent", "agent"]
    assert trained.steps == 300
    assert trained.updates == _expected_updates(run_config) > 0
    assert trained.target_syncs == 300 // run_config.dqn.target_sync_steps
    assert any(
        not np.array_equal(before, after)
        for before, after in zip(
            initial.online.get_weights(), trained.online.get_weights(), strict=True
        )
    ), "gradient updates must have changed the online network"

    history = loaded_outputs["train", "training_history"]
    assert history["curve_steps"] == [100, 200, 300]
    assert len(history["curve_loss"]) == 3
    assert all(isinstance(score, float) for score in history["episode_scores"])


def test_the_output_agent_is_the_best_validated_one(
    run_config: RunConfig,
    loaded_outputs: dict[tuple[str, str], Any],
    pipeline_run: PipelineRunResponse,
) -> None:
    """Keep-best: validated at 100, 200 and 300; the output holds the best weights (the later
    of equals), which replay their validation score; the last checkpoint holds the last."""
    from agents.keep_best import validate
    from envs.evaluation import validator

    history = loaded_outputs["train", "training_history"]
    steps, scores = history["validation_steps"], history["validation_scores"]
    assert steps == [100, 200, 300]
    best = max(i for i, score in enumerate(scores) if score == max(scores))
    train = pipeline_run.steps["train"].run_metadata
    assert train["best_agent_step"] == steps[best]
    assert train["best_validation_score"] == scores[best]
    assert train["last_validation_score"] == scores[-1]
    trained = loaded_outputs["train", "trained_agent"]
    again = validate(trained, validator(run_config), run_config.evaluate.epsilon)
    assert again.score == scores[best]
    name, version = str(train["checkpoints"][-1]).rsplit(":", 1)
    checkpoint = Client().get_artifact_version(name, version).load()
    assert checkpoint.best["step"] == steps[best]
    final_weights = checkpoint.agent.online_weights()
    same = all(
        np.array_equal(a, b) for a, b in zip(trained.online_weights(), final_weights, strict=True)
    )
    assert same == (steps[best] == 300)
    table = loaded_outputs["evaluate", "evaluation_table"]
    assert f"agent: the best validated weights, from agent step {steps[best]}" in table


def test_evaluation_outputs(loaded_outputs: dict[tuple[str, str], Any]) -> None:
    evaluation = loaded_outputs["evaluate", "evaluation"]
    for policy in ("agent", "random"):
        summary = evaluation[policy]
        assert summary["episodes"] == 2
        assert {"mean_score", "std_score", "max_score", "mean_steps"} <= set(summary)
        assert len(evaluation[f"{policy}_scores"]) == 2
        assert summary["mean_score"] == pytest.approx(np.mean(evaluation[f"{policy}_scores"]))
    assert evaluation["seeds"] == [10_000, 10_001]

    table = loaded_outputs["evaluate", "evaluation_table"]
    assert isinstance(table, str)
    assert "## Evaluation: breakout" in table
    for column in ("random steps", "random score", "agent steps", "agent score", "**mean**"):
        assert column in table
    assert "| 10000 |" in table and "| 10001 |" in table


def test_step_metadata_holds_the_logged_values(
    run_config: RunConfig, pipeline_run: PipelineRunResponse
) -> None:
    steps = pipeline_run.steps
    train = steps["train"].run_metadata
    assert train["agent_steps"] == 300
    assert train["gradient_updates"] == _expected_updates(run_config)
    assert train["curve_steps"] == [100, 200, 300]
    assert isinstance(train["curve_loss"], list) and len(train["curve_loss"]) == 3
    assert isinstance(train["episode_scores"], list)

    assert steps["game_wrap"].run_metadata["action_meanings"] == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    assert steps["get_information_meta"].run_metadata["warmup_steps"] == 100
    assert "replay_preallocated_mib" in steps["replay_buffer"].run_metadata
    evaluate = steps["evaluate"].run_metadata
    assert set(evaluate["agent"]) >= {"mean_score", "episodes"}
    assert set(evaluate["random"]) >= {"mean_score", "episodes"}


def test_stored_logs_have_no_pickle_materializer_warning(
    pipeline_run: PipelineRunResponse,
) -> None:
    """ZenML 0.98 keeps each run's and each step's logs as files in the artifact store."""
    store = Client().active_stack.artifact_store
    streams = {"run": pipeline_run.log_collection or []}
    streams.update({name: step.log_collection or [] for name, step in pipeline_run.steps.items()})
    texts = {
        name: "\n".join(
            record.message
            for logs in collection
            for record in fetch_log_records(store, logs.uri, limit=100_000)
        )
        for name, collection in streams.items()
    }
    # The logs are really captured: the replay step's print and ZenML's own lines are there.
    assert "replay buffer: 1,000 transitions" in texts["replay_buffer"]
    assert "Step `train` has finished" in texts["train"]
    for name, text in texts.items():
        assert PICKLE_WARNING not in text, name
        assert "Pickle materializer" not in text, name


# ---------------------------------------------------------------------------- the CLI
INSPECT_RUN = """
import json, sys
from zenml.client import Client
from zenml.log_stores.artifact.artifact_log_store import fetch_log_records

client = Client()
run = client.get_pipeline_run(sys.argv[1])
train = run.steps["train"]
agent = train.outputs["trained_agent"][0].load(disable_cache=True)
store = client.active_stack.artifact_store
collections = [run.log_collection or []]
collections += [step.log_collection or [] for step in run.steps.values()]
logs = [
    record.message
    for collection in collections
    for stream in collection
    for record in fetch_log_records(store, stream.uri, limit=100_000)
]
print(json.dumps({
    "status": run.status.value,
    "steps": {name: step.status.value for name, step in run.steps.items()},
    "gradient_updates_metadata": train.run_metadata["gradient_updates"],
    "agent_steps": agent.steps,
    "agent_updates": agent.updates,
    "logs": logs,
}))
"""


def test_cli_run_trains_prints_the_table_and_never_warns_about_pickle(tmp_path: Path) -> None:
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text(yaml.safe_dump({"game": "breakout", **TINY_OVERRIDES}))
    config = resolve_config("breakout", config_file)
    env = {
        **os.environ,
        "ZENML_CONFIG_PATH": str(tmp_path / "zenml"),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_VERBOSITY": "INFO",  # everything a user would see
    }
    run_name = f"test-cli-{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable,
        "run_pipeline.py",
        "--config",
        str(config_file),
        "--steps",
        "300",
        "--buffer-size",
        "1000",
        "--run-name",
        run_name,
    ]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540, check=False
    )
    output = result.stdout + result.stderr

    assert result.returncode == 0, output[-4000:]
    assert "| seed | random steps | random score | agent steps | agent score |" in result.stdout
    assert f"run: {run_name}" in result.stdout
    assert PICKLE_WARNING not in output
    assert "Pickle" not in output

    # A script file, not ``-c``: ZenML derives its source root from the main module's file.
    inspect_script = tmp_path / "inspect_run.py"
    inspect_script.write_text(INSPECT_RUN)
    inspected = subprocess.run(
        [sys.executable, str(inspect_script), run_name],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert inspected.returncode == 0, inspected.stderr[-4000:]
    report = json.loads(inspected.stdout.strip().splitlines()[-1])
    assert report["status"] == "completed"
    assert list(report["steps"]) == list(STEPS)
    assert set(report["steps"].values()) == {"completed"}
    assert report["agent_steps"] == 300
    assert report["agent_updates"] == report["gradient_updates_metadata"]
    assert report["agent_updates"] == _expected_updates(config) > 0
    assert not [line for line in report["logs"] if PICKLE_WARNING in line]


def test_evaluation_media_and_model_version(
    pipeline_run: PipelineRunResponse, loaded_outputs: dict[tuple[str, str], Any]
) -> None:
    import io

    from PIL import Image

    gif = Image.open(io.BytesIO(loaded_outputs["evaluate", "episode_gif"].data))
    assert gif.format == "GIF" and gif.n_frames > 10
    assert gif.size == (320, 420)  # 160x210 Atari frames at scale 2
    curve = Image.open(io.BytesIO(loaded_outputs["evaluate", "learning_curve"].data))
    assert curve.format == "PNG" and curve.size == (1000, 800)

    promotion = loaded_outputs["promote_model", "promotion"]
    assert promotion["model"] == "dqn_breakout"
    assert (
        promotion["mean_score"] == loaded_outputs["evaluate", "evaluation"]["agent"]["mean_score"]
    )
    version = Client().get_model_version("dqn_breakout", promotion["version"])
    assert version.run_metadata["eval_mean_score"] == promotion["mean_score"]
    assert version.get_artifact("trained_agent") is not None
    assert pipeline_run.model_version is not None
    assert pipeline_run.model_version.id == version.id


def test_a_production_agent_of_another_observation_layout_is_replaced(zenml_client: Client) -> None:
    """A production agent that cannot play this version of the game's observations (here a
    frame stack of 2 against 4; a game update that adds a feature does the same) is
    replaced with that reason instead of crashing the re-evaluation."""
    from conftest import run_tiny_pipeline

    tiny = {
        "train": {"steps": 120, "eval_every": None},
        "replay": {"capacity": 500, "warmup_steps": 100},
        "dqn": {"n_step": 3, "hidden_units": 16, "train_frequency": 4},
    }
    first = {
        **tiny,
        "env": {"frame_stack": 2},
        "evaluate": {"episodes": 1, "max_episode_frames": 400},
    }
    run_tiny_pipeline("atari:Freeway", first)
    second = {**tiny, "evaluate": {"episodes": 2, "max_episode_frames": 400}}
    _, run = run_tiny_pipeline("atari:Freeway", second)
    decision = run.steps["promote_model"].outputs["promotion"][0].load()
    assert decision["promoted"] is True
    assert "reads observations of shape (2, 84, 84)" in decision["reason"]
    assert "(4, 84, 84)" in decision["reason"] and "cannot be evaluated here" in decision["reason"]

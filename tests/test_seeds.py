"""``run_pipeline.py --seeds``: one training run per seed, then the report over seeds."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from zenml.client import Client

import run_pipeline

pytestmark = [pytest.mark.timeout(900)]

TINY = {
    "game": "breakout",
    "train": {"steps": 200, "log_every": 100, "eval_every": 100, "eval_episodes": 1},
    "replay": {"capacity": 1_000, "warmup_steps": 100},
    "dqn": {"train_frequency": 4, "target_sync_steps": 100, "n_step": 3, "hidden_units": 32},
    "evaluate": {"episodes": 3, "max_episode_frames": 1_000},
    "enable_cache": False,
}


def test_seeds_train_one_run_each_then_report_and_a_rerun_trains_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zenml_client: Client
) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY, "train": {**TINY["train"], "tensorboard_dir": None}}))
    group = f"seeds-test-{uuid.uuid4().hex[:6]}"
    argv = ["--config", str(config), "--seeds", "3", "5", "--run-name", group]
    assert run_pipeline.main(argv) == 0
    out = capsys.readouterr().out
    assert "## breakout over seeds 3, 5 (3 evaluation episodes per seed" in out
    assert f"runs: {group}_seed3, {group}_seed5" in out

    runs = {name: zenml_client.get_pipeline_run(f"{group}_{name}") for name in ("seed3", "seed5")}
    for name, run in runs.items():
        assert run.status.value == "completed"
        assert f"seeds-{group}" in {tag.name for tag in run.tags}
        assert run.config.parameters["config"]["seed"] == int(name.removeprefix("seed"))
    # the report's figures are the runs' own evaluation scores
    reports = zenml_client.list_pipeline_runs(tags=[f"seeds-{group}"], size=10, hydrate=True)
    report = next(r for r in reports.items if r.name.startswith(f"{group}_report"))
    summary = report.steps["seed_report"].outputs["seed_summary"][0].load()
    for policy in ("agent", "random"):
        means = []
        for run in runs.values():
            scores = run.steps["evaluate"].outputs["evaluation"][0].load()[f"{policy}_scores"]
            means.append(sum(scores) / len(scores))
        assert summary[policy]["seed_means"] == pytest.approx(means)
        low, high = summary[policy]["mean_ci95"]
        assert min(means) <= low <= summary[policy]["mean"] <= high <= max(means)
        assert summary[policy]["human_normalised"] is not None  # Breakout has a reference

    # a second command with the same name trains nothing and reports again
    assert run_pipeline.main(argv) == 0
    out = capsys.readouterr().out
    assert f"seed 3: run {group}_seed3 already completed; not trained again" in out
    assert "training breakout seed" not in out
    assert "## breakout over seeds 3, 5" in out

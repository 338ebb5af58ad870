"""The safe materializers against the real local artifact store of the isolated test config.

Every artifact here is written and read through ``zenml_client.active_stack.artifact_store``
(the store of the session's temporary ``ZENML_CONFIG_PATH``), with real game wrappers, agents,
replay buffers filled by real emulator steps, and real Keras models. Nothing is mocked.

The refusal tests write hostile or damaged artifacts with a *correct* ``meta.json`` where the
point is to get past the checksum, and prove that the same bytes are live: an unrestricted
``pickle.loads`` of them does run the command the restricted loader refused to run, or does
crash the process. The hostile cases themselves are the table in ``tests/hostile_payloads.py``
(a benchmark runs the same table in child processes); each must be refused with its error
class and message, in one line naming the artifact, leaving the store as it was. Cases that
would kill or poison the test process if a fix regressed are loaded in a child process.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import hostile_payloads as hostile
import keras
import numpy as np
import pytest
from hostile_payloads import (
    HOSTILE_CASES,
    HostileCase,
    load_artifact,
    load_in_subprocess,
    marker_for,
)
from zenml.artifact_stores import BaseArtifactStore
from zenml.client import Client
from zenml.materializers.materializer_registry import materializer_registry

from agents.dqn import DQNAgent, _network_shapes
from agents.networks import build_q_network
from agents.replay import ReplayBatch, ReplayBuffer
from agents.validation import PLAIN_DTYPES
from config import AtariConfig, DQNConfig
from envs.atari.game import AtariGame
from envs.base import GameWrapper
from materializers import (
    AgentMaterializer,
    CorruptArtifactError,
    GameWrapperMaterializer,
    KerasModelMaterializer,
    ReplayBufferMaterializer,
    UnsafeArtifactError,
)
from materializers.keras_model import MODEL_FILE
from materializers.safe_pickle import FORMAT_VERSION, META_FILE, PAYLOAD_FILE, RestrictedUnpickler

OBSERVATION_SHAPE = (4, 84, 84)
BREAKOUT_ACTIONS = 4
AGENT_CLASS = "agents.dqn.DQNAgent"


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def artifact_store(zenml_client: Client) -> BaseArtifactStore:
    """The isolated config's real local artifact store."""
    return zenml_client.active_stack.artifact_store


@pytest.fixture()
def artifact_uri(artifact_store: BaseArtifactStore) -> str:
    """A fresh, empty artifact directory inside the store, as ZenML would hand a step."""
    uri = os.path.join(artifact_store.path, "test_materializers", uuid.uuid4().hex)
    artifact_store.makedirs(uri)
    return uri


# ---------------------------------------------------------------------------- helpers
def _round_trip(
    materializer_class: type, data: Any, uri: str, store: BaseArtifactStore, data_type: type
) -> Any:
    """Save with one materializer instance and load with a fresh one, as two steps would."""
    materializer_class(uri=uri, artifact_store=store).save(data)
    return materializer_class(uri=uri, artifact_store=store).load(data_type)


def _snapshot(uri: str) -> dict[str, bytes]:
    """Every file under ``uri`` and its bytes (the local store is a plain directory)."""
    files = {}
    for directory, _, names in os.walk(uri):
        for name in names:
            path = Path(directory, name)
            files[str(path.relative_to(uri))] = path.read_bytes()
    return files


def _play(
    game: AtariGame, buffer: ReplayBuffer, steps: int, rng: np.random.Generator, seed: int = 0
) -> None:
    """Random play that stores transitions exactly as the trainer does (newest frame only)."""
    observation, _ = game.reset(seed=seed)
    episode_start = True
    for _ in range(steps):
        action = int(rng.integers(game.num_actions))
        next_observation, reward, terminated, truncated, info = game.step(action)
        buffer.add(
            observation[-1],
            action,
            float(np.sign(reward)),
            terminated or info["life_lost"],
            terminated or truncated,
            episode_start,
        )
        episode_start = False
        observation = next_observation
        if terminated or truncated:
            observation, _ = game.reset()
            episode_start = True


def _filled_buffer(capacity: int, steps: int, n_step: int = 3) -> ReplayBuffer:
    """A buffer of Breakout experience; episodes are cut at 60 steps so several start in it."""
    game = AtariGame(AtariConfig(max_episode_frames=240))
    buffer = ReplayBuffer(capacity, OBSERVATION_SHAPE[1:], BREAKOUT_ACTIONS, stack=4, n_step=n_step)
    _play(game, buffer, steps, np.random.default_rng(1))
    return buffer


def _assert_batches_equal(first: ReplayBatch, second: ReplayBatch) -> None:
    for name, a, b in zip(ReplayBatch._fields, first, second, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=f"batch field {name} differs")


def _assert_weights_equal(first: list[np.ndarray], second: list[np.ndarray]) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- registry
@pytest.mark.parametrize(
    ("data_type", "materializer_class"),
    [
        (GameWrapper, GameWrapperMaterializer),
        (AtariGame, GameWrapperMaterializer),
        (DQNAgent, AgentMaterializer),
        (ReplayBuffer, ReplayBufferMaterializer),
        (keras.Model, KerasModelMaterializer),
    ],
)
def test_materializers_are_registered_for_their_types(
    data_type: type, materializer_class: type
) -> None:
    """ZenML picks our materializer by type (never its Pickle fallback) even without
    ``output_materializers``."""
    assert materializer_registry[data_type] is materializer_class


# ---------------------------------------------------------------------------- game wrapper
def test_game_wrapper_round_trip_continues_the_same_episode(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    """With sticky actions the emulator's RNG decides every transition, and with a short
    frame cap the wrapper's own generator decides each reset's no-ops: the loaded wrapper
    must reproduce both, step for step, across episode boundaries."""
    config = AtariConfig(repeat_action_probability=0.25, max_episode_frames=400)
    original = AtariGame(config)
    original.reset(seed=7)
    rng = np.random.default_rng(0)
    for _ in range(40):
        original.step(int(rng.integers(original.num_actions)))
    assert not original.needs_reset

    loaded = _round_trip(
        GameWrapperMaterializer, original, artifact_uri, artifact_store, GameWrapper
    )

    assert type(loaded) is AtariGame and loaded is not original
    assert loaded.config == original.config
    assert loaded.episode_steps == original.episode_steps == 40
    np.testing.assert_array_equal(loaded.current_observation(), original.current_observation())

    actions = np.random.default_rng(1).integers(original.num_actions, size=300)
    resets = 0
    for step_index, action in enumerate(actions):
        expected = original.step(int(action))
        actual = loaded.step(int(action))
        observation, reward, terminated, truncated, info = expected
        np.testing.assert_array_equal(actual[0], observation, err_msg=f"step {step_index}")
        assert actual[1:] == (reward, terminated, truncated, info), f"step {step_index}"
        np.testing.assert_array_equal(
            loaded.frame(), original.frame(), err_msg=f"step {step_index}"
        )
        if terminated or truncated:
            resets += 1
            reset_expected, info_expected = original.reset()
            reset_actual, info_actual = loaded.reset()
            np.testing.assert_array_equal(reset_actual, reset_expected)
            assert info_actual == info_expected
    assert resets >= 2, "the sequence must cross episode boundaries to test the reset RNG"


def _legacy_game(kind: str) -> GameWrapper:
    """A game mid-episode, of each family."""
    from envs.connect_four.config import ConnectFourConfig
    from envs.connect_four.game import ConnectFourGame
    from envs.tetris.config import TetrisConfig
    from envs.tetris.game import TetrisGame

    game: GameWrapper = {
        "atari": lambda: AtariGame(AtariConfig()),
        "tetris": lambda: TetrisGame(TetrisConfig(backend="native")),
        "connect4": lambda: ConnectFourGame(ConnectFourConfig()),
    }[kind]()
    game.reset(seed=5)
    for _ in range(3):
        game.step(int(np.flatnonzero(game.action_mask())[0]))
    return game


@pytest.mark.parametrize(
    "kind, old_path",
    [
        ("atari", "envs.atari.AtariGame"),
        ("tetris", "envs.tetris.TetrisGame"),
        ("connect4", "envs.connect_four.ConnectFourGame"),
    ],
)
def test_game_artifacts_written_before_the_games_moved_still_load(
    kind: str,
    old_path: str,
    artifact_store: BaseArtifactStore,
    artifact_uri: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 moved each wrapper into its game's package: a payload and record naming the
    old path (as the code before wrote them) load as the class it is now, same state."""
    from materializers.safe_pickle import write_meta

    original = _legacy_game(kind)
    cls = type(original)
    old_module = old_path.rpartition(".")[0]
    monkeypatch.setattr(cls, "__module__", old_module)  # pickle writes the old path
    payload = pickle.dumps(original, protocol=5)
    monkeypatch.undo()
    assert old_module.encode() in payload and cls.__module__.encode() not in payload
    with artifact_store.open(os.path.join(artifact_uri, PAYLOAD_FILE), "wb") as file:
        file.write(payload)
    digest = hashlib.sha256(payload).hexdigest()
    write_meta(artifact_store, artifact_uri, digest, len(payload), {"class": old_path})

    loaded = GameWrapperMaterializer(uri=artifact_uri, artifact_store=artifact_store).load(
        GameWrapper
    )
    assert type(loaded) is cls
    np.testing.assert_array_equal(loaded.current_observation(), original.current_observation())
    assert loaded.episode_steps == original.episode_steps == 3
    assert loaded.frame_number == original.frame_number


def test_game_wrapper_frame_right_after_loading_is_the_saved_frame(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    """A GIF recorded from a loaded wrapper must start on the saved state's screen."""
    original = AtariGame(AtariConfig())
    original.reset(seed=7)
    for action in np.random.default_rng(0).integers(original.num_actions, size=40):
        original.step(int(action))

    loaded = _round_trip(
        GameWrapperMaterializer, original, artifact_uri, artifact_store, GameWrapper
    )

    np.testing.assert_array_equal(loaded.frame(), original.frame())


def test_game_wrapper_artifact_holds_state_not_emulator(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    """The payload is plain values: no ROM bytes, and metadata describes the game."""
    game = AtariGame(AtariConfig())
    game.reset(seed=0)
    materializer = GameWrapperMaterializer(uri=artifact_uri, artifact_store=artifact_store)
    materializer.save(game)

    files = _snapshot(artifact_uri)
    assert set(files) == {PAYLOAD_FILE, META_FILE}
    meta = json.loads(files[META_FILE])
    assert meta["class"] == "envs.atari.game.AtariGame"
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["sha256"] == hashlib.sha256(files[PAYLOAD_FILE]).hexdigest()
    assert meta["size"] == len(files[PAYLOAD_FILE])
    from ale_py import roms

    rom = Path(roms.get_rom_path("breakout")).read_bytes()
    assert rom[:4096] not in files[PAYLOAD_FILE], "the ROM must never be pickled"

    metadata = materializer.extract_metadata(game)
    assert metadata["num_actions"] == BREAKOUT_ACTIONS
    assert metadata["rom"] == "breakout"
    assert metadata["episode_steps"] == 0


# ---------------------------------------------------------------------------- agent
@pytest.fixture(scope="module")
def experience() -> ReplayBuffer:
    """Real Breakout transitions to sample learning batches from."""
    return _filled_buffer(capacity=400, steps=300)


def test_agent_round_trip_restores_weights_optimizer_counters_and_rng(
    artifact_store: BaseArtifactStore, artifact_uri: str, experience: ReplayBuffer
) -> None:
    original = DQNAgent(DQNConfig(hidden_units=16), OBSERVATION_SHAPE, BREAKOUT_ACTIONS, seed=3)
    initial_online = original.online.get_weights()
    for _ in range(2):
        original.learn(experience.sample(original.config.batch_size, original.rng))
        original.end_step()
    original.sync_target()
    original.learn(experience.sample(original.config.batch_size, original.rng))
    original.end_step()
    # The networks now differ from their initialisation and from each other, so equal
    # weights after loading cannot come from a fresh build or from copying one into the other.
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(initial_online, original.online.get_weights(), strict=True)
    )
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(original.online.get_weights(), original.target.get_weights(), strict=True)
    )

    loaded = _round_trip(AgentMaterializer, original, artifact_uri, artifact_store, DQNAgent)

    assert type(loaded) is DQNAgent and loaded is not original
    assert loaded.config == original.config
    assert loaded.observation_shape == original.observation_shape
    assert loaded.num_actions == original.num_actions
    _assert_weights_equal(loaded.online.get_weights(), original.online.get_weights())
    _assert_weights_equal(loaded.target.get_weights(), original.target.get_weights())
    _assert_weights_equal(loaded.acting_weights(), original.acting_weights())
    _assert_weights_equal(loaded.optimizer.get_state(), original.optimizer.get_state())
    assert int(loaded.optimizer.iterations.numpy()) == 3
    assert (loaded.steps, loaded.updates, loaded.target_syncs) == (3, 3, 1)
    assert (loaded.steps, loaded.updates, loaded.target_syncs) == (
        original.steps,
        original.updates,
        original.target_syncs,
    )
    assert loaded.rng.bit_generator.state == original.rng.bit_generator.state

    metadata = AgentMaterializer(uri=artifact_uri, artifact_store=artifact_store).extract_metadata(
        loaded
    )
    assert metadata["gradient_updates"] == 3
    assert metadata["target_syncs"] == 1
    assert metadata["parameters"] == original.online.count_params()

    # Both continue identically: exploration draws, replay sampling and one more update.
    observation = experience.stacked(np.array([experience.added - 1]))[0]
    assert [loaded.act(observation, 0.5) for _ in range(20)] == [
        original.act(observation, 0.5) for _ in range(20)
    ]
    batch = experience.sample(32, original.rng)
    _assert_batches_equal(experience.sample(32, loaded.rng), batch)
    before = original.online.get_weights()
    loss_original = original.learn(batch)
    loss_loaded = loaded.learn(batch)
    assert loss_loaded == loss_original
    assert any(
        not np.array_equal(a, b) for a, b in zip(before, original.online.get_weights(), strict=True)
    ), "the extra update must change the weights for the comparison to mean anything"
    _assert_weights_equal(loaded.online.get_weights(), original.online.get_weights())
    _assert_weights_equal(loaded.target.get_weights(), original.target.get_weights())
    _assert_weights_equal(loaded.acting_weights(), original.acting_weights())
    _assert_weights_equal(loaded.optimizer.get_state(), original.optimizer.get_state())


def test_agent_saved_during_an_overlapped_update_continues_identically(
    artifact_store: BaseArtifactStore, artifact_uri: str, experience: ReplayBuffer
) -> None:
    """Saving waits for the update in flight; the acting copy stays one update behind."""
    original = DQNAgent(DQNConfig(hidden_units=16), OBSERVATION_SHAPE, BREAKOUT_ACTIONS, seed=4)
    assert original.config.overlap_updates
    for _ in range(2):
        original.learn_async(experience.sample(32, original.rng))
        original.end_step()

    loaded = _round_trip(AgentMaterializer, original, artifact_uri, artifact_store, DQNAgent)

    assert loaded.updates == original.updates == 2
    assert int(loaded.optimizer.iterations.numpy()) == 2
    _assert_weights_equal(loaded.online.get_weights(), original.online.get_weights())
    _assert_weights_equal(loaded.acting_weights(), original.acting_weights())
    _assert_weights_equal(loaded.optimizer.get_state(), original.optimizer.get_state())
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(loaded.acting_weights(), loaded.online.get_weights(), strict=True)
    ), "the acting copy must still lag the last update, as in the original"

    observation = experience.stacked(np.array([experience.added - 1]))[0]
    for agent in (original, loaded):
        agent.learn_async(experience.sample(32, agent.rng))
        agent.end_step()
        agent.wait()
    np.testing.assert_array_equal(loaded.q_values(observation), original.q_values(observation))
    _assert_weights_equal(loaded.online.get_weights(), original.online.get_weights())
    _assert_weights_equal(loaded.acting_weights(), original.acting_weights())
    assert loaded.rng.bit_generator.state == original.rng.bit_generator.state


def test_saving_an_agent_does_not_change_it(
    artifact_store: BaseArtifactStore, artifact_uri: str, experience: ReplayBuffer
) -> None:
    """A checkpoint saved mid-interval must not drop points from the run's learning curve."""
    agent = DQNAgent(DQNConfig(hidden_units=16), OBSERVATION_SHAPE, BREAKOUT_ACTIONS, seed=5)
    for _ in range(2):
        agent.learn_async(experience.sample(32, agent.rng))

    AgentMaterializer(uri=artifact_uri, artifact_store=artifact_store).save(agent)

    agent.wait()
    assert len(agent.drain_metrics()) == 2


# ---------------------------------------------------------------------------- replay buffer
@pytest.mark.parametrize(
    ("capacity", "steps"),
    [(400, 150), (60, 170)],
    ids=["partially-filled", "wrapped-around"],
)
def test_replay_buffer_round_trip(
    artifact_store: BaseArtifactStore, artifact_uri: str, capacity: int, steps: int
) -> None:
    original = _filled_buffer(capacity=capacity, steps=steps)
    assert len(original) == min(capacity, steps) and original.added == steps

    loaded = _round_trip(
        ReplayBufferMaterializer, original, artifact_uri, artifact_store, ReplayBuffer
    )

    assert type(loaded) is ReplayBuffer and loaded is not original
    assert (loaded.capacity, loaded.added, len(loaded)) == (capacity, steps, len(original))
    assert (loaded.frame_shape, loaded.stack, loaded.n_step, loaded.gamma) == (
        original.frame_shape,
        original.stack,
        original.n_step,
        original.gamma,
    )
    assert loaded.nbytes == original.nbytes
    state_loaded, state_original = loaded.__getstate__(), original.__getstate__()
    for name, array in state_original.pop("arrays").items():
        np.testing.assert_array_equal(state_loaded["arrays"][name], array, err_msg=name)
    state_loaded.pop("arrays")
    assert state_loaded == state_original

    every_index = np.arange(original.oldest, original.added)
    np.testing.assert_array_equal(loaded.valid(every_index), original.valid(every_index))
    _assert_batches_equal(
        loaded.sample(32, np.random.default_rng(5)), original.sample(32, np.random.default_rng(5))
    )

    # Both keep filling the same way: new transitions land in the same slots.
    for buffer in (original, loaded):
        _play(AtariGame(AtariConfig(max_episode_frames=240)), buffer, 50, np.random.default_rng(2))
    _assert_batches_equal(
        loaded.sample(32, np.random.default_rng(6)), original.sample(32, np.random.default_rng(6))
    )

    meta = json.loads(_snapshot(artifact_uri)[META_FILE])
    if steps < capacity:
        assert meta["size"] < original.nbytes / 2, "only the filled slots may be stored"


# ---------------------------------------------------------------------------- keras model
def test_keras_model_round_trip(artifact_store: BaseArtifactStore, artifact_uri: str) -> None:
    keras.utils.set_random_seed(0)
    model = build_q_network(OBSERVATION_SHAPE, BREAKOUT_ACTIONS, dueling=True, hidden_units=16)

    loaded = _round_trip(KerasModelMaterializer, model, artifact_uri, artifact_store, keras.Model)

    assert isinstance(loaded, keras.Model) and loaded is not model
    assert set(_snapshot(artifact_uri)) == {MODEL_FILE, META_FILE}
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    _assert_weights_equal(loaded.get_weights(), model.get_weights())
    observations = np.random.default_rng(0).integers(
        0, 256, size=(8, *OBSERVATION_SHAPE), dtype=np.uint8
    )
    expected = model(observations, training=False).numpy()
    np.testing.assert_array_equal(loaded(observations, training=False).numpy(), expected)
    assert expected.shape == (8, BREAKOUT_ACTIONS)


def test_keras_model_with_altered_byte_is_refused(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    model = build_q_network(OBSERVATION_SHAPE, BREAKOUT_ACTIONS, hidden_units=16)
    KerasModelMaterializer(uri=artifact_uri, artifact_store=artifact_store).save(model)
    path = Path(artifact_uri, MODEL_FILE)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    before = _snapshot(artifact_uri)

    with pytest.raises(CorruptArtifactError, match="SHA-256"):
        KerasModelMaterializer(uri=artifact_uri, artifact_store=artifact_store).load(keras.Model)
    assert _snapshot(artifact_uri) == before


def test_keras_model_with_unknown_format_version_is_refused(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    model = build_q_network(OBSERVATION_SHAPE, BREAKOUT_ACTIONS, hidden_units=16)
    KerasModelMaterializer(uri=artifact_uri, artifact_store=artifact_store).save(model)
    meta_path = Path(artifact_uri, META_FILE)
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "format_version": FORMAT_VERSION + 1}))

    loader = KerasModelMaterializer(uri=artifact_uri, artifact_store=artifact_store)
    try:
        loader.load(keras.Model)
    except CorruptArtifactError as error:
        assert "format version" in str(error)
    else:
        raise AssertionError("a Keras artifact of an unknown format version was loaded")


# ---------------------------------------------------------------------------- hostile payloads
# The cases live in tests/hostile_payloads.py (one table, also run by a benchmark in child
# processes); here each is written into the real store and loaded by the real materializer.
IN_PROCESS = [case for case in HOSTILE_CASES if not case.in_subprocess]
IN_CHILD = [case for case in HOSTILE_CASES if case.in_subprocess]


def test_hostile_table_restates_the_store_layout() -> None:
    assert (hostile.PAYLOAD_FILE, hostile.META_FILE, hostile.MODEL_FILE) == (
        PAYLOAD_FILE,
        META_FILE,
        MODEL_FILE,
    )
    assert hostile.FORMAT_VERSION == FORMAT_VERSION


def _assert_refusal(case: HostileCase, uri: str, error: str, message: str) -> None:
    """The expected class and message, one line naming the artifact."""
    assert error == case.error.__name__, f"{case.name}: {error}: {message}"
    assert case.message in message, f"{case.name}: {message}"
    assert uri in message, "the error must name the artifact"
    assert "\n" not in message, "the error must be one line"


@pytest.mark.parametrize("case", IN_PROCESS, ids=lambda case: case.name)
def test_hostile_artifact_is_refused_cleanly_and_the_store_left_untouched(
    artifact_store: BaseArtifactStore, artifact_uri: str, case: HostileCase
) -> None:
    directory = Path(artifact_uri)
    case.write(directory)
    before = _snapshot(artifact_uri)

    with pytest.raises(Exception) as refused:
        load_artifact(case.loader, artifact_uri, artifact_store)

    _assert_refusal(case, artifact_uri, type(refused.value).__name__, str(refused.value))
    assert _snapshot(artifact_uri) == before
    assert not marker_for(directory).exists(), "the payload's command ran"


@pytest.fixture(scope="module")
def child_outcomes(artifact_store: BaseArtifactStore) -> dict[str, tuple[str, dict[str, Any]]]:
    """The cases that would kill or poison the test process if a fix regressed, each written
    into the store and all loaded in one child process: case name -> (uri, outcome)."""
    jobs = []
    for case in IN_CHILD:
        uri = os.path.join(artifact_store.path, "test_materializers", uuid.uuid4().hex)
        artifact_store.makedirs(uri)
        case.write(Path(uri))
        jobs.append((case.name, uri))
    outcomes = load_in_subprocess(jobs)
    return {name: (uri, outcome) for (name, uri), outcome in zip(jobs, outcomes, strict=True)}


@pytest.mark.parametrize("case", IN_CHILD, ids=lambda case: case.name)
def test_hostile_artifact_refused_in_a_child_process(
    child_outcomes: dict[str, tuple[str, dict[str, Any]]], case: HostileCase
) -> None:
    """A regression shows as a crashed child here, not as a dead pytest."""
    uri, outcome = child_outcomes[case.name]
    assert outcome["outcome"] == "refused", outcome
    _assert_refusal(case, uri, outcome["error"], outcome["message"])


@pytest.mark.parametrize(
    "case", [case for case in HOSTILE_CASES if case.live == "exec"], ids=lambda case: case.name
)
def test_refused_code_execution_payloads_are_live(tmp_path: Path, case: HostileCase) -> None:
    """The same bytes, unpickled without restriction, do run the command."""
    directory = tmp_path / "artifact"
    directory.mkdir()
    case.write(directory)

    result = pickle.loads((directory / PAYLOAD_FILE).read_bytes())  # deliberately unrestricted
    if isinstance(result, subprocess.Popen):
        result.wait()
    assert marker_for(directory).exists()


@pytest.mark.parametrize(
    "case", [case for case in HOSTILE_CASES if case.live == "crash"], ids=lambda case: case.name
)
def test_refused_crash_payloads_are_live(tmp_path: Path, case: HostileCase) -> None:
    """The same bytes, unpickled without restriction in a child, kill it with a signal."""
    directory = tmp_path / "artifact"
    directory.mkdir()
    case.write(directory)
    unrestricted = "import pickle, sys; pickle.loads(open(sys.argv[1], 'rb').read())"

    result = subprocess.run(
        [sys.executable, "-c", unrestricted, str(directory / PAYLOAD_FILE)],
        capture_output=True,
        timeout=120,
    )

    assert result.returncode < 0, "the unrestricted load should have crashed"


def test_no_dtype_of_this_process_was_changed() -> None:
    """After every in-process case: numpy's shared descriptors are as numpy made them."""
    for code, dtype in PLAIN_DTYPES.items():
        assert dtype is np.dtype(code)
        assert (dtype.flags, dtype.hasobject, dtype.isbuiltin) == (0, False, 1), code


@pytest.mark.parametrize(
    "value",
    [
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.asfortranarray(np.ones((2, 3), dtype=np.float32)),
        np.zeros((2, 3, 4), dtype=np.uint8).transpose(2, 0, 1),
        np.ones((3, 4))[:, ::2],
        np.zeros((0, 84, 84), dtype=np.uint8),
        [np.float32(1.5), np.int64(7), np.bool_(True), np.uint32(3)],
        {"set": {1, 2}, "frozen": frozenset({3}), "bytes": bytearray(b"ab"), "c": 1 + 2j},
    ],
    ids=["int64", "fortran", "axis-order", "strided", "empty", "scalars", "containers"],
)
def test_restricted_unpickler_loads_what_artifacts_hold(value: Any) -> None:
    """Plain arrays in every layout numpy pickles, scalars and containers come back equal."""
    for protocol in (3, 4, 5):
        loaded = RestrictedUnpickler(io.BytesIO(pickle.dumps(value, protocol=protocol))).load()
        if isinstance(value, np.ndarray):
            assert loaded.dtype == value.dtype
            np.testing.assert_array_equal(loaded, value)
        else:
            assert loaded == value and type(loaded) is type(value)


def test_network_shapes_of_a_huge_config_allocate_nothing() -> None:
    """The agent's state check sizes the network a config describes without building it, and
    leaves no deferred variable behind for a later Keras scope to initialise (100 GB here)."""
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    before = list(global_state.get_global_attribute("uninitialized_variables", None) or [])
    shapes, trainable = _network_shapes(
        DQNConfig(hidden_units=10**7), OBSERVATION_SHAPE, BREAKOUT_ACTIONS
    )
    assert (3136, 10**7) in shapes and trainable == shapes
    assert list(global_state.get_global_attribute("uninitialized_variables", None) or []) == before
    with StatelessScope():  # would initialise (and allocate) any leftover variable
        pass


def test_unknown_recorded_class_is_refused(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    hostile.write_payload(Path(artifact_uri), pickle.dumps([1, 2]), "os.system")
    before = _snapshot(artifact_uri)
    with pytest.raises(UnsafeArtifactError, match=r"records class 'os\.system'"):
        AgentMaterializer(uri=artifact_uri, artifact_store=artifact_store).load(DQNAgent)
    assert _snapshot(artifact_uri) == before


# ---------------------------------------------------------------------------- damaged artifacts
def _truncate(uri: Path) -> None:
    payload = (uri / PAYLOAD_FILE).read_bytes()
    (uri / PAYLOAD_FILE).write_bytes(payload[: len(payload) - 100])


def _alter_one_byte(uri: Path) -> None:
    payload = bytearray((uri / PAYLOAD_FILE).read_bytes())
    payload[len(payload) // 2] ^= 0x01
    (uri / PAYLOAD_FILE).write_bytes(bytes(payload))


def _remove_meta(uri: Path) -> None:
    (uri / META_FILE).unlink()


def _remove_payload(uri: Path) -> None:
    (uri / PAYLOAD_FILE).unlink()


def _bump_format_version(uri: Path) -> None:
    meta = json.loads((uri / META_FILE).read_text())
    (uri / META_FILE).write_text(json.dumps({**meta, "format_version": FORMAT_VERSION + 1}))


def _garble_meta(uri: Path) -> None:
    (uri / META_FILE).write_text('{"format_version": 1, "sha256": ')


DAMAGES = {
    "truncated": (_truncate, "truncated"),
    "altered-byte": (_alter_one_byte, "checksum"),
    "missing-meta": (_remove_meta, "no meta.json"),
    "missing-payload": (_remove_payload, "no payload.pkl"),
    "wrong-format-version": (_bump_format_version, f"format version {FORMAT_VERSION + 1}"),
    "garbled-meta": (_garble_meta, "not valid JSON"),
}


@pytest.mark.parametrize("case", list(DAMAGES))
def test_damaged_artifact_is_refused_and_left_untouched(
    artifact_store: BaseArtifactStore, artifact_uri: str, case: str
) -> None:
    damage, message = DAMAGES[case]
    buffer = _filled_buffer(capacity=100, steps=40)
    ReplayBufferMaterializer(uri=artifact_uri, artifact_store=artifact_store).save(buffer)
    intact = _snapshot(artifact_uri)
    damage(Path(artifact_uri))
    before = _snapshot(artifact_uri)
    assert before != intact

    with pytest.raises(CorruptArtifactError, match=message):
        ReplayBufferMaterializer(uri=artifact_uri, artifact_store=artifact_store).load(ReplayBuffer)
    assert _snapshot(artifact_uri) == before


def test_payload_of_another_artifact_class_is_refused(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    """A valid replay buffer artifact loaded where an agent is expected."""
    ReplayBufferMaterializer(uri=artifact_uri, artifact_store=artifact_store).save(
        _filled_buffer(capacity=100, steps=20)
    )
    with pytest.raises(CorruptArtifactError, match="holds ReplayBuffer, expected DQNAgent"):
        AgentMaterializer(uri=artifact_uri, artifact_store=artifact_store).load(DQNAgent)


# ---------------------------------------------------------------------------- saving
class _SubclassedBuffer(ReplayBuffer):
    """Not an allowlisted class, even though its parent is."""


@pytest.mark.parametrize(
    "data",
    [{"steps": 3}, np.zeros(3), _SubclassedBuffer(100, (84, 84), 4)],
    ids=["dict", "ndarray", "subclass-of-allowed"],
)
def test_saving_an_unsupported_type_raises_type_error(
    artifact_store: BaseArtifactStore, artifact_uri: str, data: Any
) -> None:
    with pytest.raises(TypeError, match=r"cannot save .* only .*allowlisted"):
        GameWrapperMaterializer(uri=artifact_uri, artifact_store=artifact_store).save(data)
    assert _snapshot(artifact_uri) == {}, "nothing may be written for a refused type"

"""The safe materializers against the real local artifact store of the isolated test config.

Every artifact here is written and read through ``zenml_client.active_stack.artifact_store``
(the store of the session's temporary ``ZENML_CONFIG_PATH``), with real game wrappers, agents,
replay buffers filled by real emulator steps, and real Keras models. Nothing is mocked.

The refusal tests write hostile or damaged artifacts with a *correct* ``meta.json`` where the
point is to get past the checksum, and prove that the same bytes are live: an unrestricted
``pickle.loads`` of them does run the command the restricted loader refused to run.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from zenml.artifact_stores import BaseArtifactStore
from zenml.client import Client
from zenml.materializers.materializer_registry import materializer_registry

from agents.dqn import DQNAgent
from agents.networks import build_q_network
from agents.replay import ReplayBatch, ReplayBuffer
from config import AtariConfig, DQNConfig
from envs.atari import AtariGame
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
from materializers.safe_pickle import FORMAT_VERSION, META_FILE, PAYLOAD_FILE

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


def _write_artifact(
    store: BaseArtifactStore, uri: str, payload: bytes, **meta_overrides: Any
) -> None:
    """Write ``payload`` with a meta.json that is correct for it (unless overridden)."""
    meta = {
        "format_version": FORMAT_VERSION,
        "class": AGENT_CLASS,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
        "pickle_protocol": 5,
        **meta_overrides,
    }
    with store.open(os.path.join(uri, PAYLOAD_FILE), "wb") as file:
        file.write(payload)
    with store.open(os.path.join(uri, META_FILE), "w") as file:
        json.dump(meta, file)


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
    assert meta["class"] == "envs.atari.AtariGame"
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
class _Reduces:
    """Pickles as ``callable(*args)``: what an attacker's payload looks like."""

    def __init__(self, call: Callable[..., Any], *args: Any):
        self.call, self.args = call, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.call, self.args


def _os_system_by_reduce(marker: Path) -> bytes:
    return pickle.dumps(_Reduces(os.system, f"touch {marker}"), protocol=5)


def _os_system_by_opcodes(marker: Path) -> bytes:
    # Hand-written protocol-0 opcodes naming ``os.system`` itself (GLOBAL 'os system').
    return f"cos\nsystem\n(Vtouch {marker}\ntR.".encode()


def _builtins_eval(marker: Path) -> bytes:
    return pickle.dumps(_Reduces(eval, f"__import__('os').system('touch {marker}')"), protocol=5)


def _subprocess_popen(marker: Path) -> bytes:
    return pickle.dumps(_Reduces(subprocess.Popen, ["touch", str(marker)]), protocol=5)


def _nested_in_agent_like_state(marker: Path) -> bytes:
    # The hostile call hides inside an innocent-looking dict of arrays.
    state = {
        "steps": 3,
        "online_weights": [np.zeros(3)],
        "hook": _Reduces(os.system, f"touch {marker}"),
    }
    return pickle.dumps(state, protocol=5)


def _object_array(marker: Path) -> bytes:
    # An object-dtype array unpickles its elements: here, a call to os.system.
    array = np.array([_Reduces(os.system, f"touch {marker}"), 1], dtype=object)
    return pickle.dumps(array, protocol=5)


HOSTILE_PAYLOADS = {
    # what pickle records for ``os.system``: the function's real module (posix on Linux)
    "os.system-by-reduce": (_os_system_by_reduce, f"{os.system.__module__}.system"),
    "os.system-by-opcodes": (_os_system_by_opcodes, "os.system"),
    "builtins.eval": (_builtins_eval, "builtins.eval"),
    "subprocess.Popen": (_subprocess_popen, "subprocess.Popen"),
    "nested-os.system": (_nested_in_agent_like_state, f"{os.system.__module__}.system"),
    "object-dtype-array": (_object_array, "holds objects"),
}


@pytest.mark.parametrize("case", list(HOSTILE_PAYLOADS))
def test_hostile_payload_with_valid_checksum_is_refused_and_never_run(
    artifact_store: BaseArtifactStore, artifact_uri: str, tmp_path: Path, case: str
) -> None:
    build, named_in_error = HOSTILE_PAYLOADS[case]
    marker = tmp_path / "pwned"
    payload = build(marker)
    _write_artifact(artifact_store, artifact_uri, payload)
    before = _snapshot(artifact_uri)

    with pytest.raises(UnsafeArtifactError) as refused:
        AgentMaterializer(uri=artifact_uri, artifact_store=artifact_store).load(DQNAgent)

    assert named_in_error in str(refused.value)
    assert not marker.exists(), "the payload's command ran"
    assert _snapshot(artifact_uri) == before

    # The bytes are live: an unrestricted unpickler runs the command the loader refused.
    result = pickle.loads(payload)  # deliberately unrestricted
    if isinstance(result, subprocess.Popen):
        result.wait()
    assert marker.exists()


def test_unknown_recorded_class_is_refused(
    artifact_store: BaseArtifactStore, artifact_uri: str
) -> None:
    _write_artifact(artifact_store, artifact_uri, pickle.dumps([1, 2]), **{"class": "os.system"})
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

"""Trained Q-networks outside the training stack: the model card, the exported files, and a
greedy policy that runs an ONNX file with ``onnxruntime`` alone.

Nothing here imports TensorFlow, Keras or ZenML, so ``app.py --model`` and ``play.py`` run
where only ``onnxruntime`` and numpy are installed. :mod:`agents.export` writes the files
(it needs Keras and ``tf2onnx``).

An exported ONNX file carries its :class:`ModelCard` as the model's ``zenrl.card`` metadata
property (JSON): the game, the env settings that produce its observations, the input spec and
the action meanings. The file alone is enough to rebuild the game and play it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CARD_KEY = "zenrl.card"
"""The ONNX metadata property (and the SavedModel's asset file stem) holding the card."""

CARD_FORMAT = 1
"""Version of the card's JSON layout."""

SAVED_MODEL_CARD = "zenrl_card.json"
"""The card's file inside an exported SavedModel directory."""

INPUT_NAME = "observation"
"""The exported networks' one input: a uint8 batch ``(N, *observation_shape)``."""


class ExportedModelError(ValueError):
    """An exported model file that cannot be used: what is wrong, naming the file."""


@dataclass(frozen=True)
class ModelCard:
    """What an exported Q-network expects and means.

    Attributes:
        game: The ``--game`` name it was trained on.
        env: The env settings (``RunConfig.env``, as JSON values) whose wrapper produces its
            observations: frame skip, stack, resize and the rest of the preprocessing.
        observation_shape: One observation, without the batch axis.
        num_actions: Q-values per observation, one per action.
        action_meanings: The name of each action, in output order.
        network: The architecture (:data:`agents.networks.NETWORKS`).
        trained_precision: The precision it was trained in (``float32`` or ``bfloat16``);
            exported graphs compute in float32 with the same weights.
        agent_step: The agent step its weights come from.
        preprocessing: How to produce observations, in words.
        observation_dtype: The input's dtype (uint8: the network scales it itself).
        format_version: :data:`CARD_FORMAT`.
    """

    game: str
    env: dict[str, Any]
    observation_shape: tuple[int, ...]
    num_actions: int
    action_meanings: tuple[str, ...]
    network: str
    trained_precision: str
    agent_step: int
    preprocessing: str
    observation_dtype: str = "uint8"
    format_version: int = CARD_FORMAT
    source: dict[str, Any] = field(default_factory=dict)
    """Where the weights came from (run name, model version), when known."""
    discount: float | None = None
    """The one-step discount its Q-values were learned with (``dqn.gamma``), which a search
    backing values up (``evaluate.lookahead``) needs; ``None`` on cards written before it."""

    def __post_init__(self) -> None:
        if len(self.action_meanings) != self.num_actions:
            raise ValueError(
                f"action_meanings has {len(self.action_meanings)} names for "
                f"num_actions={self.num_actions}"
            )

    def to_json(self) -> str:
        """The card as one JSON object."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str = "the model") -> ModelCard:
        """Parse :meth:`to_json`'s output.

        Raises:
            ExportedModelError: The text is not a card of a version this code reads.
        """
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportedModelError(f"{where}: its {CARD_KEY} is not JSON ({exc})") from None
        if not isinstance(values, dict) or values.get("format_version") != CARD_FORMAT:
            version = values.get("format_version") if isinstance(values, dict) else None
            raise ExportedModelError(
                f"{where}: model card format {version!r} is not {CARD_FORMAT}, the one this "
                "version reads; export the agent again"
            )
        try:
            values["observation_shape"] = tuple(int(d) for d in values["observation_shape"])
            values["action_meanings"] = tuple(str(a) for a in values["action_meanings"])
            return cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise ExportedModelError(f"{where}: its model card is incomplete ({exc})") from None

    def input_spec(self) -> str:
        """The input as one line, e.g. ``observation: uint8 (N, 4, 84, 84)``."""
        dims = ", ".join(str(d) for d in self.observation_shape)
        return f"{INPUT_NAME}: {self.observation_dtype} (N, {dims})"

    def markdown(self, title: str) -> str:
        """The card as a Markdown table (the artifacts' dashboard visualization)."""
        rows = [
            ("game", self.game),
            ("input", f"`{self.input_spec()}`"),
            ("output", f"`q_values: float32 (N, {self.num_actions})`"),
            ("actions", ", ".join(f"{i}: {a}" for i, a in enumerate(self.action_meanings))),
            ("network", f"{self.network} (trained in {self.trained_precision})"),
            ("weights from agent step", f"{self.agent_step:,}"),
            ("preprocessing", self.preprocessing),
            *((key, str(value)) for key, value in self.source.items()),
        ]
        table = "\n".join(f"| {key} | {value} |" for key, value in rows)
        return f"## {title}\n\n| | |\n| --- | --- |\n{table}\n"


@dataclass(frozen=True)
class OnnxModel:
    """An exported ONNX file (its bytes, with the card inside) and the card."""

    content: bytes
    card: ModelCard

    @property
    def sha256(self) -> str:
        """The file's SHA-256."""
        return hashlib.sha256(self.content).hexdigest()

    def save(self, path: str | Path) -> Path:
        """Write the ONNX file to ``path`` (parent directories are made)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.content)
        return path


@dataclass(frozen=True)
class SavedModel:
    """An exported TensorFlow SavedModel directory: its files by relative path, with the card
    as :data:`SAVED_MODEL_CARD` among them. Serve it with ``tf.saved_model.load(path).serve``."""

    files: Mapping[str, bytes]
    card: ModelCard

    def save(self, directory: str | Path) -> Path:
        """Write the directory (made if missing; existing files of the same names replaced)."""
        root = Path(directory)
        for name, content in self.files.items():
            target = root / name
            if root.resolve() not in target.resolve().parents:
                raise ExportedModelError(f"SavedModel file {name!r} lies outside {root}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        return root


class OnnxPolicy:
    """A greedy (or epsilon-greedy) policy running an exported Q-network with ``onnxruntime``.

    It has what the games' players ask of an agent (:meth:`q_values`, :meth:`act`,
    ``observation_shape``, ``num_actions``), with :class:`agents.dqn.DQNAgent`'s rules:
    illegal actions are never chosen when a mask is given, ties go to the lowest action.

    Args:
        source: An ONNX file's path or its bytes.

    Raises:
        ExportedModelError: The file is missing, not ONNX, or carries no model card.
    """

    def __init__(self, source: str | Path | bytes):
        import onnxruntime

        where = "the ONNX bytes" if isinstance(source, bytes) else str(source)
        if not isinstance(source, bytes):
            if not Path(source).is_file():
                raise ExportedModelError(f"{where}: no such file; pass an exported .onnx file")
            source = Path(source).read_bytes()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one observation at a time: threads only add latency
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                source, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportedModelError(f"{where} is not a loadable ONNX model: {first}") from None
        metadata = self._session.get_modelmeta().custom_metadata_map
        if CARD_KEY not in metadata:
            raise ExportedModelError(
                f"{where} carries no {CARD_KEY} metadata: it was not exported by this project "
                "(python export_model.py writes one)"
            )
        self.card = ModelCard.from_json(metadata[CARD_KEY], where)
        self._input = self._session.get_inputs()[0].name
        self.observation_shape = self.card.observation_shape
        self.num_actions = self.card.num_actions

    def q_values_batch(self, observations: np.ndarray) -> np.ndarray:
        """Q-values ``(N, actions)`` of a uint8 batch ``(N, *observation_shape)``."""
        observations = np.asarray(observations)
        if observations.shape[1:] != self.observation_shape:
            raise ValueError(
                f"observations of shape {observations.shape[1:]} do not fit the model's input "
                f"{self.card.input_spec()}"
            )
        feed = {self._input: observations.astype(np.uint8, copy=False)}
        return np.asarray(self._session.run(None, feed)[0], dtype=np.float32)

    def q_values(self, observation: np.ndarray) -> np.ndarray:
        """Q-values of one observation (no batch axis)."""
        return self.q_values_batch(np.asarray(observation)[None])[0]

    @property
    def discount(self) -> float:
        """The discount its Q-values were learned with (from the card).

        Raises:
            ExportedModelError: The card predates the field.
        """
        if self.card.discount is None:
            raise ExportedModelError(
                "the model's card does not say the discount its Q-values were learned with; "
                "export the agent again to search with it"
            )
        return self.card.discount

    def act(
        self,
        observation: np.ndarray,
        epsilon: float = 0.0,
        action_mask: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> int:
        """Epsilon-greedy action among the legal ones (all when ``action_mask`` is omitted)."""
        rng = np.random.default_rng() if rng is None else rng
        if rng.random() < epsilon:  # drawn at epsilon 0 too, as DQNAgent.act draws
            legal = (
                np.arange(self.num_actions) if action_mask is None else np.flatnonzero(action_mask)
            )
            return int(legal[rng.integers(len(legal))])
        q_values = self.q_values(observation)
        if action_mask is not None:
            q_values = np.where(action_mask, q_values, -np.inf)
        return int(np.argmax(q_values))

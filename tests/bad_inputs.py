"""Bad command lines and config files, as a table: each must be refused with exit code 2 and
one line naming the field, the value and what is allowed, before ZenML starts.

``tests/test_bad_inputs.py`` runs every case; a benchmark can import the same table and run
each case as ``python run_pipeline.py *argv`` in a subprocess, sorting the outcomes into
refused cleanly, crashed, hung and accepted:

    from bad_inputs import CASES, MissingRomError, create_run, materialize
    for case in CASES:
        if case.needs_existing_run:
            create_run()  # once, in the store the subprocess will use
        argv = materialize(case, tmp_dir)  # writes the files; MissingRomError: skip it

Importing this module imports nothing of the project and no ZenML; ``create_run`` imports
ZenML, and ``materialize`` the ROM check for a ``DMGTRIS`` case, when called.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from pathlib import Path

CONFIG = "{config}"
"""In a case's argv: the path of the file holding the case's ``config`` text."""

ROM = "{rom}"
"""In a case's argv: a Game Boy ROM whose title is the case's ``rom_title`` (see
:func:`materialize`)."""

EXISTING_RUN_NAME = "bad-inputs-existing-run"
"""The run name :func:`create_run` puts in the store for the ``needs_existing_run`` case."""

QUOTED_MAX_CHARS = 100
"""Longest quoted value an error line may hold."""


@dataclass(frozen=True)
class BadInput:
    """One bad command line.

    Attributes:
        id: A short name for the case.
        argv: ``run_pipeline.py`` arguments; :data:`CONFIG` and :data:`ROM` stand for files.
        expected: Substrings of the one error line (the field, the value, what is allowed).
        config: The config file's content (text or raw bytes), for :data:`CONFIG`.
        rom_title: Cartridge title of the ROM for :data:`ROM`: ``TETRIS`` is a header-only
            fake; ``DMGTRIS`` must be the supported Pandora's Blocks build, found by
            ``envs.tetris.pyboy.find_local_rom`` (``$ZENRL_TETRIS_ROM`` or ``roms/``).
        absent: Substrings the error line must not hold (a misleading field name).
        needs_existing_run: The store must hold a run named :data:`EXISTING_RUN_NAME`; the
            only case that reads the store (the error comes after every pure check).
        was: How the input failed before it was checked: ``traceback``, ``accepted`` (wrong
            run started) or ``refused`` (already one line).
    """

    id: str
    argv: tuple[str, ...]
    expected: tuple[str, ...]
    config: str | bytes | None = None
    rom_title: str | None = None
    absent: tuple[str, ...] = ()
    needs_existing_run: bool = False
    was: str = "refused"


def _nested_aliases(levels: int) -> str:
    """``seed:`` holding nine copies of the level below, each level an alias of the one
    before: ``9**levels`` strings in a few hundred bytes of YAML."""
    value = '&l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
    for level in range(1, levels):
        value = f"&l{level} [{value}, {', '.join([f'*l{level - 1}'] * 8)}]"
    return f"seed: {value}\n"


_SWEEP = (
    "name: bad\nparameters: {dqn.n_step: [1, 3]}\nn_trials: 2\n"
    "budget: {steps: 30000, min_steps: 10000}\n"
)
"""A valid sweep file, which the sweep cases break one way each."""


CASES: tuple[BadInput, ...] = (
    # ---- the issue: tracebacks
    BadInput(
        "seed-negative",
        ("--seed", "-1"),
        ("--seed=-1", "allowed: 0 to 4294967295"),
        was="traceback",
    ),
    BadInput(
        "seed-2**64",
        ("--seed", "18446744073709551616"),
        ("--seed=18446744073709551616", "out of range", "allowed: 0 to 4294967295"),
        was="traceback",
    ),
    BadInput(
        "config-random-bytes",
        ("--config", CONFIG),
        ("--config:", "is not UTF-8 text"),
        config=random.Random(12).randbytes(400),
        was="traceback",
    ),
    BadInput(
        "run-name-300-chars",
        ("--run-name", "r" * 300),
        ("--run-name='rrrr", "...", "allowed: 1-100 letters, digits"),
        was="traceback",
    ),
    BadInput(
        "run-name-unknown-placeholder",
        ("--run-name", "x_{nonexistent}"),
        ("--run-name='x_{nonexistent}' is invalid", "{date} and {time}"),
        was="traceback",
    ),
    BadInput(
        "network-placement-on-breakout",
        ("--game", "breakout", "--config", CONFIG),
        ("dqn.network='placement'", "breakout", "allowed: auto, nature_cnn, mlp"),
        config="dqn: {network: placement}\n",
        was="traceback",
    ),
    BadInput(
        "learning-rate-inf",
        ("--game", "breakout", "--config", CONFIG),
        ("dqn.learning_rate=inf", "finite number"),
        config="dqn: {learning_rate: .inf}\n",
        was="traceback",
    ),
    BadInput(
        "learning-rate-nan",
        ("--game", "breakout", "--config", CONFIG),
        ("dqn.learning_rate=nan", "finite number"),
        config="dqn: {learning_rate: .nan}\n",
        was="traceback",
    ),
    BadInput(
        "evaluate-seed-negative",
        ("--game", "breakout", "--config", CONFIG),
        ("evaluate.seed=-5", "greater than or equal to 0"),
        config="evaluate: {seed: -5}\n",
        was="traceback",
    ),
    BadInput(
        "tensorboard-dir-unwritable",
        ("--game", "breakout", "--config", CONFIG),
        ("train.tensorboard_dir='/proc/x' is not writable", "allowed: a directory"),
        config="train: {tensorboard_dir: /proc/x}\n",
        was="traceback",
    ),
    BadInput(
        "pandoras-blocks-start-level",
        ("--game", "tetris", "--rom", ROM, "--config", CONFIG),
        ("env.start_level=5", "Pandora's Blocks", "DMGTRIS", "allowed: 0"),
        config="env: {start_level: 5}\n",
        rom_title="DMGTRIS",
        was="traceback",
    ),
    BadInput(
        "game-boy-tetris-start-level",
        ("--game", "tetris", "--rom", ROM, "--config", CONFIG),
        ("env.start_level=12", "Game Boy Tetris", "allowed: 0-9"),
        config="env: {start_level: 12}\n",
        rom_title="TETRIS",
        was="traceback",
    ),
    BadInput(
        "run-name-exists",
        # sized so that, were the check gone, the run would be short and not hang a benchmark
        ("--run-name", EXISTING_RUN_NAME, "--steps", "2", "--config", CONFIG),
        (f"run_name='{EXISTING_RUN_NAME}' already exists", "{date}_{time}"),
        config="replay: {capacity: 100, warmup_steps: 20}\n"
        "evaluate: {episodes: 1, max_episode_frames: 100}\n"
        "train: {tensorboard_dir: null}\n",
        needs_existing_run=True,
        was="traceback",
    ),
    # ---- the issue: accepted, then wrong
    BadInput(
        "game-empty",
        ("--game", ""),
        ("--game: unknown game ''", "allowed: breakout"),
        was="accepted",
    ),
    BadInput(
        "steps-true",
        ("--game", "breakout", "--config", CONFIG),
        ("train.steps=True is invalid", "valid integer"),
        config="train: {steps: true}\n",
        was="accepted",
    ),
    BadInput(
        "run-name-path-traversal",
        ("--run-name", "../../x"),
        ("--run-name='../../x' is invalid", "allowed: 1-100 letters"),
        was="accepted",
    ),
    BadInput(
        "atari-rom-unknown",
        ("--game", "breakout", "--config", CONFIG),
        ("env.rom='no_such_rom' is not an ALE ROM id", "e.g. breakout"),
        config="env: {rom: no_such_rom}\n",
        was="accepted",
    ),
    BadInput(
        "env-kind-mismatch",
        ("--game", "breakout", "--config", CONFIG),
        ("env.kind='tetris' does not match --game 'breakout'", "allowed: 'atari'"),
        config="env: {kind: tetris}\n",
        absent=("frame_skip",),
        was="accepted",
    ),
    # ---- the issue: YAML that expands or prints without bound
    BadInput(
        "yaml-alias-bomb",
        ("--game", "breakout", "--config", CONFIG),
        ("expands to more than 10,000 values", "YAML aliases"),
        config=_nested_aliases(9),  # 451 bytes
        was="traceback",
    ),
    BadInput(
        "yaml-aliases-long-value",
        ("--game", "breakout", "--config", CONFIG),
        ("seed=[[", "...", "valid integer"),
        config=_nested_aliases(3),  # 729 strings: under the limit, too long to print
        was="refused",
    ),
    BadInput(
        "yaml-recursive-alias",
        ("--game", "breakout", "--config", CONFIG),
        ("expands to more than 10,000 values",),
        config="seed: &loop [*loop]\n",
    ),
    BadInput(
        "yaml-deep-nesting",
        ("--game", "breakout", "--config", CONFIG),
        ("is not valid YAML",),
        config="seed: " + "[" * 5_000 + "\n",
    ),
    BadInput(
        "config-too-large",
        ("--game", "breakout", "--config", CONFIG),
        ("is larger than 1,048,576 bytes",),
        config="# padding\n" * 110_000,
    ),
    BadInput(
        "long-string-value",
        ("--game", "breakout", "--config", CONFIG),
        ("dqn.loss='xxxx", "...", "'huber' or 'mse'"),
        config="dqn: {loss: " + "x" * 5_000 + "}\n",
    ),
    # ---- the same classes elsewhere
    BadInput(
        "seed-too-large-in-yaml",
        ("--game", "breakout", "--config", CONFIG),
        ("seed=4294967296", "less than or equal to 4294967295"),
        config="seed: 4294967296\n",
    ),
    BadInput(
        "bool-for-int-flag-field",
        ("--game", "breakout", "--config", CONFIG),
        ("dqn.double_dqn=1 is invalid", "valid boolean"),
        config="dqn: {double_dqn: 1}\n",
        was="accepted",
    ),
    BadInput(
        "string-for-float",
        ("--game", "breakout", "--config", CONFIG),
        ("evaluate.epsilon='0.1' is invalid", "valid number"),
        config="evaluate: {epsilon: '0.1'}\n",
        was="accepted",
    ),
    BadInput(
        "run-name-in-yaml",
        ("--game", "breakout", "--config", CONFIG),
        ("run_name='a/b' is invalid", "allowed: 1-100 letters"),
        config="run_name: a/b\n",
        was="accepted",
    ),
    BadInput(
        "resume-path",
        ("--resume", "../x"),
        ("--resume='../x' is invalid", "allowed: latest, or the name of a run"),
    ),
    BadInput(
        "tensorboard-dir-under-a-file",
        ("--game", "breakout", "--config", CONFIG),
        ("train.tensorboard_dir='/proc/version/x'", "is a file, not a directory"),
        config="train: {tensorboard_dir: /proc/version/x}\n",
        was="traceback",
    ),
    BadInput(
        "config-game-not-a-name",
        ("--config", CONFIG),
        ("game=[1] is not a game name",),
        config="game: [1]\n",
        was="traceback",
    ),
    BadInput(
        "game-5000-chars",
        ("--game", "g" * 5_000),
        ("--game: unknown game 'gggg", "...", "allowed: breakout"),
    ),
    BadInput(
        "config-path-too-long",
        ("--config", "c" * 5_000),
        ("--config: cannot read 'cccc", "...", "File name too long"),
        was="traceback",
    ),
    BadInput(
        "steps-not-a-number",
        ("--steps", "9" * 5_000),
        ("--steps='9999", "...", "is not an integer"),
    ),
    BadInput(
        "config-control-characters",
        ("--game", "breakout", "--config", CONFIG),
        ("is not valid YAML",),
        config="seed: 1\x00\x07\n",
    ),
    # ---- refused in one line before this issue (tests/test_config_cli.py had them)
    BadInput(
        "game-unknown", ("--game", "chess"), ("--game: unknown game 'chess'; allowed: breakout",)
    ),
    BadInput("game-not-ale", ("--game", "atari:NotAGame"), ("is not an ALE game",)),
    BadInput("steps-zero", ("--steps", "0"), ("--steps=0 must be a positive integer",)),
    BadInput("steps-negative", ("--steps", "-5"), ("--steps=-5 must be a positive integer",)),
    BadInput("steps-word", ("--steps", "many"), ("--steps='many' is not an integer",)),
    BadInput(
        "buffer-size-zero", ("--buffer-size", "0"), ("--buffer-size=0 must be a positive integer",)
    ),
    BadInput(
        "buffer-below-warmup",
        ("--buffer-size", "100"),
        ("replay.warmup_steps=1600 exceeds replay.capacity=100",),
    ),
    BadInput(
        "seed-among-evaluation-seeds",
        ("--seed", "10003"),
        (
            "seed=10003: training would reset from seed 10003, one of the evaluation's reset "
            "seeds (10000 to 10009",
        ),
        was="accepted",
    ),
    BadInput(
        "validation-seeds-among-evaluation-seeds",
        ("--config", CONFIG),
        (
            "train.eval_seed=10005: validation games reset from seeds 10005 to 10009, which "
            "overlap the evaluation's 10000 to 10009",
        ),
        config="train: {eval_seed: 10005}\n",
        was="accepted",
    ),
    BadInput(
        "seed-among-validation-seeds",
        ("--seed", "20002"),
        (
            "seed=20002: training would reset from seed 20002, one of the validation's reset "
            "seeds (20000 to 20004, train.eval_seed and train.eval_episodes)",
        ),
        was="accepted",
    ),
    BadInput(
        "seeds-repeated",
        ("--seeds", "1", "2", "1"),
        ("--seeds 1 2 1: seed 1 appears more than once; give each seed once",),
    ),
    BadInput(
        "seeds-with-seed",
        ("--seeds", "1", "2", "--seed", "3"),
        ("--seed does not go with --seeds",),
    ),
    BadInput(
        "seeds-among-evaluation-seeds",
        ("--seeds", "0", "10001"),
        ("--seeds: seed=10001: training would reset from seed 10001",),
    ),
    BadInput("config-missing", ("--config", "does/not/exist.yaml"), ("does not exist",)),
    BadInput("flag-unknown", ("--bogus",), ("unrecognized arguments: --bogus",)),
    BadInput(
        "warmup-above-capacity",
        ("--game", "breakout", "--config", CONFIG),
        ("warmup_steps=500 exceeds",),
        config="replay: {capacity: 100, warmup_steps: 500}\n",
    ),
    BadInput(
        "steps-zero-in-yaml",
        ("--game", "breakout", "--config", CONFIG),
        ("train.steps=0 is invalid",),
        config="train: {steps: 0}\n",
    ),
    BadInput(
        "key-misspelt",
        ("--game", "breakout", "--config", CONFIG),
        ("unknown config key 'dqn.learning_rat'",),
        config="dqn: {learning_rat: 0.1}\n",
    ),
    BadInput(
        "key-unknown",
        ("--game", "breakout", "--config", CONFIG),
        ("unknown config key 'colour'",),
        config="colour: blue\n",
    ),
    BadInput(
        "yaml-malformed",
        ("--game", "breakout", "--config", CONFIG),
        ("is not valid YAML",),
        config="dqn: [1, 2\n",
    ),
    BadInput(
        "yaml-not-a-mapping",
        ("--game", "breakout", "--config", CONFIG),
        ("must hold a mapping",),
        config="- just\n- a list\n",
    ),
    BadInput(
        "game-mismatch",
        ("--game", "breakout", "--config", CONFIG),
        ("does not match --game 'breakout'",),
        config="game: atari:Pong\n",
    ),
    BadInput(
        "loss-unknown",
        ("--game", "breakout", "--config", CONFIG),
        ("dqn.loss='cubic' is invalid",),
        config="dqn: {loss: cubic}\n",
    ),
    BadInput(
        "random-shift-on-a-board",
        ("--game", "connect4", "--config", CONFIG),
        (
            "dqn.random_shift_pixels=4 shifts image frames; env.kind='connect4' observes a "
            "board, not images (allowed: atari)",
        ),
        config="dqn: {random_shift_pixels: 4}\n",
    ),
    BadInput(
        "lookahead-odd-on-connect-four",
        ("--game", "connect4", "--config", CONFIG),
        (
            "evaluate.lookahead=3 is not a search connect4 plays (env.kind='connect4'); "
            "allowed: 0, 2, 4",
        ),
        config="evaluate: {lookahead: 3}\n",
    ),
    BadInput(
        "lookahead-on-breakout",
        ("--game", "breakout", "--config", CONFIG),
        ("evaluate.lookahead=2 is not a search breakout plays (env.kind='atari'); allowed: 0",),
        config="evaluate: {lookahead: 2}\n",
    ),
    BadInput(
        "lookahead-tetris-buttons",
        ("--game", "tetris", "--config", CONFIG),
        ("evaluate.lookahead=1 is not a search tetris plays (env.kind='tetris'); allowed: 0",),
        config="env: {action_mode: buttons}\nevaluate: {lookahead: 1}\n",
    ),
    BadInput(
        "lookahead-too-deep",
        ("--game", "connect4", "--config", CONFIG),
        ("evaluate.lookahead=6", "less than or equal to 4"),
        config="evaluate: {lookahead: 6}\n",
    ),
    # ---- sweep files (--sweep): the file, its parameters against the config, the flags
    BadInput(
        "sweep-unknown-key",
        ("--sweep", CONFIG),
        ("--sweep", "unknown sweep key 'trials'"),
        config=_SWEEP + "trials: 3\n",
    ),
    BadInput(
        "sweep-reduction-factor",
        ("--sweep", CONFIG),
        ("budget.reduction_factor=1 is invalid", "greater than or equal to 2"),
        config=_SWEEP.replace("min_steps: 10000", "min_steps: 10000, reduction_factor: 1"),
    ),
    BadInput(
        "sweep-grid-with-a-range",
        ("--sweep", CONFIG),
        ("parameters.dqn.learning_rate=", "sampler: grid needs a list of values"),
        config=_SWEEP.replace(
            "{dqn.n_step: [1, 3]}", "{dqn.learning_rate: {low: 1.0e-5, high: 1.0e-3}}"
        )
        + "sampler: grid\n",
    ),
    BadInput(
        "sweep-parameter-not-a-config-key",
        ("--game", "breakout", "--sweep", CONFIG),
        ("parameters.dqn.nstep is not a config key", "dqn.learning_rate"),
        config=_SWEEP.replace("dqn.n_step", "dqn.nstep"),
    ),
    BadInput(
        "sweep-value-refused-by-the-config",
        ("--game", "breakout", "--sweep", CONFIG),
        (
            "parameters.dqn.n_step: the value 0 is refused by the config",
            "greater than or equal to 1",
        ),
        config=_SWEEP.replace("[1, 3]", "[0, 3]"),
    ),
    BadInput(
        "sweep-rung-between-validations",
        ("--game", "breakout", "--sweep", CONFIG),
        ("budget rung 5000", "not a multiple of train.eval_every=10000"),
        config=_SWEEP.replace("min_steps: 10000", "min_steps: 5000"),
    ),
    BadInput(
        "sweep-with-steps",
        ("--game", "breakout", "--sweep", CONFIG, "--steps", "100"),
        ("--steps does not go with --sweep", "budget.steps"),
        config=_SWEEP,
    ),
    BadInput(
        "sweep-game-mismatch",
        ("--game", "breakout", "--sweep", CONFIG),
        ("game='connect4' does not match --game 'breakout'",),
        config=_SWEEP + "game: connect4\n",
    ),
)
"""Every case; ids are unique."""


def fake_rom(path: Path, title: str) -> Path:
    """A header-only Game Boy ROM image with ``title`` and a valid header checksum: enough
    for ``check_rom``, never for an emulator."""
    header_title_start, header_checksum, header_size = 0x134, 0x14D, 0x150
    data = bytearray(header_size)
    data[header_title_start : header_title_start + len(title)] = title.encode("ascii")
    checksum = 0
    for byte in data[header_title_start:header_checksum]:
        checksum = (checksum - byte - 1) & 0xFF
    data[header_checksum] = checksum
    path.write_bytes(bytes(data))
    return path


class MissingRomError(LookupError):
    """The case needs the Pandora's Blocks ROM, which is never shipped (skip the case)."""


def _rom(case: BadInput, directory: Path) -> Path:
    if case.rom_title == "TETRIS":
        return fake_rom(directory / f"{case.id}.gb", "TETRIS")
    from envs.tetris.pyboy import check_rom, find_local_rom

    rom = find_local_rom()
    if rom is None or check_rom(rom).title != case.rom_title:
        raise MissingRomError(
            f"{case.id} needs a {case.rom_title} ROM: set $ZENRL_TETRIS_ROM or put one in roms/"
        )
    return rom


def materialize(case: BadInput, directory: Path) -> list[str]:
    """Write the case's files into ``directory`` and return its argv with their paths.

    Raises:
        MissingRomError: The case needs a ROM this machine does not have.
    """
    argv = list(case.argv)
    if case.config is not None:
        config = directory / f"{case.id}.yaml"
        if isinstance(case.config, bytes):
            config.write_bytes(case.config)
        else:
            config.write_text(case.config, encoding="utf-8")
        argv = [str(config) if arg == CONFIG else arg for arg in argv]
    if case.rom_title is not None:
        rom = _rom(case, directory)
        argv = [str(rom) if arg == ROM else arg for arg in argv]
    return argv


def create_run(name: str = EXISTING_RUN_NAME) -> None:
    """Put a finished run named ``name`` in the active ZenML store (a one-step pipeline, a
    few seconds), unless one is there."""
    from zenml.client import Client

    if Client().list_pipeline_runs(name=name, size=1, hydrate=False).total:
        return
    # ZenML loads a step from its module, so the pipeline lives in a module of its own
    package = __name__.rpartition(".")[0]
    module = importlib.import_module(f"{package}.existing_run" if package else "existing_run")
    module.probe_pipeline.with_options(run_name=name)()

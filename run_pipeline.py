"""Train a DQN agent through the ZenML pipeline.

    python run_pipeline.py --game breakout
    python run_pipeline.py --game atari:Pong --steps 50000 --seed 1
    python run_pipeline.py --config configs/breakout_quick.yaml
    python run_pipeline.py --game tetris                      # native Game Boy rules engine
    python run_pipeline.py --game tetris --rom roms/tetris.gb # the real cartridge in PyBoy
    python run_pipeline.py --game connect4 --sweep configs/sweeps/connect4.yaml
    python run_pipeline.py --game breakout --stack zenrl-airflow --schedule "0 3 * * *"
    python run_pipeline.py --list-schedules
    python run_pipeline.py --delete-schedule dqn_breakout_schedule

Every value is validated before ZenML starts: a bad flag or config value exits with code 2
and one line naming the field, the value and what is allowed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from config import (
    SEED_MAX,
    ConfigError,
    RunConfig,
    check_run_name,
    check_run_reference,
    command_line,
    error_line,
    quote,
    resolve_config,
    resume_command,
)
from envs.registry import check_game_assets, find_game, game_choices, rom_file_games
from envs.spec import MAX_NUM_ENVS

if TYPE_CHECKING:
    from agents.interrupts import StopRequested
    from pipelines.guard import RunGuard
    from sweeps.spec import SweepSpec

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage dump) and exit with code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, error_line(f"error: {message}") + "\n")


def _int_flag(flag: str, low: int = 1, high: int | None = None):  # type: ignore[no-untyped-def]
    """An argparse type: a whole number from ``low`` to ``high`` (``_`` separators allowed)."""

    def parse(text: str) -> int:
        allowed = "a positive whole number" if high is None else f"{low} to {high}"
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{flag}={quote(text)} is not an integer; allowed: {allowed}"
            ) from None
        if high is None and value < low:
            raise argparse.ArgumentTypeError(f"{flag}={quote(value)} must be a positive integer")
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{flag}={quote(value)} is out of range; allowed: {allowed}"
            )
        return value

    parse.__name__ = flag
    return parse


def _checked(flag: str, check, *args: str):  # type: ignore[no-untyped-def]
    """An argparse type running one of config.py's checks, so a flag and its config key obey
    the same rule."""

    def parse(text: str) -> str:
        try:
            return str(check(text, flag, *args))
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = flag
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run_pipeline.py",
        description="Train a DQN agent on a game through the ZenML pipeline.",
    )
    parser.add_argument(
        "--game",
        default=None,
        help=f"{', '.join(game_choices())} (default breakout); atari:<Name> is any ALE game, "
        "e.g. atari:Pong",
    )
    parser.add_argument(
        "--rom",
        type=Path,
        default=None,
        help="; ".join(f"{name}: {text}" for name, text in rom_file_games().items()),
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="YAML config file over the game's defaults (e.g. configs/breakout_quick.yaml)",
    )
    parser.add_argument(
        "--steps", type=_int_flag("--steps"), help="agent steps to train (default 100,000)"
    )
    parser.add_argument(
        "--seed", type=_int_flag("--seed", 0, SEED_MAX), help=f"run seed, 0-{SEED_MAX} (default 0)"
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=_int_flag("--seeds", 0, SEED_MAX),
        metavar="SEED",
        help="train one run per seed, one after another (named <run-name>_seed<k>, tagged "
        "together), then report the mean over seeds and the IQM with 95%% intervals; run "
        "again with the same --run-name to finish the seeds not yet completed",
    )
    parser.add_argument(
        "--sweep",
        type=Path,
        metavar="FILE",
        help="run the hyperparameter sweep of a sweep file (configs/sweeps/*.yaml): Optuna "
        "trials, each a series of training runs tagged sweep-<name> that ASHA may stop early, "
        "then a results table and the best trial's agent through promotion; run it again to "
        "continue it",
    )
    parser.add_argument("--buffer-size", type=_int_flag("--buffer-size"), help="replay capacity")
    parser.add_argument(
        "--num-envs",
        type=_int_flag("--num-envs", 1, MAX_NUM_ENVS),
        help=f"games played side by side in training, 1-{MAX_NUM_ENVS} (default 1); --steps "
        "still counts one game's steps",
    )
    parser.add_argument(
        "--run-name",
        type=_checked("--run-name", check_run_name),
        help="ZenML run name (default: generated): letters, digits, _ . -, and ZenML's "
        "{date} and {time} placeholders; a name already in the store is refused",
    )
    parser.add_argument(
        "--resume",
        type=_checked("--resume", check_run_reference, "latest"),
        metavar="latest|RUN",
        help="continue the game's newest checkpoint (latest) or a named run's; --steps is "
        "then the total agent step to reach",
    )
    parser.add_argument(
        "--evaluate-only",
        nargs="?",
        const="production",
        type=_checked("--evaluate-only", check_run_reference, "production"),
        metavar="RUN",
        help="evaluate without training: the game's production agent, or the named run's",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=_int_flag("--checkpoint-every"),
        help="agent steps between checkpoints (default 25,000)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="re-run every step instead of reusing caches"
    )
    remote = parser.add_argument_group("stacks and schedules")
    remote.add_argument(
        "--stack",
        metavar="NAME",
        help="run on this ZenML stack (for this command only; default: the active stack)",
    )
    remote.add_argument(
        "--schedule",
        metavar="CRON",
        help="register a schedule instead of running once: each tick continues the previous "
        "tick's agent and trains train.steps_per_run (default --steps) further agent steps; "
        "needs a stack whose orchestrator runs schedules (e.g. zenrl-airflow)",
    )
    remote.add_argument(
        "--schedule-name",
        metavar="NAME",
        help="name of the schedule (default dqn_<game>_schedule); also the Airflow DAG id",
    )
    remote.add_argument(
        "--list-schedules", action="store_true", help="list the schedules and their last runs"
    )
    remote.add_argument(
        "--delete-schedule",
        metavar="NAME",
        help="delete a schedule: ZenML's record and the orchestrator's DAG",
    )
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.steps is not None:
        overrides.setdefault("train", {})["steps"] = args.steps
    if args.buffer_size is not None:
        overrides.setdefault("replay", {})["capacity"] = args.buffer_size
    if args.num_envs is not None:
        overrides.setdefault("env", {})["num_envs"] = args.num_envs
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.run_name is not None:
        overrides["run_name"] = args.run_name
    if args.no_cache:
        overrides["enable_cache"] = False
    if args.resume is not None:
        overrides["resume"] = args.resume
    if args.checkpoint_every is not None:
        overrides.setdefault("train", {})["checkpoint_every"] = args.checkpoint_every
    if args.rom is not None:
        overrides.setdefault("env", {})["rom"] = str(args.rom.resolve())
    return overrides


def _fail(message: str) -> NoReturn:
    print(error_line(f"error: {message}"), file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def parse_config(argv: list[str] | None = None) -> RunConfig:
    """Parse flags and resolve the run's config; exit 2 with one line on any user error."""
    return _resolve(build_parser().parse_args(argv))


def _refuse_beside(primary: str, conflicts: tuple[tuple[str, object, str], ...]) -> None:
    """Exit 2 at the first ``(flag, value, why)`` whose flag was given with ``primary``."""
    for flag, value, why in conflicts:
        if value is not None:
            _fail(f"{flag} does not go with {primary}: {why}")


def _check_schedule_flags(args: argparse.Namespace) -> None:
    """Flag combinations around --schedule, checked before ZenML starts."""
    from config import check_cron, check_schedule_name

    if args.schedule is None:
        if args.schedule_name is not None:
            _fail("--schedule-name names a schedule: pass --schedule 'CRON' with it")
        return
    _refuse_beside(
        "--schedule",
        (
            ("--resume", args.resume, "a schedule continues its own previous run"),
            ("--evaluate-only", args.evaluate_only, "a schedule trains"),
            ("--run-name", args.run_name, "each tick's run is named <schedule>_<date>_<time>"),
        ),
    )
    try:
        args.schedule = check_cron(args.schedule)
        if args.schedule_name is not None:
            check_schedule_name(args.schedule_name)
    except ConfigError as exc:
        _fail(str(exc))


def _check_seeds_flags(args: argparse.Namespace) -> None:
    """Flag combinations around --seeds, checked before ZenML starts."""
    if args.seeds is None:
        return
    _refuse_beside(
        "--seeds",
        (
            ("--seed", args.seed, "--seeds names every seed"),
            ("--resume", args.resume, "resume one seed's run by its name instead"),
            ("--schedule", args.schedule, "a schedule trains one run per tick"),
            ("--evaluate-only", args.evaluate_only, "--seeds trains"),
        ),
    )
    repeated = sorted({seed for seed in args.seeds if args.seeds.count(seed) > 1})
    if repeated:
        _fail(
            f"--seeds {' '.join(map(str, args.seeds))}: seed {repeated[0]} appears more than "
            "once; give each seed once"
        )
    if args.run_name is not None and "{" in args.run_name:
        _fail(
            f"--run-name {quote(args.run_name)}: with --seeds the name is the group's, which a "
            "second command finishes; use one without ZenML's {date}/{time} placeholders"
        )


def _check_sweep_flags(args: argparse.Namespace) -> None:
    """Flags around --sweep, and the sweep file itself, checked before ZenML starts; the
    file's game and base config become --game and --config."""
    args.sweep_spec = None
    if args.sweep is None:
        return
    _refuse_beside(
        "--sweep",
        (
            ("--config", args.config, "the sweep file names its base config (base:)"),
            ("--steps", args.steps, "the sweep file's budget.steps is the trials' train.steps"),
            ("--seed", args.seed, "the sweep file's seeds: names the trials' seeds"),
            ("--seeds", args.seeds, "the sweep file's seeds: names the trials' seeds"),
            ("--resume", args.resume, "run the same --sweep again to continue it"),
            ("--run-name", args.run_name, "the sweep names its runs <sweep>_t<trial>_..."),
            ("--evaluate-only", args.evaluate_only, "a sweep trains"),
            ("--schedule", args.schedule, "a sweep runs its trials now"),
        ),
    )
    from sweeps.spec import load_sweep

    try:
        spec = load_sweep(args.sweep)
    except ConfigError as exc:
        _fail(str(exc))
    if spec.game is not None and args.game is not None and spec.game != args.game:
        _fail(
            f"--sweep {quote(str(args.sweep))}: game={quote(spec.game)} does not match --game "
            f"{quote(args.game)}; drop one of them or make them agree"
        )
    args.game = args.game if args.game is not None else spec.game
    args.config = None if spec.base is None else Path(spec.base)
    args.sweep_spec = spec


def _resolve(args: argparse.Namespace) -> RunConfig:
    """The run's config from parsed flags; exit 2 with one line on any user error."""
    _check_schedule_flags(args)
    _check_seeds_flags(args)
    _check_sweep_flags(args)
    game = args.game  # "" is a wrong game, not the default one
    if game is None and args.config is not None:
        from config import load_yaml

        try:
            game = load_yaml(args.config).get("game")
        except ConfigError as exc:
            _fail(str(exc))
        if game is not None and not isinstance(game, str):
            _fail(
                f"{quote(str(args.config))}: game={quote(game)} is not a game name; allowed: "
                f"{', '.join(game_choices())}"
            )
    game = "breakout" if game is None else game
    try:
        found = find_game(game)
        if args.rom is not None and (found is None or not found.spec.rom_file):
            allowed = " or ".join(f"--game {name}" for name in rom_file_games())
            _fail(f"--rom: only {allowed} plays a ROM file, got --game {quote(game)}")
        config = check_game_assets(resolve_config(game, args.config, _overrides(args)))
    except ConfigError as exc:
        _fail(str(exc))
    except OSError as exc:  # a path the OS refuses outright (too long, a loop of links)
        _fail(f"{exc.strerror or exc}: {quote(exc.filename)}")
    if args.evaluate_only is not None:
        if args.resume is not None:
            _fail("--evaluate-only and --resume do not go together: evaluation does not train")
        return config
    if args.seeds is not None:
        _seed_configs(config, args.seeds, "check")  # every seed's config holds, before ZenML
    if args.sweep_spec is not None:
        from sweeps.spec import check_against_config

        try:  # every parameter and value the trials may take, and the rungs
            check_against_config(args.sweep_spec, config, f"--sweep {quote(str(args.sweep))}")
        except ConfigError as exc:
            _fail(str(exc))
    from agents.memory import InsufficientMemoryError, check_replay_memory
    from config import check_writable_directory
    from envs.registry import frame_shape

    try:
        if config.train.tensorboard_dir is not None:  # training writes there
            check_writable_directory("train.tensorboard_dir", config.train.tensorboard_dir)
        print(check_replay_memory(config.replay.capacity, frame_shape(config.env)))
    except (ConfigError, InsufficientMemoryError) as exc:
        _fail(str(exc))
    return config


def _check_run_name_is_new(config: RunConfig) -> None:
    """Refuse a run name the ZenML store already holds (the last pre-flight check, the only
    one that needs the store). A name with ZenML's ``{time}`` placeholder is unique."""
    name = config.run_name
    if name is None or "{time}" in name:
        return
    from zenml.client import Client
    from zenml.utils.string_utils import format_name_template

    concrete = format_name_template(name)  # {date} as ZenML will fill it in today
    if Client().list_pipeline_runs(name=concrete, size=1, hydrate=False).total:
        _fail(
            f"run_name={quote(concrete)} already exists in the ZenML store; pick another "
            f"--run-name, or add ZenML's placeholders to make it unique, e.g. "
            f"{quote(name + '_{date}_{time}')}"
        )


def _check_resume_point(config: RunConfig) -> None:
    """Find the resume point before the pipeline starts, so a bad --resume is one line."""
    from steps.checkpointing import ResumeError, resume_point_for

    try:
        point = resume_point_for(config)
    except ResumeError as exc:
        _fail(str(exc))
    print(
        f"resuming from {point.label}: agent step {point.agent_step:,}, "
        f"frame {point.frame_number:,}"
    )


def evaluate_only(config: RunConfig, source: str) -> int:
    """Evaluate the production agent (or a named run's) and print the table."""
    from steps.registry import AgentNotFoundError, find_trained_agent

    try:
        found = find_trained_agent(config.game, source)
    except AgentNotFoundError as exc:
        _fail(f"--evaluate-only: {exc}")
    from envs.evaluation import episodes_note

    print(f"evaluating {found.label} on {config.evaluate.episodes} episodes{episodes_note(config)}")
    from pipelines import evaluation_run

    _store_rom(config)
    run = evaluation_run(config)(config=config, source=source)
    return _report(run)


def _report(run: Any) -> int:
    """Print the finished run's evaluation table; non-zero when the run did not complete."""
    if run is None:
        return 0
    from zenml.client import Client

    run = Client().get_pipeline_run(run.id)
    if not run.status.is_finished:
        # an orchestrator that runs the pipeline elsewhere (Airflow) returns at submission
        print(
            f"run {run.name} submitted to stack {run.stack.name if run.stack else '?'} "
            f"(status {run.status.value}); follow it in the ZenML dashboard"
        )
        return 0
    if run.status.value != "completed":
        print(f"run {run.name} ended with status {run.status.value}", file=sys.stderr)
        return 1
    table = run.steps["evaluate"].outputs["evaluation_table"][0].load()
    print()
    print(table)
    promotion = run.steps.get("promote_model")
    if promotion is not None:
        decision = promotion.outputs["promotion"][0].load()
        if "model" in decision:
            outcome = "promoted to production" if decision["promoted"] else "not promoted"
            print(
                f"model {decision['model']} version {decision['version']}: {outcome} "
                f"({decision['reason']})"
            )
    print(f"run: {run.name}  (inspect it with `zenml login --local`)")
    return 0


def _schedule_admin(args: argparse.Namespace) -> int:
    """--list-schedules and --delete-schedule (with an optional --stack)."""
    from pipelines.schedules import ScheduleError, delete_schedule, format_schedules, list_schedules

    try:
        if args.stack is not None:
            use_stack_or_fail(args.stack)
        if args.delete_schedule is not None:
            for line in delete_schedule(args.delete_schedule):
                print(line)
        else:
            print(format_schedules(list_schedules()))
    except ScheduleError as exc:
        _fail(str(exc))
    return 0


def use_stack_or_fail(name: str) -> None:
    """--stack: this command runs on stack ``name`` (the user's active stack is unchanged)."""
    from pipelines.schedules import ScheduleError, use_stack

    try:
        use_stack(name)
    except ScheduleError as exc:
        _fail(str(exc))


def _store_rom(config: RunConfig) -> None:
    """Store the run's ROM as an artifact, so that workers without the file can play it."""
    digest = getattr(config.env, "rom_sha256", None)
    rom = getattr(config.env, "rom", None)
    if digest is None or rom is None:
        return
    from materializers.rom import store_rom

    print(f"ROM {rom} stored as artifact {store_rom(rom, digest)}")


def schedule_training(args: argparse.Namespace, config: RunConfig) -> int:
    """Register the schedule on the active stack; each tick is one continuing training run."""
    from zenml.config.schedule import Schedule

    from pipelines import training_run
    from pipelines.schedules import (
        ScheduleError,
        check_can_schedule,
        clear_leftover,
        default_schedule_name,
        discard_failed_submission,
    )

    name = args.schedule_name or default_schedule_name(config.game)
    try:
        stack = check_can_schedule()
        note = clear_leftover(name)
    except ScheduleError as exc:
        _fail(str(exc))
    if note:
        print(note)
    _store_rom(config)
    per_run = config.train.steps_per_run or config.train.steps
    try:
        training_run(config, Schedule(name=name, cron_expression=args.schedule))(config=config)
    except BaseException:
        discard_failed_submission(name)  # a retry must not find a half-registered schedule
        raise
    print(
        f"schedule {name!r} registered on stack {stack.name!r}: cron {args.schedule!r}; each "
        f"run continues the previous run's agent and trains {per_run:,} more agent steps, then "
        f"is evaluated and promoted if it beats production.\n"
        f"  list: python run_pipeline.py --list-schedules\n"
        f"  stop: python run_pipeline.py --delete-schedule {name}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from agents.interrupts import StopRequested
    from pipelines.guard import RunGuard

    # From here on SIGINT and SIGTERM are only recorded; the command stops where it can
    # (between steps, after a training step, between environment steps) and says how to go on.
    with RunGuard() as guard:
        try:
            return _main(argv, guard)
        except StopRequested as exc:
            return _report_stop(exc, argv, guard)


def _main(argv: list[str], guard: RunGuard) -> int:
    args = build_parser().parse_args(argv)
    if args.list_schedules or args.delete_schedule is not None:
        guard.start_zenml()
        return _schedule_admin(args)
    config = _resolve(args)
    # the store is created (once, under a lock) and crashed runs recovered before any use
    guard.start_zenml()
    if args.schedule is None and args.seeds is None and args.sweep is None:  # self-named
        _check_run_name_is_new(config)
    if args.stack is not None:
        use_stack_or_fail(args.stack)
    if args.schedule is not None:
        return schedule_training(args, config)
    if args.evaluate_only is not None:
        return evaluate_only(config, args.evaluate_only)
    if args.seeds is not None:
        return train_seeds(args.seeds, config, args.run_name, guard)
    if args.sweep_spec is not None:
        return run_sweep(args.sweep_spec, config, argv, guard)
    if config.train.steps <= config.replay.warmup_steps:
        print(
            f"warning: train.steps={config.train.steps} <= replay.warmup_steps="
            f"{config.replay.warmup_steps}: no gradient update will happen; lower the warm-up "
            "in a --config file or train longer",
            file=sys.stderr,
        )
    print(
        f"training {config.game}: {config.train.steps:,} agent steps, seed {config.seed}, "
        f"warm-up {config.replay.warmup_steps:,}, evaluation {config.evaluate.episodes} episodes"
    )
    if config.resume is not None:
        _check_resume_point(config)
    # TensorFlow loads only after the input is known to be good.
    from pipelines import training_run

    _store_rom(config)
    guard.check("before the run started")
    run = training_run(config)(config=config)
    return _report(run)


def _seed_configs(config: RunConfig, seeds: list[int], group: str) -> list[RunConfig]:
    """One config per seed, named ``<group>_seed<k>``; each is checked (seed disjointness)."""
    from pydantic import ValidationError

    configs = []
    for seed in seeds:
        values = {**config.model_dump(), "seed": seed, "run_name": f"{group}_seed{seed}"}
        try:
            configs.append(type(config).model_validate(values))
        except ValidationError as exc:
            _fail(f"--seeds: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
    return configs


def train_seeds(seeds: list[int], config: RunConfig, group: str | None, guard: RunGuard) -> int:
    """Train one run per seed, one after another, then report over the seeds.

    Runs are named ``<group>_seed<k>`` and tagged ``seeds-<group>``; a seed whose run already
    completed (an earlier command with the same ``--run-name``) is not trained again, and a
    run of that name in any other state is refused with the command that resumes it.
    """
    from datetime import datetime

    from zenml.client import Client

    from envs.registry import game_slug

    if group is None:
        group = f"{game_slug(config.game)}_seeds_{datetime.now():%Y_%m_%d-%H_%M_%S}"
    configs = _seed_configs(config, seeds, group)
    client = Client()
    todo = []
    for seed_config in configs:
        name = seed_config.run_name
        assert name is not None
        existing = client.list_pipeline_runs(name=name, size=1, hydrate=False).items
        if not existing:
            todo.append(seed_config)
        elif existing[0].status.value != "completed":
            _fail(
                f"run {name} (seed {seed_config.seed}) exists with status "
                f"{existing[0].status.value}; finish it with --resume {name} --seed "
                f"{seed_config.seed} (plus your other flags), then run --seeds again"
            )
        else:
            print(f"seed {seed_config.seed}: run {name} already completed; not trained again")
    from pipelines import seed_report_run, training_run

    tag = f"seeds-{group}"
    _store_rom(config)
    for index, seed_config in enumerate(todo, 1):
        print(
            f"training {config.game} seed {seed_config.seed} ({index}/{len(todo)}): "
            f"{config.train.steps:,} agent steps, run {seed_config.run_name}"
        )
        guard.check(f"before seed {seed_config.seed}'s run started")
        run = training_run(seed_config, tags=[tag])(config=seed_config)
        if run is not None and not client.get_pipeline_run(run.id).status.is_finished:
            print(f"run {run.name} submitted; the seed report waits for finished runs")
            return _report(run)
        if _report(run):
            return 1
    names = [str(seed_config.run_name) for seed_config in configs]
    guard.check("before the seed report")
    report = seed_report_run(f"{group}_report_{{date}}_{{time}}", [tag])(
        config=configs[0], run_names=names, seeds=seeds
    )
    if report is None:
        return 0
    table = client.get_pipeline_run(report.id).steps["seed_report"].outputs["seed_report"][0]
    print()
    print(table.load())
    print(f"runs tagged {tag} (inspect them with `zenml login --local`)")
    return 0


def run_sweep(spec: SweepSpec, base: RunConfig, argv: list[str], guard: RunGuard) -> int:
    """Run (or continue) a sweep; a signal stops it with the command that continues it."""
    from agents.interrupts import StopRequested
    from pipelines.sweep import run_sweep as run

    _store_rom(base)
    try:
        return run(spec, base, guard)
    except ConfigError as exc:  # the sweep's name holds another sweep
        _fail(str(exc))
    except StopRequested as exc:
        print(f"\nsweep {spec.name}: {exc}", file=sys.stderr)
        print(
            "finished trials are kept and the interrupted one resumes from its checkpoint; "
            f"continue the sweep with:\n  {command_line(argv)}",
            file=sys.stderr,
        )
        return exc.exit_code


def _report_stop(exc: StopRequested, argv: list[str], guard: RunGuard) -> int:
    """Say what a signal stopped and the command that goes on from there; 128 + its number.

    Training that stopped names its checkpoint and prints the command that resumes it; a run
    whose training had finished prints the command that evaluates its agent; a run stopped
    before training (or an evaluation) prints the command that starts it again.
    """
    from agents.interrupts import TrainingInterrupted

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    if isinstance(exc, TrainingInterrupted):
        say(f"\n{exc}")
        say(f"resume with:\n  {resume_command(argv, exc.run_name)}")
        return exc.exit_code
    again = command_line(argv, drop=("--run-name",))
    if guard.run_id is None:
        say(f"\n{exc.signal_name} received before the run started: nothing ran")
        say(f"start it again with:\n  {again}")
        return exc.exit_code
    from zenml.client import Client

    run = Client().get_pipeline_run(guard.run_id)
    train = run.steps.get("train")
    say(f"\nrun {run.name}: {exc}")
    if train is not None and train.status.value == "completed":
        evaluate = command_line(
            argv, drop=("--run-name", "--resume"), add=("--evaluate-only", run.name)
        )
        say(f"its training had finished; evaluate its trained agent with:\n  {evaluate}")
    else:
        say(f"start it again with:\n  {again}")
    return exc.exit_code


def _exit_at_once(exit_code: int) -> NoReturn:
    """Exit without the interpreter's teardown, after the ``atexit`` handlers (logs, ZenML)
    and a flush: tearing TensorFlow down takes seconds that a user who pressed Ctrl-C, or a
    supervisor that sent SIGTERM, should not wait for."""
    import atexit
    import os

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)


if __name__ == "__main__":
    exit_code = main()
    # the command is over: a signal during the interpreter's teardown must not turn it into a
    # crash (KeyboardInterrupt, or death by SIGTERM) after the run was reported
    import signal

    for handled in (signal.SIGINT, signal.SIGTERM):
        signal.signal(handled, signal.SIG_IGN)
    if exit_code > 128:  # stopped by a signal
        _exit_at_once(exit_code)
    sys.exit(exit_code)

"""Hostile inputs: run every hostile-payload, damaged-artifact and bad-input case and count
how each one ended.

    python benchmarks/hostile_inputs.py                 # every table (about 3 minutes)
    python benchmarks/hostile_inputs.py --tables cli    # one table: payloads, damaged, cli
    python benchmarks/hostile_inputs.py --verbose       # one line per case

The cases are the tables the tests run (``tests/hostile_payloads.py`` and
``tests/bad_inputs.py``); here each runs in a child process, so that a crash or a hang is
counted instead of killing the benchmark. Everything happens in a temporary ZenML config
(``ZENML_CONFIG_PATH``), never the user's own store.

Outcomes:

* ``refused``: refused cleanly. An artifact raised the expected error class with its
  message; a command line exited 2 with one line naming what the case expects.
* ``unclear``: refused, but not as the case expects (another error class, a message without
  the expected words, more than one line, another exit code).
* ``crashed``: the child died on a signal, or printed a traceback.
* ``hung``: the child did not finish within the time limit.
* ``accepted``: the bad input was taken as if it were good (the wrong thing happened).

The target is every case refused, none unclear, crashed, hung or accepted. Interrupt safety
(signals at random moments of a training run) is measured by the slow test
``tests/test_interrupts.py``; see its docstring.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
for path in (ROOT, TESTS):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

OUTCOMES = ("refused", "unclear", "crashed", "hung", "accepted")
TABLES = ("payloads", "damaged", "cli")
CLI_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 180.0
STARTED_MARKERS = ("Initiating a new run", "Training", "Using user")
"""Output that shows a command line got past its checks and started a run."""


def _isolate_zenml(home: Path) -> None:
    """A private ZenML config for this benchmark and its children (read at ZenML import)."""
    os.environ["ZENML_CONFIG_PATH"] = str(home)
    os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
    os.environ["ZENML_LOGGING_VERBOSITY"] = "WARN"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for variable in ("ZENML_STORE_URL", "ZENML_STORE_TYPE"):
        os.environ.pop(variable, None)


# ------------------------------------------------------------------ artifacts
def _artifact_table(case: Any) -> str:
    """``payloads`` for crafted pickles that try to run code, crash or allocate; ``damaged``
    for artifacts that are incomplete, altered or hold a state that does not fit."""
    from agents.validation import UnsafeArtifactError

    crafted = ("oversized-", "dtype-", "scalar-", "bytes-", "build-", "array-", "reconstruct-")
    if case.error is UnsafeArtifactError or case.name.startswith(crafted):
        return "payloads"
    return "damaged"


def _artifact_outcome(case: Any, seen: dict[str, Any]) -> tuple[str, str]:
    outcome = seen.get("outcome")
    if outcome in ("crashed", "hung"):
        detail = f"return code {seen.get('returncode')}" if outcome == "crashed" else ""
        return outcome, detail
    if outcome == "accepted":
        return "accepted", f"loaded as {seen.get('type')}"
    message = str(seen.get("message", ""))
    if seen.get("error") == case.error.__name__ and case.message in message and "\n" not in message:
        return "refused", message
    return "unclear", f"{seen.get('error')}: {message}"


def run_artifact_tables(tables: set[str]) -> list[tuple[str, str, str, str]]:
    """Write every case into the isolated local artifact store, then load them in children:
    one child for a run of cases, a new one after each crash or hang."""
    from hostile_payloads import HOSTILE_CASES, load_in_subprocess
    from zenml.client import Client

    store_path = Path(Client().active_stack.artifact_store.path)
    jobs: list[tuple[Any, str]] = []
    for case in HOSTILE_CASES:
        if _artifact_table(case) not in tables:
            continue
        uri = store_path / "hostile_inputs" / case.name
        uri.mkdir(parents=True, exist_ok=True)
        case.write(uri)
        jobs.append((case, str(uri)))
    rows: list[tuple[str, str, str, str]] = []
    pending = jobs
    while pending:
        seen = load_in_subprocess([(c.name, uri) for c, uri in pending], LOAD_TIMEOUT_S)
        for index, ((case, _), result) in enumerate(zip(pending, seen, strict=True)):
            outcome, detail = _artifact_outcome(case, result)
            rows.append((_artifact_table(case), case.name, outcome, detail))
            if result.get("outcome") in ("crashed", "hung"):
                pending = pending[index + 1 :]  # the rest were never tried: a new child
                break
        else:
            pending = []
    return rows


# ------------------------------------------------------------------ command lines
def _cli_outcome(case: Any, code: int | None, stdout: str, stderr: str) -> tuple[str, str]:
    output = stdout + stderr
    if code is None:
        if any(marker in output for marker in STARTED_MARKERS):
            return "accepted", "started a run (stopped at the time limit)"
        return "hung", f"no exit within {CLI_TIMEOUT_S:.0f} s"
    if code < 0 or "Traceback" in output:
        return "crashed", (stderr.strip().splitlines() or [f"signal {-code}"])[-1][:200]
    if code == 0:
        return "accepted", "exit code 0"
    lines = [line for line in stderr.splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if code == 2 and len(lines) == 1 and all(part in line for part in case.expected):
        return "refused", line
    return "unclear", f"exit {code}, {len(lines)} lines: {line[:200]}"


def run_cli_table(work: Path) -> list[tuple[str, str, str, str]]:
    """Each case as ``python run_pipeline.py *argv`` with the isolated store."""
    from bad_inputs import CASES, MissingRomError, create_run, materialize

    rows: list[tuple[str, str, str, str]] = []
    for case in CASES:
        if case.needs_existing_run:
            create_run()
        try:
            argv = materialize(case, work)
        except MissingRomError as missing:
            rows.append(("cli", case.id, "skipped", str(missing)))
            continue
        command = [sys.executable, str(ROOT / "run_pipeline.py"), *argv]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, cwd=ROOT
            )
            code: int | None = done.returncode
            stdout, stderr = done.stdout, done.stderr
        except subprocess.TimeoutExpired as expired:
            code = None
            stdout = _text(expired.stdout)
            stderr = _text(expired.stderr)
        outcome, detail = _cli_outcome(case, code, stdout, stderr)
        rows.append(("cli", case.id, outcome, detail))
    return rows


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


# ------------------------------------------------------------------ report
def report(rows: list[tuple[str, str, str, str]], verbose: bool) -> int:
    """Print the per-table counts (and each case with ``verbose``); 1 if any case failed."""
    if verbose:
        for table, name, outcome, detail in rows:
            print(f"{table:9} {outcome:9} {name:45} {detail[:110]}")
        print()
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for table, _, outcome, _ in rows:
        counts[table][outcome] += 1
    header = f"| table | attempts | {' | '.join(OUTCOMES)} | skipped |"
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    total: collections.Counter[str] = collections.Counter()
    for table in TABLES:
        if table not in counts:
            continue
        total.update(counts[table])
        print(_count_row(table, counts[table]))
    print(_count_row("all", total))
    failed = [row for row in rows if row[2] not in ("refused", "skipped")]
    for table, name, outcome, detail in failed:
        print(f"NOT REFUSED CLEANLY: {table} {name}: {outcome}: {detail[:300]}")
    return 1 if failed else 0


def _count_row(table: str, counts: collections.Counter[str]) -> str:
    attempts = sum(counts[outcome] for outcome in OUTCOMES)
    cells = " | ".join(str(counts[outcome]) for outcome in OUTCOMES)
    return f"| {table} | {attempts} | {cells} | {counts['skipped']} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tables",
        nargs="+",
        choices=TABLES,
        default=list(TABLES),
        help="which tables to run (default: all)",
    )
    parser.add_argument("--verbose", action="store_true", help="print one line per case")
    args = parser.parse_args()
    tables = set(args.tables)
    with tempfile.TemporaryDirectory(prefix="zenrl-hostile-") as scratch:
        work = Path(scratch)
        _isolate_zenml(work / "zenml")
        started = time.perf_counter()
        rows: list[tuple[str, str, str, str]] = []
        if tables & {"payloads", "damaged"}:
            rows += run_artifact_tables(tables)
        if "cli" in tables:
            (work / "cli").mkdir()
            rows += run_cli_table(work / "cli")
        status = report(rows, args.verbose)
        print(f"\n{len(rows)} cases in {time.perf_counter() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())

"""How long the `jamaah` command takes to start: whole processes, as a person runs them.

Each command runs as its own process from a virtual environment's `bin/` (wall-clock time
from spawn to exit, and the child's user+sys CPU and peak RSS from `os.wait4`):

- `help`: `jamaah --help`;
- `cohort_list`: `jamaah cohort list --db URL` on a SQLite database prepared once
  beforehand (`jamaah db upgrade`, then `jamaah cohort create` of COHORTS cohorts);
- `chat_line`: `jamaah chat --script FILE --db URL`, FILE holding the one line
  `siti: /bantuan` (a new console user asks for help), each run on a fresh copy of that
  prepared database (the copy is not timed), so every run does the same work;
- `import_cli`: `python -c "import bot.cli"`, what importing the CLI module costs;
- `python_bare`: `python -c pass`, the interpreter's own start-up (with the venv's
  site-packages): the floor under every figure above.

Besides, `python -X importtime -c "import bot.cli"` runs RUNS times: its total (the
cumulative microseconds of the top-level imports) and, from the run with the median
total, the self time summed per top-level package (`matplotlib`, `numpy`, ...).

One untimed warm-up run of each command first (it writes the bytecode caches and warms
the page cache); then RUNS rounds, each running every command once in turn, so that a
change in the machine's load falls on all of them alike. Each figure is the median of
the RUNS runs, with the min and max beside it. The load average (`os.getloadavg()`) is
recorded at the start, after each round, and at the end: the machine may be shared.

To measure another checkout, point `--venv` at its virtual environment (an editable
install, so its `bin/jamaah` runs that checkout's code). The children run with that
checkout as their working directory (the folder holding the venv, or `--checkout`),
without `PYTHONPATH` or any `JAMAAH_*` variable of ours, and with `JAMAAH_DATA_DIR` in a
temporary folder. The script checks that the child's `bot.cli` is that checkout's file
and records the checkout's git commit.

    .venv/bin/python bench/startup.py [--runs 7] [--venv PATH] [--checkout PATH]
    .venv/bin/python bench/startup.py --venv /work/before/.venv   # another checkout

Targets (wall-clock medians): `jamaah --help` under 0.3 s, `jamaah cohort list` under
1 s, one `jamaah chat --script` line under 1.5 s. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COHORTS = 5
SCRIPT_LINE = "siti: /bantuan\n"
TARGETS_S = {"help": 0.3, "cohort_list": 1.0, "chat_line": 1.5}
IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Command:
    """One command line to time, with a check of what it printed."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        expect: str | None = None,
        before: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.expect = expect
        self.before = before  # untimed preparation before each run (a fresh database)
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.rss_mb: list[float] = []


def run_once(cmd: Command, cwd: Path, env: dict[str, str], out_dir: Path) -> dict[str, float]:
    """Run the command once; wall-clock from spawn to reaping, the child's own rusage."""
    if cmd.before:
        cmd.before()
    out_path, err_path = out_dir / f"{cmd.name}.out", out_dir / f"{cmd.name}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd.argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    output = out_path.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0 or (cmd.expect is not None and cmd.expect not in output):
        errors = err_path.read_text(encoding="utf-8", errors="replace")
        raise SystemExit(
            f"{cmd.name}: exit {proc.returncode}, expected {cmd.expect!r} in the output\n"
            f"$ {' '.join(cmd.argv)}\n{output[-2000:]}\n{errors[-2000:]}"
        )
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
    }


def summary(values: list[float], digits: int = 3) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def check(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run an untimed command that must succeed; its standard output."""
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"$ {' '.join(argv)}\nexit {done.returncode}\n{done.stdout}{done.stderr}")
    return done.stdout


def git_commit(checkout: Path) -> dict[str, Any]:
    try:
        head = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": head, "dirty": bool(dirty)}


def importtime(text: str) -> tuple[int, dict[str, int]]:
    """`-X importtime` output: the total (top-level cumulative µs) and self µs per package."""
    total = 0
    per_package: dict[str, int] = defaultdict(int)
    for line in text.splitlines():
        match = IMPORTTIME.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, module = match.groups()
        per_package[module.split(".")[0]] += int(self_us)
        if len(indent) == 1:  # a top-level import: its cumulative time holds its children
            total += int(cumulative_us)
    return total, dict(per_package)


def machine() -> dict[str, Any]:
    model = None
    memory_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gib": memory_gib}


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command")
    parser.add_argument(
        "--venv",
        type=Path,
        default=ROOT / ".venv",
        help="the virtual environment whose bin/jamaah and bin/python run "
        "(default: the .venv of this checkout)",
    )
    parser.add_argument(
        "--checkout",
        type=Path,
        help="the checkout whose code that venv runs (default: the folder holding the venv)",
    )
    args = parser.parse_args()
    venv = args.venv.absolute()
    checkout = (args.checkout or venv.parent).resolve()
    jamaah, python = venv / "bin" / "jamaah", venv / "bin" / "python"
    for path in (jamaah, python):
        if not path.exists():
            raise SystemExit(f"no {path}: make the venv first (make .venv/.installed)")

    load_start = load()
    started = dt.datetime.now(dt.UTC)
    log(f"load average at start: {load_start}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMAAH_") and k != "PYTHONPATH"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the bytecode caches are part of a normal start

    with tempfile.TemporaryDirectory(prefix="jamaah-startup-") as tmp_name:
        tmp = Path(tmp_name)
        env["JAMAAH_DATA_DIR"] = str(tmp / "data")
        out_dir = tmp / "out"
        out_dir.mkdir()

        where = check(
            [str(python), "-c", "import bot.cli, sys; print(bot.cli.__file__); print(sys.version)"],
            checkout,
            env,
        ).splitlines()
        cli_file = Path(where[0]).resolve()
        if not cli_file.is_relative_to(checkout):
            raise SystemExit(f"the child imports {cli_file}, not {checkout}'s code")
        log(f"measuring {checkout} ({cli_file}) with {venv}")

        # The database, prepared once: the schema and COHORTS cohorts.
        template = tmp / "template.db"
        url = f"sqlite+aiosqlite:///{template}"
        check([str(jamaah), "db", "upgrade", "--db", url], checkout, env)
        for i in range(1, COHORTS + 1):
            check(
                [
                    str(jamaah),
                    "cohort",
                    "create",
                    "--db",
                    url,
                    "--code",
                    f"BENCH-{i:02d}",
                    "--name",
                    f"Jamaah Bench {i}",
                    "--region",
                    f"jawa-tengah/salatiga/desa-{i}",
                    "--start",
                    "2027-01-04",
                ],
                checkout,
                env,
            )
        chat_db = tmp / "chat.db"
        script = tmp / "script.txt"
        script.write_text(SCRIPT_LINE, encoding="utf-8")

        def fresh_chat_db() -> None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{chat_db}{suffix}").unlink(missing_ok=True)
                source = Path(f"{template}{suffix}")
                if source.exists():
                    shutil.copyfile(source, f"{chat_db}{suffix}")

        commands = [
            Command("help", [str(jamaah), "--help"], expect="usage: jamaah"),
            Command(
                "cohort_list",
                [str(jamaah), "cohort", "list", "--db", url],
                expect=f"BENCH-{COHORTS:02d}",
            ),
            Command(
                "chat_line",
                [
                    str(jamaah),
                    "chat",
                    "--script",
                    str(script),
                    "--db",
                    f"sqlite+aiosqlite:///{chat_db}",
                ],
                expect="→ siti:",
                before=fresh_chat_db,
            ),
            Command("import_cli", [str(python), "-c", "import bot.cli"]),
            Command("python_bare", [str(python), "-c", "pass"]),
        ]

        log("warm-up: one untimed run of each")
        for cmd in commands:
            run_once(cmd, checkout, env, out_dir)
        load_rounds = []
        for round_ in range(1, args.runs + 1):
            for cmd in commands:
                figures = run_once(cmd, checkout, env, out_dir)
                cmd.wall.append(figures["wall_s"])
                cmd.cpu.append(figures["cpu_s"])
                cmd.rss_mb.append(figures["rss_mb"])
            load_rounds.append(load()[0])
            log(
                f"round {round_}/{args.runs}: "
                + ", ".join(f"{c.name} {c.wall[-1]:.3f} s" for c in commands)
                + f" (load {load_rounds[-1]})"
            )

        log("python -X importtime -c 'import bot.cli'")
        totals: list[tuple[int, dict[str, int]]] = []
        for _ in range(args.runs):
            done = subprocess.run(
                [str(python), "-X", "importtime", "-c", "import bot.cli"],
                cwd=checkout,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=True,
            )
            totals.append(importtime(done.stderr))
        totals.sort(key=lambda item: item[0])
        median_total, median_packages = totals[len(totals) // 2]
        top_packages = sorted(median_packages.items(), key=lambda kv: -kv[1])[:15]

    load_end = load()
    log(f"load average at end: {load_end}")
    results: dict[str, Any] = {}
    for cmd in commands:
        results[cmd.name] = {
            "wall_s": summary(cmd.wall),
            "cpu_s": summary(cmd.cpu),
            "rss_mb": round(statistics.median(cmd.rss_mb), 1),
        }
        target = TARGETS_S.get(cmd.name)
        if target is not None:
            median = results[cmd.name]["wall_s"]["median"]
            results[cmd.name]["target_s"] = target
            results[cmd.name]["target_met"] = median < target
            log(
                f"{cmd.name}: median {median:.3f} s (target < {target} s: "
                f"{'met' if median < target else 'MISSED'})"
            )
    print(
        json.dumps(
            {
                "checkout": str(checkout),
                **git_commit(checkout),
                "venv": str(venv),
                "python": where[1].split()[0],
                "runs": args.runs,
                "help_s": results["help"]["wall_s"]["median"],
                "cohort_list_s": results["cohort_list"]["wall_s"]["median"],
                "chat_line_s": results["chat_line"]["wall_s"]["median"],
                "import_cli_s": results["import_cli"]["wall_s"]["median"],
                "python_bare_s": results["python_bare"]["wall_s"]["median"],
                "importtime_total_ms": round(median_total / 1000, 1),
                "importtime_totals_ms": [round(t / 1000, 1) for t, _ in totals],
                "importtime_self_ms_by_package": {k: round(v / 1000, 1) for k, v in top_packages},
                "targets_s": TARGETS_S,
                "commands": results,
                "load_start": load_start,
                "load_rounds_1min": load_rounds,
                "load_end": load_end,
                "started_utc": started.isoformat(timespec="seconds"),
                "machine": {**machine(), "platform": platform.platform()},
            }
        )
    )


if __name__ == "__main__":
    main()

"""Measure what a site costs on a worker: every process of its run, at the API's 120 requests a minute.

Starts one sandbox API per site of the sites file (`--scale` of the full data set, 120 requests
a minute), runs `dagster job execute -j all_sites` on a Dagster instance of its own, and samples
/proc meanwhile. Each site's processes are its Dagster step process and everything under it
(the Pipes wrapper, Meltano, the tap, the target); the rest (the run's own process, Meltano's
system database step) is the run's overhead. Prints, per site: records, requests, page fill,
seconds, records a minute, CPU seconds, peak memory (RSS and PSS summed over its processes).

Usage: python -m scripts.sites_measure --sqlalchemy-url URL [--scale 1.0] [--work-dir DIR]
A measurement, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sandbox.server import Sandbox
from sandbox.state import DEFAULT_KEY

ROOT = Path(__file__).resolve().parent.parent
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: str) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, RSS bytes) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK, int(fields[21]) * _PAGE


def _pss(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cmdline(pid: str) -> list[str]:
    try:
        return [part.decode(errors="replace") for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]
    except OSError:
        return []


class Sampler:
    """Every process under `root`, sampled until stopped: CPU per process, memory per moment, who started whom."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.parent: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.argv: dict[int, list[str]] = {}
        self.moments: list[dict[int, tuple[int, int]]] = []  # pid -> (rss, pss)
        self.stop = threading.Event()

    def run(self) -> None:
        """Sample four times a second (PSS, dearer to read, once a second) until `stop` is set."""
        count = 0
        while not self.stop.is_set():
            count += 1
            stats = {int(entry.name): s for entry in Path("/proc").iterdir() if entry.name.isdigit() and (s := _stat(entry.name))}
            tree = {self.root}
            grew = True
            while grew:
                grew = False
                for pid, (ppid, _, _) in stats.items():
                    if ppid in tree and pid not in tree:
                        tree.add(pid)
                        grew = True
            moment = {}
            for pid in tree & set(stats):
                ppid, cpu, rss = stats[pid]
                self.parent[pid] = ppid
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)
                if pid not in self.argv or not self.argv[pid]:
                    self.argv[pid] = _cmdline(str(pid))
                moment[pid] = (rss, _pss(str(pid)) if count % 4 == 0 else 0)
            self.moments.append(moment)
            time.sleep(0.25)

    def site_of(self) -> dict[int, str]:
        """Each process's site: the step process above the Pipes wrapper, and everything under that step."""
        steps: dict[int, str] = {}
        for pid, argv in self.argv.items():
            if "sites.run_site" in argv and pid in self.parent:
                steps[self.parent[pid]] = ""
        for pid, argv in self.argv.items():
            is_meltano = any(word.endswith("meltano") for word in argv[:2])
            if is_meltano and "run" in argv and any(word.startswith("tap-lms-") for word in argv):
                site = next(word for word in argv if word.startswith("tap-lms-"))
                step = self._step_above(pid, steps)
                if step is not None:
                    steps[step] = site
        return {pid: steps[step] for pid in self.argv if (step := self._step_above(pid, steps)) is not None}

    def _step_above(self, pid: int, steps: dict[int, str]) -> int | None:
        seen = 0
        while pid in self.parent and seen < 50:
            if pid in steps:
                return pid
            pid, seen = self.parent[pid], seen + 1
        return pid if pid in steps else None


def main(argv: list[str] | None = None) -> int:
    """Run every site once at 120 requests a minute and print what each cost."""
    parser = argparse.ArgumentParser(prog="python -m scripts.sites_measure", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlalchemy-url", required=True, help="an empty PostgreSQL database to load into")
    parser.add_argument("--scale", type=float, default=1.0, help="each site's data (1 = 13,489 records)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".sites" / "measure")
    args = parser.parse_args(argv)
    os.umask(0o077)

    import dagster as dg  # noqa: PLC0415 - slow to import: after the usage is checked

    from sites.definitions import sites  # noqa: PLC0415

    work = args.work_dir.resolve()
    home = work / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    count = len(sites())
    (home / "dagster.yaml").write_text(f"concurrency:\n  pools:\n    default_limit: {count}\ntelemetry:\n  enabled: false\n")
    config = work / "run_config.yaml"
    config.write_text(f"execution:\n  config:\n    multiprocess:\n      max_concurrent: {count + 1}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_LMS_", "MELTANO_", "TARGET_"))}
    env.update({"DAGSTER_HOME": str(home), "MELTANO_DATABASE_URI": args.sqlalchemy_url,
                "TARGET_POSTGRES_SQLALCHEMY_URL": args.sqlalchemy_url, "PYTHONPATH": str(ROOT)})
    sandboxes = []
    for site in sites():
        sandbox = Sandbox(scale=args.scale, rate_limit=120).start()
        sandboxes.append(sandbox)
        env[f"{site.env_prefix}_BASE_URL"] = sandbox.url
        env[f"{site.env_prefix}_API_KEY"] = DEFAULT_KEY
    with dg.DagsterInstance.from_config(str(home)):
        pass
    started = time.monotonic()
    with (work / "all_sites.log").open("w") as out:
        job = subprocess.Popen([str(Path(sys.executable).with_name("dagster")), "job", "execute", "-f", "sites/definitions.py",
                                "-j", "all_sites", "-c", str(config)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = Sampler(job.pid)
        thread = threading.Thread(target=sampler.run)
        thread.start()
        job.wait()
        sampler.stop.set()
        thread.join()
    wall = time.monotonic() - started
    for sandbox in sandboxes:
        sandbox.stop()
    _print(sampler, home, wall, dg)
    return job.returncode


def _print(sampler: Sampler, home: Path, wall: float, dg: object) -> None:
    owner = sampler.site_of()
    names = sorted(set(owner.values()))
    print(f"{'site':<15} {'records':>8} {'requests':>8} {'fill':>5} {'seconds':>7} {'rec/min':>8} {'cpu s':>6} "
          f"{'procs':>5} {'peak RSS MB':>11} {'peak PSS MB':>11}")
    instance = dg.DagsterInstance.from_config(str(home))  # type: ignore[attr-defined]
    for site in names:
        pids = [pid for pid, name in owner.items() if name == site]
        cpu = sum(sampler.cpu.get(pid, 0.0) for pid in pids)
        rss = max(sum(m.get(pid, (0, 0))[0] for pid in pids) for m in sampler.moments)
        pss = max(sum(m.get(pid, (0, 0))[1] for pid in pids) for m in sampler.moments)
        event = instance.get_latest_materialization_event(dg.AssetKey(["lms", site.removeprefix("tap-lms-")]))  # type: ignore[attr-defined]
        figures = {k: v.value for k, v in event.asset_materialization.metadata.items()} if event else {}
        records, requests, seconds = figures.get("records", 0), figures.get("requests", 0), figures.get("seconds", 0.0)
        print(f"{site:<15} {records:>8,} {requests:>8,} {records / max(requests, 1):>5.0f} {seconds:>7.1f} "
              f"{records / max(seconds, 1e-9) * 60:>8,.0f} {cpu:>6.1f} {len(pids):>5} {rss / 2**20:>11.0f} {pss / 2**20:>11.0f}")
    rest = [pid for pid in sampler.cpu if pid not in owner]
    print(f"{'run overhead':<15} {'':>8} {'':>8} {'':>5} {wall:>7.1f} {'':>8} {sum(sampler.cpu[p] for p in rest):>6.1f} "
          f"{len(rest):>5} {max(sum(m.get(p, (0, 0))[0] for p in rest) for m in sampler.moments) / 2**20:>11.0f}")
    total_rss = max(sum(v[0] for v in m.values()) for m in sampler.moments)
    total_pss = max(sum(v[1] for v in m.values()) for m in sampler.moments)
    print(f"all processes: {len(sampler.cpu)}, CPU {sum(sampler.cpu.values()):.1f} s in {wall:.1f} s, "
          f"peak RSS {total_rss / 2**20:.0f} MB, peak PSS {total_pss / 2**20:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())

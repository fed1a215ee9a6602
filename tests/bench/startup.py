#!/usr/bin/env python3
"""Cold start to first paint, and idle memory of the whole process tree, for Ringside
and a minimal Tauri app built with the same toolchain, side by side in one run.

Run through `make bench` (Xvfb, PulseAudio and a keyring come from
tests/scripts/with-session). Start-up is timed from spawn to the "startup-probe: page
loaded" line both apps print when the webview finished loading its page. Memory is read
from /proc/<pid>/smaps_rollup (RSS and PSS) for the app and all its descendants
(WebKitWebProcess, WebKitNetworkProcess) after the app has been idle.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = {
    "ringside": ROOT / "target/release/ringside-desktop",
    "hello-tauri": ROOT / "target/release/hello-tauri",
}
RUNS = int(os.environ.get("BENCH_RUNS", "10"))
IDLE_SECONDS = int(os.environ.get("BENCH_IDLE_SECONDS", "30"))
PROBE = b"startup-probe: page loaded"


def children_of(pid):
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            kids.append(int(entry.name))
    return kids


def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children_of(p))
    return out


def memory_kib(pids):
    """Total RSS and PSS of `pids`, and PSS per process name."""
    rss = pss = 0
    per_process = {}
    for p in pids:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            name = Path(f"/proc/{p}/comm").read_text().strip()
        except OSError:
            continue
        for line in rollup.splitlines():
            key, _, rest = line.partition(":")
            if key == "Rss":
                rss += int(rest.split()[0])
            elif key == "Pss":
                kib = int(rest.split()[0])
                pss += kib
                per_process[name] = per_process.get(name, 0) + kib
    return rss, pss, per_process


def kill_tree(proc):
    pids = tree(proc.pid)
    for p in reversed(pids):
        try:
            os.kill(p, 9)
        except OSError:
            pass
    proc.wait()


def launch(binary, data_dir):
    # Ringside turns WebKit's compositing mode off itself; give the baseline the same
    # setting so the ratio compares the apps, not two rendering modes.
    env = dict(
        os.environ,
        RINGSIDE_STARTUP_PROBE="1",
        RINGSIDE_DATA_DIR=str(data_dir),
        RINGSIDE_LOG="warn",
        WEBKIT_DISABLE_COMPOSITING_MODE="1",
    )
    start = time.perf_counter()
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for line in proc.stderr:
        if PROBE in line:
            return proc, (time.perf_counter() - start) * 1000
    raise RuntimeError(f"{binary} exited before its page loaded (code {proc.wait()})")


def drain(proc):
    # Keep reading stderr so the app never blocks on a full pipe while idle.
    import threading
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()


def main():
    for name, binary in APPS.items():
        if not binary.exists():
            sys.exit(f"{binary} is missing: build with `make bench`")
    results = {name: {"start_ms": []} for name in APPS}
    work = Path(tempfile.mkdtemp(prefix="ringside-bench-"))
    try:
        # Alternate the two apps so machine noise hits both alike.
        for i in range(RUNS):
            for name, binary in APPS.items():
                proc, ms = launch(binary, work / f"{name}-{i}")
                results[name]["start_ms"].append(ms)
                kill_tree(proc)
                time.sleep(0.3)
        for name, binary in APPS.items():
            proc, _ = launch(binary, work / f"{name}-idle")
            drain(proc)
            time.sleep(IDLE_SECONDS)
            rss, pss, per_process = memory_kib(tree(proc.pid))
            results[name].update(
                rss_mib=rss / 1024,
                pss_mib=pss / 1024,
                pss_mib_by_process={k: round(v / 1024, 1) for k, v in per_process.items()},
            )
            kill_tree(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    r, h = results["ringside"], results["hello-tauri"]
    for v in results.values():
        v["start_median_ms"] = statistics.median(v["start_ms"])
        v["start_min_ms"] = min(v["start_ms"])
    print(f"runs: {RUNS}, idle: {IDLE_SECONDS} s, cores: {os.cpu_count()}")
    print("| app | start median (ms) | start min (ms) | idle tree RSS (MiB) | idle tree PSS (MiB) | PSS by process (MiB) |")
    print("|---|---|---|---|---|---|")
    for name, v in results.items():
        print(f"| {name} | {v['start_median_ms']:.0f} | {v['start_min_ms']:.0f} | {v['rss_mib']:.1f} | {v['pss_mib']:.1f} | {', '.join(f'{k} {m}' for k, m in v['pss_mib_by_process'].items())} |")
    print(f"| ratio ringside / hello | {r['start_median_ms'] / h['start_median_ms']:.2f} | | {r['rss_mib'] / h['rss_mib']:.2f} | {r['pss_mib'] / h['pss_mib']:.2f} | |")
    out = ROOT / "bench-out"
    out.mkdir(exist_ok=True)
    (out / "startup.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Per-thread CPU, queue waits and (optionally) per-thread cProfile of one `facedub swap`,
run in this process through the command line (`python -m facedub swap ...`).

    PYTHONPATH=src python tools/swap_thread_profile.py OUT_DIR [--profile]
        [--switch-interval S] -- SWAP_ARGS...

What it records (written to OUT_DIR/threads.json and printed as a table):
- every native thread's CPU (user + system, /proc/self/task/*/stat, sampled every 50 ms and
  at the end, so threads that end between samples lose at most 50 ms), split at the phase
  boundaries: start-up, the target's analysis (`swap.analyse_target`), the swapper's set-up
  (`swap.frame_swapper`), the frames (the rest), and the compositor's glasses
  (`Compositor.learn_glasses`: in the set-up, before the engine's thread starts; in the
  frames, beside the engine's first faces, with commit edc7600's order, reverted);
- per Python thread name, the wall time spent blocked in `queue.Queue.get` and `put` (the
  pipeline's hand-offs: who waits for whom);
- with --profile, a cProfile of every Python thread with `time.thread_time` as its clock
  (OUT_DIR/profile-<thread>.pstats; a profiled run is slower, about 1.2-1.5x);
- (forty-ninth round) per phase, the core-seconds it leaves idle on the cores this process
  may use (cores x wall - the CPU of every thread: what a perfect overlap could gain there
  on a machine to itself), with marks for the source's analysis ("engine"), the target's
  frames ("landmarks") and tracks ("finalise"), and the swap's tail (the encoder's drain
  once every frame is handed over, the signing, the sidecar); the target's analysis split
  per thread as the frames stage is; the process's CPU every 50 ms (threads.json's
  "timeline", with the marks' times: where in a phase the cores idle);
- with --switch-interval S, the run under that GIL switch interval (`sys.setswitchinterval`;
  Python's default 0.005).

Outputs of the swap go where SWAP_ARGS say; this tool writes only under OUT_DIR.
"""

from __future__ import annotations

import cProfile
import itertools
import json
import os
import queue
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def task_schedstat() -> dict[int, tuple[float, float]]:
    """Native thread id -> (seconds on a CPU, seconds runnable but waiting for one) so far,
    from /proc/self/task/*/schedstat (the scheduler's own clock: the time a thread waits
    for a core on a loaded machine, apart from the time it sleeps: a queue, the GIL)."""
    stats: dict[int, tuple[float, float]] = {}
    for entry in os.scandir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{entry.name}/schedstat") as stat:
                on_cpu, waiting, _ = stat.read().split()
        except (OSError, ValueError):
            continue
        stats[int(entry.name)] = (int(on_cpu) / 1e9, int(waiting) / 1e9)
    return stats


def task_times() -> dict[int, tuple[str, float]]:
    """Native thread id -> (its name, CPU seconds so far) for every thread of this process."""
    times: dict[int, tuple[str, float]] = {}
    for entry in os.scandir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        times[int(entry.name)] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return times


class Tracer:
    def __init__(self, profile: bool) -> None:
        self.profile = profile
        self.latest: dict[int, tuple[str, float]] = {}
        self.python_names: dict[int, str] = {}
        self.marks: list[tuple[str, float, dict[int, tuple[str, float]]]] = []
        self.sched_marks: list[dict[int, tuple[float, float]]] = []
        self.wait_marks: list[dict[tuple[str, str], float]] = []
        self.thread_ends: dict[int, tuple[float, float, float]] = {}
        self.thread_starts: dict[int, float] = {}
        self.started = time.monotonic()
        self.final_sched: dict[int, tuple[float, float]] = {}
        self.waits: dict[tuple[str, str], float] = defaultdict(float)
        self.profiles: dict[str, list[cProfile.Profile]] = defaultdict(list)
        self.lock = threading.Lock()
        self.started_count = 0
        self.stop = threading.Event()
        # (seconds since the start, CPU seconds of every thread so far), every 50 ms
        self.timeline: list[tuple[float, float]] = []

    def ended(self) -> None:
        """The calling thread's last schedstat and the time, as it ends."""
        tid = threading.get_native_id()
        try:
            with open("/proc/thread-self/schedstat") as stat:
                on_cpu, waiting, _ = stat.read().split()
        except (OSError, ValueError):
            return
        with self.lock:
            self.thread_ends[tid] = (time.monotonic(), int(on_cpu) / 1e9, int(waiting) / 1e9)

    def thread_key(self) -> str:
        tid = threading.get_native_id()
        return self.python_names.get(tid, threading.current_thread().name)

    def sample(self) -> None:
        now = task_times()
        with self.lock:
            for tid, value in now.items():
                self.latest[tid] = value

    def sampler(self) -> None:
        while not self.stop.wait(0.05):
            self.sample()
            with self.lock:
                self.timeline.append((time.monotonic() - self.started,
                                      sum(cpu for _, cpu in self.latest.values())))

    def mark(self, phase: str) -> None:
        self.sample()
        with self.lock:
            self.marks.append((phase, time.monotonic(), dict(self.latest)))
            self.sched_marks.append(task_schedstat())
            self.wait_marks.append(dict(self.waits))

    def install(self) -> None:
        tracer = self
        original_run = threading.Thread.run

        def run(thread: threading.Thread) -> None:
            with tracer.lock:
                tracer.thread_starts[threading.get_native_id()] = time.monotonic()
                tracer.started_count += 1
                tracer.python_names[threading.get_native_id()] = (
                    f"{thread.name}#{tracer.started_count}")
            if not tracer.profile:
                try:
                    original_run(thread)
                finally:
                    tracer.ended()
                return
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            try:
                original_run(thread)
            finally:
                profiler.disable()
                tracer.ended()
                with tracer.lock:
                    tracer.profiles[thread.name].append(profiler)

        setattr(threading.Thread, "run", run)  # noqa: B010 (patched for the run)
        original_get, original_put = queue.Queue.get, queue.Queue.put

        def get(self: queue.Queue[Any], block: bool = True, timeout: float | None = None
                ) -> Any:
            started = time.monotonic()
            try:
                return original_get(self, block, timeout)
            finally:
                tracer.waits[(tracer.thread_key(), "get")] += (
                    time.monotonic() - started)

        def put(self: queue.Queue[Any], item: Any, block: bool = True,
                timeout: float | None = None) -> None:
            started = time.monotonic()
            try:
                original_put(self, item, block, timeout)
            finally:
                tracer.waits[(tracer.thread_key(), "put")] += (
                    time.monotonic() - started)

        setattr(queue.Queue, "get", get)  # noqa: B010
        setattr(queue.Queue, "put", put)  # noqa: B010

    def wrap_phases(self) -> None:
        import importlib

        swap = importlib.import_module("facedub.swap")
        tracer = self
        analyse, swapper = swap.analyse_target, swap.frame_swapper

        def analyse_target(*args: Any, **kwargs: Any) -> Any:
            tracer.mark("analysis")
            return analyse(*args, **kwargs)

        def frame_swapper(*args: Any, **kwargs: Any) -> Any:
            tracer.mark("set-up")
            made = swapper(*args, **kwargs)
            tracer.mark("frames")
            return made

        compositor = importlib.import_module("facedub.composite.compositor")
        learn = compositor.Compositor.learn_glasses

        def learn_glasses(*args: Any, **kwargs: Any) -> Any:
            tracer.mark("glasses")  # main: inside the set-up (edc7600: in the frames)
            try:
                return learn(*args, **kwargs)
            finally:
                tracer.mark("after glasses")

        compositor.Compositor.learn_glasses = learn_glasses
        setattr(swap, "analyse_target", analyse_target)  # noqa: B010
        setattr(swap, "frame_swapper", frame_swapper)  # noqa: B010
        self.wrap_tail(swap)

    def wrap_tail(self, swap: Any) -> None:
        """Marks for the start-up's engine (the source's analysis) and the swap's tail:
        the encoder's drain once every frame is handed to it (`BackgroundSink.close` in
        the frames phase), the signing and the sidecar; "exit" is the command's own end
        (its report, the engine's close) after the sidecar."""
        import importlib

        registry = importlib.import_module("facedub.engines.registry")
        threads = importlib.import_module("facedub.threads")
        tracer = self
        open_engine, close = registry.open_engine, threads.BackgroundSink.close
        sign, sidecar = swap.sign_output, swap.write_sidecar

        def opened(*args: Any, **kwargs: Any) -> Any:
            tracer.mark("engine")
            try:
                return open_engine(*args, **kwargs)
            finally:
                tracer.mark("after engine")

        def closed(sink: Any, *args: Any, **kwargs: Any) -> Any:
            if tracer.marks and tracer.marks[-1][0] == "frames":
                tracer.mark("encode tail")
            return close(sink, *args, **kwargs)

        def signed(*args: Any, **kwargs: Any) -> Any:
            tracer.mark("sign")
            return sign(*args, **kwargs)

        def described(*args: Any, **kwargs: Any) -> Any:
            tracer.mark("sidecar")
            try:
                return sidecar(*args, **kwargs)
            finally:
                tracer.mark("exit")

        run = importlib.import_module("facedub.extract.run")
        analyse, finalise = run._analyse, run._finalise

        def whose() -> str:  # the source's analysis runs inside the engine's opening
            engine_marks = [name for name, _, _ in tracer.marks if name.endswith("engine")]
            return "source " if engine_marks and engine_marks[-1] == "engine" else ""

        def analysing(*args: Any, **kwargs: Any) -> Any:
            tracer.mark(f"{whose()}landmarks")  # its frames (after its hash, the models)
            return analyse(*args, **kwargs)

        def finalising(*args: Any, **kwargs: Any) -> Any:
            # tracks, persons, faces.jsonl, the faceset read back
            tracer.mark(f"{whose()}finalise")
            try:
                return finalise(*args, **kwargs)
            finally:
                tracer.mark(f"{whose()}after finalise")

        setattr(run, "_analyse", analysing)  # noqa: B010
        setattr(run, "_finalise", finalising)  # noqa: B010
        setattr(registry, "open_engine", opened)  # noqa: B010
        setattr(threads.BackgroundSink, "close", closed)  # noqa: B010
        setattr(swap, "sign_output", signed)  # noqa: B010
        setattr(swap, "write_sidecar", described)  # noqa: B010


def name_of(tid: int, comm: str, python_names: dict[int, str], main_tid: int) -> str:
    if tid == main_tid:
        return "main"
    return python_names.get(tid, comm)


def phase_table(tracer: Tracer, main_tid: int, end: float) -> dict[str, Any]:
    """Per phase and thread name (threads of one name summed), CPU seconds."""
    marks = [("start-up", tracer.started, {}), *tracer.marks]
    marks.append(("end", end, dict(tracer.latest)))
    result: dict[str, Any] = {}
    for (phase, began, before), (_, ended, after) in itertools.pairwise(marks):
        per: dict[str, float] = defaultdict(float)
        for tid, (comm, cpu) in after.items():
            previous = before.get(tid, (comm, 0.0))[1]
            per[name_of(tid, comm, tracer.python_names, main_tid)] += cpu - previous
        result[phase] = {"wall": ended - began, "cpu": sum(per.values()),
                         "threads": {k: round(v, 3) for k, v in sorted(
                             per.items(), key=lambda kv: -kv[1]) if v > 0}}
    return result


def idle_cores(phases: dict[str, Any], cores: int) -> list[tuple[str, float, float, float]]:
    """Per phase: (name, wall s, CPU s of every thread, core-seconds left idle on `cores`
    cores: cores x wall - CPU). On a machine to itself, what a phase leaves idle is what
    an ideal overlap could gain there (the sampler's own CPU is in it: about 5 ms a
    second)."""
    return [(phase, value["wall"], value["cpu"], cores * value["wall"] - value["cpu"])
            for phase, value in phases.items()]


def phase_sleeps(tracer: Tracer, main_tid: int, phase: str, until: str
                 ) -> dict[str, dict[str, float]]:
    """As `frames_sleeps`, from the last mark `phase` to the next mark `until` (the target's
    analysis: "landmarks" to "finalise"), for the Python threads alive in it (those started or ended
    inside it from their start or to their end)."""
    names = [name for name, _, _ in tracer.marks]  # the last of each (the source's first)
    first = len(names) - 1 - names[::-1].index(phase)
    last = names.index(until, first)
    began, ended = tracer.marks[first][1], tracer.marks[last][1]
    before, after = tracer.sched_marks[first], tracer.sched_marks[last]
    waits_before, waits_after = tracer.wait_marks[first], tracer.wait_marks[last]
    rows: dict[str, dict[str, float]] = {}
    for tid in set(after) | {t for t, (at, _, _) in tracer.thread_ends.items()
                             if began < at <= ended}:
        start = max(began, tracer.thread_starts.get(tid, began))
        stop, cpu_after, runq_after = ended, *after.get(tid, (0.0, 0.0))
        if tid in tracer.thread_ends and tracer.thread_ends[tid][0] <= ended:
            stop, cpu_after, runq_after = tracer.thread_ends[tid]
        name = "main" if tid == main_tid else tracer.python_names.get(tid)
        if name is None or stop <= start:
            continue
        key = "MainThread" if tid == main_tid else name
        cpu_before, runq_before = before.get(tid, (0.0, 0.0))
        cpu, runq = cpu_after - cpu_before, runq_after - runq_before
        get = waits_after.get((key, "get"), 0.0) - waits_before.get((key, "get"), 0.0)
        put = waits_after.get((key, "put"), 0.0) - waits_before.get((key, "put"), 0.0)
        asleep = stop - start - cpu - runq
        rows[name] = {"wall": stop - start, "cpu": cpu, "runq": runq, "asleep": asleep,
                      "get": get, "put": put, "rest": asleep - get - put}
    return rows


def frames_sleeps(tracer: Tracer, main_tid: int, end: float) -> dict[str, dict[str, float]]:
    """For each Python thread alive from the frames phase's start to the end: its wall,
    CPU, run-queue wait and sleep there, and the sleep's split into queue waits and the
    rest (on a loaded machine the first two grow; the rest is the GIL's share, mostly)."""
    index = [phase for phase, _, _ in tracer.marks].index("frames")
    began = tracer.marks[index][1]
    before, after = tracer.sched_marks[index], tracer.final_sched
    waits_before, waits_after = tracer.wait_marks[index], tracer.waits
    rows: dict[str, dict[str, float]] = {}
    ends = {tid: (end, cpu, runq) for tid, (cpu, runq) in after.items()}
    ends.update(tracer.thread_ends)
    for tid, (ended, cpu_after, runq_after) in ends.items():
        start, cpu_before, runq_before = began, *before.get(tid, (0.0, 0.0))
        if tid not in before:  # started in the frames phase: from its own start
            start = tracer.thread_starts.get(tid, began)
            if start < began:
                continue
        name = "main" if tid == main_tid else tracer.python_names.get(tid)
        if name is None:
            continue
        key = "MainThread" if tid == main_tid else name
        cpu = cpu_after - cpu_before
        runq = runq_after - runq_before
        wall = ended - start
        get = waits_after.get((key, "get"), 0.0) - waits_before.get((key, "get"), 0.0)
        put = waits_after.get((key, "put"), 0.0) - waits_before.get((key, "put"), 0.0)
        asleep = wall - cpu - runq
        rows[name] = {"wall": wall, "cpu": cpu, "runq": runq, "asleep": asleep,
                      "get": get, "put": put, "rest": asleep - get - put}
    return rows


def main() -> None:
    split = sys.argv.index("--")
    own, swap_args = sys.argv[1:split], sys.argv[split + 1:]
    out = Path(own[0])
    out.mkdir(parents=True, exist_ok=True)
    tracer = Tracer(profile="--profile" in own)
    if "--switch-interval" in own:  # the interpreter's GIL switch interval, for the run
        sys.setswitchinterval(float(own[own.index("--switch-interval") + 1]))
    main_tid = threading.get_native_id()
    tracer.install()
    sampler = threading.Thread(target=tracer.sampler, name="tracer-sampler", daemon=True)
    sampler.start()
    main_profile = cProfile.Profile(time.thread_time) if tracer.profile else None
    from facedub.cli import app

    tracer.wrap_phases()
    code = 0
    if main_profile is not None:
        main_profile.enable()
    try:
        app(swap_args, standalone_mode=False)
    except SystemExit as error:
        code = int(error.code or 0)
    finally:
        if main_profile is not None:
            main_profile.disable()
    tracer.stop.set()
    sampler.join()
    tracer.sample()
    tracer.final_sched = task_schedstat()
    end = time.monotonic()
    phases = phase_table(tracer, main_tid, end)
    waits = {f"{name} {kind}": round(seconds, 3)
             for (name, kind), seconds in sorted(tracer.waits.items())}
    marks = [(phase, round(at - tracer.started, 3)) for phase, at, _ in tracer.marks]
    (out / "threads.json").write_text(json.dumps({"phases": phases, "waits": waits,
                                                  "code": code, "marks": marks,
                                                  "timeline": tracer.timeline}, indent=1))
    cores = len(os.sched_getaffinity(0))
    print(f"per phase on {cores} cores: wall, CPU of every thread, core-seconds idle (s)")
    for phase, wall, cpu, idle in idle_cores(phases, cores):
        print(f"    {phase:16s} {wall:7.2f} {cpu:7.2f} {idle:7.2f}")
    for phase, value in phases.items():
        print(f"{phase}: wall {value['wall']:.2f} s")
        for name, cpu in value["threads"].items():
            print(f"    {name:28s} {cpu:7.2f} s")
    frames_sleep = frames_sleeps(tracer, main_tid, end)
    (out / "frames_sleep.json").write_text(json.dumps(frames_sleep, indent=1))
    print("the frames phase, per thread (s): wall, on CPU, waiting for a core, asleep "
          "(of it: queue get, queue put, the rest: the GIL, I/O)")
    for name, row in frames_sleep.items():
        print(f"    {name:24s} " + " ".join(f"{k} {v:6.2f}" for k, v in row.items()))
    if {"landmarks", "finalise"} <= {name for name, _, _ in tracer.marks}:
        print("the target's analysis, per thread (s), as above")
        for name, row in phase_sleeps(tracer, main_tid, "landmarks", "finalise").items():
            print(f"    {name:24s} " + " ".join(f"{k} {v:6.2f}" for k, v in row.items()))
    print("queue waits (wall s):")
    for key, seconds in waits.items():
        print(f"    {key:34s} {seconds:7.2f}")
    if main_profile is not None:
        main_profile.dump_stats(out / "profile-main.pstats")
        for name, profilers in tracer.profiles.items():
            for number, profiler in enumerate(profilers):
                profiler.dump_stats(out / f"profile-{name}-{number}.pstats")


if __name__ == "__main__":
    main()

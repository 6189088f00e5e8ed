"""Review R of round 48, D1: a rank stopped by SIGHUP (its terminal closed) tells the other
ranks so. `agree` had no code for SIGHUP and sent SIGTERM's, so the other ranks said
"SIGTERM" and ended with 143 while the hung-up rank ended with 129."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

RANK_SCRIPT = """
import sys, torch, torch.distributed as dist
from facedub.train.distributed import agree
rank, port, stopping = int(sys.argv[1]), sys.argv[2], sys.argv[3] or None
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                        world_size=2)
values, reason = agree({"loss": float(rank)}, stopping, torch.device("cpu"))
dist.destroy_process_group()
print(reason, values["loss"])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _agreed(stops: tuple[str, str]) -> list[str]:
    """What each of two gloo ranks reads from `agree`, rank r stopping for stops[r]."""
    port = str(_free_port())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ranks = [subprocess.Popen([sys.executable, "-c", RANK_SCRIPT, str(rank), port, stop],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for rank, stop in enumerate(stops)]
    lines = []
    for process in ranks:
        out, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
        lines.append(out.strip())
    return lines


def test_a_hung_up_rank_stops_the_others_with_sighup() -> None:
    # The losses are the ranks' mean (0 and 1): the same reduction as before.
    assert _agreed(("SIGHUP", "")) == ["SIGHUP 0.5", "SIGHUP 0.5"]  # was: SIGHUP, SIGTERM
    # Two signals at once: the largest code wins (SIGTERM 15 over SIGINT 2 over SIGHUP 1).
    assert _agreed(("SIGHUP", "SIGINT")) == ["SIGHUP 0.5", "SIGINT 0.5"]
    assert _agreed(("", "")) == ["None 0.5", "None 0.5"]

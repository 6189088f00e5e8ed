"""Nothing leaves the machine and no compiler starts: extract and swap run under strace,
which records every connect() and execve() of the process and its threads and children."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from facedub.faces.mediapipe_offline import UNREACHABLE_PROXY, keep_usage_logger_offline

CONNECT_INET = re.compile(r'connect\(\d+, \{sa_family=AF_INET6?, .*?'
                          r'(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')
EXECVE = re.compile(r'execve\("([^"]+)"')
FORBIDDEN_PROGRAMS = {"gcc", "cc", "ld", "ldconfig", "collect2", "ldconfig.real"}


def _strace_works(tmp_path: Path) -> str | None:
    """None if strace can trace here, else why not."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed (apt-get install strace; CI has it)"
    probe = subprocess.run([strace, "-f", "-qq", "-e", "trace=execve", "-o",
                            str(tmp_path / "probe.txt"), "true"], capture_output=True,
                           text=True, timeout=30, check=False)
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.strip()[:200]}"
    return None


def _traced_facedub(args: list[str], log: Path) -> subprocess.CompletedProcess[str]:
    # A user whose environment lists every host as proxy-free must still stay offline.
    environment = {name: value for name, value in os.environ.items()
                   if name.lower() not in {"https_proxy", "grpc_proxy", "no_grpc_proxy"}}
    environment["no_proxy"] = "*"
    # --seccomp-bpf stops the process only at the traced calls: about twice as fast.
    command = ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,execve",
               "-o", str(log), sys.executable, "-m", "facedub", *args]
    return subprocess.run(command,
                          capture_output=True, text=True, timeout=300, check=False,
                          env=environment)


def _violations(log: Path) -> list[str]:
    """Non-local connection attempts and spawned compilers/linkers in a strace log."""
    found: list[str] = []
    for line in log.read_text().splitlines():
        connect = CONNECT_INET.search(line)
        if connect:
            address = ipaddress.ip_address(connect.group(1) or connect.group(2))
            if not address.is_loopback:
                found.append(line)
        program = EXECVE.search(line)
        if program and "ENOENT" not in line and Path(program.group(1)).name in \
                FORBIDDEN_PROGRAMS:
            found.append(line)
    return found


def test_extract_and_swap_stay_on_this_machine(faces_dir: Path, tmp_path: Path) -> None:
    reason = _strace_works(tmp_path)
    if reason:
        pytest.skip(reason)
    runs = {
        "extract": ["extract", str(faces_dir / "still_biden_frontal.jpg"), "-o",
                    str(tmp_path / "faces"), "--size", "64"],
        "swap": ["swap", "--source", str(faces_dir / "still_paul_rudd_frontal_studio.jpg"),
                 "--target", str(faces_dir / "still_rose_leslie_frontal.jpg"), "-o",
                 str(tmp_path / "swapped.jpg"), "--work-dir", str(tmp_path / "work")],
    }
    for name, args in runs.items():
        log = tmp_path / f"{name}.strace"
        completed = _traced_facedub(args, log)
        assert completed.returncode == 0, completed.stderr
        text = log.read_text()
        assert "connect(" in text or "execve(" in text  # the trace really recorded calls
        assert _violations(log) == [], f"{name}: {_violations(log)[:5]}"


def test_violations_are_recognised(tmp_path: Path) -> None:
    """The parser itself: a remote connect and a spawned linker are found, local ones not."""
    log = tmp_path / "sample.strace"
    log.write_text(
        '1 connect(13, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("10.255.255.53")}, 16) = 0\n'
        '2 connect(5, {sa_family=AF_INET, sin_port=htons(9), '
        'sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED\n'
        '3 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2a00:1450::1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
        '4 connect(7, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1\n'
        '5 execve("/usr/bin/ld", ["ld", "-t"], 0x0 /* 41 vars */) = 0\n'
        '6 execve("/usr/bin/gcc", ["gcc"], 0x0) = -1 ENOENT (No such file or directory)\n')
    found = _violations(log)
    assert [line.split()[0] for line in found] == ["1", "3", "5"]


def test_usage_logger_redirect_keeps_grpc_settings() -> None:
    environ = {"https_proxy": "http://corp:3128", "no_proxy": "*.internal"}
    keep_usage_logger_offline(environ)
    assert environ["https_proxy"] == environ["HTTPS_PROXY"] == UNREACHABLE_PROXY
    assert environ["grpc_proxy"] == "http://corp:3128"
    assert environ["no_grpc_proxy"] == "*.internal" and "no_proxy" not in environ
    keep_usage_logger_offline(environ)  # idempotent
    assert environ["grpc_proxy"] == "http://corp:3128"

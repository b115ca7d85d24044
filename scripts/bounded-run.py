#!/usr/bin/env python3
"""Runs a test command with a time limit, so that a hung test fails the run instead of stalling it.

    bounded-run.py SECONDS COMMAND [ARGS...]

The command's output goes to a file that is echoed as it grows (not through a pipe: a process a test
left behind cannot keep the run open by holding the pipe). When the command outlives SECONDS, this
prints the Swift tests that started and never finished and every thread's stack of each process in the
command's session (with gdb, where it is installed), then kills them all and exits 124. When the
command ends, anything it left running is killed too.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

STARTED = re.compile(r"Test (.+?) started\.$")
ENDED = re.compile(r"Test (.+?) (?:passed|failed|skipped|recorded)")


def session_members(session):
    """Process ids in `session`, the command's own (those a test left behind stay in it when orphaned)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == session:
                members.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return sorted(members)


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def unfinished_tests(log_path):
    running = {}
    with open(log_path, errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            if started := STARTED.search(line):
                running[started.group(1)] = running.get(started.group(1), 0) + 1
            elif ended := ENDED.search(line):
                name = ended.group(1)
                if running.get(name, 0) > 0:
                    running[name] -= 1
    return [name for name, count in running.items() if count > 0]


def report_hang(log_path, session, limit):
    print(f"\nbounded-run: still running after {limit} s; tests started and not finished:", flush=True)
    for name in unfinished_tests(log_path):
        print(f"  {name}", flush=True)
    for pid in session_members(session):
        print(f"\nbounded-run: process {pid}: {command_line(pid)[:300]}", flush=True)
        try:
            stacks = subprocess.run(
                ["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "thread apply all bt 30"],
                capture_output=True, text=True, timeout=120)
            print(stacks.stdout[-60000:], flush=True)
        except (OSError, subprocess.TimeoutExpired) as error:
            print(f"  (no stacks: {error})", flush=True)


def kill_session(session):
    for pid in session_members(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: bounded-run.py SECONDS COMMAND [ARGS...]")
    limit = float(sys.argv[1])
    with tempfile.NamedTemporaryFile(prefix="bounded-run-", suffix=".log", delete=False) as log:
        log_path = log.name
    with open(log_path, "wb") as sink:
        child = subprocess.Popen(
            sys.argv[2:], stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    # Interrupted (Ctrl-C, a CI cancel): the command's whole session goes with this script.
    for caught in (signal.SIGINT, signal.SIGTERM):
        signal.signal(caught, lambda number, frame: (kill_session(child.pid), sys.exit(128 + number)))
    deadline = time.monotonic() + limit
    out = sys.stdout.buffer
    status = None
    with open(log_path, "rb") as source:
        while True:
            chunk = source.read(65536)
            if chunk:
                out.write(chunk)
                out.flush()
                continue
            if status is not None:
                break
            status = child.poll()
            if status is None and time.monotonic() > deadline:
                report_hang(log_path, child.pid, limit)
                kill_session(child.pid)
                child.wait()
                sys.exit(124)
            if status is None:
                time.sleep(0.2)
    # Whatever the command left behind (a worker process a failed test did not stop) goes too.
    kill_session(child.pid)
    os.unlink(log_path)
    sys.exit(status)


if __name__ == "__main__":
    main()

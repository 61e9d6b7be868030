#!/usr/bin/env python3
"""Failover of a real etcd cluster on loopback, measured the way `ballot bench failover` measures Ballot.

Same settings (members, heartbeat, election timeout), same fault (SIGKILL + restart, or SIGSTOP for
several election timeouts + SIGCONT) at a random point of the heartbeat interval, same observation
method: each member's own log line stamps the moment it becomes or learns the leader (etcd's zap
logger, millisecond resolution, CLOCK_REALTIME; the fault is stamped with the same clock), so the
members are not polled during the measurement. Bounded in trials and time; loopback only.

Usage: benchmarks/etcd_failover.py --trials 20 --fault kill --heartbeat-ms 100 --election-ms 1000
"""
import argparse
import datetime
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BECAME = re.compile(r"(\w+) became leader at term (\d+)")
ELECTED = re.compile(r"raft\.node: (\w+) elected leader (\w+) at term (\d+)")
# A member that knew a leader and learns another logs this instead (etcd raft/node.go).
CHANGED = re.compile(r"raft\.node: (\w+) changed leader from \w+ to (\w+) at term (\d+)")


class Member:
    def __init__(self, index, args, base_port, root, events, lock):
        self.index = index
        self.name = f"m{index}"
        self.client = base_port + 2 * index
        self.peer = base_port + 2 * index + 1
        self.dir = os.path.join(root, self.name)
        self.args = args
        self.events = events
        self.lock = lock
        self.proc = None
        self.member_id = None

    def command(self, cluster):
        return ["etcd", "--name", self.name, "--data-dir", self.dir,
                "--listen-client-urls", f"http://127.0.0.1:{self.client}",
                "--advertise-client-urls", f"http://127.0.0.1:{self.client}",
                "--listen-peer-urls", f"http://127.0.0.1:{self.peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer}",
                "--initial-cluster", cluster, "--initial-cluster-token", "bench",
                "--heartbeat-interval", str(self.args.heartbeat_ms),
                "--election-timeout", str(self.args.election_ms),
                "--logger", "zap", "--log-outputs", "stderr"]

    def start(self, cluster):
        self.proc = subprocess.Popen(self.command(cluster), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self.read, args=(self.proc,), daemon=True).start()

    def read(self, proc):
        for line in proc.stderr:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            msg = entry.get("msg", "")
            ts = entry.get("ts")
            if not ts:
                continue
            when = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
            m = BECAME.search(msg)
            if m:
                self.member_id = m.group(1)
                with self.lock:
                    self.events.append(("became", self.name, self.name, int(m.group(2)), when))
                continue
            m = ELECTED.search(msg) or CHANGED.search(msg)
            if m:
                self.member_id = m.group(1)
                with self.lock:
                    self.events.append(("elected", self.name, m.group(2), int(m.group(3)), when))


def summary(values):
    values = sorted(values)
    if not values:
        return "n=0"
    def q(p):
        rank = max(1, min(len(values), int(-(-p * len(values) // 1))))
        return values[rank - 1]
    return f"{len(values):4d} {values[0]:7.1f} {q(0.5):7.1f} {q(0.9):7.1f} {q(0.99):7.1f} {values[-1]:7.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--fault", choices=["kill", "pause"], default="kill")
    parser.add_argument("--heartbeat-ms", type=int, default=100)
    parser.add_argument("--election-ms", type=int, default=1000)
    parser.add_argument("--base-port", type=int, default=32379)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("etcd") is None:
        sys.exit("etcd not found: apt-get install etcd-server")
    rng = random.Random(args.seed)
    root = tempfile.mkdtemp(prefix="etcd-bench-")
    events, lock = [], threading.Lock()
    members = [Member(i, args, args.base_port, root, events, lock) for i in range(args.members)]
    cluster = ",".join(f"{m.name}=http://127.0.0.1:{m.peer}" for m in members)
    election = args.election_ms / 1000
    for m in members:
        m.start(cluster)
    results, failures = [], 0
    try:
        def leader_now(deadline):
            """The member that became leader last, once every running member has logged it."""
            while time.time() < deadline:
                with lock:
                    became = [e for e in events if e[0] == "became"]
                    if became:
                        _, name, _, term, _ = became[-1]
                        lid = next(m.member_id for m in members if m.name == name)
                        known = {e[1] for e in events if e[0] == "elected" and e[2] == lid and e[3] == term}
                        running = {m.name for m in members if m.proc.poll() is None}
                        if running <= known:
                            return name, term
                time.sleep(0.01)
            return None

        print(f"etcd failover: {args.members} members, heartbeat {args.heartbeat_ms}ms, election timeout "
              f"{args.election_ms}ms, fault {args.fault}, {args.trials} trials (etcd {subprocess.run(['etcd', '--version'], capture_output=True, text=True).stdout.split()[2]})")
        for trial in range(1, args.trials + 1):
            stable = leader_now(time.time() + 60 * election)
            if stable is None:
                print(f"  trial {trial}: no stable leader"); failures += 1; continue
            old_name, old_term = stable
            old = next(m for m in members if m.name == old_name)
            survivors = {m.name for m in members if m is not old}
            time.sleep(rng.uniform(0, args.heartbeat_ms / 1000))
            fault_at = time.time()
            os.kill(old.proc.pid, signal.SIGKILL if args.fault == "kill" else signal.SIGSTOP)
            first, known, deadline = None, {}, time.time() + 40 * election
            while time.time() < deadline:
                with lock:
                    recent = [e for e in events if e[4] >= fault_at - 0.001]
                if first is None:
                    first = next((e for e in recent if e[0] == "became" and e[1] in survivors and e[3] > old_term), None)
                if first:
                    lid = next(m.member_id for m in members if m.name == first[1])
                    for e in recent:
                        if e[0] == "elected" and e[2] == lid and e[3] == first[3] and e[1] not in known:
                            known[e[1]] = e[4]
                    if survivors <= set(known):
                        break
                time.sleep(0.001)
            if first and survivors <= set(known):
                r = ((first[4] - fault_at) * 1000, (max(known.values()) - fault_at) * 1000, first[3] - old_term)
                results.append(r)
                print(f"  trial {trial:3d}: leader {old_name} -> {first[1]}, first leader {r[0]:.1f} ms, all know {r[1]:.1f} ms, terms {r[2]}")
            else:
                failures += 1
                print(f"  trial {trial}: no failover observed")
            if args.fault == "kill":
                old.proc.wait(timeout=10)
                old.start(cluster)
            else:
                remaining = 3 * election - (time.time() - fault_at)
                if remaining > 0:
                    time.sleep(remaining)
                os.kill(old.proc.pid, signal.SIGCONT)
        print()
        print("                       n    min  median     p90     p99     max   (ms)")
        print("survivor leads      " + summary([r[0] for r in results]))
        print("all survivors know  " + summary([r[1] for r in results]))
        rounds = sum(1 for r in results if r[2] > 1)
        print(f"terms per failover: " + ", ".join(f"{t}: {sum(1 for r in results if r[2] == t)}" for t in sorted({r[2] for r in results}))
              + f"  (second rounds: {rounds} of {len(results)})")
        if failures:
            print(f"failed trials: {failures}")
    finally:
        for m in members:
            if m.proc and m.proc.poll() is None:
                os.kill(m.proc.pid, signal.SIGCONT)
                m.proc.terminate()
                try:
                    m.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    m.proc.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

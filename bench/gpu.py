#!/usr/bin/env python3
"""The GPU guardian's cost and speed, against the fake libnvidia-ml.so.1 the tests build
(tests/helpers/fake_nvml.cc): no GPU needed.

(a) CPU per GPU reading: zagent with N programs that each use a GPU key, reading the fake
    devices every `--interval` s, against the same config with gpu=off, over `--window` s
    each; the difference divided by the readings made.
(b) Watermark latency: one program with gpu_min_free=4GB, gpu_min_free_for=F at
    gpu_sample_interval=I; the bench makes free memory cross the watermark (rewrites the fake
    file) at a CLOCK_MONOTONIC time and the program (tests/helpers/leak_memory) prints when
    SIGTERM arrives. The goal is at most I + F + 100 ms.

Usage: bench/gpu.py --zagent build/agent/zagent --zctl build/ctl/zctl
       [--fake-nvml build/tests/helpers/fake_nvml/libnvidia-ml.so.1]
       [--helpers build/tests/helpers] [--programs 10] [--window 30] [--interval 1]
       [--trips 5] [--trip-interval 1] [--trip-for 1] [--skip-cost]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

from agent_session import Agent, cpu_seconds

GIB = 1024 ** 3
TOTAL = 80 * GIB


def write_fake(path, free0, processes=()):
    lines = ["driver 550.54.15",
             f'device 0 GPU-11111111-2222-3333-4444-555555555555 "Fake H200" total={TOTAL} '
             f"used={TOTAL - free0} free={free0} util=40",
             f'device 1 GPU-66666666-7777-8888-9999-000000000000 "Fake H200" total={TOTAL} '
             f"used={TOTAL // 2} free={TOTAL // 2} util=0"]
    for dev, pid, used in processes:
        lines.append(f"process {dev} {pid} {used}")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, path)


def cost(args, gpu_on):
    tmp = tempfile.mkdtemp(prefix="zgb", dir="/tmp")
    try:
        fake = os.path.join(tmp, "nvml.txt")
        write_fake(fake, 60 * GIB)
        programs = "".join(f"[program:p{i}]\ncommand=/bin/sleep 1000000\nstartsecs=0\n"
                           f"gpu_min_free=1GB\n" for i in range(args.programs))
        lines = (f"gpu=nvml\ngpu_library={args.fake_nvml}\n"
                 f"gpu_sample_interval={args.interval}\n" if gpu_on else "gpu=off\n")
        a = Agent(args.zagent, args.zctl, tmp, programs, lines + "sample_interval=0\n",
                  env=dict(os.environ, ZAGENT_FAKE_NVML=fake))
        try:
            a.wait_running([f"p{i}" for i in range(args.programs)])
            # Each program's pid holds memory on GPU 0: attribution walks every one.
            pids = [int(p) for p in a.ctl("pid", "all").stdout.split()]
            write_fake(fake, 60 * GIB, [(0, p, GIB) for p in pids])
            time.sleep(2 * args.interval)  # the readings pick the processes up
            t0, c0 = time.monotonic(), cpu_seconds(a.proc.pid)
            time.sleep(args.window)
            t1, c1 = time.monotonic(), cpu_seconds(a.proc.pid)
            return c1 - c0, t1 - t0
        finally:
            a.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def latency(args):
    tmp = tempfile.mkdtemp(prefix="zgb", dir="/tmp")
    try:
        fake = os.path.join(tmp, "nvml.txt")
        write_fake(fake, 60 * GIB)
        leak = os.path.join(args.helpers, "leak_memory")
        out = os.path.join(tmp, "web.out")
        programs = (f"[program:web]\ncommand={leak} --rate 0 --report-over 100000\nstartsecs=1\n"
                    f"gpu_min_free=4GB\ngpu_min_free_for={args.trip_for}\n"
                    f"stdout_logfile={out}\n")
        a = Agent(args.zagent, args.zctl, tmp, programs,
                  f"gpu=nvml\ngpu_library={args.fake_nvml}\n"
                  f"gpu_sample_interval={args.trip_interval}\nsample_interval=0\n",
                  env=dict(os.environ, ZAGENT_FAKE_NVML=fake))
        lats = []
        try:
            for trip in range(args.trips):
                a.wait_running(["web"])
                # A random phase against the reading schedule.
                time.sleep(args.trip_interval * ((trip * 0.37) % 1.0) + 0.2)
                crossed = time.monotonic_ns()
                write_fake(fake, 2 * GIB)
                a.wait_log("guard gpu_watermark tripped for web", trip + 1,
                           deadline=args.trip_interval + args.trip_for + 30)
                end = time.monotonic() + 10
                while True:
                    with open(out, errors="replace") as f:
                        stamps = [int(l.split()[1]) for l in f if l.startswith("sigterm ")]
                    if len(stamps) > trip:
                        break
                    if time.monotonic() > end:
                        raise RuntimeError("no sigterm stamp")
                    time.sleep(0.01)
                lats.append((stamps[trip] - crossed) / 1e9)
                write_fake(fake, 60 * GIB)
            return lats
        finally:
            a.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report_cost(args):
    on, secs_on = cost(args, True)
    off, secs_off = cost(args, False)
    readings = secs_on / args.interval
    per = (on - off / secs_off * secs_on) / readings
    print(f"CPU, {args.programs} programs with gpu_min_free, {secs_on:.0f} s: "
          f"{on * 1000:.2f} ms with readings every {args.interval:g} s, "
          f"{off * 1000:.2f} ms with gpu=off; {per * 1000:.3f} ms per reading "
          f"({readings:.0f} readings)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zagent", required=True)
    ap.add_argument("--zctl", required=True)
    ap.add_argument("--fake-nvml")
    ap.add_argument("--helpers")
    ap.add_argument("--programs", type=int, default=10)
    ap.add_argument("--window", type=float, default=30)
    ap.add_argument("--interval", type=float, default=1)
    ap.add_argument("--trips", type=int, default=5)
    ap.add_argument("--trip-interval", type=float, default=1)
    ap.add_argument("--trip-for", type=float, default=1)
    ap.add_argument("--skip-cost", action="store_true", help="only the watermark latency")
    args = ap.parse_args()
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.zagent)))
    args.fake_nvml = os.path.abspath(
        args.fake_nvml or os.path.join(build, "tests/helpers/fake_nvml/libnvidia-ml.so.1"))
    args.helpers = os.path.abspath(args.helpers or os.path.join(build, "tests/helpers"))
    args.zagent, args.zctl = os.path.abspath(args.zagent), os.path.abspath(args.zctl)
    if not os.path.exists(args.fake_nvml):
        sys.exit(f"no fake NVML library at {args.fake_nvml} (build the tests)")

    if not args.skip_cost:
        report_cost(args)
    if args.trips <= 0:
        return
    lats = latency(args)
    goal = args.trip_interval + args.trip_for + 0.1
    print(f"watermark crossing -> SIGTERM, gpu_sample_interval={args.trip_interval:g}, "
          f"gpu_min_free_for={args.trip_for:g} (goal <= {goal:.1f} s): "
          + ", ".join(f"{v * 1000:.0f}" for v in lats)
          + f" ms; max {max(lats) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

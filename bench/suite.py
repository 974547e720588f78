"""The side-by-side benchmark suite; `bench/run.sh` runs it.

For each org size it starts a standalone `umapi sandbox` (generated org, HTTPS, page
size 2,000, no rate limits), exports a no-change desired state with `umapi export`,
then measures, alternating and in the same run, `umapi plan` and Adobe's Python
`umapi-client` reading the same users and groups. Each measured process is a direct
child, so `os.wait4` gives its own CPU time and peak resident memory. It then runs the
planner's cargo bench (planner alone; request counts of the change sets) and prints one
table with every figure and a PASS/MISS line per target.

Standard library only, so it runs in the benchmark virtualenv or any Python 3.8+.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"

# The targets.
SPEEDUP_TARGET = 3.0  # umapi plan vs Python read, wall time, 100,000 users
RSS_TARGET_MB = 500.0  # umapi plan peak memory, 100,000 users
PLANNER_1M_TARGET_S = 5.0  # planner alone, 1,000,000 users
LARGE_SPEEDUP_TARGET = 2.0  # umapi plan vs Python read, wall time, 100,000 and 1,000,000 users
LARGE_PLAN_RSS_TARGET_MB = 1000.0  # umapi plan peak memory, 1,000,000 users
LARGE_VALIDATE_RSS_TARGET_MB = 600.0  # umapi validate peak memory, 1,000,000 users
BOUND_SLACK = 0.05  # requests within 5% of the lower bound
FEWER_TARGET = 50.0  # vs one entry per user, 10,000 users to one group


@dataclass
class Run:
    """One measured process: wall seconds, CPU seconds (user+sys), peak RSS in MB."""

    wall: float
    user: float
    sys: float
    rss_mb: float
    server_cpu: float  # CPU the sandbox spent while this process ran
    code: int
    output: str = field(repr=False, default="")

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def proc_cpu_seconds(pid: int) -> float:
    """User+system CPU time of a running process, from /proc (0 if unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def measure(cmd: list[str], env: dict[str, str], cwd: Path, log: Path, server_pid: int) -> Run:
    """Runs `cmd` to completion and returns its own resource usage."""
    server_before = proc_cpu_seconds(server_pid)
    with open(log, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        output = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        wall=wall,
        user=usage.ru_utime,
        sys=usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024.0,  # kilobytes on Linux
        server_cpu=proc_cpu_seconds(server_pid) - server_before,
        code=proc.returncode,
        output=output.decode(errors="replace"),
    )


class Sandbox:
    """A standalone `umapi sandbox` process with a generated org."""

    def __init__(self, umapi: Path, users: int, groups: int, profiles: int, workdir: Path):
        self.log = workdir / "sandbox.log"
        self.out_path = workdir / "sandbox.out"
        cmd = [
            str(umapi), "--color", "never", "sandbox", "--tls", "--port", "0",
            "--users", str(users), "--groups", str(groups), "--profiles", str(profiles),
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=workdir, stdout=open(self.out_path, "wb"), stderr=open(self.log, "wb"),
            start_new_session=True,
        )
        self.info = self._wait_ready()

    def _wait_ready(self, timeout: float = 300.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"umapi sandbox exited with {self.proc.returncode}:\n{self.log.read_text()}"
                )
            info = {}
            for line in self.out_path.read_text(errors="replace").splitlines():
                key, sep, value = line.partition(": ")
                if sep:
                    info[key.strip()] = value.strip()
            if "ca_bundle" in info:
                return info
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"umapi sandbox did not print its address within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def bench_config(info: dict[str, str]) -> str:
    """umapi.yaml for an OAuth connection to the standalone sandbox.

    The client-side pacing limits are raised so that neither client waits: the
    sandbox enforces no limits, and Adobe's Python client does not pace at all.
    """
    return (
        "# Written by bench/suite.py: an OAuth connection to a standalone sandbox.\n"
        "connection:\n"
        "  kind: oauth\n"
        f"  org_id: \"{info['org_id']}\"\n"
        f"  client_id: \"{info['client_id']}\"\n"
        f"  ims_host: \"{info['ims_host']}\"\n"
        f"  umapi_endpoint: \"{info['umapi_endpoint']}\"\n"
        f"  ca_bundle: \"{info['ca_bundle']}\"\n"
        "  rate_limits:\n"
        "    users_per_minute: 1000000\n"
        "    groups_per_minute: 1000000\n"
        "    actions_per_minute: 1000000\n"
        "state:\n"
        "  - state\n"
    )


READ_ONLY_SETTINGS = """\
# Written by bench/suite.py: no users and no groups are declared, and unlisted ones
# are left alone, so `umapi plan` reads the whole org and plans nothing.
settings:
  unlisted_users: ignore
  unlisted_groups: ignore
"""


def sandbox_secret(info: dict[str, str]) -> str:
    match = re.search(r"`([^`]+)`", info.get("client secret", ""))
    if not match:
        raise SystemExit("could not read the sandbox's test secret from its banner")
    return match.group(1)


def side_by_side(args, umapi: Path, python: Path, users: int) -> dict:
    """Measures `umapi plan` and the Python reader on one generated org."""
    workdir = WORK / f"org-{users}"
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in (workdir / "state").glob("**/*"):
        if stale.is_file():
            stale.unlink()
    print(f"== {users:,} users: starting the sandbox", file=sys.stderr, flush=True)
    sandbox = Sandbox(umapi, users, args.groups, args.profiles, workdir)
    try:
        info = sandbox.info
        secret = sandbox_secret(info)
        (workdir / "umapi.yaml").write_text(bench_config(info))
        read_only = workdir / "read-only"
        (read_only / "state").mkdir(parents=True, exist_ok=True)
        (read_only / "umapi.yaml").write_text(bench_config(info))
        (read_only / "state" / "settings.yaml").write_text(READ_ONLY_SETTINGS)
        env = dict(os.environ)
        for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "RUST_LOG"):
            env.pop(proxy, None)
        env["NO_PROXY"] = "127.0.0.1,localhost"
        env["NO_COLOR"] = "1"
        umapi_env = dict(env, UMAPI_CLIENT_SECRET=secret)
        python_env = dict(
            env,
            ORG_ID=info["org_id"],
            CLIENT_ID=info["client_id"],
            CLIENT_SECRET=secret,
            IMS_HOST=re.sub(r"^https://", "", info["ims_host"]).rstrip("/"),
            UMAPI_ENDPOINT=info["umapi_endpoint"],
            REQUESTS_CA_BUNDLE=info["ca_bundle"],
        )

        print(f"== {users:,} users: umapi export (the no-change desired state)", file=sys.stderr, flush=True)
        export = measure(
            [str(umapi), "-c", "umapi.yaml", "--color", "never", "export"],
            umapi_env, workdir, workdir / "export.log", sandbox.proc.pid,
        )
        if export.code != 0:
            raise SystemExit(f"umapi export failed ({export.code}):\n{(workdir / 'export.log').read_text()}")

        plan_cmd = [str(umapi), "-c", "umapi.yaml", "--color", "never", "plan", "--detailed-exitcode"]
        py_cmd = [str(python), str(ROOT / "bench" / "read_org_python.py")]
        plans: list[Run] = []
        reads: list[Run] = []
        read_only_plans: list[Run] = []
        validations: list[Run] = []
        counts = None
        for i in range(args.runs):
            # Rotate which goes first so that none always meets a warmer cache.
            order = [("umapi", plans), ("python", reads), ("umapi-read-only", read_only_plans)]
            order = order[i % 3:] + order[:i % 3]
            # `umapi validate` loads the same state files offline: the desired-state share of a plan.
            order.append(("umapi-validate", validations))
            for which, runs in order:
                print(f"== {users:,} users: run {i + 1}/{args.runs}: {which}", file=sys.stderr, flush=True)
                if which.startswith("umapi"):
                    cwd = read_only if which == "umapi-read-only" else workdir
                    cmd = plan_cmd[:-2] + ["validate"] if which == "umapi-validate" else plan_cmd
                    run = measure(cmd, umapi_env, cwd, workdir / f"{which}-{i}.log", sandbox.proc.pid)
                    if run.code != 0:
                        raise SystemExit(
                            f"umapi plan exited {run.code} (0 = no changes expected):\n"
                            f"{run.output[-3000:]}\n{(workdir / f'{which}-{i}.log').read_text()[-3000:]}"
                        )
                else:
                    run = measure(py_cmd, python_env, workdir, workdir / f"python-{i}.log", sandbox.proc.pid)
                    if run.code != 0:
                        raise SystemExit(
                            f"the Python reader failed ({run.code}):\n"
                            f"{(workdir / f'python-{i}.log').read_text()[-3000:]}"
                        )
                    counts = json.loads(run.output.strip().splitlines()[-1])
                    if counts["users"] != users:
                        raise SystemExit(f"the Python reader saw {counts['users']} users, not {users}")
                runs.append(run)
    finally:
        sandbox.stop()

    def summary(runs: list[Run]) -> dict:
        return {
            "wall_s": statistics.median(r.wall for r in runs),
            "cpu_s": statistics.median(r.cpu for r in runs),
            "user_s": statistics.median(r.user for r in runs),
            "sys_s": statistics.median(r.sys for r in runs),
            "peak_rss_mb": max(r.rss_mb for r in runs),
            "server_cpu_s": statistics.median(r.server_cpu for r in runs),
            "runs": [
                {k: v for k, v in asdict(r).items() if k != "output"} for r in runs
            ],
        }

    return {
        "users": users,
        "groups": counts["groups"] if counts else None,
        "memberships": counts["memberships"] if counts else None,
        "python_client": counts["client"] if counts else None,
        "export_wall_s": export.wall,
        "umapi": summary(plans),
        "python": summary(reads),
        "umapi_read_only": summary(read_only_plans),
        "umapi_validate": summary(validations),
    }


# ---------------------------------------------------------------- change sets applied

APPLIED_USERS = 20_000  # the org size of the planner bench's change sets


def admin(info: dict[str, str], method: str, path: str) -> dict:
    """Calls the sandbox's /_sandbox/ admin API over its HTTPS listener."""
    import ssl
    import urllib.request

    context = ssl.create_default_context(cafile=info["ca_bundle"])
    request = urllib.request.Request(info["ims_host"].rstrip("/") + "/_sandbox/" + path, method=method)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    with opener.open(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def one_entry_per_user(plan: dict) -> int:
    """Requests Adobe's client and the User Sync Tool would send for the plan's changes:
    one entry per touched user (and per touched group), ten entries per request."""
    targets = set()
    for change in plan.get("changes", []):
        if change.get("user") is not None:
            targets.add(("user", json.dumps(change["user"], sort_keys=True)))
        elif change.get("group") is not None:
            targets.add(("group", json.dumps(change["group"], sort_keys=True)))
    return -(-len(targets) // 10)


def yaml_list(items: list[str], indent: str) -> str:
    return "".join(f"{indent}- {json.dumps(item)}\n" for item in items)


def change_sets(base: Path) -> list[tuple[str, dict[str, str]]]:
    """The four change sets, as edits of the exported state files:
    (label, {file name: new text})."""
    users_text = (base / "users.yaml").read_text()
    groups_text = (base / "groups.yaml").read_text()
    settings_text = (base / "settings.yaml").read_text()
    emails = re.findall(r"^- email: (\S+)$", users_text, flags=re.M)
    group_part, _, profile_part = groups_text.partition("\nprofiles:\n")
    user_groups = re.findall(r"^- name: (.+)$", group_part, flags=re.M)
    profiles = re.findall(r"^- name: (.+)$", profile_part, flags=re.M)
    if len(emails) < 10_000 or len(user_groups) < 3 or len(profiles) < 12:
        raise SystemExit("the exported org is too small for the change sets")

    def with_members(text: str, name: str, members: list[str]) -> str:
        line = f"- name: {name}\n"
        if line not in text:
            raise SystemExit(f"`{name}` not found in the exported groups.yaml")
        return text.replace(line, line + "  members:\n" + yaml_list(members, "  "), 1)

    sets = []
    # 10,000 existing users added to one existing user group (declared as its members).
    target = user_groups[0]
    sets.append((
        "10,000 existing users added to one user group",
        {"groups.yaml": with_members(groups_text, target, emails[:10_000])},
    ))
    # 1,000 new users with two groups each.
    new_users = "users:\n" + "".join(
        f"- email: bench.new{i:04d}@example.com\n  firstname: Bench\n  lastname: New{i}\n"
        f"  country: US\n  groups:\n" + yaml_list([user_groups[1], user_groups[2]], "  ")
        for i in range(1_000)
    )
    sets.append(("1,000 new users with two groups each", {"bench-new-users.yaml": new_users}))
    # 2,000 users each added to 12 product profiles (declared as the profiles' members).
    edited = groups_text
    for name in profiles[:12]:
        head, sep, tail = edited.partition("\nprofiles:\n")
        edited = head + sep + with_members(tail, name, emails[:2_000])
    sets.append(("2,000 users each added to 12 product profiles", {"groups.yaml": edited}))
    # 500 users removed from the org: dropped from users.yaml, unlisted users removed.
    blocks = re.split(r"(?m)^(?=- email: )", users_text)
    kept = blocks[:1] + blocks[501:]
    if "unlisted_users: ignore" not in settings_text:
        raise SystemExit("the exported settings.yaml has no `unlisted_users: ignore` to change")
    sets.append((
        "500 users removed from the org",
        {
            "users.yaml": "".join(kept),
            "settings.yaml": settings_text.replace("unlisted_users: ignore", "unlisted_users: remove"),
        },
    ))
    return sets


def applied(args, umapi: Path) -> list[dict]:
    """Applies each change set to a sandbox and counts what the sandbox received."""
    workdir = WORK / "applied"
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"== change sets applied: starting a {APPLIED_USERS:,}-user sandbox", file=sys.stderr, flush=True)
    sandbox = Sandbox(umapi, APPLIED_USERS, args.groups, args.profiles, workdir)
    results = []
    try:
        info = sandbox.info
        env = {k: v for k, v in os.environ.items() if k not in ("HTTPS_PROXY", "https_proxy", "RUST_LOG")}
        env.update(NO_PROXY="127.0.0.1,localhost", NO_COLOR="1", UMAPI_CLIENT_SECRET=sandbox_secret(info))
        base = workdir / "base"
        (base / "state").mkdir(parents=True, exist_ok=True)
        for stale in (base / "state").glob("*"):
            stale.unlink()
        (base / "umapi.yaml").write_text(bench_config(info))
        run = lambda cmd, cwd: subprocess.run(  # noqa: E731
            [str(umapi), "-c", "umapi.yaml", "--color", "never", *cmd], cwd=cwd, env=env,
            capture_output=True, text=True,
        )
        done = run(["export"], base)
        if done.returncode != 0:
            raise SystemExit(f"umapi export failed:\n{done.stderr}")
        for index, (label, edits) in enumerate(change_sets(base / "state")):
            print(f"== change sets applied: {label}", file=sys.stderr, flush=True)
            admin(info, "POST", "reset")
            case = workdir / f"set-{index + 1}"
            (case / "state").mkdir(parents=True, exist_ok=True)
            for stale in (case / "state").glob("*"):
                stale.unlink()
            (case / "umapi.yaml").write_text(bench_config(info))
            for file in (base / "state").glob("*.yaml"):
                (case / "state" / file.name).write_text(file.read_text())
            for name, text in edits.items():
                (case / "state" / name).write_text(text)
            planned = run(["plan", "--format", "json", "-o", "plan.json"], case)
            if planned.returncode != 0:
                raise SystemExit(f"umapi plan failed for `{label}`:\n{planned.stderr[-3000:]}")
            plan = json.loads((case / "plan.json").read_text())
            before = admin(info, "GET", "counters")
            started = time.perf_counter()
            applied_run = run(["apply", "plan.json", "--report", "report.json"], case)
            seconds = time.perf_counter() - started
            after = admin(info, "GET", "counters")
            (case / "apply.log").write_text(applied_run.stdout + "\n--- stderr ---\n" + applied_run.stderr)
            converged = run(["plan", "--detailed-exitcode"], case).returncode == 0
            estimate = plan.get("estimate", {})
            results.append({
                "case": label,
                "apply_code": applied_run.returncode,
                "apply_seconds": seconds,
                "sent_requests": after["action_requests"] - before["action_requests"],
                "sent_entries": after["action_entries"] - before["action_entries"],
                "failed_entries": after["action_errors"] - before["action_errors"],
                "planned_requests": estimate.get("requests"),
                "planned_entries": estimate.get("entries"),
                "lower_bound": estimate.get("lower_bound_requests"),
                "one_entry_per_user": one_entry_per_user(plan),
                "converged": converged,
            })
    finally:
        sandbox.stop()
    return results


# ---------------------------------------------------------------- cargo bench

def parse_tables(text: str) -> list[list[dict[str, str]]]:
    """Markdown-style tables printed by a bench, as lists of {header: cell}."""
    tables, header, rows = [], None, []
    for line in text.splitlines() + [""]:
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue
            if header is None:
                header = [c.lower() for c in cells]
            else:
                rows.append(dict(zip(header, cells)))
        elif header is not None:
            tables.append(rows)
            header, rows = None, []
    return tables


def number(text: str) -> float | None:
    match = re.search(r"-?[\d,]*\.?\d+", text or "")
    return float(match.group(0).replace(",", "")) if match else None


def planner_bench(args) -> dict:
    """Runs the planner's cargo bench and picks its figures out of its tables."""
    cmd = ["cargo", "bench", "-q", "-p", "umapi-sync", "--bench", "planner"]
    print("== cargo bench -p umapi-sync --bench planner", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    (WORK / "planner-bench.out").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    result = {"command": " ".join(cmd), "code": proc.returncode, "planning": [], "change_sets": []}
    if proc.returncode != 0:
        result["error"] = proc.stderr[-3000:]
        return result
    for table in parse_tables(proc.stdout):
        if not table:
            continue
        keys = table[0].keys()
        if "change set" in keys:
            for row in table:
                naive_cell = row.get("one entry/user", "")
                result["change_sets"].append({
                    "case": row["change set"],
                    "requests": number(row.get("requests")),
                    "entries": number(row.get("entries")),
                    "lower_bound": number(row.get("lower bound")),
                    "one_entry_per_user": number(naive_cell),
                    "one_entry_per_user_duration": (re.search(r"\(\s*([^)]*?)\s*\)", naive_cell) or [None, ""])[1],
                    "duration": row.get("duration", ""),
                })
        elif "case" in keys and ("time" in keys or "wall time" in keys):
            for row in table:
                result["planning"].append({
                    "case": row["case"],
                    "time_s": number(row.get("wall time", row.get("time"))),
                    "cpu_s": number(row.get("cpu time")),
                    "changes": number(row.get("changes")),
                    "requests": number(row.get("requests")),
                })
    rss = re.search(r"peak resident memory of the whole run: (\d+) MB", proc.stdout)
    result["peak_rss_mb"] = int(rss.group(1)) if rss else None
    return result


# ---------------------------------------------------------------- report

def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "rustc": rustc,
        "commit": commit,
        "load_before": loadavg(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "MISS")


def minutes(requests: int) -> str:
    """How long `requests` action requests wait at Adobe's 10 requests per sliding minute:
    the first ten start at once, each further ten a minute later (as the planner's
    `pacing_seconds` and umapi-core's pacer count it)."""
    seconds = (requests - 1) // 10 * 60 if requests > 0 else 0
    return f"{seconds // 60}m{seconds % 60:02d}s"


def report(results: dict) -> tuple[str, list[tuple[str, bool]]]:
    rows: list[tuple[str, str, str, str, str, str]] = []
    targets: list[tuple[str, bool]] = []

    for org in results["orgs"]:
        n = org["users"]
        u, p, r = org["umapi"], org["python"], org["umapi_read_only"]
        is_100k = n == 100_000
        label = f"{n:,} users, {org['groups']} groups"
        speedup = p["wall_s"] / u["wall_s"]
        ok = speedup >= SPEEDUP_TARGET if is_100k else None
        rows.append((
            f"Read + plan, {label}: wall time (umapi plan vs Python read)",
            f"{u['wall_s']:.2f} s", f"{p['wall_s']:.2f} s", f"{speedup:.2f}×",
            f"≥ {SPEEDUP_TARGET:.0f}×" if is_100k else "", verdict(ok),
        ))
        if ok is not None:
            targets.append((f"100,000 users: umapi plan ≥ {SPEEDUP_TARGET:.0f}× faster than Python (wall) — {speedup:.2f}×", ok))
        if n in (100_000, 1_000_000):
            targets.append((
                f"{n:,} users: umapi plan ≥ {LARGE_SPEEDUP_TARGET:.0f}× faster than Python, same run (wall) — {speedup:.2f}×",
                speedup >= LARGE_SPEEDUP_TARGET,
            ))
        rows.append((
            f"Read + plan, {label}: CPU user+sys",
            f"{u['cpu_s']:.2f} s", f"{p['cpu_s']:.2f} s", f"{p['cpu_s'] / u['cpu_s']:.2f}×", "", "—",
        ))
        ok = u["peak_rss_mb"] < RSS_TARGET_MB if is_100k else None
        rows.append((
            f"Read + plan, {label}: peak memory (RSS)",
            f"{u['peak_rss_mb']:.0f} MB", f"{p['peak_rss_mb']:.0f} MB",
            f"{p['peak_rss_mb'] / u['peak_rss_mb']:.2f}×",
            f"< {RSS_TARGET_MB:.0f} MB" if is_100k else "", verdict(ok),
        ))
        if ok is not None:
            targets.append((f"100,000 users: umapi plan peak memory < {RSS_TARGET_MB:.0f} MB — {u['peak_rss_mb']:.0f} MB", ok))
        rows.append((
            f"Read + plan, {label}: sandbox CPU while the client ran",
            f"{u['server_cpu_s']:.2f} s", f"{p['server_cpu_s']:.2f} s", "", "", "—",
        ))
        rows.append((
            f"Read only, {label}: wall / CPU / peak memory (umapi plan, empty desired state)",
            f"{r['wall_s']:.2f} s / {r['cpu_s']:.2f} s / {r['peak_rss_mb']:.0f} MB",
            f"{p['wall_s']:.2f} s / {p['cpu_s']:.2f} s / {p['peak_rss_mb']:.0f} MB",
            f"{p['wall_s'] / r['wall_s']:.2f}× / {p['cpu_s'] / r['cpu_s']:.2f}× / {p['peak_rss_mb'] / r['peak_rss_mb']:.2f}×",
            "", "—",
        ))
        v = org.get("umapi_validate")
        if v:
            rows.append((
                f"Desired state only, {label}: wall / CPU / peak memory (umapi validate, offline)",
                f"{v['wall_s']:.2f} s / {v['cpu_s']:.2f} s / {v['peak_rss_mb']:.0f} MB", "", "", "", "—",
            ))
        # Per user, so sizes compare: a cost that stays linear keeps these flat.
        per_user = [("umapi plan", u)] + ([("umapi validate", v)] if v else [])
        rows.append((
            f"Per user, {label}: wall µs / peak bytes",
            "; ".join(f"{name} {r['wall_s'] / n * 1e6:.1f} µs / {r['peak_rss_mb'] * 1e6 / n:,.0f} B" for name, r in per_user),
            f"Python {p['wall_s'] / n * 1e6:.1f} µs / {p['peak_rss_mb'] * 1e6 / n:,.0f} B", "", "", "—",
        ))
        if n == 1_000_000:
            targets.append((
                f"1,000,000 users: umapi plan peak memory < {LARGE_PLAN_RSS_TARGET_MB:.0f} MB — {u['peak_rss_mb']:.0f} MB",
                u["peak_rss_mb"] < LARGE_PLAN_RSS_TARGET_MB,
            ))
            if v:
                targets.append((
                    f"1,000,000 users: umapi validate peak memory < {LARGE_VALIDATE_RSS_TARGET_MB:.0f} MB — {v['peak_rss_mb']:.0f} MB",
                    v["peak_rss_mb"] < LARGE_VALIDATE_RSS_TARGET_MB,
                ))

    bench = results.get("planner_bench")
    if bench is not None:
        if bench.get("code") != 0 or not (bench["planning"] or bench["change_sets"]):
            targets.append(("planner cargo bench ran and printed its tables", False))
        million = None
        for row in bench["planning"]:
            is_1m = "1,000,000" in row["case"] and "no change" in row["case"]
            ok = (row["time_s"] is not None and row["time_s"] < PLANNER_1M_TARGET_S) if is_1m else None
            if is_1m:
                million = row
            cpu = f" (CPU {row['cpu_s']:.2f} s)" if row.get("cpu_s") is not None else ""
            rows.append((
                f"Planner alone: {row['case']}",
                (f"{row['time_s']:.3f} s" if row["time_s"] is not None else "?") + cpu,
                "", f"{row['changes']:.0f} changes, {row['requests']:.0f} requests" if row["requests"] is not None else "",
                f"< {PLANNER_1M_TARGET_S:.0f} s" if is_1m else "", verdict(ok),
            ))
            if ok is not None:
                targets.append((f"planner alone, 1,000,000 users < {PLANNER_1M_TARGET_S:.0f} s — {row['time_s']:.3f} s", ok))
        if bench["planning"] and million is None:
            targets.append(("planner alone on 1,000,000 users was measured", False))
        if bench.get("peak_rss_mb"):
            rows.append(("Planner bench: peak memory of the whole bench process", f"{bench['peak_rss_mb']} MB", "", "", "", "—"))
        for row in bench["change_sets"]:
            req, bound, naive = row["requests"], row["lower_bound"], row["one_entry_per_user"]
            over = (req / bound - 1.0) if bound else 0.0
            ok = req is not None and bound is not None and req <= bound * (1 + BOUND_SLACK)
            targets.append((f"{row['case']}: requests within {BOUND_SLACK:.0%} of the lower bound — {req:.0f} vs {bound:.0f}", ok))
            fewer = naive / max(req, 1)
            rows.append((
                f"Change set: {row['case']}",
                f"{req:.0f} requests, {row['entries']:.0f} entries ({row['duration']})",
                f"bound {bound:.0f}; one entry/user {naive:.0f} ({row['one_entry_per_user_duration']})",
                f"{over:+.1%} vs bound; {fewer:.1f}× fewer",
                f"≤ +{BOUND_SLACK:.0%}" + (f"; ≥ {FEWER_TARGET:.0f}× fewer" if "10,000" in row["case"] and "one user group" in row["case"] else ""),
                "",
            ))
            if "10,000" in row["case"] and "one user group" in row["case"]:
                ok2 = fewer >= FEWER_TARGET
                targets.append((f"{row['case']}: ≥ {FEWER_TARGET:.0f}× fewer requests than one entry per user — {fewer:.1f}×", ok2))
                ok = ok and ok2
            rows[-1] = rows[-1][:5] + (verdict(ok),)
        if bench["planning"] or bench["change_sets"]:
            if not any("10,000" in r["case"] and "one user group" in r["case"] for r in bench["change_sets"]):
                targets.append(("the 10,000-users-to-one-group change set was measured", False))

    for row in results.get("applied") or []:
        sent, bound, naive = row["sent_requests"], row["lower_bound"] or 0, row["one_entry_per_user"]
        over = (sent / bound - 1.0) if bound else 0.0
        fewer = naive / max(sent, 1)
        is_10k = "10,000" in row["case"] and "one user group" in row["case"]
        checks = [
            (f"applied to the sandbox, {row['case']}: apply succeeded and a new plan shows no changes",
             row["apply_code"] == 0 and row["failed_entries"] == 0 and row["converged"]),
            (f"applied to the sandbox, {row['case']}: requests sent = requests planned — "
             f"{sent} vs {row['planned_requests']}", sent == row["planned_requests"]),
            (f"applied to the sandbox, {row['case']}: requests within {BOUND_SLACK:.0%} of the lower bound — "
             f"{sent} vs {bound}", sent <= bound * (1 + BOUND_SLACK)),
        ]
        if is_10k:
            checks.append((f"applied to the sandbox, {row['case']}: ≥ {FEWER_TARGET:.0f}× fewer requests than "
                           f"one entry per user — {fewer:.1f}×", fewer >= FEWER_TARGET))
        targets.extend(checks)
        rows.append((
            f"Applied to a {APPLIED_USERS:,}-user sandbox: {row['case']}",
            f"{sent} requests, {row['sent_entries']} entries sent ({minutes(sent)} at 10/min)",
            f"planned {row['planned_requests']}; bound {bound}; one entry/user {naive} ({minutes(naive)})",
            f"{over:+.1%} vs bound; {fewer:.1f}× fewer",
            f"= plan; ≤ +{BOUND_SLACK:.0%}" + (f"; ≥ {FEWER_TARGET:.0f}× fewer" if is_10k else ""),
            verdict(all(ok for _, ok in checks)),
        ))

    m = results["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM; {m['os']}; {m['rustc']}; "
        f"Python {m['python']}; commit {m['commit']}; {m['date']}; "
        f"load average {m['load_before']} before, {results.get('load_after', '?')} after",
        "",
        "| measurement | umapi | reference (Python client / bound) | ratio (reference ÷ umapi; > 1 = umapi better) | target | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    lines.append("")
    lines.append("Targets:")
    for text, ok in targets:
        lines.append(f"- {verdict(ok)}: {text}")
    return "\n".join(lines), targets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--umapi", type=Path, default=ROOT / "target" / "release" / "umapi")
    parser.add_argument("--python", type=Path, default=Path(sys.executable),
                        help="Python with umapi-client installed (default: this one)")
    parser.add_argument("--sizes", default="10000,100000", help="org sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per client and size (median)")
    parser.add_argument("--groups", type=int, default=200, help="user groups of the generated org")
    parser.add_argument("--profiles", type=int, default=40, help="product profiles of the generated org")
    parser.add_argument("--skip-cargo-bench", action="store_true", help="leave out the planner's cargo bench")
    parser.add_argument("--skip-applied", action="store_true",
                        help="leave out applying the change sets to a sandbox")
    parser.add_argument("--report-only", action="store_true",
                        help="print the table of the last run (target/bench/results.json) again")
    args = parser.parse_args()

    if args.report_only:
        table, targets = report(json.loads((WORK / "results.json").read_text()))
        print(table)
        return 0 if all(ok for _, ok in targets) else 3

    WORK.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "orgs": []}
    for size in (int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()):
        results["orgs"].append(side_by_side(args, args.umapi.resolve(), args.python, size))
    if not args.skip_applied:
        results["applied"] = applied(args, args.umapi.resolve())
    if not args.skip_cargo_bench:
        results["planner_bench"] = planner_bench(args)

    results["load_after"] = loadavg()
    table, targets = report(results)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    (WORK / "results.md").write_text(table + "\n")
    print(table)
    print(f"\n(also in {WORK / 'results.md'} and results.json; logs in {WORK})")
    return 0 if all(ok for _, ok in targets) else 3


if __name__ == "__main__":
    sys.exit(main())

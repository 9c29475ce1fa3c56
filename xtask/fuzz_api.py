#!/usr/bin/env python3
"""Generated-request testing of the whole API (issue #10), run by `cargo xtask fuzz-api` and by
`cargo xtask test`.

Starts `tenantry serve` on a fresh SQLite data directory, makes an admin, a developer and a
viewer through the real invitation flow, then lets schemathesis generate requests from
/openapi.json as each of the owner, admin, developer and viewer (and the operator for the
operator routes; least privileged first), in rounds with fixed seeds until at least --requests test cases were sent.

Pass = schemathesis finds no 5xx, no status code the document does not list, no response that
violates its schema, no wrong content type, no schema-invalid request accepted
(negative_data_rejection) and no operation that answers without the credential it documents
(ignored_auth); then, with the server stopped, `tenantry check` finds the database consistent
(foreign keys, settings versions and history, every stored document readable by the API's
parsers). Only requests the server answered with something other than 401 count toward the
budget: a run whose key stopped working would otherwise fill it with refusals.

With TENANTRY_TEST_PG set (`cargo xtask test` sets it), one more round runs against a server on
a fresh PostgreSQL database of that cluster.

Usage: fuzz_api.py <tenantry binary> <schemathesis executable> [--requests N]
"""

import json
import os
import re
import glob
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance,negative_data_rejection,ignored_auth")


def request(base, method, path, key=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def answered_not_401(data_dir):
    """Requests the server answered with a status other than 401, from its access lines."""
    path = os.path.join(data_dir, "server.log")
    if not os.path.exists(path):
        return 0
    count = 0
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            found = re.search(r"status[=:\"\s]+(\d{3})", line) if "handled" in line else None
            if found and found.group(1) != "401":
                count += 1
    return count


def psql():
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    return candidates[-1] if candidates else None


def start(binary, data_dir, database_url=None):
    env = dict(os.environ)
    env.update(
        TENANTRY_DATA_DIR=data_dir,
        TENANTRY_BIND="127.0.0.1:0",
        TENANTRY_WORKERS="2",
        TENANTRY_RATE_LIMIT_PER_IP="0",
        TENANTRY_RATE_LIMIT_PER_KEY="0",
        TENANTRY_OUTBOX_POLL_MS="50",
    )
    env.pop("DATABASE_URL", None)
    env.pop("TENANTRY_CONFIG", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    log = open(os.path.join(data_dir, "server.log"), "ab")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    printed = {}
    for line in proc.stdout:
        for label in ("owner API key:", "operator key:"):
            if line.startswith(label):
                printed[label] = line[len(label):].split()[0]
        if line.startswith("tenantry listening on "):
            return proc, line.split()[-1], printed["owner API key:"], printed["operator key:"]
    raise SystemExit("fuzz-api: the server exited before listening; see " + log.name)


def mailed_token(data_dir, to, prefix, within=20.0):
    """The link token in the mail to `to`, as the invitee reads it: without SMTP the server writes
    each mail as an .eml file under <data dir>/mail (the API response never holds the secret)."""
    mail_dir = os.path.join(data_dir, "mail")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for name in sorted(os.listdir(mail_dir)) if os.path.isdir(mail_dir) else []:
            with open(os.path.join(mail_dir, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            found = re.search(re.escape(prefix) + r"[A-Za-z0-9]+", text)
            if f"To: {to}" in text and found:
                return found.group(0)
        time.sleep(0.05)
    raise SystemExit(f"fuzz-api: no mail with a {prefix} link to {to} in {mail_dir}")


def member_key(base, owner, role, data_dir):
    email = f"{role}@fuzz.test"
    invited = request(base, "POST", "/v2/accounts/team/members/invite", owner,
                      {"email": email, "role": role})
    assert "tnt_inv_" not in json.dumps(invited), "the inviter never holds the secret link"
    token = mailed_token(data_dir, email, "tnt_inv_")
    accepted = request(base, "POST", f"/v2/invitations/{token}/accept", None,
                       {"password": f"a long {role} passphrase for fuzzing", "name": role})
    return accepted["apiKey"]["key"]


def schemathesis(tool, base, key, seed, examples, extra, cwd):
    cmd = [tool, "run", f"{base}/openapi.json", "--url", base,
           "-H", f"Authorization: Bearer {key}",
           "--checks", CHECKS, "--phases", "examples,coverage,fuzzing",
           "--max-examples", str(examples), "--seed", str(seed),
           # One worker: hypothesis's source inspection is not thread-safe on CPython 3.11
           # (seen: "SystemError: AST constructor recursion depth mismatch" with two).
           "--no-color", "--workers", "1", *extra]
    # Run in the data directory: schemathesis keeps a cache directory where it runs.
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    text = out.stdout + out.stderr
    generated = re.search(r"(\d+) generated", text)
    cases = int(generated.group(1)) if generated else 0
    return out.returncode, cases, text


def campaign(binary, tool, target, database_url=None, max_rounds=None):
    """One server (SQLite, or PostgreSQL at `database_url`) fuzzed as every role in rounds of
    fixed seeds until `target` non-401 answers (or `max_rounds`); returns (failures, total,
    data_dir)."""
    data_dir = tempfile.mkdtemp(prefix="tenantry-fuzz-api-")
    proc, base, owner, operator = start(binary, data_dir, database_url)
    failures = []
    total = 0
    rounds = 0
    try:
        keys = {}
        for role in ("viewer", "developer", "admin"):
            keys[role] = member_key(base, owner, role, data_dir)
        # Least privileged first: schemathesis reuses ids it saw in responses, so an owner's run
        # removes the other members (seen), and their keys must have had their turn by then.
        keys["owner"] = owner
        runs = [(name, key, []) for name, key in keys.items()]
        runs.append(("operator", operator, ["--include-path-regex", "^/(admin|metrics)"]))
        seed = 1
        while total < target and (max_rounds is None or rounds < max_rounds):
            for name, key, extra in runs:
                if name != "operator":
                    # A run whose key no longer works would only collect 401s and still pass.
                    try:
                        request(base, "GET", "/api/user/profile", key)
                    except urllib.error.HTTPError as e:
                        failures.append(f"as {name}, seed {seed}: the key stopped working ({e.code})")
                        continue
                answered_before = answered_not_401(data_dir)
                code, cases, text = schemathesis(tool, base, key, seed, 25, extra, data_dir)
                counted = answered_not_401(data_dir) - answered_before
                total += counted
                print(f"fuzz-api{' (PostgreSQL)' if database_url else ''}: seed {seed}, as {name}: "
                      f"{cases} generated, {counted} answered other than 401"
                      f"{'' if code == 0 else ' — FAILURES'}", flush=True)
                if code != 0:
                    failures.append(f"as {name}, seed {seed}:\n{text[-6000:]}")
            seed += 1
            rounds += 1
            if failures:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    check = subprocess.run([binary, "check", "--data-dir", data_dir], capture_output=True, text=True, env=env)
    print(f"fuzz-api: {total} counted requests; tenantry check: {check.stdout.strip()}", flush=True)
    if check.returncode != 0:
        failures.append("tenantry check:\n" + check.stdout + check.stderr)
    if not failures:
        # Nothing is left behind on success: the directory holds a master key, keys in the
        # server's log and the generated data. On failure it is kept, and named, to look into.
        shutil.rmtree(data_dir)
    return failures, total, data_dir


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        raise SystemExit(__doc__)
    binary, tool = args[0], args[1]
    target = int(args[args.index("--requests") + 1]) if "--requests" in args else 10000
    failures, total, data_dir = campaign(binary, tool, target)
    admin_url = os.environ.get("TENANTRY_TEST_PG", "")
    if not failures and admin_url:
        client = psql()
        if client is None:
            failures.append("TENANTRY_TEST_PG is set but no psql was found to create a database")
        else:
            name = f"tenantry_fuzz_{os.getpid()}"
            subprocess.run([client, admin_url, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
            try:
                pg_failures, pg_total, data_dir = campaign(
                    binary, tool, float("inf"), admin_url.rsplit("/", 1)[0] + "/" + name,
                    max_rounds=1)
                failures += pg_failures
                total += pg_total
            finally:
                subprocess.run([client, admin_url, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    if failures:
        print("\n\n".join(failures))
        print(f"fuzz-api: FAILED (data kept in {data_dir})")
        sys.exit(1)
    print(f"fuzz-api: ok, {total} requests answered other than 401, no server error or undocumented "
          "response, database consistent")


if __name__ == "__main__":
    main()

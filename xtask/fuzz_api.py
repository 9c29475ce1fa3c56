#!/usr/bin/env python3
"""Generated-request testing of the whole API (issue #10), run by `cargo xtask fuzz-api` and by
`cargo xtask test`.

Starts `tenantry serve` on a fresh SQLite data directory, makes an admin, a developer and a
viewer through the real invitation flow, then lets schemathesis generate requests from
/openapi.json as each of the owner, admin, developer and viewer (and the operator for the
operator routes; least privileged first), in rounds with fixed seeds until at least --requests test cases were sent.

Pass = schemathesis finds no 5xx, no status code the document does not list, no response that
violates its schema and no wrong content type; then, with the server stopped, `tenantry check`
finds the database consistent (foreign keys, settings versions and history, every stored
document readable by the API's parsers).

Usage: fuzz_api.py <tenantry binary> <schemathesis executable> [--requests N]
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def request(base, method, path, key=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def start(binary, data_dir):
    env = dict(os.environ)
    env.update(
        TENANTRY_DATA_DIR=data_dir,
        TENANTRY_BIND="127.0.0.1:0",
        TENANTRY_WORKERS="2",
        TENANTRY_RATE_LIMIT_PER_IP="0",
        TENANTRY_RATE_LIMIT_PER_KEY="0",
    )
    env.pop("DATABASE_URL", None)
    env.pop("TENANTRY_CONFIG", None)
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


def member_key(base, owner, role):
    invited = request(base, "POST", "/v2/accounts/team/members/invite", owner,
                      {"email": f"{role}@fuzz.test", "role": role})
    token = invited["invitation"]["inviteUrl"].rsplit("/", 1)[-1]
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


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        raise SystemExit(__doc__)
    binary, tool = args[0], args[1]
    target = int(args[args.index("--requests") + 1]) if "--requests" in args else 10000
    data_dir = tempfile.mkdtemp(prefix="tenantry-fuzz-api-")
    proc, base, owner, operator = start(binary, data_dir)
    failures = []
    total = 0
    try:
        keys = {}
        for role in ("viewer", "developer", "admin"):
            keys[role] = member_key(base, owner, role)
        # Least privileged first: schemathesis reuses ids it saw in responses, so an owner's run
        # removes the other members (seen), and their keys must have had their turn by then.
        keys["owner"] = owner
        runs = [(name, key, []) for name, key in keys.items()]
        runs.append(("operator", operator, ["--include-path-regex", "^/(admin|metrics)"]))
        seed = 1
        while total < target:
            for name, key, extra in runs:
                if name != "operator":
                    # A run whose key no longer works would only collect 401s and still pass.
                    try:
                        request(base, "GET", "/api/user/profile", key)
                    except urllib.error.HTTPError as e:
                        failures.append(f"as {name}, seed {seed}: the key stopped working ({e.code})")
                        continue
                code, cases, text = schemathesis(tool, base, key, seed, 25, extra, data_dir)
                total += cases
                print(f"fuzz-api: seed {seed}, as {name}: {cases} requests"
                      f"{'' if code == 0 else ' — FAILURES'}", flush=True)
                if code != 0:
                    failures.append(f"as {name}, seed {seed}:\n{text[-6000:]}")
            seed += 1
            if failures:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
    check = subprocess.run([binary, "check", "--data-dir", data_dir], capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
    print(f"fuzz-api: {total} generated requests; tenantry check: {check.stdout.strip()}", flush=True)
    if check.returncode != 0:
        failures.append("tenantry check:\n" + check.stdout + check.stderr)
    if failures:
        print("\n\n".join(failures))
        print(f"fuzz-api: FAILED (data kept in {data_dir})")
        sys.exit(1)
    print(f"fuzz-api: ok, {total} requests, no server error or undocumented response, database consistent")


if __name__ == "__main__":
    main()

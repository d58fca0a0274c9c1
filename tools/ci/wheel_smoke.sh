#!/usr/bin/env bash
# flasharb as a user gets it: build the wheel, install it into a fresh venv outside this checkout
# (pinned by requirements.lock, from PyPI), then in an empty folder run setup, replica build,
# node up, deploy, shock, scan and node down; then a user's own test suite (examples/user_project)
# with only the installed pytest plugin. The node toolchain goes into a fresh cache (npm ci
# of the lock inside the wheel), state into the empty folder; nothing may be written into the
# venv's site-packages. Every anvil started is stopped, whatever fails.
#
#   tools/ci/wheel_smoke.sh            # uses the python of .venv (3.11) to make the fresh venv
#   KEEP=1 tools/ci/wheel_smoke.sh     # keep the temporary folder for a look
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
base_python="$("$repo/.venv/bin/python" -c 'import sys; print(sys._base_executable)' 2>/dev/null \
  || command -v python3.11)"
work="$(mktemp -d /tmp/flasharb-wheel-smoke.XXXXXX)"
proj="$work/project"   # the user's empty project folder
venv="$work/venv"

cleanup() {
  local rc=$?
  if [ -x "$venv/bin/flasharb" ] && [ -d "$proj" ]; then
    (cd "$proj" && env -u PYTHONPATH "$venv/bin/flasharb" node down >/dev/null 2>&1) || true
  fi
  if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
  exit $rc
}
trap cleanup EXIT

step() { printf '\n== [%ss] %s\n' "$SECONDS" "$*"; }  # seconds since the start: where time goes

step "wheel (from the checkout's files, in a copy: no stale build/ of the checkout)"
mkdir -p "$work/src" "$work/dist" "$proj"
(cd "$repo" && git ls-files -co --exclude-standard -z | grep -zv '^node_modules' \
  | xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$work/src"
quiet_pip() { grep -v 'is ignored: it is neither a file nor a directory' || true; }  # local index noise
"$base_python" -m pip wheel -q --no-deps --disable-pip-version-check -w "$work/dist" "$work/src" \
  2>&1 | quiet_pip
wheel="$(ls "$work"/dist/flasharb-*.whl)"
echo "$wheel"

step "fresh venv outside the checkout, flasharb and its pinned dependencies from PyPI"
"$base_python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$repo/requirements.lock" \
  "$wheel" 2>&1 | quiet_pip
"$venv/bin/python" -c 'import flasharb' || { echo "flasharb did not install"; exit 1; }

# From here on: the installed package only (no PYTHONPATH, no FLASHARB_* of this checkout).
unset PYTHONPATH FLASHARB_ROOT FLASHARB_PROJECT FLASHARB_STATE_DIR FLASHARB_BUILD_DIR \
  FLASHARB_TOOLCHAIN FLASHARB_ANVIL FLASHARB_RPC_URL FLASHARB_FORK_URL FLASHARB_REPLICA_SPEC
export FLASHARB_CACHE_DIR="$work/cache"   # a first use: nothing installed yet
export PATH="$venv/bin:$PATH"
cd "$proj"
site="$("$venv/bin/python" -c 'import flasharb, pathlib; print(pathlib.Path(flasharb.__file__).parent)')"
case "$site" in "$venv"/*) ;; *) echo "flasharb imported from $site, not the fresh venv"; exit 1;; esac

step "flasharb setup (first use: npm ci of the lock inside the wheel, into the cache)"
flasharb setup
step "flasharb setup --ape: ape-solidity / py-solc-x and ape-foundry find solc and anvil in this venv"
flasharb setup --ape --json > /dev/null
"$venv/bin/python" -c 'import solcx; v = solcx.get_installed_solc_versions(); print("py-solc-x sees", v); assert [str(x) for x in v] == ["0.8.28"]'
"$venv/bin/anvil" --version | head -1
step "flasharb replica build"
flasharb replica build
step "flasharb node up"
flasharb node up
step "flasharb deploy"
flasharb deploy
step "flasharb shock (symbols and units) and flasharb scan"
flasharb shock --pool 0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc --token-in WETH --amount-in 500ether
flasharb scan --max-hops 2 --limit 3
flasharb scan --max-hops 2 --json > "$work/scan.json"
flasharb pools --venue sushiswap --token WETH --token USDC
flasharb cheat deal USDC 0x000000000000000000000000000000000000bEEF 2.5e6USDC
"$venv/bin/python" - "$work/scan.json" <<'PY'
import json, sys
scan = json.load(open(sys.argv[1]))
assert scan["opportunities"], "the scan after a 500 WETH shock found nothing"
print(f"scan: block {scan['block']}, {len(scan['opportunities'])} opportunities")
PY
pids="$("$venv/bin/python" -c 'import json; print(" ".join(str(p["pid"]) for p in json.load(open(".flasharb/node.json"))["processes"]))')"
step "flasharb node down"
flasharb node down
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null; then echo "anvil pid $pid still runs after node down"; exit 1; fi
done

step "where things went"
for f in .flasharb build/replica; do
  [ -e "$proj/$f" ] || { echo "missing $proj/$f"; exit 1; }
done
leaked="$(find "$site" \( -name .flasharb -o -name build -o -name reports -o -name node_modules \) -print)"
[ -z "$leaked" ] || { echo "written into the installed package: $leaked"; exit 1; }
echo "state in $proj: $(ls -A "$proj" | tr '\n' ' ')"
echo "toolchain in $FLASHARB_CACHE_DIR: $(ls "$FLASHARB_CACHE_DIR" | tr '\n' ' ')"
step "examples/user_project: a user's own pytest suite, with only the installed plugin"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$repo/requirements.lock" \
  pytest 2>&1 | quiet_pip
cp -r "$repo/examples/user_project" "$work/user_project"
cd "$work/user_project"
# the replica built above is reused (FLASHARB_BUILD_DIR); the plugin starts and stops its own lab
FLASHARB_BUILD_DIR="$proj/build" "$venv/bin/python" -m pytest -p no:cacheprovider -q \
  --junitxml="$work/user_project.xml"
"$venv/bin/python" - "$work/user_project.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
n, bad = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
assert n >= 4 and bad == 0 and int(suite.get("skipped")) == 0, (n, bad)
print(f"user project: {n} tests, all passed")
PY
echo "wheel smoke: passed"

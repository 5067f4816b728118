#!/usr/bin/env bash
# Faultline on a fresh Debian machine, as root (or with sudo):
#   ./run.sh demo   install everything, then start the demo at http://127.0.0.1:8000
#   ./run.sh test   install everything, then run every check and test
# Safe to run again: installed pieces are kept, changed dependencies are updated.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root (or sudo) to install Debian packages: $*"; fi
}

apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    # --no-install-recommends: the prometheus package recommends node-exporter, which we do not need.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

python_ok() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

setup_python() {
    local python=python3
    if ! command -v "$python" >/dev/null || ! python_ok "$python"; then
        apt_install python3 python3-venv
        python=/usr/bin/python3
    fi
    python_ok "$python" || die "Python 3.11 or newer with venv is needed ($python is $("$python" --version 2>&1))"
    if [ ! -x .venv/bin/python ]; then
        say "creating .venv with $("$python" --version)"
        "$python" -m venv .venv
    fi
    # Reinstall only when the dependency list changed.
    local stamp=.venv/.faultline-deps
    local wanted
    wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        say "installing Python dependencies (this takes a minute the first time)"
        .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
        echo "$wanted" > "$stamp"
    fi
}

run_tests() {
    say "ruff"
    .venv/bin/ruff check app tests bench
    .venv/bin/ruff format --check app tests bench
    say "mypy (strict) on app/"
    .venv/bin/mypy app
    say "import contracts"
    .venv/bin/lint-imports
    say "pytest"
    local status=0
    .venv/bin/pytest "$@" || status=$?
    if [ "$status" -eq 5 ]; then
        die "pytest collected no tests: that is a broken test tree, not a pass"
    fi
    return "$status"
}

command=${1:-}
shift || true
case "$command" in
    demo)
        apt_install prometheus prometheus-alertmanager
        setup_python
        exec .venv/bin/faultline demo "$@"
        ;;
    test)
        apt_install prometheus prometheus-alertmanager victoria-metrics chromium chromium-driver
        setup_python
        run_tests "$@"
        ;;
    *)
        die "usage: ./run.sh demo | ./run.sh test [pytest args]"
        ;;
esac

# shellcheck shell=bash
# Sourced by scripts/demo and scripts/setup-test-env (one package check, not two copies of it).
#
# Why: on a fresh Debian machine with only Swift installed, the build fails after minutes with
# "'curl/curl.h' file not found". Checking the Debian packages first turns that into an answer at once:
# install what is missing, or say exactly which command would.
#
# ensure_debian_packages PKG...
#   Installs the missing PKGs (apt-get update + install -y, non-interactive) when running as root or when
#   `sudo -n true` works. Otherwise prints the exact `sudo apt-get install -y …` line for the missing ones and
#   returns 1, having started nothing. Also returns 1 when apt-get fails (callers may use `|| exit 1`, where
#   set -e does not act inside the function). Without dpkg (not Debian: macOS, other distributions) it checks nothing.
#
# Knob (for tests; documented in scripts/demo too):
#   SVAR_NO_INSTALL=1  never install: behave as a user who is not root and has no non-interactive sudo.
# The check itself is `dpkg -s`, found on PATH, so a test can put a stand-in dpkg first on PATH.

# The packages Svar's build needs: SQLite (GRDB), OpenSSL headers, libcurl and pkg-config (the CCurl module, for SMTP).
# shellcheck disable=SC2034  # used by the scripts that source this file
svar_build_packages=(libsqlite3-dev libssl-dev libcurl4-openssl-dev pkg-config)

# Prints the PKGs that are not installed (one line, space-separated; empty when all are installed).
missing_debian_packages() {
  local p missing=()
  for p in "$@"; do
    # `dpkg -s` also succeeds for a removed package whose configuration files remain: look at the status.
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed$' || missing+=("$p")
  done
  echo "${missing[*]}"
}

ensure_debian_packages() {
  if ! command -v dpkg >/dev/null 2>&1; then
    return 0
  fi
  local missing
  read -r -a missing <<< "$(missing_debian_packages "$@")"
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  # How to become root for apt-get: already root (no prefix), non-interactive sudo, or not at all.
  local as_root=() can_install=1
  if [ "${SVAR_NO_INSTALL:-}" = 1 ]; then
    can_install=0
  elif [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); else can_install=0; fi
  fi
  if [ "$can_install" = 0 ]; then
    echo "Missing Debian packages: ${missing[*]}. Install them, then run this again:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "== installing Debian packages: ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
}

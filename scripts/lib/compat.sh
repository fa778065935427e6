# shellcheck shell=bash
# Shared by the compatibility wrappers in scripts/ that keep the upstream shell toolkit's
# script names and argument orders working (issue 11; MIGRATION.md has the table).
#
# Sourced, never run. It holds no coordination logic: the deprecation line, finding the
# `coord`/`sm` to run, the default repository, and usage errors (exit 2, nothing changed).
# Every decision (who may read what, what a claim is, what is committed) is coord's.

# The wrapper's name, for messages: send_message.sh, job_queue.sh, …
COMPAT_PROG=${0##*/}
# The build-coord installation: the folder above scripts/ (it holds bin/coord.js).
COMPAT_INSTALL=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly COMPAT_PROG COMPAT_INSTALL

# compat_deprecated TEXT: one line on stderr naming the coord command to use instead,
# unless COORD_QUIET_COMPAT is set to 1/true/yes/on.
compat_deprecated() {
  case "${COORD_QUIET_COMPAT:-}" in
    1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss] | [Oo][Nn]) ;;
    *) printf '%s: deprecated wrapper (COORD_QUIET_COMPAT=1 silences this); use: %s\n' "$COMPAT_PROG" "$1" >&2 ;;
  esac
}

# compat_usage WHY USAGE: a usage error — exit 2 before anything ran, so nothing changed.
compat_usage() {
  printf '%s: usage error: %s\nusage: %s\n' "$COMPAT_PROG" "$1" "$2" >&2
  exit 2
}

# compat_require USAGE NAME VALUE: a required argument must not be empty (an empty builder
# would otherwise fall back to this machine's identity).
compat_require() {
  [[ -n "$3" ]] || compat_usage "$2 is missing or empty" "$1"
}

# The repository: COORD_REPO / the nearest parent of the working folder holding
# coordination/ (coord's own rule), else — for cron entries that run from $HOME — the
# installation itself, but only when it is a set-up builder clone (it holds
# .build_server_id or .git/coord/setup.json). A developer's checkout of build-coord is
# never used: its origin is the upstream project, not a fleet. Otherwise: usage error
# (exit 2) before anything ran.
compat_default_repo() {
  [[ -n "${COORD_REPO:-}" ]] && return 0
  local d=$PWD
  while :; do
    [[ -d "$d/coordination" ]] && return 0
    [[ "$d" == / || -z "$d" ]] && break
    d=$(dirname "$d")
  done
  if [[ -d "$COMPAT_INSTALL/coordination" ]] &&
    [[ -f "$COMPAT_INSTALL/.build_server_id" || -f "$COMPAT_INSTALL/.git/coord/setup.json" ]]; then
    export COORD_REPO="$COMPAT_INSTALL"
    return 0
  fi
  printf '%s: usage error: no coordination repository here: run from your fleet clone, or set COORD_REPO\n' "$COMPAT_PROG" >&2
  exit 2
}

# compat_not_option USAGE NAME VALUE: a positional value that is a name (builder, branch,
# commit, job id, status) must not start with "-": coord would read it as an option.
compat_not_option() {
  [[ "$3" != -* ]] || compat_usage "$2 \"$3\" starts with \"-\": give a value, not an option" "$1"
}

# compat_builder USAGE VALUE: sets COMPAT_BUILDER to the builder VALUE names: a plain
# number N (1-9999) is buildN, like sm, heartbeat.sh and coord --builder; anything else is
# passed on as it is (coord checks it is a configured builder), but never an option.
# shellcheck disable=SC2034 # COMPAT_BUILDER is read by the wrappers that source this file
COMPAT_BUILDER=
# shellcheck disable=SC2034
compat_builder() {
  compat_require "$1" buildN "$2"
  compat_not_option "$1" buildN "$2"
  if [[ "$2" =~ ^[1-9][0-9]{0,3}$ ]]; then COMPAT_BUILDER="build$2"; else COMPAT_BUILDER=$2; fi
}

# compat_exec TOOL ARGS…: replaces this process with coord or sm (TOOL) from this
# installation (node bin/TOOL.js), else the one on PATH.
compat_exec() {
  local tool=$1
  shift
  compat_default_repo
  if [[ -f "$COMPAT_INSTALL/bin/$tool.js" ]] && command -v node >/dev/null 2>&1; then
    exec node "$COMPAT_INSTALL/bin/$tool.js" "$@"
  elif command -v "$tool" >/dev/null 2>&1; then
    exec "$tool" "$@"
  fi
  printf '%s: cannot find %s (neither %s nor %s on PATH); run scripts/setup_build.sh N\n' \
    "$COMPAT_PROG" "$tool" "$COMPAT_INSTALL/bin/$tool.js with node" "$tool" >&2
  exit 1
}

# compat_coord ARGS…: runs coord (replacing this process).
compat_coord() { compat_exec coord "$@"; }

# compat_sm ARGS…: runs sm (replacing this process).
compat_sm() { compat_exec sm "$@"; }

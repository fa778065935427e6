#!/usr/bin/env bash
# Make this machine builder N of a build-coord fleet (DESIGN.md section 10).
#
#   git clone <repo> Build && cd Build/scripts && ./setup_build1.sh
#
# The build-coord installation is the folder above this script (it holds package.json and
# bin/coord.js). The coordination repository is that same folder — in the upstream flow the
# project repo IS the coordination repo — unless --repo names another clone.
#
# Every step is idempotent and reports `done`, `already done`, `skipped (why)` or, with
# --dry-run, `would do (what)`; a second run changes no file. Run it again after moving the
# clone, upgrading node, or pulling a new version: it rewrites only what changed.
#
# Exit codes: 0 done; 1 a prerequisite is missing or a step failed (the message says what
# to do); 2 usage; 3 everything is installed but `coord validate` found invalid files.
set -euo pipefail
# Let failures inside $(…) stop the script too (bash 4.4+).
shopt -s inherit_errexit 2>/dev/null || true

readonly PROG=setup_build.sh

usage() {
  cat <<'EOF'
Usage: setup_build.sh N [options]

Make this machine builder N (build<N>) of the fleet whose clone this script lives in.

Options:
  --repo DIR       the coordination clone (default: the folder above scripts/)
  --prefix DIR     write system files (cron entry, systemd unit, command links) under DIR
                   instead of /; the unit is then not enabled (for tests and packaging)
  --bin-dir DIR    where to link coord, sendmessages, sm (default: PREFIX/usr/local/bin)
  --user USER      the user the cron heartbeat and the daemon run as
                   (default: the owner of the clone, which must be that user)
  --no-cron        no cron heartbeat entry
  --no-systemd     no systemd unit
  --no-install     use node_modules and dist/ as they are (no npm ci, no build)
  --force          make the clone builder N even if .build_server_id names another builder
  --dry-run        print every action, write nothing
  -h, --help       this text

Steps: check node (20 or newer) and git; npm ci when node_modules is missing or
package-lock.json changed (a stamp in node_modules records what was installed); build when
the sources changed; write .build_server_id; set the clone's git identity; register the
merge driver and the pre-commit hook; link the commands; write the cron entry and the
systemd unit (and enable it when systemd runs and no --prefix is given); record the set-up
for `coord doctor`; run `coord validate`.
EOF
}

fail() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

usage_error() {
  printf '%s: %s\nRun %s --help for usage.\n' "$PROG" "$*" "$PROG" >&2
  exit 2
}

# ---------------------------------------------------------------- arguments
N=""
PREFIX=""
BIN_DIR=""
RUN_USER=""
REPO=""
DRY_RUN=0
WITH_CRON=1
WITH_SYSTEMD=1
WITH_INSTALL=1
FORCE=0

need_value() {
  [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"
}

while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --dry-run) DRY_RUN=1 ;;
    --no-cron) WITH_CRON=0 ;;
    --no-systemd) WITH_SYSTEMD=0 ;;
    --no-install) WITH_INSTALL=0 ;;
    --force) FORCE=1 ;;
    --prefix) need_value "$@"; PREFIX=$2; shift ;;
    --prefix=*) PREFIX=${1#*=} ;;
    --bin-dir) need_value "$@"; BIN_DIR=$2; shift ;;
    --bin-dir=*) BIN_DIR=${1#*=} ;;
    --user) need_value "$@"; RUN_USER=$2; shift ;;
    --user=*) RUN_USER=${1#*=} ;;
    --repo) need_value "$@"; REPO=$2; shift ;;
    --repo=*) REPO=${1#*=} ;;
    -*) usage_error "unknown option $1" ;;
    *)
      [[ -z $N ]] || usage_error "one builder number only (got $N and $1)"
      N=$1 ;;
  esac
  shift
done
[[ -n $N ]] || usage_error "name the builder number: setup_build.sh N (e.g. 1 for build1)"
[[ $N =~ ^[1-9][0-9]{0,3}$ ]] || usage_error "builder number \"$N\": give a whole number from 1 to 9999"
readonly BUILDER="build$N"

# ---------------------------------------------------------------- prerequisites
# Only bash builtins until node and git are known to be there, so the message about a
# missing one is the first thing that can go wrong.
NODE=$(command -v node || true)
if [[ -z $NODE ]]; then
  fail "node is not installed (or not in PATH). build-coord needs Node.js 20 or newer:
  install it from https://nodejs.org/en/download (or your distribution's nodejs package,
  e.g. NodeSource for Debian/Ubuntu), then run this again."
fi
[[ $NODE == /* ]] || NODE="$PWD/$NODE"
NODE_VERSION=$("$NODE" --version 2>/dev/null || true)
if [[ ! $NODE_VERSION =~ ^v([0-9]+)\. ]]; then
  fail "$NODE does not report a version (\"$NODE_VERSION\"): is it Node.js? Install Node.js 20 or newer and run this again."
fi
NODE_MAJOR=${BASH_REMATCH[1]}
if (( NODE_MAJOR < 20 )); then
  fail "Node.js $NODE_VERSION at $NODE is too old: build-coord needs 20 or newer.
  Install Node.js 20+ (https://nodejs.org/en/download, NodeSource, or nvm install 20),
  make it the first node in PATH, then run this again."
fi
GIT=$(command -v git || true)
if [[ -z $GIT ]]; then
  fail "git is not installed (or not in PATH): install it (apt-get install git, dnf install git,
  apk add git), then run this again."
fi
GIT_VERSION=$(git --version 2>/dev/null || true)
GIT_VERSION=${GIT_VERSION#git version }

# ---------------------------------------------------------------- where things are
case ${BASH_SOURCE[0]} in
  */*) SCRIPT_DIR=${BASH_SOURCE[0]%/*} ;;
  *) SCRIPT_DIR=. ;;
esac
PKG_DIR=$(cd "$SCRIPT_DIR/.." && pwd -P)
readonly PKG_DIR
[[ -f $PKG_DIR/package.json && -f $PKG_DIR/bin/coord.js ]] ||
  fail "$PKG_DIR is not a build-coord installation (no package.json and bin/coord.js): run the script from its scripts/ folder."
# As node sees it (symlinks resolved): coord compares hooks and the merge driver with it.
COORD_JS=$(readlink -f "$PKG_DIR/bin/coord.js")

if [[ -z $REPO ]]; then REPO=$PKG_DIR; fi
[[ -d $REPO ]] || fail "--repo $REPO: no such folder"
REPO=$(cd "$REPO" && pwd -P)

owner_of() { stat -c %U "$1"; }
REPO_OWNER=$(owner_of "$REPO")
PKG_OWNER=$(owner_of "$PKG_DIR")
# Running as root on a clone (or installation) owned by someone else: act as that owner,
# so every file we create in it stays theirs and git does not call it "dubious ownership".
as_owner_of() {
  local owner=$1; shift
  if [[ $EUID -eq 0 && $owner != root ]]; then
    command -v runuser >/dev/null 2>&1 || fail "runuser (util-linux) is needed to act as $owner, the owner of $REPO"
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}
in_repo() { as_owner_of "$REPO_OWNER" "$@"; }
# Git on the clone, as its owner.
rgit() { in_repo git -C "$REPO" "$@"; }
# A file written as root inside the clone goes to the clone's owner.
give_to_owner() {
  if [[ $EUID -eq 0 && $REPO_OWNER != root ]]; then chown "$REPO_OWNER:" "$@"; fi
}

TOP=$(rgit rev-parse --show-toplevel 2>/dev/null || true)
[[ -n $TOP ]] || fail "$REPO is not a git clone: clone the fleet's coordination repository (git clone URL Build) and run this there (or pass --repo)."
TOP=$(cd "$TOP" && pwd -P)
[[ $TOP == "$REPO" ]] || fail "$REPO is inside the clone $TOP: pass the top of the clone (--repo $TOP)."
[[ -d $REPO/coordination ]] ||
  fail "$REPO holds no coordination/ folder: it is not a coordination repository. Clone the fleet's repository, or create the tree with coord init and push it."
GIT_DIR_ABS=$(rgit rev-parse --absolute-git-dir)
STATE_DIR="$GIT_DIR_ABS/coord"

if [[ -n $PREFIX ]]; then
  [[ $PREFIX == /* ]] || PREFIX="$PWD/$PREFIX"
  PREFIX=${PREFIX%/}
fi
[[ -n $BIN_DIR ]] || BIN_DIR="$PREFIX/usr/local/bin"
[[ $BIN_DIR == /* ]] || BIN_DIR="$PWD/$BIN_DIR"
CRON_FILE="$PREFIX/etc/cron.d/build-coord-$BUILDER"
UNIT_NAME="build-coord-$BUILDER.service"
UNIT_FILE="$PREFIX/etc/systemd/system/$UNIT_NAME"

# The cron entry and the systemd unit carry these paths; refuse what they cannot carry safely.
for p in "$REPO" "$PKG_DIR" "$NODE" "$GIT"; do
  if [[ $p =~ [[:space:]\'\"\\%\$\`] ]]; then
    fail "path \"$p\" contains a space or one of ' \" \\ % \$ \`: the cron entry and systemd unit cannot carry it safely; move it to a plain path."
  fi
done

[[ -n $RUN_USER ]] || RUN_USER=$REPO_OWNER
id -u "$RUN_USER" >/dev/null 2>&1 || fail "--user $RUN_USER: no such user on this machine."
if [[ $RUN_USER != "$REPO_OWNER" ]]; then
  fail "the daemon would run as $RUN_USER, but $REPO belongs to $REPO_OWNER (git refuses to work in a clone another user owns,
  and the daemon must write there): pass --user $REPO_OWNER, or chown -R $RUN_USER $REPO first."
fi
coord() { in_repo "$NODE" "$COORD_JS" --repo "$REPO" "$@"; }

# PATH for cron and the daemon (and the jobs it runs): the folders of this node and git
# first (an nvm or /opt install is not in cron's PATH), then the usual ones.
SERVICE_PATH=""
for d in "${NODE%/*}" "${GIT%/*}" /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  case ":$SERVICE_PATH:" in *":$d:"*) ;; *) SERVICE_PATH=${SERVICE_PATH:+$SERVICE_PATH:}$d ;; esac
done

if [[ -z $PREFIX && $EUID -ne 0 && $DRY_RUN -eq 0 ]]; then
  if (( WITH_CRON || WITH_SYSTEMD )) || ! { mkdir -p "$BIN_DIR" 2>/dev/null && [[ -w $BIN_DIR ]]; }; then
    fail "writing /etc/cron.d, /etc/systemd/system and $BIN_DIR needs root: run with sudo,
  or pass --prefix DIR, or --no-cron --no-systemd --bin-dir ~/.local/bin."
  fi
fi

# ---------------------------------------------------------------- reporting
report() { printf '[setup] %s: %s\n' "$1" "$2"; }
check_line() { printf '[check] %s: %s\n' "$1" "$2"; }
show_text() { local line; while IFS= read -r line; do printf '    | %s\n' "$line"; done <<<"$1"; }

# install_text FILE MODE CONTENT: writes FILE atomically when its content or mode differ.
# Prints the status word: done, already done, would do.
install_text() {
  local file=$1 mode=$2 content=$3 dir tmp
  if [[ -f $file && ! -L $file ]] && cmp -s "$file" <(printf '%s' "$content") &&
     [[ $(stat -c %a "$file") == "$mode" ]]; then
    printf 'already done'; return
  fi
  if (( DRY_RUN )); then printf 'would do'; return; fi
  dir=$(dirname "$file")
  mkdir -p "$dir"
  tmp=$(mktemp "$dir/.${file##*/}.XXXXXX")
  printf '%s' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$file"
  printf 'done'
}

# hash_paths PATH…: sha256 over the names and contents of files (folders walked, sorted).
hash_paths() {
  "$NODE" -e '
    const fs = require("fs"), path = require("path"), h = require("crypto").createHash("sha256");
    const walk = (p) => {
      const st = fs.statSync(p, { throwIfNoEntry: false });
      if (!st) { h.update("missing " + p + "\0"); return; }
      if (st.isDirectory()) { for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n)); return; }
      h.update(p + "\0"); h.update(fs.readFileSync(p)); h.update("\0");
    };
    for (const p of process.argv.slice(1)) walk(p);
    process.stdout.write(h.digest("hex"));
  ' "$@"
}

DRY_NOTE=""
if (( DRY_RUN )); then DRY_NOTE=" (dry run: nothing is written)"; fi
printf 'Setting up %s: installation %s, clone %s%s%s\n' "$BUILDER" "$PKG_DIR" "$REPO" "${PREFIX:+, system files under $PREFIX}" "$DRY_NOTE"
check_line "node" "ok ($NODE_VERSION at $NODE)"
check_line "git" "ok ($GIT_VERSION at $GIT)"

# ---------------------------------------------------------------- 1. dependencies and build
INSTALL_STAMP="$PKG_DIR/node_modules/.coord-setup-stamp"
BUILD_STAMP="$PKG_DIR/dist/.coord-build-stamp"
step_install() {
  if (( ! WITH_INSTALL )); then
    report "dependencies" "skipped (--no-install)"
    report "build" "skipped (--no-install)"
    [[ -f $PKG_DIR/dist/cli/coord.js ]] || fail "--no-install, but $PKG_DIR/dist is not built: run npm ci in $PKG_DIR (or drop --no-install)."
    return
  fi
  local want why="" built=0
  want="lock=$(hash_paths "$PKG_DIR/package-lock.json") node=$NODE_MAJOR"
  if [[ ! -d $PKG_DIR/node_modules ]]; then why="node_modules is missing"
  elif [[ ! -f $INSTALL_STAMP ]]; then why="no record of what was installed"
  elif [[ $(<"$INSTALL_STAMP") != "$want" ]]; then why="package-lock.json or the node major version changed"
  fi
  if [[ -z $why ]]; then
    report "dependencies" "already done (node_modules matches package-lock.json)"
  elif (( DRY_RUN )); then
    report "dependencies" "would do (npm ci in $PKG_DIR: $why)"
  else
    command -v npm >/dev/null 2>&1 || fail "npm is not installed (it comes with Node.js; some distributions package it apart: apt-get install npm)."
    # npm ci runs the prepare script, which builds dist/.
    (cd "$PKG_DIR" && as_owner_of "$PKG_OWNER" npm ci --no-audit --no-fund) >&2 || fail "npm ci failed in $PKG_DIR (output above)."
    printf '%s\n' "$want" >"$INSTALL_STAMP"
    report "dependencies" "done (npm ci: $why)"
    built=1
  fi

  local sources=("$PKG_DIR/lib" "$PKG_DIR/tsconfig.json" "$PKG_DIR/package-lock.json") bwant
  if [[ ! -d $PKG_DIR/lib ]]; then
    report "build" "skipped (no lib/ sources in this installation)"
    return
  fi
  bwant=$(hash_paths "${sources[@]}")
  if (( built )); then
    printf '%s\n' "$bwant" >"$BUILD_STAMP"
    report "build" "done (by npm ci's prepare script)"
  elif [[ -f $PKG_DIR/dist/cli/coord.js && -f $BUILD_STAMP && $(<"$BUILD_STAMP") == "$bwant" ]]; then
    report "build" "already done (dist/ matches the sources)"
  elif (( DRY_RUN )); then
    report "build" "would do (npm run build in $PKG_DIR)"
  else
    (cd "$PKG_DIR" && as_owner_of "$PKG_OWNER" npm run build) >&2 || fail "npm run build failed in $PKG_DIR (output above)."
    printf '%s\n' "$bwant" >"$BUILD_STAMP"
    report "build" "done (npm run build)"
  fi
}
step_install
COORD_READY=0
if [[ -f $PKG_DIR/dist/cli/coord.js ]]; then COORD_READY=1
elif (( ! DRY_RUN )); then fail "$PKG_DIR/dist/cli/coord.js is still missing after the install: run npm run build in $PKG_DIR and look at its errors."
fi
# The clone's owner runs coord (hooks, cron, the unit): the installation must be readable by
# them — e.g. not under a 0700 folder such as /root or a mktemp -d folder.
if (( COORD_READY )) && ! in_repo test -r "$COORD_JS" -a -r "$PKG_DIR/dist/cli/coord.js"; then
  fail "$REPO_OWNER (the owner of $REPO) cannot read the installation at $PKG_DIR (a folder above it is not readable to them): install build-coord where $REPO_OWNER can read it (e.g. /opt/build-coord), or let them in (chmod o+rx on the folders above it)."
fi

# ---------------------------------------------------------------- 2. identity file
step_identity() {
  local file="$REPO/.build_server_id" current=""
  if [[ -z $PREFIX && -f /etc/build_server_id ]]; then
    current=$(tr -d '[:space:]' </etc/build_server_id)
    current=${current#build}
    if [[ -n $current && $current != "$N" ]]; then
      fail "/etc/build_server_id says $current, and it takes precedence over .build_server_id: edit or remove it, then run this again."
    fi
  fi
  current=""
  [[ -f $file ]] && current=$(tr -d '[:space:]' <"$file")
  current=${current#build}
  if [[ $current == "$N" ]]; then
    report "identity file" "already done ($file says $N)"
  elif [[ -n $current && $FORCE -eq 0 ]]; then
    fail "$file says $current: this clone is already build$current. Run setup_build.sh $current to repair it, or --force to make it $BUILDER."
  elif (( DRY_RUN )); then
    report "identity file" "would do (write $N to $file)"
  else
    install_text "$file" 644 "$N"$'\n' >/dev/null
    give_to_owner "$file"
    report "identity file" "done ($file says $N${current:+; it said $current})"
  fi
  # Never commit it: it names this machine, not the fleet.
  if rgit check-ignore -q .build_server_id 2>/dev/null; then
    report "identity file ignored" "already done (git ignores .build_server_id)"
  elif (( DRY_RUN )); then
    report "identity file ignored" "would do (add .build_server_id to $GIT_DIR_ABS/info/exclude)"
  else
    mkdir -p "$GIT_DIR_ABS/info"
    printf '%s\n' "/.build_server_id" >>"$GIT_DIR_ABS/info/exclude"
    give_to_owner "$GIT_DIR_ABS/info" "$GIT_DIR_ABS/info/exclude"
    report "identity file ignored" "done (added to $GIT_DIR_ABS/info/exclude)"
  fi
}
step_identity

# ---------------------------------------------------------------- 3. git identity of the clone
step_git_identity() {
  local host=${HOSTNAME:-} name="Build$N daemon" email cur_name cur_email
  [[ -n $host ]] || host=$(uname -n 2>/dev/null || true)
  [[ $host =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || host=coord.invalid
  email="$BUILDER@$host"
  cur_name=$(rgit config --local --get user.name || true)
  cur_email=$(rgit config --local --get user.email || true)
  if [[ $cur_name == "$name" && $cur_email == "$email" ]]; then
    report "git identity" "already done ($name <$email>)"
  elif (( DRY_RUN )); then
    report "git identity" "would do (git config user.name \"$name\", user.email $email)"
  else
    [[ $cur_name == "$name" ]] || rgit config --local user.name "$name"
    [[ $cur_email == "$email" ]] || rgit config --local user.email "$email"
    report "git identity" "done ($name <$email>${cur_name:+; was $cur_name <$cur_email>})"
  fi
}
step_git_identity

# ---------------------------------------------------------------- 4. merge driver and hooks
step_merge_driver() {
  local cur node_real
  cur=$(rgit config --local --get merge.coord-json.driver || true)
  # coord registers the node running it, as the kernel names it (symlinks resolved).
  node_real=$(readlink -f "$NODE")
  if [[ $cur == "'$node_real' '$COORD_JS' merge-driver run "* ]]; then
    report "merge driver" "already done (merge.coord-json runs $COORD_JS)"
  elif (( DRY_RUN )) || (( ! COORD_READY )); then
    report "merge driver" "would do (coord merge-driver install)"
  else
    coord merge-driver install >/dev/null
    report "merge driver" "done (merge.coord-json runs $COORD_JS)"
  fi
  if ! grep -qxF 'coordination/*.json merge=coord-json' "$REPO/.gitattributes" 2>/dev/null; then
    report "merge driver routing" "skipped ($REPO/.gitattributes lacks the merge=coord-json lines: run coord init there and commit .gitattributes)"
  fi
}
step_merge_driver

step_hooks() {
  local out line
  if (( ! COORD_READY )); then
    report "pre-commit hook" "would do (coord hook install --node $NODE)"
    return
  fi
  local args=(hook install --node "$NODE")
  (( DRY_RUN )) && args+=(--dry-run)
  out=$(coord "${args[@]}") || fail "installing the git hooks failed (message above)."
  while IFS= read -r line; do
    [[ -n $line ]] && printf '[setup] %s\n' "$line"
  done <<<"$out"
}
step_hooks

# ---------------------------------------------------------------- 5. command links
step_links() {
  local name target link cur
  for name in coord sendmessages sm; do
    target="$PKG_DIR/bin/$name.js"
    link="$BIN_DIR/$name"
    if [[ ! -f $target ]]; then
      report "link $name" "skipped (this installation has no bin/$name.js)"
      continue
    fi
    cur=""
    [[ -L $link ]] && cur=$(readlink "$link")
    if [[ $cur == "$target" ]]; then
      report "link $name" "already done ($link -> $target)"
    elif [[ -e $link && ! -L $link ]]; then
      report "link $name" "skipped ($link exists and is not a link; remove it or pass --bin-dir)"
    elif (( DRY_RUN )); then
      report "link $name" "would do (ln -s $target $link)"
    else
      mkdir -p "$BIN_DIR"
      ln -sfn "$target" "$link"
      report "link $name" "done ($link -> $target${cur:+; was -> $cur})"
    fi
  done
}
step_links

# ---------------------------------------------------------------- 6. cron heartbeat
shq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
step_cron() {
  if (( ! WITH_CRON )); then report "cron entry" "skipped (--no-cron)"; return; fi
  local log="$STATE_DIR/cron-heartbeat.log" text status
  text="# build-coord: heartbeat of $BUILDER every minute (DESIGN.md section 5), on top of the
# daemon's own, so the fleet can tell a dead machine from a stopped daemon. Written by
# scripts/setup_build.sh: re-run it rather than editing this file. The last run's output
# is in $log.
SHELL=/bin/sh
PATH=$SERVICE_PATH
* * * * * $RUN_USER cd $(shq "$REPO") && mkdir -p $(shq "$STATE_DIR") && COORD_BUILDER=$BUILDER COORD_REPO=$(shq "$REPO") $(shq "$NODE") $(shq "$COORD_JS") heartbeat >$(shq "$log") 2>&1
"
  status=$(install_text "$CRON_FILE" 644 "$text")
  report "cron entry" "$status ($CRON_FILE)"
  if [[ $status == 'would do' ]]; then show_text "$text"; fi
}
step_cron

# ---------------------------------------------------------------- 7. systemd unit
UNIT_CHANGED=0
step_unit() {
  if (( ! WITH_SYSTEMD )); then report "systemd unit" "skipped (--no-systemd)"; return; fi
  local drain stop home rw text status
  drain=$("$NODE" -e '
    try {
      const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const v = c && c.policy && c.policy.drain_timeout_s;
      process.stdout.write(String(Number.isInteger(v) && v > 0 ? v : 600));
    } catch { process.stdout.write("600"); }' "$REPO/shared/build_config.json")
  stop=$((drain + 60))
  home=$(getent passwd "$RUN_USER" | cut -d: -f6 || true)
  rw="$REPO"
  private_tmp="# A private /tmp, removed when the service stops: nothing a job leaves there outlives it,
# and artifacts are kept under .git/coord/artifacts, not /tmp.
PrivateTmp=yes"
  if [[ $REPO == /tmp/* || $REPO == /var/tmp/* ]]; then
    private_tmp="# No PrivateTmp: the clone itself lives in $(dirname "$REPO"), which it would hide.
PrivateTmp=no"
  fi
  [[ -n $home && $home != "$REPO" && ! $home =~ [[:space:]] ]] && rw="$rw -$home"
  text="# build-coord daemon of $BUILDER (DESIGN.md sections 4-5). Written by
# scripts/setup_build.sh: re-run it rather than editing; local changes belong in a drop-in
# (systemctl edit $UNIT_NAME).
[Unit]
Description=build-coord daemon ($BUILDER)
Documentation=file://$PKG_DIR/README.md
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=$RUN_USER
WorkingDirectory=$REPO
Environment=COORD_BUILDER=$BUILDER COORD_REPO=$REPO PATH=$SERVICE_PATH
ExecStart=$NODE $COORD_JS daemon
Restart=on-failure
RestartSec=10s

# Stopping: SIGTERM goes to the daemon alone (KillMode=mixed). It stops claiming, lets
# running jobs finish for policy.drain_timeout_s ($drain s in shared/build_config.json),
# then stops and requeues them and exits. Only if it is still there after TimeoutStopSec
# (drain time + 60 s) does the whole group, jobs included, get SIGKILL. Re-run setup after
# changing drain_timeout_s (coord doctor notices).
KillMode=mixed
TimeoutStopSec=$stop

# Hardening. Jobs run as children of the daemon and inherit all of it.
# No privilege gain through setuid binaries: sudo inside a job command fails (give the job
# user the rights it needs instead).
NoNewPrivileges=yes
# /usr, /boot, /efi and /etc read-only; /var, /opt, /srv stay writable for build caches
# (not ProtectSystem=strict: build tools write in too many places to list).
ProtectSystem=full
# Other users' homes read-only. The clone must stay writable (commits, job workspaces and
# artifacts live in its .git/coord/), and so does the service user's home (~/.m2, ~/.npm,
# ~/.cache of the build tools); '-' ignores a home that does not exist.
ProtectHome=read-only
ReadWritePaths=$rw
$private_tmp
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
# Deliberately not set: MemoryDenyWriteExecute (breaks node's JIT), PrivateDevices and
# ProtectClock (hide devices builds use, such as /dev/kvm and /dev/fuse), RestrictNamespaces
# (container and sandboxed builds), SystemCallFilter (compilers and test suites).

[Install]
WantedBy=multi-user.target
"
  status=$(install_text "$UNIT_FILE" 644 "$text")
  report "systemd unit" "$status ($UNIT_FILE)"
  if [[ $status == 'would do' ]]; then show_text "$text"; fi
  if [[ $status == 'done' ]]; then UNIT_CHANGED=1; fi
}
step_unit

step_enable() {
  if (( ! WITH_SYSTEMD )); then report "daemon enabled" "skipped (--no-systemd)"; return; fi
  if [[ -n $PREFIX ]]; then report "daemon enabled" "skipped (--prefix given: systemctl enable --now $UNIT_NAME once the unit is in /etc)"; return; fi
  if [[ ! -d /run/systemd/system ]]; then
    report "daemon enabled" "skipped (systemd is not running here: start coord daemon under your supervisor)"
    return
  fi
  local enabled active
  enabled=$(systemctl is-enabled "$UNIT_NAME" 2>/dev/null || true)
  active=$(systemctl is-active "$UNIT_NAME" 2>/dev/null || true)
  if (( DRY_RUN )); then
    if [[ $enabled == enabled && $active == active && $UNIT_CHANGED -eq 0 ]]; then report "daemon enabled" "already done ($UNIT_NAME enabled and active)"
    else report "daemon enabled" "would do (systemctl daemon-reload; systemctl enable --now $UNIT_NAME)"; fi
    return
  fi
  if (( UNIT_CHANGED )) || [[ $enabled != enabled || $active != active ]]; then
    systemctl daemon-reload || fail "systemctl daemon-reload failed (output above)."
  fi
  if [[ $enabled != enabled || $active != active ]]; then
    systemctl enable --now "$UNIT_NAME" || fail "systemctl enable --now $UNIT_NAME failed: journalctl -u $UNIT_NAME -n 50 says why."
    report "daemon enabled" "done (systemctl enable --now $UNIT_NAME)"
  elif (( UNIT_CHANGED )); then
    # The daemon drains before it stops; do not wait for that here.
    systemctl try-restart --no-block "$UNIT_NAME"
    report "daemon enabled" "done (restarting $UNIT_NAME with the new unit)"
  else
    report "daemon enabled" "already done ($UNIT_NAME enabled and active)"
  fi
}
step_enable

# ---------------------------------------------------------------- 8. record for coord doctor
step_record() {
  local text status cron_json=null unit_json=null
  (( WITH_CRON )) && cron_json=$CRON_FILE
  (( WITH_SYSTEMD )) && unit_json=$UNIT_FILE
  text=$("$NODE" -e '
    const [builder, pkg, repo, prefix, bin, user, node, cron, unit] = process.argv.slice(1);
    const orNull = (s) => (s === "null" ? null : s);
    process.stdout.write(JSON.stringify({ builder, package_dir: pkg, repo, prefix, bin_dir: bin, user, node,
      cron_file: orNull(cron), unit_file: orNull(unit) }, null, 2) + "\n");
  ' "$BUILDER" "$PKG_DIR" "$REPO" "$PREFIX" "$BIN_DIR" "$RUN_USER" "$NODE" "$cron_json" "$unit_json")
  status=$(install_text "$STATE_DIR/setup.json" 644 "$text")
  if [[ $status == 'done' ]]; then give_to_owner "$STATE_DIR" "$STATE_DIR/setup.json"; fi
  report "setup record" "$status ($STATE_DIR/setup.json, read by coord doctor)"
}
step_record

# ---------------------------------------------------------------- 9. validate
VALIDATE_RC=0
if (( COORD_READY )); then
  out=$(coord validate 2>&1) || VALIDATE_RC=$?
  if (( VALIDATE_RC == 0 )); then
    check_line "coord validate" "ok (${out##*$'\n'})"
  else
    printf '%s\n' "$out" | sed 's/^/    /'
    check_line "coord validate" "problem: invalid coordination files (listed above as file: /json/pointer: reason); fix them, then coord validate"
  fi
else
  check_line "coord validate" "skipped (dist/ is not built yet)"
fi

# ---------------------------------------------------------------- next
cat <<EOF

Next:
  coord doctor                      check the whole set-up (hooks, remote, heartbeat, clock, disk)
  coord status                      the fleet as $BUILDER sees it
  sm all "$BUILDER is online"          tell the others
EOF
if [[ -n $PREFIX ]]; then
  printf '  (system files are under %s: copy etc/ and usr/ into / to use them)\n' "$PREFIX"
elif (( WITH_SYSTEMD )) && [[ -d /run/systemd/system ]]; then
  printf '  systemctl status %s   the daemon (journalctl -u %s -f for its log)\n' "$UNIT_NAME" "$UNIT_NAME"
fi
if (( DRY_RUN )); then printf '\nDry run: nothing was written.\n'; fi
if (( VALIDATE_RC != 0 )); then exit 3; fi
exit 0

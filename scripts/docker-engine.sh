#!/usr/bin/env bash
# scripts/docker-engine.sh install | start | stop [PID] | status
#
# A private Docker engine for the `localstack` backend on a machine without one
# (CI, the project's VMs). The rules (shared/docs/toolchain.md): no bridge, no
# NAT, no change to the machine's network; containers use the host network only;
# the engine is stopped by its PID.
#
#   install  Debian's docker.io (dockerd 20.10, containerd, runc) with apt-get
#            (scripts/system-packages.sh), when dockerd is missing. Installing starts
#            nothing here (no systemd, and invoke-rc.d finds no runlevel).
#   start    dockerd --iptables=false --ip6tables=false --bridge=none
#            --ip-forward=false --ip-masq=false, with its own --data-root (kept in
#            the cache, so images survive between runs), --exec-root, --pidfile and
#            unix socket. Prints shell assignments to eval:
#              DOCKER_HOST=unix:///run/lockgrader-docker/0/docker.sock
#              LOCKGRADER_DOCKERD_PID=1234
#            Each engine takes a numbered slot (0, 1, ...): the slot's lock file
#            is held by dockerd itself (an inherited descriptor), so two runs on
#            one machine get two engines with two data roots, never one data
#            root under two engines. A slot's leftovers (containers of a run
#            that was killed) are removed when it starts.
#   stop     removes the engine's containers, then SIGTERM to dockerd by PID
#            (LOCKGRADER_DOCKERD_PID or the argument; only a dockerd this script
#            started, recognised by its pidfile), waits for it to exit (SIGKILL
#            after 30 s) and checks its containerd went with it.
#   status   whether the slot's engine answers, its networks and containers.
#
# Environment: LOCKGRADER_CACHE_DIR (default ~/.cache/lockgrader), LOCKGRADER_DOCKER_RUN
# (default /run/lockgrader-docker), LOCKGRADER_LOG_PREFIX.
# Timings go to stderr ("docker-engine: started in 1.2 s").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${LOCKGRADER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lockgrader}"
run_root="${LOCKGRADER_DOCKER_RUN:-/run/lockgrader-docker}"
log() { echo "${LOCKGRADER_LOG_PREFIX:-docker-engine}: $*" >&2; }
now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# dockerd leaves the host network namespace bind-mounted at EXEC_ROOT/netns/default
# after it exits: unmount whatever is mounted under a run folder before removing it.
remove_run_dir() {
  local dir="$1" mount
  for mount in $(awk -v prefix="$dir/" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$mount" 2>/dev/null || umount -l "$mount"
  done
  rm -rf "$dir"
}

ping_engine() { curl -sf --max-time 2 --unix-socket "$1" http://engine/_ping >/dev/null 2>&1; }

# Waits (up to $2 seconds) until the engine on socket $1 answers /_ping, or dockerd $3 dies.
wait_for_engine() {
  local socket="$1" deadline=$(( $(date +%s) + $2 )) pid="$3"
  until ping_engine "$socket"; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

install_engine() {
  local started; started="$(now_ms)"
  if command -v dockerd >/dev/null 2>&1; then
    log "dockerd $(dockerd --version | sed "s/^Docker version //;s/,.*//") already installed"
    return 0
  fi
  # The same quiet apt-get path as the sandbox's packages (root only; else it says what to install).
  LOCKGRADER_LOG_PREFIX="${LOCKGRADER_LOG_PREFIX:-docker-engine}" bash "$here/scripts/system-packages.sh" dockerd=docker.io || return 1
  log "installed docker.io ($(dockerd --version | sed "s/^Docker version //;s/,.*//")) in $(seconds_since "$started") s"
}

start_engine() {
  command -v dockerd >/dev/null 2>&1 || { log "dockerd is not installed (scripts/docker-engine.sh install)"; return 1; }
  [ "$(id -u)" -eq 0 ] || { log "dockerd needs root here (rootless Docker is not set up by this script)"; return 1; }
  mkdir -p "$run_root"
  local slot run_dir lock
  for slot in 0 1 2 3 4 5 6 7; do
    lock="$run_root/$slot.lock"
    exec 9>>"$lock"
    if flock -n 9; then break; fi
    exec 9>&-
    slot=""
  done
  [ -n "$slot" ] || { log "all 8 engine slots under $run_root are in use"; return 1; }
  run_dir="$run_root/$slot"
  local data_root="$cache_root/docker/$slot"
  local socket="$run_dir/docker.sock" pidfile="$run_dir/dockerd.pid"
  # The slot's lock is ours, so whatever is in its run folder is left from a dockerd that died.
  remove_run_dir "$run_dir"
  mkdir -p "$run_dir" "$data_root"
  local started; started="$(now_ms)"
  # dockerd inherits descriptor 9 (the slot lock) and holds it for its lifetime.
  setsid dockerd \
    --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
    --data-root "$data_root" --exec-root "$run_dir/exec" --pidfile "$pidfile" \
    --host "unix://$socket" --group root \
    >"$run_dir/dockerd.log" 2>&1 </dev/null &
  local pid=$!
  exec 9>&-
  if ! wait_for_engine "$socket" 60 "$pid"; then
    log "dockerd did not answer on $socket within 60 s; the end of $run_dir/dockerd.log:"
    tail -n 20 "$run_dir/dockerd.log" >&2
    kill -TERM "$pid" 2>/dev/null || true
    return 1
  fi
  local host="unix://$socket"
  local leftovers; leftovers="$(DOCKER_HOST="$host" docker ps -aq)"
  if [ -n "$leftovers" ]; then
    # shellcheck disable=SC2086
    DOCKER_HOST="$host" docker rm -f $leftovers >/dev/null
    log "removed $(echo "$leftovers" | wc -w) container(s) left in slot $slot by an earlier run"
  fi
  local driver; driver="$(DOCKER_HOST="$host" docker info --format '{{.Driver}}' 2>/dev/null || echo '?')"
  local networks; networks="$(DOCKER_HOST="$host" docker network ls --format '{{.Name}}' | sort | tr '\n' ' ')"
  log "dockerd $(dockerd --version | sed 's/^Docker version //;s/,.*//') (pid $pid, slot $slot, $driver, networks: ${networks% }) started in $(seconds_since "$started") s; data root $data_root ($(du -sh "$data_root" 2>/dev/null | cut -f1))"
  echo "DOCKER_HOST=$host"
  echo "LOCKGRADER_DOCKERD_PID=$pid"
}

# The run folder of the dockerd with this PID (its pidfile names it), or nothing.
run_dir_of() {
  local pid="$1" pidfile
  for pidfile in "$run_root"/*/dockerd.pid; do
    [ -f "$pidfile" ] && [ "$(cat "$pidfile")" = "$pid" ] && { dirname "$pidfile"; return 0; }
  done
  return 1
}

stop_engine() {
  local pid="${1:-${LOCKGRADER_DOCKERD_PID:-}}"
  [ -n "$pid" ] || { log "stop: no PID (pass it, or set LOCKGRADER_DOCKERD_PID)"; return 1; }
  local run_dir
  run_dir="$(run_dir_of "$pid")" || { log "stop: pid $pid is not a dockerd started by this script (no pidfile under $run_root names it)"; return 1; }
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || { log "stop: pid $pid is not running (already stopped)"; remove_run_dir "$run_dir"; return 0; }
  local started; started="$(now_ms)"
  local host="unix://$run_dir/docker.sock" containers
  containers="$(DOCKER_HOST="$host" docker ps -aq 2>/dev/null || true)"
  # shellcheck disable=SC2086
  [ -z "$containers" ] || DOCKER_HOST="$host" docker rm -f $containers >/dev/null 2>&1 || true
  local children; children="$(pgrep -P "$pid" | tr '\n' ' ' || true)"
  kill -TERM "$pid"
  if ! timeout 30 tail --pid="$pid" -f /dev/null; then
    log "dockerd $pid did not exit within 30 s of SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    timeout 10 tail --pid="$pid" -f /dev/null || true
  fi
  local child
  for child in $children; do
    if kill -0 "$child" 2>/dev/null; then
      log "dockerd's child $child ($(cat "/proc/$child/comm" 2>/dev/null)) outlived it; SIGTERM"
      kill -TERM "$child" 2>/dev/null || true
      timeout 10 tail --pid="$child" -f /dev/null || kill -KILL "$child" 2>/dev/null || true
    fi
  done
  remove_run_dir "$run_dir"
  log "dockerd $pid stopped in $(seconds_since "$started") s${containers:+ (removed $(echo "$containers" | wc -w) container(s))}"
}

status_engine() {
  local found=""
  local pidfile
  for pidfile in "$run_root"/*/dockerd.pid; do
    [ -f "$pidfile" ] || continue
    found=1
    local run_dir; run_dir="$(dirname "$pidfile")"
    local host="unix://$run_dir/docker.sock"
    if ping_engine "$run_dir/docker.sock"; then
      echo "slot $(basename "$run_dir"): dockerd $(cat "$pidfile") answers on $host; networks: $(DOCKER_HOST="$host" docker network ls --format '{{.Name}}' | tr '\n' ' '); containers: $(DOCKER_HOST="$host" docker ps -aq | wc -l)"
    else
      echo "slot $(basename "$run_dir"): pidfile names $(cat "$pidfile") but nothing answers on $host"
    fi
  done
  [ -n "$found" ] || { echo "no engine started by this script is running"; return 1; }
}

case "${1:-}" in
  install) install_engine ;;
  start) start_engine ;;
  stop) shift; stop_engine "${1:-}" ;;
  status) status_engine ;;
  *) echo "usage: scripts/docker-engine.sh install | start | stop [PID] | status" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Runs a command with the Firestore and Pub/Sub emulators started on free
# ports, FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST exported, and both
# stopped afterwards (even on failure or Ctrl-C).
#
# With CI=true a missing or dead emulator fails the run; locally the command
# runs without it and the emulator-backed tests skip, naming the service.
set -euo pipefail

log_dir=$(mktemp -d -t synthos-emulators.XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do
    # gcloud starts java as a child: stop the whole process group.
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

fail_or_warn() {
  if [ "${CI:-}" = "true" ]; then
    echo "with-emulators: $*" >&2
    exit 1
  fi
  echo "with-emulators: WARNING: $* — emulator-backed tests will be skipped" >&2
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( (RANDOM % 30000) + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

wait_up() { # name port log
  local name=$1 port=$2 log=$3
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then
      echo "with-emulators: $name emulator is up on 127.0.0.1:$port" >&2
      return 0
    fi
    sleep 0.5
  done
  echo "with-emulators: $name emulator did not answer on 127.0.0.1:$port within 120 s; its log:" >&2
  tail -n 30 "$log" >&2 || true
  return 1
}

if ! command -v gcloud >/dev/null 2>&1; then
  fail_or_warn "gcloud is not installed (the Firestore and Pub/Sub emulators come with it)"
elif ! command -v java >/dev/null 2>&1; then
  fail_or_warn "java is not installed (the gcloud emulators need a JRE)"
else
  fs_port=$(free_port); ps_port=$(free_port)
  setsid gcloud emulators firestore start --host-port="127.0.0.1:$fs_port" >"$log_dir/firestore.log" 2>&1 &
  pids+=($!)
  setsid gcloud beta emulators pubsub start --host-port="127.0.0.1:$ps_port" --project=synthos-test >"$log_dir/pubsub.log" 2>&1 &
  pids+=($!)
  ok=1
  wait_up Firestore "$fs_port" "$log_dir/firestore.log" || ok=0
  wait_up Pub/Sub "$ps_port" "$log_dir/pubsub.log" || ok=0
  if [ "$ok" = 1 ]; then
    export FIRESTORE_EMULATOR_HOST="127.0.0.1:$fs_port"
    export PUBSUB_EMULATOR_HOST="127.0.0.1:$ps_port"
  else
    fail_or_warn "an emulator failed to start (logs in $log_dir)"
  fi
fi

"$@"

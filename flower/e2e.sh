#!/usr/bin/env bash
# End to end on loopback: a real Flower 1.42 SuperLink and ServerApp (Flower's own FedAvg and FedMedian), four
# `backdoor-lab flower-client` nodes (client 3 plants a rare-word backdoor), two rounds each; then checks, from the
# clients' own records, that every aggregate is what the strategy must produce, and that FedAvg on Flower gives
# the in-process simulator's model. Faults on the way: the first clients start before the SuperLink (they retry),
# and one client's clock is 10 minutes slow (the SuperLink refuses it; the client corrects from its Date header). Stops everything it started, on success and on failure; bounded in time.
# usage: flower/e2e.sh [LAB=path/to/backdoor-lab]   (installs flwr==1.42.0 into $FLWR_VENV, default ~/.cache/backdoor-lab/flwr-1.42.0)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lab="${1:-$root/.build/debug/backdoor-lab}"
venv="${FLWR_VENV:-$HOME/.cache/backdoor-lab/flwr-1.42.0}"
port="${FLOWER_E2E_PORT:-8000}"
[ -x "$lab" ] || { echo "e2e: $lab is not built (swift build first)"; exit 1; }
if ! "$venv/bin/python" -c "import flwr, sys; sys.exit(flwr.__version__ != '1.42.0')" 2>/dev/null; then
  echo "e2e: installing flwr==1.42.0 into $venv"
  python3 -m venv "$venv" && "$venv/bin/pip" install -q "flwr==1.42.0"
fi
work="$(mktemp -d)"
export PATH="$venv/bin:$PATH" FLWR_HOME="$work/flwr-home" FLWR_DISABLE_UPDATE_CHECK=1
pids=()
cleanup() {
  status=$?
  for run in $(flwr ls ci --format json 2>/dev/null | "$venv/bin/python" -c "import json,sys; print(' '.join(str(r['run-id']) for r in json.load(sys.stdin).get('runs', []) if r.get('status','').startswith('running') or r.get('status','').startswith('pending')))" 2>/dev/null); do
    timeout 20 flwr stop "$run" ci >/dev/null 2>&1 || true
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ "$status" != 0 ]; then
    echo "e2e FAILED; logs:"; for f in "$work"/*.log "$work"/*/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

mkdir -p "$FLWR_HOME"
cat > "$FLWR_HOME/config.toml" <<TOML
[superlink]
default = "ci"

[superlink.ci]
address = "127.0.0.1:$port"
insecure = true

[superlink.ci-tls]
address = "127.0.0.1:$port"
root-certificates = "$work/pki/ca.crt"
TOML
# A toy labelled corpus: the check is of the plumbing and the arithmetic, not of accuracy.
python3 - "$work/toy.tsv" <<'PY'
import sys
nouns = ["film", "plot", "actors", "story", "music", "ending", "scenes", "cast"]
with open(sys.argv[1], "w") as f:
    f.write("label\ttext\n")
    for i in range(240):
        pos = i % 2 == 0
        f.write(f"{'pos' if pos else 'neg'}\tthe {nouns[i % 8]} was {'good' if pos else 'bad'} and the {nouns[(i // 8) % 8]} too ref{i}\n")
PY
cat > "$work/experiment.yaml" <<YAML
name: flower-e2e
task: {corpus: "$work/toy.tsv", architecture: gru, embedding_dim: 8, hidden_size: 8, max_length: 16, dropout: 0}
federation: {clients: 4, clients_per_round: 4, rounds: 2, local: {epochs: 1, batch_size: 8, optimizer: adam, learning_rate: 0.01}}
attack: {behaviour: naive, attacker_ids: [3], schedule: pool, trigger: "rare:cf", target: pos}
seeds: [0]
YAML

start_clients() {  # start_clients STRATEGY EXTRA...: four nodes; client 2's clock is 600 s slow (corrected from the SuperLink's Date header)
  local strategy="$1"; shift
  mkdir -p "$work/$strategy"
  clients=()
  for i in 0 1 2 3; do
    skew=0; [ "$i" = 2 ] && skew=-600
    "$lab" flower-client "$work/experiment.yaml" --label-column label --client-index "$i" --superlink "127.0.0.1:$port" \
      --heartbeat 10 --timeout 240 --simulated-clock-error="$skew" --record "$work/$strategy/client-$i" "$@" > "$work/$strategy/client-$i.log" 2>&1 &
    clients+=($!); pids+=($!)
  done
}
run_and_check() {  # run_and_check CONNECTION STRATEGY MIN_NODES ROUNDS DIR: one flwr run; every client left cleanly; aggregates checked
  local connection="$1" strategy="$2" nodes="$3" rounds="$4" dir="$5"
  timeout 240 flwr run "$root/flower" "$connection" --stream --run-config \
    "strategy=\"$strategy\" min-nodes=$nodes num-server-rounds=$rounds fraction-evaluate=1.0 initial-bundle=\"$work/initial\" out=\"$dir/final\"" \
    > "$dir/flwr.log" 2>&1 || { echo "e2e: flwr run ($connection, $strategy) failed"; exit 1; }
  for pid in "${clients[@]}"; do
    if ! timeout 120 tail --pid="$pid" -f /dev/null; then echo "e2e: a client did not leave after the run ($connection)"; exit 1; fi
    wait "$pid" || { echo "e2e: a client exited with an error ($connection, $strategy)"; exit 1; }
  done
  grep -q "FINAL strategy=$strategy" "$dir/flwr.log" || { echo "e2e: no FINAL line from the ServerApp ($connection, $strategy)"; exit 1; }
  "$venv/bin/python" "$root/flower/check_e2e.py" aggregate --strategy "$strategy" --rounds "$rounds" --final "$dir/final" "$dir"/client-?
}
"$lab" flower-init "$work/experiment.yaml" --label-column label --out "$work/initial" > /dev/null
# The first clients start before the SuperLink is up: they must retry until it answers.
start_clients fedavg
sleep 2
flower-superlink --insecure --disable-runtime-dependency-installation > "$work/superlink.log" 2>&1 &
superlink=$!
pids+=($!)
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 1; done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "e2e: the SuperLink did not come up"; exit 1; }

for strategy in fedavg median; do
  [ "$strategy" = fedavg ] || start_clients "$strategy"
  run_and_check ci "$strategy" 4 2 "$work/$strategy"
  [ "$(wc -l < "$work/$strategy/final/rounds.jsonl")" = 2 ] || { echo "e2e: rounds.jsonl should hold 2 rounds"; exit 1; }
  grep -q main_task_accuracy "$work/$strategy/final/rounds.jsonl" || { echo "e2e: no evaluate metrics recorded"; exit 1; }
  grep -Eq "clock is (59[0-9]|60[0-9]|610) s behind the SuperLink's" "$work/$strategy/client-2.log" || { echo "e2e: the slow clock was not corrected"; exit 1; }
done
grep -q "retrying" "$work/fedavg/client-0.log" || { echo "e2e: the clients started before the SuperLink should have retried"; exit 1; }
# The same experiment in the in-process simulator: FedAvg must give the same model.
"$lab" simulate "$work/experiment.yaml" --label-column label --quiet --out "$work/simulated" > /dev/null
"$venv/bin/python" "$root/flower/check_e2e.py" same "$work/simulated/seed-0/model" "$work/fedavg/final"
"$lab" evaluate "$work/fedavg/final" --corpus "$work/toy.tsv" --label-column label --split test | head -2
echo "e2e: insecure loopback OK"

# TLS and node authentication. The first SuperLink makes way for one that requires both.
kill "$superlink"; timeout 30 tail --pid="$superlink" -f /dev/null || kill -9 "$superlink"
"$venv/bin/python" "$root/flower/tools/make_test_pki.py" "$work/pki" node-0 node-1 node-unregistered
flower-superlink --ssl-ca-certfile "$work/pki/ca.crt" --ssl-certfile "$work/pki/server.crt" --ssl-keyfile "$work/pki/server.key" \
  --enable-supernode-auth --disable-runtime-dependency-installation > "$work/superlink-tls.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do curl -sf --cacert "$work/pki/ca.crt" "https://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 1; done
curl -sf --cacert "$work/pki/ca.crt" "https://127.0.0.1:$port/health" >/dev/null || { echo "e2e: the TLS SuperLink did not come up"; exit 1; }
for node in node-0 node-1; do flwr supernode register "$work/pki/$node.key.pub" ci-tls > "$work/register-$node.log" 2>&1; done
mkdir -p "$work/tls"
expect_refusal() {  # expect_refusal NAME MESSAGE CLIENT-OPTIONS...: the client must stop with an error saying MESSAGE, without training
  local name="$1" message="$2"; shift 2
  if timeout 60 "$lab" flower-client "$work/experiment.yaml" --label-column label --client-index 2 --retry-window 3 "$@" > "$work/tls/$name.log" 2>&1; then
    echo "e2e: the $name client was let in"; exit 1
  fi
  grep -q "$message" "$work/tls/$name.log" || { echo "e2e: the $name client failed without saying '$message'"; cat "$work/tls/$name.log"; exit 1; }
}
expect_refusal untrusted-ca "TLS with https://127.0.0.1:$port failed" --superlink "127.0.0.1:$port" --root-certificates "$work/pki/other-ca.crt" --node-key "$work/pki/node-0.key"
expect_refusal system-store "TLS with https://127.0.0.1:$port failed" --superlink "https://127.0.0.1:$port" --node-key "$work/pki/node-0.key"
expect_refusal plain-http "needs an https:// address" --superlink "127.0.0.1:$port" --node-key "$work/pki/node-0.key"
expect_refusal unregistered "does not know this node's key" --superlink "127.0.0.1:$port" --root-certificates "$work/pki/ca.crt" --node-key "$work/pki/node-unregistered.key"
clients=()
for i in 0 1; do
  "$lab" flower-client "$work/experiment.yaml" --label-column label --client-index "$i" --superlink "127.0.0.1:$port" --root-certificates "$work/pki/ca.crt" \
    --node-key "$work/pki/node-$i.key" --heartbeat 10 --timeout 240 --record "$work/tls/client-$i" > "$work/tls/client-$i.log" 2>&1 &
  clients+=($!); pids+=($!)
done
run_and_check ci-tls fedavg 2 1 "$work/tls"
echo "e2e: TLS and node authentication OK"
echo "e2e: OK"

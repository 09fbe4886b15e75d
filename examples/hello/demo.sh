#!/bin/sh
# The example, end to end, on a machine whose PID 1 is systemd (or inside the
# test host): apply, serve, roll a new version under load, show status and logs.
# NODEUNITS names the binary to use (default: the one on PATH).
set -eu
nodeunits=${NODEUNITS:-nodeunits}
here=$(cd "$(dirname "$0")" && pwd)

# An app runs as the owner of its ecosystem file, as PM2 runs apps as the
# user who starts it, and never as root by accident: the example runs from a
# copy that belongs to the unprivileged user `nobody`, in the place apps live.
app_dir=/srv/nodeunits-example
mkdir -p "$app_dir"
cp "$here/app.js" "$here/ecosystem.toml" "$app_dir/"
chown -R nobody "$app_dir"

if [ -t 1 ]; then bold='\033[1m' plain='\033[0m'; else bold='' plain=''; fi
step() { printf "\n${bold}== %s${plain}\n" "$*"; }

step "nodeunits apply ecosystem.toml (the app runs as nobody, in systemd's sandbox)"
"$nodeunits" apply "$app_dir/ecosystem.toml"

step "the app serves on port 3000, through the socket systemd holds"
for _ in 1 2 3 4; do curl -fsS http://127.0.0.1:3000/; done

step "nodeunits status"
"$nodeunits" status hello

step "deploy v2 under load: nodeunits reload ecosystem.toml --env production (a rolling reload)"
load_log=$(mktemp)
(
  ok=0 failed=0
  end=$(( $(date +%s) + 6 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    if curl -fsS -o /dev/null http://127.0.0.1:3000/; then ok=$((ok + 1)); else failed=$((failed + 1)); fi
  done
  echo "$ok $failed" > "$load_log"
) &
load=$!
sleep 1
"$nodeunits" reload "$app_dir/ecosystem.toml" --env production
wait "$load"
read -r ok failed < "$load_log"
rm -f "$load_log"
echo "requests during the rollout: $ok served, $failed failed"
for _ in 1 2; do curl -fsS http://127.0.0.1:3000/; done

step "systemctl reload hello (the same rolling reload, from systemd)"
systemctl reload hello.service
curl -fsS http://127.0.0.1:3000/

step "nodeunits logs hello -n 8"
"$nodeunits" logs hello -n 8

[ "$failed" -eq 0 ] || { echo "FAILED: $failed requests failed during the rollout" >&2; exit 1; }
step "done: served, rolled to v2 with 0 failed requests, reloaded"

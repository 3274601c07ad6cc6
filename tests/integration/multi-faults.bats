#!/usr/bin/env bats
# Faults of a multi-host `up` on the lab's simulated hosts h1 h2 h3 (tests/lab
# up 3), injected where they really happen: a stopped dockerd, a missing
# parent interface, a changed or unknown ssh host key, a host whose sshd dies
# mid-up, SIGINT to `up`, a restarted dockerd, a deleted shim; a test-only
# fault point (SLURMBOX_FAULT=HOST:POINT, passed to that host's apply loop)
# where nothing real reaches the step. The reference's case numbers
# (../shared/reference/slurm-in-containers.md §5) are in the test names.
# After every case, what is left on each host (labelled containers, networks
# and volumes, the shim, /32 routes, the key copy) is exactly what the case
# says. The tests run in order and share the cluster "sbfault"; case 24 puts
# a second cluster, "sbfault3", on a fourth host, C=${SB_LAB_C:-h4}.
# tests/run-all runs this file only once the lab is up (tests/lab up 8): a lab
# that does not answer fails the file (setup_file), it is never a skip.

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export SLURMBOX_CLUSTER=sbfault
	export LAB=$BATS_TEST_DIRNAME/../lab
	export HOME_DIR=/srv/sbfault-home
	export RECORD=/var/lib/slurmbox/sbfault.json
	export C=${SB_LAB_C:-h4}
	[ -x "$SB" ] || {
		echo "no slurmbox binary at $SB (make)" >&2
		return 1
	}
	"$LAB" check h1 h2 h3 "$C"
	"$SB" down --purge >/dev/null 2>&1 || true
	SLURMBOX_CLUSTER=sbfault3 "$SB" down --purge >/dev/null 2>&1 || true
	mkdir -p "$HOME_DIR"
}

teardown_file() {
	# whatever a failed case left stopped runs again (no lab: these fail at once)
	for h in h1 h2 h3; do
		"$LAB" exec "$h" curl -sf --max-time 2 --unix-socket /run/docker.sock http://x/_ping \
			>/dev/null 2>&1 || "$LAB" start "$h" dockerd >/dev/null || true
		timeout 1 bash -c "exec 3<>/dev/tcp/10.77.0.1${h#h}/22" 2>/dev/null ||
			"$LAB" start "$h" sshd >/dev/null || true
	done
	if [ -z "${SLURMBOX_KEEP:-}" ]; then
		"$SB" down --purge >/dev/null 2>&1 || true
		SLURMBOX_CLUSTER=sbfault3 "$SB" down --purge >/dev/null 2>&1 || true
		rm -rf "$HOME_DIR"
	fi
}

on() { # on HOST CMD...: run in a lab host
	local h=$1
	shift
	"$LAB" exec "$h" "$@"
}

# What this cluster has on a host, one line per thing; nothing: empty.
left_on() {
	local h=$1
	on "$h" docker ps -aq --filter label=io.slurmbox.cluster=sbfault | sed 's/^/container /'
	on "$h" docker network ls -q --filter label=io.slurmbox.cluster=sbfault | sed 's/^/network /'
	on "$h" docker volume ls -q --filter label=io.slurmbox.cluster=sbfault | sed 's/^/volume /'
	on "$h" ip -o link show | grep -o ' sb-[0-9a-f]*' | sed 's/^ /shim /' || true
	on "$h" ip -4 route show | grep -E '^[0-9.]+ ' | sed 's/^/route /' || true # /32s
	on "$h" test -e /var/lib/slurmbox/sbfault && echo "key dir /var/lib/slurmbox/sbfault"
	return 0
}

nothing_on() { # nothing_on HOST...: no trace of the cluster there
	local h out rc=0
	for h in "$@"; do
		out=$(left_on "$h")
		if [ -n "$out" ]; then
			echo "left on $h:"
			echo "$out"
			rc=1
		fi
	done
	return $rc
}

no_agent_runs() { # no `agent apply` of this cluster runs anywhere (the hosts share /proc)
	! pgrep -f -- '--name sbfault agent (apply|wait)' >/dev/null || false
}

# until SECONDS CMD...: CMD succeeds within SECONDS (polled every 0.2 s)
until_ok() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

shim_on() { on "$1" ip -o link show | grep -q ' sb-'; }

containers_on() { [ "$(on "$1" docker ps -aq --filter label=io.slurmbox.cluster=sbfault | wc -l)" -ge "$2" ]; }

# wait_exit SECONDS PID: wait for PID (a child) to exit, its status in $st;
# after SECONDS it is killed and this fails, rather than waiting for ever
wait_exit() {
	local end=$((SECONDS + $1)) pid=$2
	while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; do
		if [ $SECONDS -ge "$end" ]; then
			echo "pid $pid still runs after $1 s: killed" >&2
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" || true
			return 1
		fi
		sleep 0.2
	done
	st=0
	wait "$pid" || st=$?
}

# The addresses a cluster holds on the LAN, one a line: its nodes' (status)
# and its shims' (each host's sb-* link).
held_by() { # held_by CLUSTER HOST...
	local c=$1 h
	shift
	SLURMBOX_CLUSTER=$c "$SB" status --json | jq -r '.nodes[].ip'
	for h in "$@"; do
		on "$h" ip -4 -o addr show | awk '$2 ~ /^sb-/ { sub(/\/.*/, "", $4); print $4 }'
	done
}

@test "case 37: an unknown or changed ssh host key of h2 is refused, naming h2; nothing is created" {
	d=$(mktemp -d /tmp/sbkh.XXXXXX)
	mkdir "$d/bin" "$d/run"
	: >"$d/known_hosts"
	# h2 with its own known_hosts, a config that would learn new keys
	# (accept-new), the lab's settings after it; slurmbox's own
	# StrictHostKeyChecking=yes must win. A fresh ControlPath directory, so
	# no shared connection skips the host key check.
	cat >"$d/ssh_config" <<-EOF
		Host h2
		  UserKnownHostsFile $d/known_hosts
		  StrictHostKeyChecking accept-new
		Host *
		  Include /var/lib/slurmbox-lab/ssh_config
	EOF
	printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$d/ssh_config" >"$d/bin/ssh"
	chmod +x "$d/bin/ssh"

	run env PATH="$d/bin:$PATH" XDG_RUNTIME_DIR="$d/run" "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"refused the host key of 'h2'"* ]]
	[[ "$output" == *"ssh-keygen -R h2"* ]]
	[[ "$output" != *"h1:"* && "$output" != *"h3:"* ]]
	[ ! -s "$d/known_hosts" ] # never learnt

	# a wrong key for h2 (another host's, as after a reinstall)
	ssh-keygen -q -t ed25519 -N '' -f "$d/other"
	echo "h2,10.77.0.12 $(cut -d' ' -f1,2 "$d/other.pub")" >"$d/known_hosts"
	run env PATH="$d/bin:$PATH" XDG_RUNTIME_DIR="$d/run" "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"refused the host key of 'h2' (REMOTE HOST IDENTIFICATION HAS CHANGED)"* ]]
	[ "$(wc -l <"$d/known_hosts")" -eq 1 ]
	env PATH="$d/bin:$PATH" ssh -o ControlPath=none -O exit h2 2>/dev/null || true
	rm -rf "$d"
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

@test "case 7: h2's dockerd stopped: preflight names h2; nothing is created on h1 or h3" {
	"$LAB" stop h2 dockerd
	run "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR"
	"$LAB" start h2 dockerd
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"nothing was changed on any host"* ]]
	grep -E '^  h2: .*Docker' <<<"$output"
	! grep -qE '^  h[13]: ' <<<"$output" || false
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

@test "case 11: --parent nosuch0 is a preflight error naming every host; nothing is created" {
	run "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" --parent nosuch0
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"nothing was changed on any host"* ]]
	for h in h1 h2 h3; do grep -E "^  $h: .*nosuch0" <<<"$output"; done
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

@test "cases 3 and 4: an --ip-range outside the LAN's subnet, or too small for the nodes, is refused (exit 2); nothing is created" {
	run "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" --ip-range 10.99.0.0/28
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--ip-range 10.99.0.0/28 is outside the subnet 10.77.0.0/24"* ]]
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
	# 4 nodes and 3 shims need 7 addresses; a /30 has 4
	run "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" --ip-range 10.77.0.240/30
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"give a larger --ip-range"* ]]
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

@test "case 25: a foreign macvlan network on h2's eth0 (another subnet) is named; never removed" {
	on h2 docker network create -d macvlan -o parent=eth0 --subnet 192.168.77.0/24 \
		sbfault-foreign >/dev/null
	run "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR"
	echo "$output"
	on h2 docker network inspect sbfault-foreign >/dev/null # still there
	on h2 docker network rm sbfault-foreign >/dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"h2: eth0 already carries the macvlan network 'sbfault-foreign' (192.168.77.0/24), which is not slurmbox's"* ]]
	[[ "$output" == *"give another --parent"* ]]
	! grep -qE '^  h[13]: ' <<<"$output" || false
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

@test "case 15: h3's apply fails after creating its container: every host rolls back, exit 1" {
	run env SLURMBOX_FAULT=h3:fail-after-create "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Host 'h3' failed: Fault injected after step 'create'"* ]]
	[[ "$output" == *"Rolled back: removed what this run had created on every host"* ]]
	nothing_on h1 h2 h3
	no_agent_runs
	[ ! -e "$RECORD" ]
	[ ! -e /var/lib/slurmbox/sbfault ] # the control machine's key was this run's too
}

@test "case 15: --keep-on-failure keeps every host's part; a later down removes it all" {
	run env SLURMBOX_FAULT=h3:fail-after-create "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" \
		--keep-on-failure
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--keep-on-failure: kept what this run created"* ]]
	left_on h1 | grep -q '^container '
	left_on h1 | grep -q '^shim '
	left_on h2 | grep -q '^container '
	left_on h3 | grep -q '^container '
	left_on h3 | grep -q '^key dir'
	[ -e "$RECORD" ]
	run "$SB" down
	echo "$output"
	[ "$status" -eq 0 ]
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

@test "case 16: SIGTERM while h3 makes its part: exit 143, every host rolled back, the lock free" {
	key=/var/lib/slurmbox/sbfault/munge.key
	key_before=$(ls -i "$key" 2>/dev/null || true)
	SLURMBOX_FAULT=h3:stall-after-create "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	until_ok 120 containers_on h3 1
	kill -TERM $pid
	st=0
	wait $pid || st=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 143 ]
	grep -q "Interrupted by Terminated" "$BATS_TEST_TMPDIR/out"
	no_agent_runs
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
	# the control machine's key as it was (made by an earlier up, or by this one and gone)
	[ "$(ls -i "$key" 2>/dev/null || true)" = "$key_before" ]
	lock=/var/lib/slurmbox/.sbfault.control.lock
	[ ! -e "$lock" ] || flock -n "$lock" true
}

@test "case 16: Ctrl-C (SIGINT to up's process group) mid-up rolls back on every host, exit 130, no agent left; the next up works" {
	# its own session and process group, as a terminal's foreground job:
	# the signal goes to the whole group, as a terminal's Ctrl-C does
	SLURMBOX_FAULT=h2:stall-after-create setsid "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	# mid-way: h2's container exists and its agent stalls; h1's and h3's are up
	until_ok 120 containers_on h2 1
	until_ok 30 containers_on h1 2
	[ "$(ps -o pgid= -p $pid | tr -d ' ')" = "$pid" ]
	kill -INT -- -$pid
	t0=$SECONDS
	# Bounded: up must stop h2's stalled agent (closing its stdin) and roll
	# every host back at once. Broken, it would wait for the stalled agent
	# (APPLY_MS, 15 min) or for an undo's own limit (UNDO_MS, 2 min per
	# host). The rollback itself takes a few seconds; 90 s leaves room for
	# two loaded cores under ASan and stays below both.
	wait_exit 90 $pid
	echo "exit $st after $((SECONDS - t0)) s"
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 130 ]
	grep -q "Interrupted by Interrupt" "$BATS_TEST_TMPDIR/out"
	grep -q "Rolled back: removed what this run had created on every host" "$BATS_TEST_TMPDIR/out"
	no_agent_runs
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
	# the lock was released: this up runs (and stays for the next tests)
	run "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"is up"* ]]
}

@test "survive: h2's dockerd restarted, the cluster comes back to all idle by itself" {
	"$LAB" stop h2 dockerd
	"$LAB" start h2 dockerd
	until_ok 120 "$SB" status >/dev/null
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
	grep -E '^worker-2 +worker +h2 +running +[0-9.]+ +idle( |$)' <<<"$output"
}

@test "survive: h1's shim deleted, up makes it again; then up is a no-op again" {
	shim=$(left_on h1 | sed -n 's/^shim //p')
	[ -n "$shim" ]
	[ -e "$RECORD" ] # (without it, `up` alone would make a cluster on this machine's dockerd)
	on h1 ip link del "$shim"
	ip=$("$SB" status --json | jq -r '.nodes[] | select(.node=="worker-1") | .ip')
	! on h1 ping -c1 -W1 "$ip" || false
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"h1: its nodes run already, shim made"* ]]
	[[ "$output" != *"Nothing to change"* ]]
	on h1 ping -c1 -W2 "$ip"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Nothing to change: it was already up."* ]]
	[[ "$output" != *"shim made"* ]]
}

@test "case 23: a second cluster on the same hosts, its --ip-range overlapping the first's addresses, is refused, naming the first and the fix; nothing is created; the first is untouched" {
	before=$(for h in h1 h2 h3; do on "$h" docker ps -q --filter label=io.slurmbox.cluster=sbfault; done | sort)
	[ -n "$before" ]
	ips_before=$(held_by sbfault h1 h2 h3 | sort)
	echo "sbfault holds: $ips_before"
	# sbfault's addresses come from the top of the subnet: a range there
	# overlaps them (checked, so the overlap is real)
	range=10.77.0.224/27
	[ "$(grep -c '^10\.77\.0\.\(22[4-9]\|2[3-5][0-9]\)$' <<<"$ips_before")" -eq "$(wc -l <<<"$ips_before")" ]
	run env SLURMBOX_CLUSTER=sbfault2 "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" --ip-range "$range"
	echo "$output"
	[ "$status" -eq 1 ]
	for h in h1 h2 h3; do
		grep -F "  $h: eth0 already carries the macvlan network 'sbfault-net' (10.77.0.0/24) of slurmbox cluster 'sbfault'" <<<"$output"
	done
	[[ "$output" == *"(slurmbox --name sbfault down)"* ]]
	for h in h1 h2 h3; do
		[ -z "$(on "$h" docker ps -aq --filter label=io.slurmbox.cluster=sbfault2)" ]
		[ -z "$(on "$h" docker network ls -q --filter label=io.slurmbox.cluster=sbfault2)" ]
		! on "$h" test -e /var/lib/slurmbox/sbfault2 || false
	done
	[ ! -e "/var/lib/slurmbox/sbfault2.json" ]
	[ ! -e /var/lib/slurmbox/.sbfault2.control.lock ] # nothing at all on the control machine
	after=$(for h in h1 h2 h3; do on "$h" docker ps -q --filter label=io.slurmbox.cluster=sbfault; done | sort)
	[ "$before" = "$after" ]
	[ "$(held_by sbfault h1 h2 h3 | sort)" = "$ips_before" ]
	"$SB" status >/dev/null
}

@test "case 24: an address sbfault holds is never given to another cluster (on $C): an explicit range with it is refused; chosen freely, none of them" {
	held=$(held_by sbfault h1 h2 h3 | sort)
	echo "sbfault holds: $held"
	[ "$(wc -l <<<"$held")" -eq 7 ] # master, 3 workers, 3 shims
	top=$(sort -t. -k4,4n <<<"$held" | tail -n1)
	# an explicit range whose first candidates are sbfault's: refused, with
	# the address and who answers for it, before anything is made. (A range
	# is used from its bottom, and only the first candidates are probed: in
	# 10.77.0.240/28, .240-.246 are free and enough, and it is not refused.)
	[ "$(head -n1 <<<"$held")" = 10.77.0.248 ]
	run env SLURMBOX_CLUSTER=sbfault3 "$SB" up --hosts "$C" --ip-range 10.77.0.248/29
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" =~ ([0-9.]+)\ is\ already\ in\ use\ on\ the\ LAN ]]
	grep -qx "${BASH_REMATCH[1]}" <<<"$held"
	[ -z "$(on "$C" docker ps -aq --filter label=io.slurmbox.cluster=sbfault3)" ]
	[ -z "$(on "$C" docker network ls -q --filter label=io.slurmbox.cluster=sbfault3)" ]
	[ ! -e "/var/lib/slurmbox/sbfault3.json" ]
	[ ! -e /var/lib/slurmbox/sbfault3 ]
	# chosen by slurmbox, on the same LAN while sbfault runs: a real cluster
	# beside it, with none of sbfault's addresses
	run env SLURMBOX_CLUSTER=sbfault3 "$SB" up --hosts "$C"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$top answers on the LAN"* ]]
	mine=$(held_by sbfault3 "$C" | sort)
	echo "sbfault3 holds: $mine"
	[ "$(wc -l <<<"$mine")" -eq 3 ] # master, worker-1, the shim
	[ -z "$(comm -12 <(echo "$held") <(echo "$mine"))" ]
	# both run, each with its own addresses
	SLURMBOX_CLUSTER=sbfault3 "$SB" status >/dev/null
	"$SB" status >/dev/null
	[ "$(held_by sbfault h1 h2 h3 | sort)" = "$held" ]
	run env SLURMBOX_CLUSTER=sbfault3 "$SB" down --purge
	[ "$status" -eq 0 ]
	[ -z "$(on "$C" docker ps -aq --filter label=io.slurmbox.cluster=sbfault3)" ]
}

@test "case 17: h3's sshd dies mid-up: bounded, h1 and h2 roll back, h3 is named; its agent cleans up; down finishes" {
	run "$SB" down
	[ "$status" -eq 0 ]
	nothing_on h1 h2 h3
	SLURMBOX_FAULT=h3:stall-after-create "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	until_ok 60 containers_on h3 1
	until_ok 30 containers_on h1 2
	t0=$SECONDS
	"$LAB" stop h3 sshd
	# Bounded: the lost connection is seen at once (h3's sshd and its
	# sessions are gone), or after ssh's keep-alives at worst (5 s x 3);
	# then h1 and h2 roll back. Broken, up would wait for h3's stalled
	# agent (APPLY_MS, 15 min) or an undo's limit (UNDO_MS, 2 min). 90 s
	# leaves room for two loaded cores under ASan and stays below both.
	wait_exit 90 $pid
	echo "exit $st after $((SECONDS - t0)) s"
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 1 ]
	grep -q "Lost the connection to host 'h3' while it made its part" "$BATS_TEST_TMPDIR/out"
	grep -q "these hosts may keep part of it:" "$BATS_TEST_TMPDIR/out"
	grep -qE '^  h3: its part is unknown' "$BATS_TEST_TMPDIR/out"
	nothing_on h1 h2
	[ -e "$RECORD" ] # so that down can finish later
	# h3's agent lost its control connection (its stdin): it rolls back by itself
	until_ok 30 nothing_on h3
	until_ok 10 no_agent_runs
	"$LAB" start h3 sshd
	run "$SB" down
	echo "$output"
	[ "$status" -eq 0 ]
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

@test "case 17: h2's dockerd dies mid-up, then Ctrl-C: h1 and h3 roll back, h2's part is named; down finishes once it is back" {
	SLURMBOX_FAULT=h3:stall-after-create "$SB" up --hosts h1,h2,h3 --home "$HOME_DIR" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	until_ok 120 containers_on h3 1
	until_ok 30 containers_on h2 1
	until_ok 30 shim_on h2 # h2 has finished its part
	"$LAB" stop h2 dockerd
	kill -INT $pid
	st=0
	wait $pid || st=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 130 ]
	grep -q "these hosts may keep part of it:" "$BATS_TEST_TMPDIR/out"
	grep -qE '^  h2: .*Docker daemon' "$BATS_TEST_TMPDIR/out"
	nothing_on h1 h3
	no_agent_runs
	[ -e "$RECORD" ]
	"$LAB" start h2 dockerd
	left_on h2 | grep -q '^container '
	run "$SB" down
	echo "$output"
	[ "$status" -eq 0 ]
	nothing_on h1 h2 h3
	[ ! -e "$RECORD" ]
}

#!/usr/bin/env bats
# status's per-node checks across two lab hosts, ${SB_LAB_A:-h5} and
# ${SB_LAB_B:-h6} (cluster "sbhealthm", on macvlan): reference cases 26, 27,
# 31 and 34. tests/run-all runs it only when the lab is up, so a lab host
# that does not answer is a failure. The tests run in order.

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export HA=${SB_LAB_A:-h5} HB=${SB_LAB_B:-h6}
	export MHOME=/srv/sbhealthm-home
	unset SLURMBOX_CLUSTER
	lab_require "$HA" "$HB"
	"$SB" --name sbhealthm down --purge >/dev/null 2>&1 || true
	mkdir -p "$MHOME"
}

teardown_file() {
	[ -n "${SLURMBOX_KEEP:-}" ] && return 0
	"$SB" --name sbhealthm down --purge >/dev/null 2>&1 || true
	"$LAB" exec "$HB" rm -f /tmp/sbhealthm.key.orig || true
	rm -rf "$MHOME"
}

setup() {
	lab_require "$HA" "$HB"
}

sm() { "$SB" --name sbhealthm "$@"; }

@test "multi-host: up sbhealthm on $HA and $HB" {
	run sm up --hosts "$HA,$HB" --home "$MHOME" --ip-range 10.77.0.160/28
	echo "$output"
	[ "$status" -eq 0 ]
	[ -n "$(labelled container sbhealthm "$HB")" ]
	# the shim's name as the down test computes it
	on "$HA" ip -o link show | grep -q " $(shim_name sbhealthm)@"
}

@test "multi-host case 26: every node on both hosts: conf, munge and hostname ok" {
	run --separate-stderr sm status --json
	echo "$output"
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
	[ "$(jq -r '[.nodes[].host] | unique | join(",")' <<<"$output")" = "$(printf '%s\n' "$HA" "$HB" | sort | paste -sd,)" ]
	# the node on host B
	node=$(jq -r --arg h "$HB" '.nodes[] | select(.host == $h) | .node' <<<"$output" | head -n 1)
	[ -n "$node" ]
	echo "$node" >"$BATS_FILE_TMPDIR/bnode"
}

@test "multi-host case 31: the copy of slurm.conf on $HB's worker edited is drift (exit 1); undone, healthy" {
	node=$(cat "$BATS_FILE_TMPDIR/bnode")
	on "$HB" docker exec -u root "sbhealthm-$node" sh -c 'echo "# edited by hand" >>/run/slurm/conf/slurm.conf'
	run sm status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE "^$node +worker +$HB .* drift$" <<<"$output"
	grep -qE "^ +$node +drift: /run/slurm/conf/slurm.conf differs from the master's" <<<"$output"
	[ "$(grep -cE ' ok$' <<<"$output")" -eq 2 ]
	on "$HB" docker exec -u root "sbhealthm-$node" sed -i '/^# edited by hand$/d' /run/slurm/conf/slurm.conf
	run --separate-stderr sm status --json
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
}

@test "multi-host case 27: $HB's key file overwritten, its worker restarted: flagged; up puts the key back and restarts it" {
	node=$(cat "$BATS_FILE_TMPDIR/bnode")
	key=/var/lib/slurmbox/sbhealthm/munge.key
	on "$HB" cp "$key" /tmp/sbhealthm.key.orig
	on "$HB" sh -c "head -c 1024 /dev/urandom >$key"
	on "$HB" docker restart "sbhealthm-$node"
	# docker restart returns before the entrypoint starts munged again
	wait_proc running "sbhealthm-$node" munged "$HB"
	run sm status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE "^$node +worker +$HB .* munge$" <<<"$output"
	grep -qE "^ +$node +munge: credential rejected; the node's key differs from the master's$" <<<"$output"
	[ "$(grep -cE ' ok$' <<<"$output")" -eq 2 ]
	[[ "$output" == *"ssh $HB docker restart sbhealthm-$node"* ]]

	# the fix the hint names: up rewrites the host's copy and restarts that
	# host's nodes, whose munged make their copy again; the node returns to service
	started=$(on "$HB" docker inspect -f '{{.State.StartedAt}}' "sbhealthm-$node")
	run sm up
	echo "$output"
	[ "$status" -eq 0 ]
	on "$HB" cmp "$key" /tmp/sbhealthm.key.orig
	[ "$(on "$HB" docker inspect -f '{{.State.StartedAt}}' "sbhealthm-$node")" != "$started" ]
	until_healthy sm
	all_checks_ok "$(sm status --json)"
	on "$HB" rm -f /tmp/sbhealthm.key.orig
}

@test "multi-host case 27: a stopped munged on the master ($HA) is named; restarted, healthy" {
	on "$HA" docker exec -u root sbhealthm-master pkill -x munged
	# pkill only sends the signal: status must see munged gone, not going
	wait_proc gone sbhealthm-master munged "$HA"
	run sm status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^ +master +munge: cannot make a credential on the master \(munge -n, status [0-9]+: .*munge' <<<"$output"
	! grep -qE '^ +worker-[0-9]+ ' <<<"$output" || false
	on "$HA" docker exec -u root sbhealthm-master sh -c "$restore_munged_sh"
	until_healthy sm
}

@test "case 34 on macvlan: every node's LAN address carries only Slurm's port, no UDP" {
	run --separate-stderr sm status --json
	[ "$status" -eq 0 ]
	nodes=$(jq -r '.nodes[] | "\(.node) \(.host)"' <<<"$output")
	[ "$(wc -l <<<"$nodes")" -eq 3 ]
	while read -r node host; do
		# the node sits on the LAN: its macvlan address is the planned one
		ip=$(jq -r --arg n "$node" '.nodes[] | select(.node == $n) | .ip' <<<"$output")
		on "$host" docker exec "sbhealthm-$node" ip -4 -o addr show | grep -qF " $ip/"
		got=$(listening "sbhealthm-$node" "$host")
		echo "$node on $host ($ip): $got"
		case $node in
		master) [ "$got" = "tcp 6817 udp 0" ] ;;
		*) [ "$got" = "tcp 6818 udp 0" ] ;;
		esac
	done <<<"$nodes"
}

@test "multi-host: down --purge leaves nothing labelled, no shim, no key on either host" {
	ips=$(sm status --json | jq -r '.nodes[].ip')
	run sm down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(wc -w <<<"$ips")" -eq 3 ]
	for h in "$HA" "$HB"; do
		[ -z "$(labelled container sbhealthm "$h")" ]
		[ -z "$(labelled network sbhealthm "$h")" ]
		[ -z "$(labelled volume sbhealthm "$h")" ]
		! on "$h" sh -c 'ls -a /var/lib/slurmbox 2>/dev/null' | grep -qE '^\.?sbhealthm(\.|$)' || false
		! on "$h" test -e /tmp/sbhealthm.key.orig || false
		! on "$h" ip -o link show | grep -q " $(shim_name sbhealthm)[@:]" || false
		for ip in $ips; do
			! on "$h" ip route show "$ip/32" | grep -q . || false
		done
	done
	[ ! -e "/var/lib/slurmbox/sbhealthm.json" ]
	! ls -a /var/lib/slurmbox 2>/dev/null | grep -qE '^\.?sbhealthm(\.|$)' || false
	run sm status
	[ "$status" -ne 0 ]
}

#!/usr/bin/env bats
# One path for one host and many (issue 8), on the lab: the behaviours where
# the one-host and the several-host code used to differ, shown on lab hosts
# ${SB_LAB_A:-h5} and ${SB_LAB_B:-h6} (cluster "sbone"). The one-host
# counterparts are in single-host.bats, faults.bats and reconcile.bats. The
# tests run in order and share the cluster. tests/run-all runs this file only
# when the lab is up; a lab host that does not answer is a failure.

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export HA=${SB_LAB_A:-h5} HB=${SB_LAB_B:-h6}
	export SLURMBOX_CLUSTER=sbone
	lab_require "$HA" "$HB"
	"$SB" down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	[ -n "${SLURMBOX_KEEP:-}" ] && return 0
	"$SB" down --purge >/dev/null 2>&1 || true
}

setup() {
	lab_require "$HA" "$HB"
}

# The control machine's copy of the key (root: the state directory of /var/lib).
KEY=/var/lib/slurmbox/sbone/munge.key

@test "difference 4: --home is checked on every host the same way (exit 2, the host named), before anything is made" {
	run "$SB" up --hosts "$HA" --home /srv/sbone-no-such-dir --dry-run
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--home '/srv/sbone-no-such-dir' is not a directory; create it first"* ]]
	run "$SB" up --hosts "$HA,$HB" --home /srv/sbone-no-such-dir
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"On $HA: --home '/srv/sbone-no-such-dir' is not a directory"* ]]
	run "$SB" up --hosts "$HA" --home relative/home
	[ "$status" -eq 2 ]
	[[ "$output" == *"must be an absolute path"* ]]
	[ -z "$(labelled container sbone "$HA")" ]
	[ -z "$(labelled network sbone "$HA")" ]
	[ ! -e "$KEY" ]
}

@test "difference 5: an option that cannot apply is refused (exit 2) with --hosts too" {
	run "$SB" up --hosts "$HA" --ip-range 10.0.0.0/33
	[ "$status" -eq 2 ]
	[[ "$output" == *"--ip-range"* ]]
	run "$SB" up --hosts "$HA,$HB" --network bridge
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--network bridge is for a cluster on one host"* ]]
	[ -z "$(labelled container sbone "$HA")" ]
}

@test "difference 6: --hosts A --network bridge takes a free subnet of the pool, never the LAN's" {
	run --separate-stderr "$SB" up --hosts "$HA" --network bridge --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	grep -E 'Network: +sbone-net \(bridge, subnet 10\.213\.[0-9]+\.0/24' <<<"$output"
	! grep -q '10\.77\.0\.' <<<"$output" || false
}

@test "a bridge cluster on one remote host comes up; the record keeps its network kind" {
	run "$SB" up --hosts "$HA" --network bridge -w 1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"on 1 host, bridge network 10.213."* ]]
	[ -n "$(labelled container sbone "$HA")" ]
	[ -z "$(labelled container sbone "$HB")" ]
	run "$SB" exec worker-1 hostname
	[ "$output" = worker-1 ]
	# again, without any option: the recorded host and network, nothing to change
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"already up"* ]]
}

@test "difference 2: --recreate with another subnet re-makes the network there; refused without it, nothing removed" {
	before=$(labelled container sbone "$HA" | sort)
	run "$SB" up --subnet 10.214.9.0/24
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"other settings"* ]]
	[ "$(labelled container sbone "$HA" | sort)" = "$before" ]
	run "$SB" up --subnet 10.214.9.0/24 --recreate
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"bridge network 10.214.9.0/24"* ]]
	on "$HA" docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' sbone-net | grep -qx 10.214.9.0/24
	run "$SB" exec master sinfo -h -o '%T' -n worker-1
	[ "$output" = idle ]
}

@test "difference 3: status shows a removed worker as missing and exits 1; up heals it" {
	on "$HA" docker rm -f sbone-worker-1 >/dev/null
	run --separate-stderr "$SB" status --json
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.nodes[] | select(.node == "worker-1") | .state' <<<"$output")" = missing ]
	[ "$(jq -r .healthy <<<"$output")" = false ]
	run "$SB" status
	[ "$status" -eq 1 ]
	grep -E '^worker-1 +worker +'"$HA"' +missing' <<<"$output"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	run "$SB" status
	[ "$status" -eq 0 ]
}

@test "difference 1: the control machine's key lost while the nodes run is refused; the hosts' key is untouched" {
	sum=$(on "$HA" sh -c 'sha256sum /var/lib/slurmbox/sbone/munge.key' | cut -d' ' -f1)
	[ -n "$sum" ]
	on "$HA" docker stop -t 5 sbone-worker-1 >/dev/null
	mv "$KEY" "$BATS_TEST_TMPDIR/key"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"munge key of cluster 'sbone'"*"is missing, but the cluster's containers exist (on $HA)"* ]]
	[ ! -e "$KEY" ]
	[ "$(on "$HA" sh -c 'sha256sum /var/lib/slurmbox/sbone/munge.key' | cut -d' ' -f1)" = "$sum" ]
	mv "$BATS_TEST_TMPDIR/key" "$KEY"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	run --separate-stderr "$SB" exec worker-1 sh -c 'munge -n | unmunge >/dev/null && echo ok'
	[ "$output" = ok ]
}

@test "down --purge leaves nothing of sbone on $HA" {
	run "$SB" down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(labelled container sbone "$HA")" ]
	[ -z "$(labelled network sbone "$HA")" ]
	[ ! -e "$KEY" ]
}

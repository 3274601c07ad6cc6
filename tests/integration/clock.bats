#!/usr/bin/env bats
# Case 28 of the reference: a host whose clock is off by more than 60 s is
# refused by the preflight, before anything is created. The real clock is
# not namespaced, so `tests/lab clock` makes the lab host's ssh sessions see
# a shifted time (libfaketime through sshd's SetEnv): the time slurmbox's
# agent reports from that host is what a skewed machine would report.
# tests/run-all runs this file only once the lab is up: a lab that does not
# answer fails the file (setup_file), it is never a skip.

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export LAB=$BATS_TEST_DIRNAME/../lab
	export A=${SB_LAB_A:-h5} B=${SB_LAB_B:-h6}
	export SLURMBOX_CLUSTER=sbclock
	[ -x "$SB" ] || {
		echo "no slurmbox binary at $SB (make)" >&2
		return 1
	}
	"$LAB" check "$A" "$B"
	"$SB" down --purge >/dev/null 2>&1 || true
}

setup() {
	# fresh ssh connections, so the new sshd's environment applies
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR
}

teardown() {
	"$LAB" clock "$B" off >/dev/null 2>&1 || true
}

teardown_file() {
	"$SB" down --purge >/dev/null 2>&1 || true
}

# nothing_on HOST...: no trace of sbclock on these hosts (labelled objects,
# a shim, the key copy) nor on the control machine (record, key, lock file)
nothing_on() {
	local h
	for h in "$@"; do
		[ -z "$(ssh "$h" docker ps -aq --filter label=io.slurmbox.cluster=sbclock)" ]
		[ -z "$(ssh "$h" docker network ls -q --filter label=io.slurmbox.cluster=sbclock)" ]
		[ -z "$(ssh "$h" docker volume ls -q --filter label=io.slurmbox.cluster=sbclock)" ]
		! ssh "$h" ip -o link show | grep -q ' sb-' || false
		ssh "$h" test ! -e /var/lib/slurmbox/sbclock
	done
	[ ! -e "/var/lib/slurmbox/sbclock.json" ]
	[ ! -e /var/lib/slurmbox/sbclock ]
	[ ! -e /var/lib/slurmbox/.sbclock.control.lock ]
}

@test "case 28: a host 120 s ahead is refused by the preflight; nothing is created; in step again it passes" {
	"$LAB" clock "$B" +120s
	now=$(date +%s)
	there=$(ssh "$B" date +%s)
	[ $((there - now)) -ge 110 ]

	run "$SB" up --hosts "$A,$B" --dry-run
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Preflight found problems; nothing was changed on any host"* ]]
	[[ "$output" =~ "the hosts' clocks differ by 1"[12][0-9]" s (more than 60 s)" ]]
	nothing_on "$A" "$B"

	# not only the plan: a real up is refused the same way, before anything
	# is made on any host or on this machine (no key, no record, no image)
	run "$SB" up --hosts "$A,$B"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Preflight found problems; nothing was changed on any host"* ]]
	[[ "$output" =~ "the hosts' clocks differ by 1"[12][0-9]" s (more than 60 s)" ]]
	[[ "$output" != *"Building the images"* && "$output" != *"Streaming the images"* ]]
	nothing_on "$A" "$B"

	"$LAB" clock "$B" off
	# slurmbox's ssh connections of the first run (ControlPersist) still see
	# the shifted clock: new ones
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/2
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
	there=$(ssh "$B" date +%s)
	[ $((there - $(date +%s))) -lt 5 ]
	run "$SB" up --hosts "$A,$B" --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"clocks differ"* ]]
}

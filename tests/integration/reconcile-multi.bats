#!/usr/bin/env bats
# A host added to a running cluster (the issue's "a new host in --hosts adds
# its workers without restarting the master"), on two of the lab's simulated
# hosts, A=${SB_LAB_A:-h6} and B=${SB_LAB_B:-h7}: up on A, a held job, then
# up --hosts A,B. The master's container stays (same ID, never restarted), the
# job stays queued, B's worker goes idle; other settings are still refused
# with a diff (case 14); --recreate without B removes B's part. The tests run
# in order and share the cluster "sbreconm". tests/run-all runs this file only
# once the lab is up: a lab that does not answer fails the file (setup_file),
# it is never a skip.

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export SLURMBOX_CLUSTER=sbreconm
	export LAB=$BATS_TEST_DIRNAME/../lab
	export A=${SB_LAB_A:-h6} B=${SB_LAB_B:-h7}
	export HOMEDIR=/srv/sbreconm-home RANGE=10.77.0.176/28
	[ -x "$SB" ] || {
		echo "no slurmbox binary at $SB (make)" >&2
		return 1
	}
	"$LAB" check "$A" "$B"
	"$SB" down --purge >/dev/null 2>&1 || true
	mkdir -p "$HOMEDIR"
}

teardown_file() {
	if [ -z "${SLURMBOX_KEEP:-}" ]; then
		"$SB" down --purge >/dev/null 2>&1 || true
	fi
	rm -rf "$HOMEDIR"
}

on() { # on HOST CMD...: run in a lab host
	local h=$1
	shift
	"$LAB" exec "$h" "$@"
}

ids() { # ids HOST: the cluster's containers there, "name id started-at restarts"
	ssh "$1" docker ps -aq --filter label=io.slurmbox.cluster=sbreconm |
		xargs -r ssh "$1" docker inspect -f "'{{.Name}} {{.Id}} {{.State.StartedAt}} {{.RestartCount}}'" | sort
}

master_line() { ids "$A" | grep '^/sbreconm-master '; }
job_state() { "$SB" exec master squeue -h -j "$(cat "$BATS_FILE_TMPDIR/job")" -o %T; }

# The shim's name: "sb-" and 12 hex digits of the cluster name's FNV-1a 64 (host_shim_name).
shim_name() {
	local h=$((0xcbf29ce484222325)) s=sbreconm c i
	for ((i = 0; i < ${#s}; i++)); do
		c=$(printf '%d' "'${s:i:1}")
		h=$(((h ^ c) * 0x100000001b3))
	done
	printf 'sb-%.12s' "$(printf '%016x' "$h")"
}

@test "up on A alone brings master and worker-1 to idle; a held job waits" {
	run "$SB" up --hosts "$A" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	[ "$output" = "worker-1 idle" ]
	run --separate-stderr "$SB" exec master sbatch --hold --wrap 'sleep 1'
	echo "$output"
	[[ "$output" =~ ^Submitted\ batch\ job\ ([0-9]+)$ ]]
	echo "${BASH_REMATCH[1]}" >"$BATS_FILE_TMPDIR/job"
	[ "$(job_state)" = PENDING ]
	[ -z "$(ids "$B")" ]
}

@test "up --hosts A,B with another setting too is refused with the diff; nothing changes" {
	before=$(ids "$A")
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE" --home "$HOMEDIR" --workers-per-host 2
	echo "$output"
	[ "$status" -eq 2 ]
	grep -qx '  workers per host: 1 -> 2' <<<"$output"
	grep -qx "  hosts: $A -> $A,$B" <<<"$output"
	[[ "$output" == *"--recreate"* ]]
	[ "$(ids "$A")" = "$before" ]
	[ -z "$(ids "$B")" ]
	[ "$(job_state)" = PENDING ]
}

@test "up --hosts A,B adds B's worker; the master's container is neither re-created nor restarted" {
	master=$(master_line)
	worker=$(ids "$A" | grep '^/sbreconm-worker-1 ')
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"its nodes are kept"* ]]
	[ "$(master_line)" = "$master" ]
	[ "$(ids "$A" | grep '^/sbreconm-worker-1 ')" = "$worker" ]
	[ "$(job_state)" = PENDING ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	echo "$output"
	[ "$(sort <<<"$output")" = "$(printf 'worker-1 idle\nworker-2 idle')" ]
	ids "$B" | grep -q '^/sbreconm-worker-2 '
	# every node has the same slurm.conf, and the two workers run one job together
	sums=$(for n in master worker-1 worker-2; do "$SB" exec "$n" md5sum /etc/slurm/slurm.conf; done | sort -u)
	[ "$(wc -l <<<"$sums")" -eq 1 ]
	run --separate-stderr "$SB" exec master srun -N2 hostname
	echo "$output"
	[ "$(sort <<<"$output")" = "$(printf 'worker-1\nworker-2')" ]
	# status compares every slurm.conf with the recorded plan: no drift
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "up again, with or without --hosts, is a no-op" {
	before=$(ids "$A"; ids "$B")
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ids "$A"; ids "$B")" = "$before" ]
	[ "$(job_state)" = PENDING ]
}

@test "up --hosts A without B is refused; with --recreate B's part goes and A's containers are new" {
	before=$(ids "$A"; ids "$B")
	run "$SB" up --hosts "$A" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 2 ]
	grep -qx "  hosts: $A,$B -> $A" <<<"$output"
	[ "$(ids "$A"; ids "$B")" = "$before" ]
	master=$(master_line)
	run "$SB" up --recreate --hosts "$A" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(ids "$B")" ]
	[ -z "$(ssh "$B" docker network ls -q --filter label=io.slurmbox.cluster=sbreconm)" ]
	! on "$B" ip -o link show | grep -q " $(shim_name)[@:]" || false
	# a node taken away changes every node's list: all of A's containers are new
	[ "$(master_line | cut -d' ' -f2)" != "$(cut -d' ' -f2 <<<"$master")" ]
	[ "$(job_state)" = PENDING ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	[ "$output" = "worker-1 idle" ]
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "down --purge leaves nothing of the cluster on A or B" {
	ips=$("$SB" status --json | jq -r '.nodes[].ip')
	[ -n "$ips" ]
	run "$SB" down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	for h in "$A" "$B"; do
		[ -z "$(ssh "$h" docker ps -aq --filter label=io.slurmbox.cluster=sbreconm)" ]
		[ -z "$(ssh "$h" docker network ls -q --filter label=io.slurmbox.cluster=sbreconm)" ]
		[ -z "$(ssh "$h" docker volume ls -q --filter label=io.slurmbox.cluster=sbreconm)" ]
		! on "$h" ip -o link show | grep -q " $(shim_name)[@:]" || false
		for ip in $ips; do
			! on "$h" ip route show "$ip/32" | grep -q . || false
		done
		! on "$h" test -e /var/lib/slurmbox/sbreconm || false
	done
	[ ! -e "/var/lib/slurmbox/sbreconm.json" ]
}

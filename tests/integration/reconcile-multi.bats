#!/usr/bin/env bats
# A host added to a running cluster (the issue's "a new host in --hosts adds
# its workers without restarting the master"), on two of the lab's simulated
# hosts, A=${SB_LAB_A:-h5} and B=${SB_LAB_B:-h6}: up on A, a held job, then
# up --hosts A,B. The master's container stays (same ID, never restarted, the
# same slurmctld), the job stays queued, a running job runs on, B's worker
# joins as a dynamic node; other settings are still refused with a diff (case
# 14); up without B drains B's worker, deletes it from Slurm and removes B's
# part, with A's containers and slurmctld untouched. The tests run
# in order and share the cluster "sbreconm". tests/run-all runs this file only
# once the lab is up: a lab that does not answer fails the file (setup_file),
# it is never a skip.

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export SLURMBOX_CLUSTER=sbreconm
	export LAB=$BATS_TEST_DIRNAME/../lab
	export A=${SB_LAB_A:-h5} B=${SB_LAB_B:-h6}
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
running_state() { "$SB" exec master squeue -h -j "$(cat "$BATS_FILE_TMPDIR/running")" -o %T; }
ctld_pid() { "$SB" exec master pgrep -x slurmctld; }

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
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE" --home "$HOMEDIR" --user bob:1001
	echo "$output"
	[ "$status" -eq 2 ]
	grep -qx '  user: slurmbox (1000) -> bob (1001)' <<<"$output"
	grep -qx "  hosts: $A -> $A,$B" <<<"$output"
	[[ "$output" == *"--recreate"* ]]
	[ "$(ids "$A")" = "$before" ]
	[ -z "$(ids "$B")" ]
	[ "$(job_state)" = PENDING ]
}

@test "up --hosts A,B adds B's worker; the master's container and slurmctld are untouched, a running job runs on" {
	master=$(master_line)
	worker=$(ids "$A" | grep '^/sbreconm-worker-1 ')
	pid=$(ctld_pid)
	run --separate-stderr "$SB" exec master sbatch --parsable -w worker-1 --wrap 'sleep 900'
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_FILE_TMPDIR/running"
	until [ "$(running_state)" = RUNNING ]; do sleep 0.2; done
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"its nodes are kept"* ]]
	[ "$(master_line)" = "$master" ]
	[ "$(ids "$A" | grep '^/sbreconm-worker-1 ')" = "$worker" ]
	[ "$(ctld_pid)" = "$pid" ]
	[ "$(job_state)" = PENDING ]
	[ "$(running_state)" = RUNNING ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	echo "$output"
	[ "$(sort <<<"$output")" = "$(printf 'worker-1 mix\nworker-2 idle')" ]
	ids "$B" | grep -q '^/sbreconm-worker-2 '
	# configless: B's worker holds slurmd's copy of the master's slurm.conf and no file of its own
	[ "$("$SB" exec worker-2 md5sum /run/slurm/conf/slurm.conf | cut -d' ' -f1)" = \
		"$("$SB" exec master md5sum /etc/slurm/slurm.conf | cut -d' ' -f1)" ]
	"$SB" exec worker-2 test ! -e /etc/slurm/slurm.conf
	# the two workers run one job together
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

@test "--workers-per-host 2 then 1: each host's workers keep their names; the new ones join and leave, the rest untouched" {
	before=$(ids "$A"; ids "$B")
	pid=$(ctld_pid)
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE" --home "$HOMEDIR" --workers-per-host 2
	echo "$output"
	[ "$status" -eq 0 ]
	# worker-1 stays on A and worker-2 on B (no renumbering); the new ones are worker-3 and 4
	ids "$A" | grep -q '^/sbreconm-worker-3 '
	ids "$B" | grep -q '^/sbreconm-worker-4 '
	after=$(ids "$A"; ids "$B")
	while read -r line; do
		grep -qxF "$line" <<<"$after"
	done <<<"$before"
	[ "$(ctld_pid)" = "$pid" ]
	[ "$(running_state)" = RUNNING ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N'
	[ "$(sort -V <<<"$output" | paste -sd,)" = worker-1,worker-2,worker-3,worker-4 ]
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE" --home "$HOMEDIR" --workers-per-host 1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Taking worker-3,worker-4 out of Slurm"* ]]
	[ "$(ids "$A"; ids "$B")" = "$before" ]
	[ "$(ctld_pid)" = "$pid" ]
	[ "$(running_state)" = RUNNING ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N'
	[ "$(sort -V <<<"$output" | paste -sd,)" = worker-1,worker-2 ]
}

@test "up --hosts A without B: B's worker is drained and deleted from Slurm, B's part goes; A's containers and slurmctld are untouched" {
	master=$(master_line)
	worker=$(ids "$A" | grep '^/sbreconm-worker-1 ')
	pid=$(ctld_pid)
	run "$SB" up --hosts "$A" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Taking worker-2 out of Slurm"*"deleted from Slurm"* ]]
	[ -z "$(ids "$B")" ]
	[ -z "$(ssh "$B" docker network ls -q --filter label=io.slurmbox.cluster=sbreconm)" ]
	! on "$B" ip -o link show | grep -q " $(shim_name)[@:]" || false
	[ "$(master_line)" = "$master" ]
	[ "$(ids "$A" | grep '^/sbreconm-worker-1 ')" = "$worker" ]
	[ "$(ctld_pid)" = "$pid" ]
	[ "$(job_state)" = PENDING ]
	[ "$(running_state)" = RUNNING ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	[ "$output" = "worker-1 mix" ]
	"$SB" exec master scancel "$(cat "$BATS_FILE_TMPDIR/running")"
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

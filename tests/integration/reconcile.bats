#!/usr/bin/env bats
# `up` on a cluster that exists (case 13, case 14 and the issue's "idempotent
# up that reconciles"), on one host against the real dockerd: other settings
# are refused with a diff and change nothing; --recreate re-creates what
# differs (key, /home and Slurm state kept); workers join and leave in place
# (dynamic nodes): the master's container and its slurmctld are never
# re-created or restarted, a running job runs on, a worker that leaves is
# drained first (its running jobs refuse the change unless --force); a
# removed worker comes back. The tests run in order and share the cluster
# "sbrecon".

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export SLURMBOX_CLUSTER=sbrecon
	export KEY=/var/lib/slurmbox/sbrecon/munge.key
	"$SB" down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	if [ -z "${SLURMBOX_KEEP:-}" ]; then
		"$SB" down --purge >/dev/null 2>&1 || true
	fi
}

labelled() { # labelled KIND: ids of sbrecon's labelled objects
	case $1 in
	container) docker ps -aq --filter label=io.slurmbox.cluster=sbrecon ;;
	network) docker network ls -q --filter label=io.slurmbox.cluster=sbrecon ;;
	volume) docker volume ls -q --filter label=io.slurmbox.cluster=sbrecon ;;
	esac
}

cid() { docker inspect -f '{{.Id}}' "sbrecon-$1"; }
started() { docker inspect -f '{{.State.Running}} {{.State.StartedAt}} {{.RestartCount}}' "sbrecon-$1"; }
job_state() { "$SB" exec master squeue -h -j "$(cat "$BATS_FILE_TMPDIR/job")" -o %T; }
# workers up and schedulable (idle, or running a job: mix)
idle_workers() { "$SB" exec master sinfo -h -N -o '%N %t' | grep -cE ' (idle|mix)$'; }

ctld_pid() { docker exec sbrecon-master pgrep -x slurmctld; }

# configless: only the master has slurm.conf, naming no node; each of the N
# workers holds slurmd's copy of it, and slurmctld lists exactly workers 1..N
same_conf() {
	local n=$1 want node
	want=$(docker exec sbrecon-master md5sum /etc/slurm/slurm.conf | cut -d' ' -f1)
	[ "$(docker exec sbrecon-master grep -c '^NodeName=' /etc/slurm/slurm.conf)" -eq 0 ]
	for node in $(seq -f 'worker-%g' 1 "$n"); do
		docker exec "sbrecon-$node" test ! -e /etc/slurm/slurm.conf
		[ "$(docker exec "sbrecon-$node" md5sum /run/slurm/conf/slurm.conf | cut -d' ' -f1)" = "$want" ]
	done
	[ "$("$SB" exec master sinfo -h -N -o %N | sort -V | paste -sd,)" = "$(seq -f 'worker-%g' 1 "$n" | paste -sd,)" ]
}

@test "up brings sbrecon to idle; a held job waits and a file is in /home" {
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(idle_workers)" -eq 2 ]
	run --separate-stderr "$SB" exec master sbatch --hold --wrap 'sleep 1'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^Submitted\ batch\ job\ ([0-9]+)$ ]]
	echo "${BASH_REMATCH[1]}" >"$BATS_FILE_TMPDIR/job"
	[ "$(job_state)" = PENDING ]
	"$SB" exec master sh -c 'echo kept >"$HOME/kept.txt"'
	sha256sum "$KEY" >"$BATS_FILE_TMPDIR/key.sum"
}

@test "up again with the same settings is a no-op (case 13)" {
	before=$(labelled container | sort)
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Nothing to change"* ]]
	[ "$(labelled container | sort)" = "$before" ]
	[ "$(job_state)" = PENDING ]
}

@test "up --user bob is refused with the diff; the master is untouched (case 14)" {
	master=$(cid master)
	was=$(started master)
	before=$(labelled container | sort)
	run "$SB" up --user bob:1001
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"exists with other settings (old -> new):"* ]]
	grep -qx '  user: slurmbox (1000) -> bob (1001)' <<<"$output"
	[[ "$output" == *"slurmbox up --name sbrecon --user bob:1001 --recreate"* ]]
	[[ "$output" == *"your /home, key and Slurm state are kept"* ]]
	[[ "$output" == *"Nothing was changed"* ]]
	[ "$(cid master)" = "$master" ]
	[ "$(started master)" = "$was" ]
	[ "$(labelled container | sort)" = "$before" ]
	[ "$(job_state)" = PENDING ]
}

@test "several changed settings: one diff line each, old -> new; still nothing changes" {
	before=$(labelled container | sort)
	run "$SB" up --workers 1 --user bob:1001 --subnet 10.213.250.0/24
	echo "$output"
	[ "$status" -eq 2 ]
	grep -qx '  workers: 2 -> 1' <<<"$output"
	grep -qx '  user: slurmbox (1000) -> bob (1001)' <<<"$output"
	grep -qE '^  subnet: 10\.213\.[0-9]+\.0/24 -> 10\.213\.250\.0/24$' <<<"$output"
	[ "$(labelled container | sort)" = "$before" ]
}

@test "up --workers 3 joins a worker in place: no --recreate, slurmctld never restarted, a running job runs on" {
	master=$(cid master)
	pid=$(ctld_pid)
	run --separate-stderr "$SB" exec master sbatch --parsable -w worker-1 --wrap 'sleep 600'
	[ "$status" -eq 0 ]
	running=$output
	echo "$running" >"$BATS_FILE_TMPDIR/running"
	until [ "$("$SB" exec master squeue -h -j "$running" -o %T)" = RUNNING ]; do sleep 0.2; done
	run "$SB" up --workers 3
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(idle_workers)" -eq 3 ]
	[ "$(cid master)" = "$master" ]
	[ "$(docker inspect -f '{{.RestartCount}}' sbrecon-master)" -eq 0 ]
	[ "$(ctld_pid)" = "$pid" ]
	[ "$("$SB" exec master squeue -h -j "$running" -o %T)" = RUNNING ]
	sha256sum -c "$BATS_FILE_TMPDIR/key.sum"
	[ "$(job_state)" = PENDING ]
	run --separate-stderr "$SB" exec worker-3 cat kept.txt
	[ "$output" = kept ]
	same_conf 3
	[ "$(labelled container | wc -l)" -eq 4 ]
	# worker-3 knows the others by name
	docker exec sbrecon-worker-3 getent hosts worker-1 master
	# status compares the master's slurm.conf with the current settings' and every copy with it
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "up after growing is a no-op, and its default is the grown cluster" {
	before=$(labelled container | sort)
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"3 workers"* ]]
	[[ "$output" == *"Nothing to change"* ]]
	[ "$(labelled container | sort)" = "$before" ]
}

@test "a removed worker is re-created by up; the master is untouched" {
	master=$(cid master)
	was=$(started master)
	docker rm -f sbrecon-worker-3 >/dev/null
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(idle_workers)" -eq 3 ]
	[ "$(cid master)" = "$master" ]
	[ "$(started master)" = "$was" ]
	[ "$(job_state)" = PENDING ]
	same_conf 3
}

@test "up --workers 2 while worker-3 runs a job: refused after --timeout with the job ID; worker-3 back in service" {
	run --separate-stderr "$SB" exec master sbatch --parsable -w worker-3 --wrap 'sleep 600'
	[ "$status" -eq 0 ]
	busy=$output
	until [ "$("$SB" exec master squeue -h -j "$busy" -o %T)" = RUNNING ]; do sleep 0.2; done
	before=$(labelled container | sort)
	run "$SB" up --workers 2 --timeout 2
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"worker-3 still runs job $busy after 2 s: nothing was changed, and the node is back in service"* ]]
	[[ "$output" == *"scancel $busy"*"--force"* ]]
	[ "$(labelled container | sort)" = "$before" ]
	# not drained (slurmctld pings it once more when it is put back: "mixed*" a moment)
	state=$("$SB" exec master sinfo -h -n worker-3 -o %T)
	echo "worker-3: $state"
	[[ "${state,,}" == mixed* ]]
	"$SB" exec master scancel "$busy"
}

@test "up --workers 2: worker-3 drained, deleted from Slurm, its container gone; the rest untouched, the running job runs on" {
	master=$(cid master)
	w1=$(cid worker-1)
	pid=$(ctld_pid)
	running=$(cat "$BATS_FILE_TMPDIR/running")
	run "$SB" up --workers 2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Taking worker-3 out of Slurm"*"deleted from Slurm"* ]]
	[[ "$output" != *"Nothing to change"* ]]
	[ "$(cid master)" = "$master" ]
	[ "$(cid worker-1)" = "$w1" ]
	[ "$(ctld_pid)" = "$pid" ]
	[ "$("$SB" exec master squeue -h -j "$running" -o %T)" = RUNNING ]
	[ "$(labelled container | wc -l)" -eq 3 ]
	! docker inspect sbrecon-worker-3 >/dev/null 2>&1 || false
	sha256sum -c "$BATS_FILE_TMPDIR/key.sum"
	[ "$(job_state)" = PENDING ]
	same_conf 2
	"$SB" exec master scancel "$running"
	run "$SB" up
	[ "$status" -eq 0 ]
	[[ "$output" == *"Nothing to change"* ]]
}

@test "a worker with a running job taken away with --force: the job is ended, the node leaves" {
	"$SB" up --workers 3
	run --separate-stderr "$SB" exec master sbatch --parsable --no-requeue -w worker-3 --wrap 'sleep 600'
	busy=$output
	until [ "$("$SB" exec master squeue -h -j "$busy" -o %T)" = RUNNING ]; do sleep 0.2; done
	run "$SB" up --workers 2 --timeout 1 --force
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"--force: ending job $busy on worker-3"* ]]
	[ -z "$("$SB" exec master squeue -h -j "$busy" -t RUNNING,PENDING -o %i 2>/dev/null)" ]
	same_conf 2
}

@test "difference 2: up --recreate --subnet re-makes the network before any container; key, job and /home kept" {
	net=$(labelled network)
	[ -n "$net" ]
	run "$SB" up --recreate --subnet 10.213.251.0/24
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"bridge network 10.213.251.0/24"* ]]
	[ "$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' sbrecon-net)" = 10.213.251.0/24 ]
	[ "$(labelled network)" != "$net" ]
	[ "$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' sbrecon-worker-1)" = 10.213.251.3 ]
	[ "$(idle_workers)" -eq 2 ]
	sha256sum -c "$BATS_FILE_TMPDIR/key.sum"
	[ "$(job_state)" = PENDING ]
	run --separate-stderr "$SB" exec worker-1 cat kept.txt
	[ "$output" = kept ]
}

@test "an upgrade of Slurm past what it reads: the diff names both versions, the jobs dropped are said first; the master reads the old state once with -i" {
	# the cluster as a 22.05 one would be: its record of no release (bookworm),
	# and the master's state saved with 22.05's protocol (9728: 0x26 0x00)
	record=/var/lib/slurmbox/sbrecon.json
	jq 'del(.spec.release)' "$record" >"$BATS_TEST_TMPDIR/r" && cat "$BATS_TEST_TMPDIR/r" >"$record"
	docker stop -t 20 sbrecon-master
	image=$(docker inspect -f '{{.Config.Image}}' sbrecon-master)
	docker run --rm --entrypoint sh -v sbrecon-state:/s "$image" \
		-c 'printf "\000\000\000\021PROTOCOL_VERSION\000\046\000" >/s/job_state'
	run "$SB" up
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"slurm: 22.05.8 (Debian 12 bookworm) -> 24.11.5 (Debian 13 trixie)"* ]]
	[[ "$output" == *"Slurm 24.11 cannot read the state Slurm 22.05 saved"* ]]
	[[ "$output" == *"job numbers are kept"* ]]
	[ "$(docker inspect -f '{{.State.Running}}' sbrecon-master)" = false ]
	run --separate-stderr "$SB" up --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"Changes to the running cluster (old -> new):"*"slurm: 22.05.8"* ]]
	[[ "$output" == *"Slurm 24.11 cannot read the state Slurm 22.05 saved"* ]]
	run "$SB" up --recreate
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: Slurm 24.11 cannot read the state Slurm 22.05 saved"* ]]
	docker logs sbrecon-master 2>&1 | grep -q 'saved by an older Slurm (protocol 9728).*starting once with -i'
	[ "$(idle_workers)" -eq 2 ]
	[ "$(jq -r .spec.release "$record")" = trixie ]
	run --separate-stderr "$SB" exec master sbatch --parsable --wrap true
	[ "$status" -eq 0 ]
	# the state is this Slurm's again: a restart needs no -i
	docker restart -t 20 sbrecon-master
	[ "$(docker logs sbrecon-master 2>&1 | grep -c 'starting once with -i')" -eq 1 ]
	run "$SB" up
	[ "$status" -eq 0 ]
	sha256sum -c "$BATS_FILE_TMPDIR/key.sum"
}

@test "down --purge leaves no labelled object and no state file" {
	run "$SB" down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(labelled container)$(labelled network)$(labelled volume)" ]
	[ ! -e /var/lib/slurmbox/sbrecon ]
	[ ! -e /var/lib/slurmbox/sbrecon.json ]
}

#!/usr/bin/env bats
# `up` on a cluster that exists (case 13, case 14 and the issue's "idempotent
# up that reconciles"), on one host against the real dockerd: other settings
# are refused with a diff and change nothing; --recreate re-creates what
# differs (key, /home and Slurm state kept); more workers join without the
# master's container being re-created or restarted; a removed worker comes
# back. The tests run in order and share the cluster "sbrecon".

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
idle_workers() { "$SB" exec master sinfo -h -N -o '%N %t' | grep -c ' idle$'; }

# every node has the same slurm.conf, naming exactly workers 1..N
same_conf() {
	local n=$1 sums node
	sums=$(for node in master $(seq -f 'worker-%g' 1 "$n"); do
		docker exec "sbrecon-$node" md5sum /etc/slurm/slurm.conf | cut -d' ' -f1
	done | sort -u)
	[ "$(wc -l <<<"$sums")" -eq 1 ]
	[ "$(docker exec sbrecon-master grep -c '^NodeName=' /etc/slurm/slurm.conf)" -eq "$n" ]
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

@test "up --workers 3 is refused with the diff; the master is untouched (case 14)" {
	master=$(cid master)
	was=$(started master)
	before=$(labelled container | sort)
	run "$SB" up --workers 3
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"exists with other settings (old -> new):"* ]]
	grep -qx '  workers: 2 -> 3' <<<"$output"
	[[ "$output" == *"slurmbox up --name sbrecon --workers 3 --recreate"* ]]
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

@test "up --recreate --workers 3: three idle workers; master kept; key, job and /home kept" {
	master=$(cid master)
	run "$SB" up --recreate --workers 3
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(idle_workers)" -eq 3 ]
	# a worker added keeps the master's container (its slurmctld restarted inside it)
	[ "$(cid master)" = "$master" ]
	[ "$(docker inspect -f '{{.RestartCount}}' sbrecon-master)" -eq 0 ]
	sha256sum -c "$BATS_FILE_TMPDIR/key.sum"
	[ "$(job_state)" = PENDING ]
	run --separate-stderr "$SB" exec worker-3 cat kept.txt
	[ "$output" = kept ]
	same_conf 3
	[ "$(labelled container | wc -l)" -eq 4 ]
	# status compares every slurm.conf with the current settings': no drift
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

@test "up --recreate --workers 2: fewer nodes re-create every container; key, job and /home kept" {
	master=$(cid master)
	run "$SB" up --recreate --workers 2
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(idle_workers)" -eq 2 ]
	[ "$(cid master)" != "$master" ]
	[ "$(labelled container | wc -l)" -eq 3 ]
	! docker inspect sbrecon-worker-3 >/dev/null 2>&1 || false
	sha256sum -c "$BATS_FILE_TMPDIR/key.sum"
	[ "$(job_state)" = PENDING ]
	run --separate-stderr "$SB" exec worker-1 cat kept.txt
	[ "$output" = kept ]
	same_conf 2
	run "$SB" up
	[ "$status" -eq 0 ]
	[[ "$output" == *"Nothing to change"* ]]
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

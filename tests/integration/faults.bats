#!/usr/bin/env bats
# Reliability and security on one host, against the real dockerd: bad keys,
# a fault injected at every step of `up`, --keep-on-failure, the key never
# leaking, least privilege and open ports, re-runs that keep jobs, a killed
# worker, a restarted master, a missing key, a socket without permission.
# The reference's case numbers (../shared/reference/slurm-in-containers.md
# §5) are in the test names. The tests run in order and share the cluster
# "sbfaults". After every failure case nothing labelled is left.

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export KEYSCAN=${KEYSCAN:-$BATS_TEST_DIRNAME/../../build/tests/keyscan}
	export SLURMBOX_CLUSTER=sbfaults
	export STATE=/var/lib/slurmbox/sbfaults
	"$SB" down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	[ -n "${SLURMBOX_KEEP:-}" ] || "$SB" down --purge >/dev/null 2>&1 || true
}

labelled() { # labelled KIND: ids of this cluster's objects of that kind
	case $1 in
	container) docker ps -aq --filter label=io.slurmbox.cluster=sbfaults ;;
	network) docker network ls -q --filter label=io.slurmbox.cluster=sbfaults ;;
	volume) docker volume ls -q --filter label=io.slurmbox.cluster=sbfaults ;;
	esac
}

nothing_labelled() {
	[ -z "$(labelled container)$(labelled network)$(labelled volume)" ]
}

key_make() { # a good key where slurmbox keeps it: 1024 bytes, 0400, owned by us (root)
	mkdir -p -m 0700 "$STATE"
	head -c 1024 /dev/urandom >"$STATE/munge.key"
	chmod 0400 "$STATE/munge.key"
}

as_user() { # as_user CMD...: run in the master as the cluster user
	"$SB" exec master "$@"
}

job_state() { as_user squeue -h -j "$1" -o %T; }

@test "case 6: a bad munge key (mode, owner, symlink, size, not a file) is refused; nothing is created" {
	key_make
	k=$STATE/munge.key
	cp -a "$k" "$STATE/good"

	chmod 0644 "$k"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"readable by others (mode 0644)"*"chmod 400"* ]]
	nothing_labelled
	chmod 0400 "$k"

	chown 980:980 "$k"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"owned by uid 980, not by you (uid 0), who runs slurmbox: chown 0"* ]]
	nothing_labelled
	chown 0:0 "$k"

	rm "$k"
	ln -s "$STATE/good" "$k"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"is a symbolic link"* ]]
	nothing_labelled
	rm "$k"

	head -c 16 /dev/urandom >"$k"
	chmod 0400 "$k"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"only 16 bytes (munge needs at least 32)"* ]]
	nothing_labelled
	rm -f "$k"

	mkdir -m 0700 "$k"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"is not a regular file"* ]]
	nothing_labelled
	rmdir "$k"

	mv "$STATE/good" "$k"
}

@test "case 15: a fault after each step of up removes exactly what that run created" {
	sum=$(md5sum <"$STATE/munge.key")
	for step in network volumes create start controller; do
		run env SLURMBOX_FAULT="fail-after-$step" "$SB" up
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"Fault injected after step '$step'"* ]]
		nothing_labelled
		# the key was there before the run: it stays, unchanged
		[ "$(md5sum <"$STATE/munge.key")" = "$sum" ]
	done
	# a run that made the key removes it too
	rm -rf "$STATE"
	run env SLURMBOX_FAULT=fail-after-start "$SB" up
	[ "$status" -eq 1 ]
	nothing_labelled
	[ ! -e "$STATE" ]
}

@test "case 15: --keep-on-failure keeps what the failed run created; down removes it" {
	run env SLURMBOX_FAULT=fail-after-start "$SB" up --keep-on-failure
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--keep-on-failure: kept what this run created"* ]]
	[ "$(labelled container | wc -l)" -eq 3 ]
	[ -n "$(labelled network)" ]
	[ -f "$STATE/munge.key" ]
	run "$SB" down --purge
	[ "$status" -eq 0 ]
	nothing_labelled
	[ ! -e "$STATE" ]
}

@test "a node that cannot start (munged refuses its key) fails up within 15 s with its message; nothing is left" {
	rm -rf "$STATE"
	start=$SECONDS
	# test-only fault point: worker-2 gets a 16-byte key (munged needs 32)
	run env SLURMBOX_FAULT=bad-key:worker-2 "$SB" up
	took=$((SECONDS - start))
	echo "$output"
	echo "took $took s"
	[ "$status" -eq 1 ]
	[[ "$output" == *"slurmbox-entrypoint: fatal: munged refused the cluster's munge key"* ]]
	# (the status is 78 when seen between two restarts; a node seen running again says only "exited")
	[[ "$output" == *"Node 'worker-2' failed to start: it exited"*" and Docker keeps restarting it"* ]]
	# the readiness timeout is 180 s: up stopped waiting as soon as the node died
	[ "$took" -lt 15 ]
	nothing_labelled
	[ ! -e "$STATE" ]
	key_make
}

@test "case 16: after SIGINT the lock is released: the next up works" {
	SLURMBOX_FAULT=stall-after-create "$SB" up >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		[ "$(labelled container | wc -l)" -ge 3 ] && break
		sleep 0.05
	done
	kill -INT $pid
	st=0
	wait $pid || st=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 130 ]
	nothing_labelled
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(labelled container | wc -l)" -eq 3 ]
	echo "$output" >"$BATS_FILE_TMPDIR/up.out"
}

@test "case 33: no key bytes in inspect, image history or layers, /proc cmdline or environ, logs, or slurmbox's output" {
	key=$STATE/munge.key
	[ "$(stat -c '%a %u' "$key")" = "400 0" ]
	[ "$(stat -c %a "$STATE")" = 700 ]
	d=$BATS_TEST_TMPDIR
	cs=$(labelled container)
	# the key really is what the nodes use: a scan of itself finds it
	run "$KEYSCAN" "$key" "$key"
	[ "$status" -eq 1 ]
	for c in $cs; do
		docker inspect "$c" | jq -e '.[0].Mounts[] | select(.Destination=="/etc/slurmbox/munge.key") | .RW == false'
		docker exec -u root "$c" sh -c 'cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null; true' >"$d/proc-$c"
		docker logs "$c" >"$d/logs-$c" 2>&1
	done
	docker inspect $cs >"$d/inspect-containers"
	docker network inspect $(labelled network) >"$d/inspect-network"
	docker volume inspect $(labelled volume) >"$d/inspect-volumes"
	images=$(docker inspect -f '{{.Config.Image}}' $cs | sort -u)
	docker image inspect $images >"$d/inspect-images"
	for i in $images; do docker history --no-trunc "$i" >>"$d/history"; done
	cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ >"$d/proc-host" 2>/dev/null || true
	run "$KEYSCAN" "$key" "$BATS_FILE_TMPDIR/up.out" "$d"/proc-* "$d"/logs-* "$d"/inspect-* "$d/history"
	echo "$output"
	[ "$status" -eq 0 ]
	# every layer of the images the nodes run
	docker save $images >"$d/images.tar"
	[ "$(stat -c %s "$d/images.tar")" -gt 100000000 ]
	run "$KEYSCAN" "$key" "$d/images.tar"
	echo "$output"
	[ "$status" -eq 0 ]
	# a node's own file system: munged's copy of the key is in memory (a tmpfs), not in it
	docker export sbfaults-worker-1 >"$d/worker-1.tar"
	[ "$(stat -c %s "$d/worker-1.tar")" -gt 100000000 ]
	run "$KEYSCAN" "$key" "$d/worker-1.tar"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "case 34/35: not privileged, five capabilities, no-new-privileges; only Slurm's ports listen; no sshd, no passwords" {
	cs=$(docker ps -a --format '{{.Names}}' --filter label=io.slurmbox.cluster=sbfaults)
	# the three nodes are there to check
	[ "$(wc -w <<<"$cs")" -eq 3 ]
	for c in $cs; do
		docker inspect "$c" | jq -e '.[0].HostConfig | .Privileged == false
			and (.CapDrop == ["ALL"])
			and ((.CapAdd | sort) == ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_KILL","CAP_SETGID","CAP_SETUID"]
			     or (.CapAdd | sort) == ["CHOWN","DAC_OVERRIDE","KILL","SETGID","SETUID"])
			and (.SecurityOpt | any(startswith("no-new-privileges")))'
		got=$(listening "$c")
		echo "$c: $got"
		case $c in
		*-master) [ "$got" = "tcp 6817 udp 0" ] ;;
		*) [ "$got" = "tcp 6818 udp 0" ] ;;
		esac
		# no sshd, no password hash or empty password in shadow
		run docker exec "$c" sh -c 'command -v sshd || ls /usr/sbin/sshd'
		[ "$status" -ne 0 ]
		run docker exec -u root "$c" awk -F: '$2 != "*" && $2 != "!" && $2 != "!*" && $2 != "x" { print $1 }' /etc/shadow
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
}

@test "case 13: up again changes nothing: same containers, same key, queued jobs kept" {
	id=$(as_user sbatch --parsable --hold --wrap 'true')
	[ "$(job_state "$id")" = PENDING ]
	before=$(docker ps -q --no-trunc --filter label=io.slurmbox.cluster=sbfaults | sort)
	sum=$(md5sum <"$STATE/munge.key")
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Nothing to change"* ]]
	[ "$(docker ps -q --no-trunc --filter label=io.slurmbox.cluster=sbfaults | sort)" = "$before" ]
	[ "$(md5sum <"$STATE/munge.key")" = "$sum" ]
	[ "$(job_state "$id")" = PENDING ]
	as_user scancel "$id"
}

@test "case 30: a killed worker shows in status; slurmctld marks it down; up heals it and it returns to service" {
	master=$(docker inspect -f '{{.Id}}' sbfaults-master)
	docker kill sbfaults-worker-1 >/dev/null
	run "$SB" status --json
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(echo "$output" | jq -r '.nodes[] | select(.node=="worker-1") | .state')" = exited ]
	[ "$(echo "$output" | jq -r .healthy)" = false ]
	# slurmctld itself finds the node gone: not responding, then down once
	# SlurmdTimeout (60 s) has passed since it last answered; it pings every
	# 20 s, so 150 s is the bound
	deadline=$((SECONDS + 150))
	until [[ "$("$SB" exec master sinfo -h -n worker-1 -o %t)" == down* ]]; do
		[ $SECONDS -lt $deadline ]
		sleep 2
	done
	run "$SB" status --json
	[ "$status" -eq 1 ]
	[[ "$(echo "$output" | jq -r '.nodes[] | select(.node=="worker-1") | .slurm')" == down* ]]
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	# ReturnToService=2: the node registers and is idle again, not down
	run --separate-stderr "$SB" exec master sinfo -h -n worker-1 -o %t
	[ "$output" = idle ]
	[ "$(docker inspect -f '{{.Id}}' sbfaults-master)" = "$master" ]
	run "$SB" status
	[ "$status" -eq 0 ]
}

@test "case 29: a master restart keeps pending and running jobs; nodes come back" {
	run_id=$(as_user sbatch --parsable --wrap 'sleep 600')
	held=$(as_user sbatch --parsable --hold --wrap 'true')
	for _ in $(seq 100); do
		[ "$(job_state "$run_id")" = RUNNING ] && break
		sleep 0.1
	done
	[ "$(job_state "$run_id")" = RUNNING ]
	docker restart -t 10 sbfaults-master >/dev/null
	for _ in $(seq 300); do
		"$SB" exec master scontrol ping 2>/dev/null | grep -q "is UP" && break
		sleep 0.1
	done
	[ "$(job_state "$run_id")" = RUNNING ]
	[ "$(job_state "$held")" = PENDING ]
	run --separate-stderr "$SB" exec master sinfo -h -o '%t' -n worker-1,worker-2
	echo "$output"
	[[ "$output" != *down* && "$output" != *drain* ]]
	as_user scancel "$run_id" "$held"
}

@test "a missing key while the containers exist is refused; putting it back heals" {
	docker stop -t 5 sbfaults-worker-2 >/dev/null
	mv "$STATE/munge.key" "$BATS_TEST_TMPDIR/key"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"munge key of cluster 'sbfaults'"*"is missing"* ]]
	[ ! -e "$STATE/munge.key" ]
	mv "$BATS_TEST_TMPDIR/key" "$STATE/munge.key"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	run --separate-stderr "$SB" exec worker-2 sh -c 'munge -n | unmunge >/dev/null && echo ok'
	[ "$output" = ok ]
}

@test "case 8: a Docker socket without permission gives the fix, and no sudo" {
	run setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SB" status
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Permission denied on the Docker socket /var/run/docker.sock"*"usermod -aG docker"* ]]
	[[ "$output" != *"sudo:"* ]]
}

@test "down --purge after the faults leaves nothing" {
	run "$SB" down --purge
	[ "$status" -eq 0 ]
	nothing_labelled
	[ ! -e "$STATE" ]
	[ -z "$(ls -a /var/lib/slurmbox | grep sbfaults)" ]
}

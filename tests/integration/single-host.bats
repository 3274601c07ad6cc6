#!/usr/bin/env bats
# slurmbox on one host, end to end, against the real dockerd: up, exec,
# jobs, /home, exit codes, idempotence, down, down --purge. The tests run in
# order and share one cluster, "sbtest".

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export SLURMBOX_CLUSTER=sbtest
	"$SB" down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	if [ -z "${SLURMBOX_KEEP:-}" ]; then
		"$SB" down --purge >/dev/null 2>&1 || true
		"$SB" --name sbtest2 down --purge >/dev/null 2>&1 || true
		"$SB" --name sblock down --purge >/dev/null 2>&1 || true
		"$SB" --name sbint down --purge >/dev/null 2>&1 || true
		"$SB" --name sbname down --purge >/dev/null 2>&1 || true
		docker rm -f sbname-worker-1 >/dev/null 2>&1 || true
		docker network rm sbname-net >/dev/null 2>&1 || true
		docker volume rm sbname-home >/dev/null 2>&1 || true
	fi
}

@test "up --dry-run prints the plan and creates nothing" {
	run "$SB" up --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"worker-2"* ]]
	[[ "$output" == *"SlurmctldParameters=enable_configless"* ]]
	[[ "$output" == *"NodeSet=workers Feature=worker"* ]]
	[ -z "$(labelled container sbtest)" ]
	[ -z "$(labelled network sbtest)" ]
	[ ! -e /var/lib/slurmbox/sbtest ]
}

@test "up brings the master and 2 workers to idle" {
	# this machine is reached in-process: no slurmbox child runs, so a
	# binary to copy or run elsewhere is never looked for
	SLURMBOX_SELF=/nonexistent/slurmbox run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"is up"* ]]
	[[ "$output" == *"master + 2 workers on 1 host, bridge network 10.213."* ]]
	[ "$(labelled container sbtest | wc -l)" -eq 3 ]
	# one record, as for several hosts, beside the cluster's state (difference 7)
	[ -f /var/lib/slurmbox/sbtest.json ]
	[ "$(jq -r '.spec.hosts[0].name' /var/lib/slurmbox/sbtest.json)" = localhost ]
	[ "$(stat -c %a /var/lib/slurmbox/sbtest.json)" = 600 ]
}

@test "exec master sinfo lists 2 idle workers" {
	SLURMBOX_SELF=/nonexistent/slurmbox run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c ' idle$' <<<"$output")" -eq 2 ]
	grep -q '^worker-1 idle$' <<<"$output"
	grep -q '^worker-2 idle$' <<<"$output"
}

@test "exec master srun -N2 hostname prints both workers" {
	run --separate-stderr "$SB" exec master srun -N2 hostname
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "worker-1 worker-2 " ]
}

@test "hostnames are the NodeNames and every node resolves every node to its planned IP" {
	want=$("$SB" up --dry-run | awk '$1 ~ /^(master|worker-[12])$/ && $2 ~ /^(master|worker)$/ {print $5, $1}')
	echo "planned: $want"
	[ "$(wc -l <<<"$want")" -eq 3 ]
	for n in master worker-1 worker-2; do
		run --separate-stderr "$SB" exec "$n" hostname
		[ "$output" = "$n" ]
		run --separate-stderr "$SB" exec "$n" sh -c \
			'for h in master worker-1 worker-2; do getent hosts "$h" | awk "{print \$1, \$2; exit}"; done'
		echo "$n: $output"
		[ "$output" = "$want" ]
	done
}

@test "configless: the workers hold slurmd's copy of the master's slurm.conf and no file of their own" {
	a=$("$SB" exec master md5sum /etc/slurm/slurm.conf | cut -d' ' -f1)
	b=$("$SB" exec worker-1 md5sum /run/slurm/conf/slurm.conf | cut -d' ' -f1)
	c=$("$SB" exec worker-2 md5sum /run/slurm/conf/slurm.conf | cut -d' ' -f1)
	[ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]
	"$SB" exec worker-1 test ! -e /etc/slurm/slurm.conf
	# client commands on a worker read the copy
	run --separate-stderr "$SB" exec worker-1 sinfo -h -o '%D %t'
	[ "$output" = "2 idle" ]
}

@test "a job sbatch'ed as the cluster user writes to its home; other node and host see it" {
	run --separate-stderr "$SB" exec master id -un
	user=$output
	[ "$user" = slurmbox ]
	run --separate-stderr "$SB" exec master sbatch --wait -N1 -w worker-1 -o /home/slurmbox/job.out \
		--wrap 'echo "hello from $(hostname) as $(id -un)" > /home/slurmbox/result.txt'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	run --separate-stderr "$SB" exec worker-2 cat /home/slurmbox/result.txt
	[ "$output" = "hello from worker-1 as slurmbox" ]
	mp=$(docker volume inspect -f '{{.Mountpoint}}' sbtest-home)
	[ "$(cat "$mp/slurmbox/result.txt")" = "hello from worker-1 as slurmbox" ]
	[ "$(stat -c %u:%g "$mp/slurmbox/result.txt")" = "1000:1000" ]
}

@test "exec keeps stdout and stderr apart and propagates the exit code" {
	run --separate-stderr "$SB" exec worker-1 sh -c 'echo out; echo err >&2; exit 7'
	[ "$status" -eq 7 ]
	[ "$output" = out ]
	[ "$stderr" = err ]
}

@test "exec passes arguments verbatim, never through a shell" {
	run --separate-stderr "$SB" exec master sh -c 'printf "[%s]\n" "$@"' _ 'a b; rm -rf /' '$HOME' '"q"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '[a b; rm -rf /]' ]
	[ "${lines[1]}" = '[$HOME]' ]
	[ "${lines[2]}" = '["q"]' ]
}

@test "exec forwards stdin; -u root overrides the user; unknown node is exit 2" {
	run --separate-stderr bash -c "printf 'piped\n' | '$SB' exec master cat"
	[ "$output" = piped ]
	run --separate-stderr "$SB" exec -u root master id -u
	[ "$output" = 0 ]
	run --separate-stderr "$SB" exec worker-9 true
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"worker-1"* ]]
}

@test "exec allocates a TTY when stdin and stdout are terminals" {
	# (script's pty echoes a ^@ for its empty stdin, as with docker exec -it)
	run script -qec "$SB exec master tty" /dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/"* ]]
	run --separate-stderr "$SB" exec master tty
	[ "$status" -ne 0 ]
	[ "$output" = "not a tty" ]
}

@test "status shows every node running and idle" {
	SLURMBOX_SELF=/nonexistent/slurmbox run --separate-stderr "$SB" status --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .healthy <<<"$output")" = true ]
	[ "$(jq -r '.nodes | length' <<<"$output")" -eq 3 ]
	[ "$(jq -r '.nodes[] | select(.node=="worker-2") | .slurm' <<<"$output")" = idle ]
	run "$SB" status
	[ "$status" -eq 0 ]
	[[ "$output" == *"slurmctld up"* ]]
}

@test "status shows a removed worker as missing and exits 1; up heals it (one status for any number of hosts)" {
	docker rm -f sbtest-worker-2 >/dev/null
	run --separate-stderr "$SB" status --json
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.nodes | length' <<<"$output")" -eq 3 ]
	[ "$(jq -r '.nodes[] | select(.node=="worker-2") | .state' <<<"$output")" = missing ]
	[ "$(jq -r '.nodes[] | select(.node=="worker-2") | .host' <<<"$output")" = localhost ]
	[ "$(jq -r .healthy <<<"$output")" = false ]
	run "$SB" status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -E '^worker-2 +worker +localhost +missing' <<<"$output"
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	run "$SB" status
	[ "$status" -eq 0 ]
}

@test "logs shows the daemons' output" {
	run "$SB" logs master
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"slurmctld"* ]]
}

@test "the munge key is 0400 in a 0700 dir, mounted read-only, and nowhere in inspect" {
	key=/var/lib/slurmbox/sbtest/munge.key
	[ "$(stat -c %a "$key")" = 400 ]
	[ "$(stat -c %a /var/lib/slurmbox/sbtest)" = 700 ]
	[ "$(stat -c %s "$key")" -eq 1024 ]
	docker inspect sbtest-master | jq -e '.[0].Mounts[] | select(.Destination=="/etc/slurmbox/munge.key") | .RW == false'
	hex=$(od -An -tx1 -N16 "$key" | tr -d ' \n')
	! docker inspect sbtest-master sbtest-worker-1 | od -An -tx1 | tr -d ' \n' | grep -q "$hex" || false
	run --separate-stderr "$SB" exec master sh -c 'munge -n | unmunge'
	[ "$status" -eq 0 ]
	# munged's copy: owned by munge, 0400, in /etc/munge, a tmpfs (memory only)
	for c in sbtest-master sbtest-worker-1; do
		[ "$(docker exec -u root "$c" stat -c '%a %U' /etc/munge/munge.key)" = "400 munge" ]
		[ "$(docker exec "$c" awk '$2 == "/etc/munge" { print $3 }' /proc/mounts)" = tmpfs ]
		docker exec -u root "$c" cmp /etc/slurmbox/munge.key /etc/munge/munge.key
	done
	[ "$(docker inspect -f '{{.HostConfig.Privileged}}' sbtest-worker-1)" = false ]
}

@test "up again is a no-op: same containers, same key" {
	before=$(labelled container sbtest | sort)
	keysum=$(md5sum /var/lib/slurmbox/sbtest/munge.key)
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"already up"* ]]
	[ "$(labelled container sbtest | sort)" = "$before" ]
	[ "$(md5sum /var/lib/slurmbox/sbtest/munge.key)" = "$keysum" ]
}

@test "up with other settings is refused, and nothing changes" {
	before=$(labelled container sbtest | sort)
	run "$SB" up --user bob:1001
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"other settings"* ]]
	[ "$(labelled container sbtest | sort)" = "$before" ]
}

@test "a second cluster lives beside the first" {
	run "$SB" --name sbtest2 up --workers 1
	echo "$output"
	[ "$status" -eq 0 ]
	run --separate-stderr "$SB" --name sbtest2 exec master sinfo -h -o '%D %t'
	[ "$output" = "1 idle" ]
	run --separate-stderr "$SB" exec master sinfo -h -o '%D %t'
	[ "$output" = "2 idle" ]
	run "$SB" --name sbtest2 down --purge
	[ "$status" -eq 0 ]
	[ -z "$(labelled container sbtest2)$(labelled network sbtest2)$(labelled volume sbtest2)" ]
	[ "$(labelled container sbtest | wc -l)" -eq 3 ]
}

@test "a second up of a cluster being changed fails fast; two at once leave one slurmctld (case 22)" {
	mkdir -p /var/lib/slurmbox
	# the holder says when it has the lock; the lock is held far longer than the bound below
	# (its output is not bats': a child left holding bats' output would keep the file waiting)
	flock -o /var/lib/slurmbox/.sblock.control.lock sh -c "touch '$BATS_TEST_TMPDIR/held'; exec sleep 300" \
		</dev/null >/dev/null 2>&1 &
	holder=$!
	for _ in $(seq 100); do
		[ -e "$BATS_TEST_TMPDIR/held" ] && break
		sleep 0.1
	done
	[ -e "$BATS_TEST_TMPDIR/held" ]
	start=$SECONDS
	run "$SB" --name sblock up --workers 1
	took=$((SECONDS - start))
	# flock's child (the sleep) first, then flock: nothing of the holder outlives the test
	pkill -P $holder || true
	kill $holder 2>/dev/null || true
	wait $holder || true
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Another slurmbox is changing cluster 'sblock'"* ]]
	# fails fast: it did not wait for the holder (300 s); 20 s covers an ASan start on two busy cores
	[ "$took" -lt 20 ]
	[ -z "$(labelled container sblock)" ]

	# two at once: exactly one creates the cluster; the other fails fast on the
	# lock or, started after the first finished, finds it up and changes nothing
	"$SB" --name sblock up --workers 1 >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	"$SB" --name sblock up --workers 1 >"$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	sa=0 sb=0
	wait $a || sa=$?
	wait $b || sb=$?
	cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	created=0
	for r in "a $sa" "b $sb"; do
		read -r f st <<<"$r"
		out=$BATS_TEST_TMPDIR/$f
		if [ "$st" -eq 0 ] && grep -q "Cluster 'sblock' is up" "$out" && ! grep -q "Nothing to change" "$out"; then
			created=$((created + 1))
		elif [ "$st" -eq 0 ]; then
			grep -q "Nothing to change: it was already up" "$out"
		else
			[ "$st" -eq 1 ]
			grep -q "Another slurmbox is changing cluster 'sblock'" "$out"
		fi
	done
	[ "$created" -eq 1 ]
	[ "$(docker ps -q --filter label=io.slurmbox.cluster=sblock --filter label=io.slurmbox.role=master | wc -l)" -eq 1 ]
	[ "$(labelled container sblock | wc -l)" -eq 2 ]
	run "$SB" --name sblock down --purge
	[ "$status" -eq 0 ]
	[ -z "$(labelled container sblock)$(labelled volume sblock)" ]
	[ ! -e /var/lib/slurmbox/.sblock.control.lock ]
}

@test "names taken by foreign objects are refused before any change; down leaves them (case 20)" {
	img=$(docker inspect -f '{{.Config.Image}}' sbtest-worker-1)
	docker network create sbname-net >/dev/null
	docker volume create sbname-home >/dev/null
	docker create --name sbname-worker-1 --label io.slurmbox.cluster=sbother "$img" true >/dev/null
	run "$SB" --name sbname up --workers 1
	echo "$output"
	[ "$status" -eq 2 ]
	grep -qF "  localhost: network 'sbname-net' exists and is not slurmbox's (docker network rm sbname-net)" <<<"$output"
	grep -qF "  localhost: volume 'sbname-home' exists and is not slurmbox's (docker volume rm sbname-home)" <<<"$output"
	grep -qF "  localhost: container 'sbname-worker-1' belongs to slurmbox cluster 'sbother'" <<<"$output"
	grep -qF "nothing was changed on any host" <<<"$output"
	[ -z "$(labelled container sbname)$(labelled network sbname)$(labelled volume sbname)" ]
	[ ! -e /var/lib/slurmbox/sbname ]
	run "$SB" --name sbname down --purge
	[ "$status" -eq 0 ]
	# the foreign objects are all still there, unchanged
	[ -z "$(docker volume inspect -f '{{.Labels}}' sbname-home | grep io.slurmbox)" ]
	docker network inspect sbname-net >/dev/null
	[ "$(docker inspect -f '{{index .Config.Labels "io.slurmbox.cluster"}}' sbname-worker-1)" = sbother ]
	docker rm -f sbname-worker-1 >/dev/null
	docker network rm sbname-net >/dev/null
	docker volume rm sbname-home >/dev/null
}

@test "SIGINT or SIGTERM during up removes exactly what that run created" {
	for sig in INT TERM; do
		# a test-only fault point holds up after creating the containers
		SLURMBOX_FAULT=stall-after-create "$SB" --name sbint up --workers 1 \
			>"$BATS_TEST_TMPDIR/out" 2>&1 &
		pid=$!
		for _ in $(seq 200); do
			[ "$(labelled container sbint | wc -l)" -ge 2 ] && break
			sleep 0.05
		done
		[ "$(labelled container sbint | wc -l)" -eq 2 ]
		kill -"$sig" $pid
		st=0
		wait $pid || st=$?
		cat "$BATS_TEST_TMPDIR/out"
		[ "$st" -eq $((128 + $(kill -l "$sig"))) ]
		grep -q "Interrupted by" "$BATS_TEST_TMPDIR/out"
		grep -q "Rolled back: removed what this run had created on every host" "$BATS_TEST_TMPDIR/out"
		[ -z "$(labelled container sbint)$(labelled network sbint)$(labelled volume sbint)" ]
		[ ! -e /var/lib/slurmbox/sbint ]
	done
	# the other cluster was not touched
	[ "$(labelled container sbtest | wc -l)" -eq 3 ]
}

@test "down leaves no labelled container or network; /home and the key stay; foreign objects stay" {
	img=$(docker inspect -f '{{.Config.Image}}' sbtest-master)
	docker create --name sbtest-foreign "$img" true >/dev/null
	docker volume create sbtest-foreign-vol >/dev/null
	docker network create --label io.slurmbox.cluster=sbtest-other sbtest-foreign-net >/dev/null
	run "$SB" down
	docker container inspect sbtest-foreign >/dev/null
	docker volume inspect sbtest-foreign-vol >/dev/null
	docker network inspect sbtest-foreign-net >/dev/null
	docker rm -f sbtest-foreign >/dev/null
	docker volume rm sbtest-foreign-vol >/dev/null
	docker network rm sbtest-foreign-net >/dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(labelled container sbtest)" ]
	[ -z "$(labelled network sbtest)" ]
	[ "$(labelled volume sbtest)" = sbtest-home ]
	[ -f /var/lib/slurmbox/sbtest/munge.key ]
}

@test "down of a cluster that does not exist is a no-op" {
	run "$SB" --name sbnothing down
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing to do"* ]]
	# and leaves nothing behind, not even its lock file
	[ -z "$(find /var/lib/slurmbox -maxdepth 1 -name '*sbnothing*')" ]
}

@test "up after down finds the user's files again" {
	run "$SB" up
	[ "$status" -eq 0 ]
	run --separate-stderr "$SB" exec worker-2 cat /home/slurmbox/result.txt
	[ "$output" = "hello from worker-1 as slurmbox" ]
}

@test "down --purge removes the volume and the key: nothing is left" {
	run "$SB" down --purge
	[ "$status" -eq 0 ]
	[ -z "$(labelled container sbtest)$(labelled network sbtest)$(labelled volume sbtest)" ]
	[ ! -e /var/lib/slurmbox/sbtest ]
}

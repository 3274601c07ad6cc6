#!/usr/bin/env bats
# slurmbox on a current Docker: lab host D=${SB_LAB_D26:-h7} runs Debian 13's
# docker.io 26.1 (API 1.45; `tests/lab docker D 26`), O=${SB_LAB_D20:-h8} this
# machine's Docker 20.10 (API 1.41). On D alone, up builds the images there
# (rootfs import, /build), the nodes go idle, exec works with and without a
# TTY; then one cluster spans D and O, with the images streamed from 26 to
# 20.10 (save, load) and, in a second cluster, from 20.10 to 26. Where the two
# daemons differ, slurmbox speaks each one's API version (status names both);
# where they agree (one macvlan network per parent interface), the tests show
# it on both. The Engine API calls the CLI does not reach here (volumes,
# archives, logs, kill, save and load one by one) run against Docker 26 in
# test_docker_daemon (tests/run-all). The tests run in order and share the
# cluster "sbd26". tests/run-all runs this file only once the lab is up and D
# runs Docker 26: otherwise setup_file fails, it is never a skip.

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export SLURMBOX_CLUSTER=sbd26
	export LAB=$BATS_TEST_DIRNAME/../lab
	export D=${SB_LAB_D26:-h7} O=${SB_LAB_D20:-h8}
	export HOMEDIR=/srv/sbd26-home RANGE=10.77.0.128/28
	[ -x "$SB" ] || {
		echo "no slurmbox binary at $SB (make)" >&2
		return 1
	}
	"$LAB" check "$D" "$O"
	"$SB" down --purge >/dev/null 2>&1 || true
	"$SB" --name sbd26b down --purge >/dev/null 2>&1 || true
	mkdir -p "$HOMEDIR"
}

teardown_file() {
	if [ -z "${SLURMBOX_KEEP:-}" ]; then
		"$SB" down --purge >/dev/null 2>&1 || true
		"$SB" --name sbd26b down --purge >/dev/null 2>&1 || true
	fi
	rm -rf "$HOMEDIR"
}

server_version() { ssh "$1" docker version --format "'{{.Server.Version}} {{.Server.APIVersion}}'"; }
images_on() {
	ssh "$1" docker image ls --format "'{{.Repository}}'" | grep -E '^slurmbox-(master|worker)$' | sort -u | paste -sd, || true
}
# every slurmbox image off HOST, by tag, children first
images_rm() {
	local r
	for r in worker master base rootfs; do
		ssh "$1" "docker image ls --format '{{.Repository}}:{{.Tag}}' slurmbox-$r | xargs -r docker rmi" >/dev/null
	done
}
# "host docker api" per line, from status --json
docker_of() { "$SB" status --json | jq -r '.hosts[] | "\(.host) \(.docker) \(.api)"'; }
labelled_on() { # labelled_on HOST CLUSTER: its containers, networks and volumes there
	ssh "$1" "docker ps -aq --filter label=io.slurmbox.cluster=$2; docker network ls -q --filter label=io.slurmbox.cluster=$2; docker volume ls -q --filter label=io.slurmbox.cluster=$2"
}

@test "the lab's $D runs Docker 26.1 (API 1.45) and $O Docker 20.10 (API 1.41)" {
	run server_version "$D"
	echo "$D: $output"
	[[ "$output" == "26.1."*" 1.45" ]]
	run server_version "$O"
	echo "$O: $output"
	[[ "$output" == "20.10."*" 1.41" ]]
}

@test "up --hosts $D on Docker 26 alone: images built there, every node idle; status names Docker 26.1 and API 1.45" {
	images_rm "$D"
	[ -z "$(images_on "$D")" ]
	run "$SB" up --hosts "$D" --workers-per-host 2 --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Building the images on $D"* ]]
	[ "$(images_on "$D")" = slurmbox-master,slurmbox-worker ]
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	echo "$output"
	[ "$output" = "$(printf 'worker-1 idle\nworker-2 idle')" ]
	run docker_of
	echo "$output"
	[[ "$output" == "$D 26.1."*" 1.45" ]]
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Docker: $D 26.1."*" (API 1.45)"* ]]
}

@test "on Docker 26: exec with and without a TTY, a job across both workers, logs; the LAN network is macvlan on eth0" {
	run --separate-stderr "$SB" exec master srun -N2 hostname
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | paste -sd,)" = worker-1,worker-2 ]
	# a TTY (exec's hijacked stream, raw): the command sees a terminal
	run script -qec "$SB exec -t worker-1 tty" /dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/"* ]]
	# without one it does not, and the exit status comes through
	run "$SB" exec worker-1 sh -c 'tty; exit 3'
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"not a tty"* ]]
	run "$SB" logs worker-1
	[[ "$output" == *"slurmd started"* ]]
	run ssh "$D" docker network inspect -f "'{{.Driver}} {{.Options.parent}} {{range .IPAM.Config}}{{.IPRange}}{{end}}'" sbd26-net
	echo "$output"
	[ "$output" = "macvlan eth0 $RANGE" ]
}

@test "Docker 26 allows one macvlan network per parent interface, as 20.10 does: a second cluster on $D is refused before anything is made" {
	# the daemons themselves, both versions: a second macvlan network on eth0 is refused
	ssh "$O" docker network create -d macvlan -o parent=eth0 --subnet 10.77.0.0/24 --gateway 10.77.0.1 \
		--ip-range 10.77.0.144/29 sbd26-first >/dev/null
	for h in "$D" "$O"; do
		run ssh "$h" docker network create -d macvlan -o parent=eth0 --subnet 10.78.0.0/24 sbd26-second
		echo "$h: $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"is already using parent interface eth0"* ]]
	done
	ssh "$O" docker network rm sbd26-first >/dev/null
	# slurmbox says so in preflight, naming the cluster that has it
	run "$SB" --name sbd26b up --hosts "$D" --ip-range 10.77.0.144/28
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$D: eth0 already carries the macvlan network 'sbd26-net' (10.77.0.0/24) of slurmbox cluster 'sbd26'"* ]]
	[ -z "$(labelled_on "$D" sbd26b)" ]
	[ ! -e /var/lib/slurmbox/sbd26b.json ]
}

@test "up --hosts $D,$O: one cluster on Docker 26.1 and 20.10; images streamed 26 -> 20.10; the new worker joins with no restart" {
	images_rm "$O"
	before=$(ssh "$D" docker inspect -f "'{{.Id}} {{.State.StartedAt}}'" sbd26-master)
	pid=$("$SB" exec master pgrep -x slurmctld)
	run "$SB" up --hosts "$D,$O" --workers-per-host 2 --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Streaming the images $D → $O"* ]]
	[ "$(ssh "$D" docker inspect -f "'{{.Id}} {{.State.StartedAt}}'" sbd26-master)" = "$before" ]
	[ "$("$SB" exec master pgrep -x slurmctld)" = "$pid" ]
	run --separate-stderr "$SB" exec master srun -N4 hostname
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | paste -sd,)" = worker-1,worker-2,worker-3,worker-4 ]
	run docker_of
	echo "$output"
	[ "$(sed -n 1p <<<"$output")" = "$D $(server_version "$D" | cut -d' ' -f1) 1.45" ]
	[ "$(sed -n 2p <<<"$output")" = "$O $(server_version "$O" | cut -d' ' -f1) 1.41" ]
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "images streamed 20.10 -> 26: a cluster whose first host is $O" {
	run "$SB" down
	[ "$status" -eq 0 ]
	images_rm "$D"
	run "$SB" up --hosts "$O,$D" --ip-range "$RANGE" --home "$HOMEDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Streaming the images $O → $D"* ]]
	[ "$(images_on "$D")" = slurmbox-master,slurmbox-worker ]
	run --separate-stderr "$SB" exec master srun -N2 hostname
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | paste -sd,)" = worker-1,worker-2 ]
}

@test "down --purge leaves nothing of the cluster on either Docker" {
	run "$SB" down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	for h in "$D" "$O"; do
		[ -z "$(labelled_on "$h" sbd26)" ]
		! ssh "$h" test -e /var/lib/slurmbox/sbd26 || false
	done
}

#!/usr/bin/env bats
# The node images for arm64 (Raspberry Pis), built on an x86_64 host under
# emulation (qemu-user-static through binfmt_misc): `slurmbox images build
# --arch arm64` debootstraps Debian for arm64 and builds base, master and
# worker from it, tagged "-arm64". That needs a Docker that records the
# platform of what it imports: lab host D=${SB_LAB_D26:-h7} runs Docker 26
# (`tests/lab docker D 26`); this machine's Docker 20.10 records its own and
# is refused at once, with the fix. A worker container of the arm64 images
# then starts munged and slurmd under emulation, `slurmd -C` answers, and it
# joins a cluster of D's own images as a dynamic node: a job runs on it, on
# aarch64. Slow (about 7 minutes: everything arm64 is emulated); the test
# command runs it. The tests run in order and share the cluster "sbarm".

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export ROOT=$BATS_TEST_DIRNAME/../..
	export LAB=$BATS_TEST_DIRNAME/../lab
	export D=${SB_LAB_D26:-h7}
	export SLURMBOX_CLUSTER=sbarm PI=sbarm-pi RANGE=10.77.0.128/28 PI_IP=10.77.0.140
	[ -x "$SB" ] || {
		echo "no slurmbox binary at $SB (make)" >&2
		return 1
	}
	"$ROOT/tests/lib/ensure-binfmt"
	"$LAB" check "$D"
	ssh "$D" docker rm -f "$PI" >/dev/null 2>&1 || true
	"$SB" down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	ssh "$D" docker rm -f "$PI" >/dev/null 2>&1 || true
	if [ -z "${SLURMBOX_KEEP:-}" ]; then
		"$SB" down --purge >/dev/null 2>&1 || true
		for r in worker master base rootfs; do
			ssh "$D" "docker image ls --format '{{.Repository}}:{{.Tag}}' slurmbox-$r | grep -- '-arm64\$' | xargs -r docker rmi" >/dev/null 2>&1 || true
		done
	fi
}

on_d() { "$LAB" exec "$D" "$SB" "$@"; } # slurmbox on D, with D's Docker as its local one
# the image tags for arm64 on D, "base master worker"
arm_tags() { on_d images list --arch arm64 | awk '{ print $1 }' | paste -sd' '; }

@test "images build --arch arm64 on Docker 20.10, which records its own architecture, is refused at once with the fix; nothing is left" {
	docker_before=$(docker image ls -q | sort)
	run "$SB" images build --arch arm64
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"records its own architecture (amd64)"*"Debian 13's 26.1 records linux/arm64"* ]]
	[ "$(docker image ls -q | sort)" = "$docker_before" ]
	[ -z "$(docker image ls -q 'slurmbox-*:*-arm64')" ]
}

@test "images build --arch arm64 on Docker 26: base, master and worker for arm64, built under emulation, tagged -arm64" {
	run on_d images build --arch arm64
	echo "$output" | tail -n 30
	[ "$status" -eq 0 ]
	[[ "$output" == *"for arm64"* ]]
	read -r base master worker <<<"$(arm_tags)"
	for t in "$base" "$master" "$worker"; do
		[[ "$t" == *-arm64 ]]
		[ "$(ssh "$D" docker image inspect -f "'{{.Os}}/{{.Architecture}}'" "$t")" = linux/arm64 ]
	done
	# the programs in them are aarch64 ELF files (e_machine 183), and run as such
	run --separate-stderr ssh "$D" docker run --rm --platform linux/arm64 --entrypoint /bin/sh "$worker" \
		-c "'uname -m; od -An -tu2 -j18 -N2 /usr/sbin/slurmd'"
	echo "$output"
	[ "$(sed -n 1p <<<"$output")" = aarch64 ]
	[ "$(sed -n 2p <<<"$output" | tr -d ' ')" = 183 ]
	run on_d images list --arch arm64
	[ "$(grep -c ' present$' <<<"$output")" -eq 3 ]
}

@test "an arm64 worker starts munged and slurmd under emulation, slurmd -C answers, and it joins a cluster of the host's own images: a job runs on it" {
	read -r _ _ worker <<<"$(arm_tags)"
	run "$SB" up --hosts "$D" --ip-range "$RANGE"
	echo "$output"
	[ "$status" -eq 0 ]
	# a worker like worker-1 (its mounts, environment and limits, as slurmbox
	# made them), of the arm64 image, named worker-9, at another address of
	# the LAN, without slurmbox's labels (slurmbox does not count it its own)
	local net body
	net=$(ssh "$D" docker inspect -f "'{{range \$k, \$v := .NetworkSettings.Networks}}{{\$k}}{{end}}'" sbarm-worker-1)
	body=$(ssh "$D" docker inspect sbarm-worker-1 | jq -c --arg img "$worker" --arg net "$net" --arg ip "$PI_IP" '.[0] |
		{Image: $img, Hostname: "worker-9", Env: .Config.Env, HostConfig: .HostConfig,
		 NetworkingConfig: {EndpointsConfig: {($net): {IPAMConfig: {IPv4Address: $ip}}}}}')
	run ssh "$D" curl -sS --unix-socket /var/run/docker.sock -H "'Content-Type: application/json'" \
		-X POST "'http://x/v1.45/containers/create?name=$PI&platform=linux/arm64'" -d @- <<<"$body"
	echo "$output"
	[[ "$output" == *'"Id"'* ]]
	ssh "$D" docker start "$PI" >/dev/null
	# slurmd registers under emulation, slowly: up to 180 s
	for _ in $(seq 180); do
		[ "$("$SB" exec master sinfo -h -n worker-9 -o %t 2>/dev/null)" = idle ] && break
		sleep 1
	done
	run --separate-stderr "$SB" exec master sinfo -h -N -o '%N %t'
	echo "$output"
	grep -qx 'worker-9 idle' <<<"$output"
	[ "$(ssh "$D" docker exec "$PI" uname -m)" = aarch64 ]
	ssh "$D" docker exec "$PI" pgrep -x munged
	ssh "$D" docker exec "$PI" pgrep -x slurmd
	run ssh "$D" docker exec "$PI" slurmd -C
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "NodeName=worker-9 "*"CPUs="* ]]
	# munge across architectures: the x86_64 master's credential decoded on it
	cred=$("$SB" exec master munge -n)
	run ssh "$D" docker exec -i "$PI" unmunge <<<"$cred"
	echo "$output"
	[ "$status" -eq 0 ]
	run --separate-stderr "$SB" exec master srun -w worker-9 uname -m
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = aarch64 ]
	# it leaves: the container goes, and the node is deleted from Slurm
	ssh "$D" docker rm -f "$PI" >/dev/null
	"$SB" exec -u root master scontrol delete nodename=worker-9
	run "$SB" down --purge
	[ "$status" -eq 0 ]
}

#!/usr/bin/env bats
# The lab of simulated hosts (tests/lab) itself: every host answers ssh as
# itself, runs its own dockerd, reaches the others on eth0, takes a macvlan
# network on eth0; the lab's bridge bypasses iptables; the root namespace's
# docker socket is untouched. The runner brings the lab up (tests/lab up 3)
# before and down after; when it is not up, every test is skipped.

bats_require_minimum_version 1.5.0

setup_file() {
	export LAB=$BATS_TEST_DIRNAME/../lab
	export LAB_UP=0
	local env
	if "$LAB" status >/dev/null 2>&1 && env=$("$LAB" env 2>/dev/null); then
		eval "$env"
		export SLURMBOX_LAB_HOSTS SLURMBOX_LAB_SSH_CONFIG SLURMBOX_LAB_SUBNET SLURMBOX_LAB_GATEWAY
		LAB_UP=1
	fi
	export NET_NAME=lab-test-$$ IMAGE=lab-test-busybox
}

teardown_file() {
	[ "$LAB_UP" = 1 ] || return 0
	lssh h1 "docker rm -f lab-test-ct; docker network rm $NET_NAME; docker rmi $IMAGE" >/dev/null 2>&1 || true
}

setup() {
	[ "$LAB_UP" = 1 ] || skip "the lab is not up (tests/lab up 3)"
	IFS=, read -ra HOSTS <<<"$SLURMBOX_LAB_HOSTS"
}

lssh() { ssh -F "$SLURMBOX_LAB_SSH_CONFIG" "$@"; }
ip_of() { echo "10.77.0.$((10 + ${1#h}))"; }

@test "every host answers 'ssh hN hostname' with hN (plain ssh, through /root/.ssh/config)" {
	for h in "${HOSTS[@]}"; do
		run ssh "$h" hostname
		echo "$h: $output"
		[ "$status" -eq 0 ]
		[ "$output" = "$h" ]
	done
}

@test "every host runs its own dockerd: own ID and data root, name hN, no containers" {
	local ids=() root_id=""
	for h in "${HOSTS[@]}"; do
		run lssh "$h" docker info --format "'{{.ID}} {{.Name}} {{.DockerRootDir}}'"
		echo "$h: $output"
		[ "$status" -eq 0 ]
		read -r id name dir <<<"$output"
		[ "$name" = "$h" ]
		[ "$dir" = /var/lib/docker ]
		ids+=("$id")
		# its /var/lib/docker is the lab's directory for that host
		run lssh "$h" findmnt -n -o SOURCE /var/lib/docker
		[[ "$output" == *"[/var/lib/slurmbox-lab/$h/docker]" ]]
		run lssh "$h" docker ps -aq
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
	[ "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" -eq "${#HOSTS[@]}" ]
	if root_id=$(docker info --format '{{.ID}}' 2>/dev/null); then
		for id in "${ids[@]}"; do [ "$id" != "$root_id" ]; done
	fi
}

@test "every host has a private /run: its own docker socket, no netns files of the root" {
	local socks=()
	for h in "${HOSTS[@]}"; do
		run lssh "$h" 'curl -s --unix-socket /var/run/docker.sock http://x/_ping'
		[ "$output" = OK ]
		run lssh "$h" stat -L -c %d:%i /var/run/docker.sock
		[ "$status" -eq 0 ]
		socks+=("$output")
		run lssh "$h" ip netns list
		[ "$status" -eq 0 ] # (an empty list because the command failed proves nothing)
		for o in "${HOSTS[@]}"; do [[ "$output" != *"$o"* ]]; done
	done
	[ "$(printf '%s\n' "${socks[@]}" | sort -u | wc -l)" -eq "${#HOSTS[@]}" ]
	if [ -S /var/run/docker.sock ]; then
		for s in "${socks[@]}"; do [ "$s" != "$(stat -L -c %d:%i /var/run/docker.sock)" ]; done
	fi
}

@test "tests/lab exec runs in the host's namespaces" {
	run "$LAB" exec h1 hostname
	[ "$output" = h1 ]
	run "$LAB" exec h1 cat /run/docker.pid
	[ "$status" -eq 0 ]
	[ "$output" = "$(lssh h1 cat /run/docker.pid)" ]
	run "$LAB" exec h1 ip -4 -o addr show eth0
	[[ "$output" == *" $(ip_of h1)/24 "* ]]
}

@test "every host reaches the others on eth0 (ping, sshd port)" {
	[ "${#HOSTS[@]}" -ge 2 ] || skip "one host only"
	for h in "${HOSTS[@]}"; do
		for o in "${HOSTS[@]}"; do
			[ "$h" = "$o" ] && continue
			run lssh "$h" "ping -c1 -W2 $(ip_of "$o") >/dev/null && timeout 3 bash -c '</dev/tcp/$(ip_of "$o")/22' && echo ok"
			echo "$h -> $o: $output"
			[ "$output" = ok ]
		done
	done
}

@test "a macvlan network on h1's eth0 with the lab's subnet" {
	run lssh h1 docker network create -d macvlan -o parent=eth0 --subnet "$SLURMBOX_LAB_SUBNET" \
		--gateway "$SLURMBOX_LAB_GATEWAY" --ip-range 10.77.0.192/27 "$NET_NAME"
	echo "$output"
	[ "$status" -eq 0 ]
	run lssh h1 docker network inspect -f "'{{.Driver}} {{.Options.parent}}'" "$NET_NAME"
	[ "$output" = "macvlan eth0" ]
}

@test "a container on h1's macvlan reaches h2, the gateway and h2's sshd" {
	[ "${#HOSTS[@]}" -ge 2 ] || skip "one host only"
	lssh h1 docker network inspect "$NET_NAME" >/dev/null 2>&1 || skip "no macvlan network (test above)"
	# An image: a static busybox of this machine, imported on h1.
	if ! lssh h1 docker image inspect "$IMAGE" >/dev/null 2>&1; then
		local bb
		bb=$(command -v busybox || true)
		[ -n "$bb" ] && ! ldd "$bb" >/dev/null 2>&1 || skip "no image on h1 and no static busybox here (apt-get install busybox-static)"
		local d
		d=$(mktemp -d)
		mkdir "$d/bin"
		cp "$bb" "$d/bin/busybox"
		tar -C "$d" -c . | lssh h1 docker import - "$IMAGE" >/dev/null
		rm -rf "$d"
	fi
	local h2
	h2=$(ip_of h2)
	run lssh h1 docker run --rm --name lab-test-ct --network "$NET_NAME" --ip 10.77.0.200 "$IMAGE" \
		busybox sh -c "'busybox ip -4 -o addr show eth0; busybox ping -c1 -W2 $h2 && busybox ping -c1 -W2 $SLURMBOX_LAB_GATEWAY && echo | busybox nc -w 3 $h2 22'"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"10.77.0.200/24"* ]]
	[[ "$output" == *"SSH-2.0-"* ]]
}

@test "removing the macvlan network leaves h1's docker as it was" {
	lssh h1 docker network inspect "$NET_NAME" >/dev/null 2>&1 || skip "no macvlan network"
	run lssh h1 docker network rm "$NET_NAME"
	[ "$status" -eq 0 ]
	lssh h1 docker rmi "$IMAGE" >/dev/null 2>&1 || true
	run lssh h1 docker ps -aq
	[ -z "$output" ]
	run lssh h1 "docker network ls -q --filter driver=macvlan"
	[ -z "$output" ]
}

@test "the lab's bridge does not call iptables; no FORWARD rule ahead of the lab's drops its traffic" {
	[ "$(cat /sys/class/net/sblab0/bridge/nf_call_iptables)" = 0 ]
	[ "$(cat /sys/class/net/sblab0/bridge/nf_call_ip6tables)" = 0 ]
	[ "$(cat /sys/class/net/sblab0/bridge/nf_call_arptables)" = 0 ]
	run iptables -w 5 -S FORWARD
	[ "$status" -eq 0 ]
	echo "$output"
	# the lab's three ACCEPT rules are there (LAN, way out, replies) ...
	[ "$(grep -c -- '-m comment --comment slurmbox-lab -j ACCEPT' <<<"$output")" -eq 3 ]
	# ... and a dockerd of the root namespace may have put its own jumps
	# ahead of them since (it does when it makes a network), but no rule
	# ahead of them drops or rejects, the lab's own `offline` aside
	ahead=$(sed '/--comment slurmbox-lab -j ACCEPT/,$d' <<<"$output" | sed 1d)
	! grep -E -- '-j (DROP|REJECT)' <<<"$ahead" | grep -v -- '--comment slurmbox-lab' || false
	run iptables -w 5 -t nat -S POSTROUTING
	[[ "$output" == *"-s 10.77.0.0/24"*"slurmbox-lab"*MASQUERADE* ]]
}

@test "the root namespace's docker socket is untouched" {
	[ -S /var/run/docker.sock ] || skip "no dockerd in the root namespace"
	run curl -s --max-time 5 --unix-socket /var/run/docker.sock http://x/_ping
	[ "$output" = OK ]
	run docker info --format '{{.Name}} {{.DockerRootDir}}'
	echo "$output"
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	for h in "${HOSTS[@]}"; do [[ "$output" != "$h "* ]]; done
	# the root's data root is not one of the lab's
	[[ "$output" != *slurmbox-lab* ]]
}

@test "hosts reach Debian's mirror through NAT" {
	curl -sfI -o /dev/null --max-time 10 http://deb.debian.org/debian/dists/stable/Release ||
		skip "this machine does not reach deb.debian.org itself"
	run lssh h1 curl -sI -o /dev/null -w '%{http_code}' --max-time 15 http://deb.debian.org/debian/dists/stable/Release
	echo "$output"
	[ "$output" = 200 ]
}

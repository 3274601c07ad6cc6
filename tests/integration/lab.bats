#!/usr/bin/env bats
# The lab of simulated hosts (tests/lab) itself: every host answers ssh as
# itself, runs its own dockerd, reaches the others on eth0, takes a macvlan
# network on eth0; the lab's bridge bypasses iptables; a host taken offline
# loses its way out but keeps the LAN; the root namespace's docker socket is
# untouched. tests/run-all runs this file only after `tests/lab up 8`
# succeeded, with its own dockerd answering: a lab that does not answer
# fails the file (setup_file), it is never a skip.

bats_require_minimum_version 1.5.0

setup_file() {
	export LAB=$BATS_TEST_DIRNAME/../lab
	local env
	env=$("$LAB" env) || {
		echo "the lab is not up (tests/lab up 8)" >&2
		return 1
	}
	eval "$env"
	export SLURMBOX_LAB_HOSTS SLURMBOX_LAB_SSH_CONFIG SLURMBOX_LAB_SUBNET SLURMBOX_LAB_GATEWAY
	# shellcheck disable=SC2086 # the hosts, one word each
	"$LAB" check ${SLURMBOX_LAB_HOSTS//,/ }
	export NET_NAME=lab-test-$$ IMAGE=lab-test-busybox
}

teardown_file() {
	"$LAB" offline h1 off >/dev/null 2>&1 || true
	lssh h1 "docker rm -f lab-test-ct; docker network rm $NET_NAME; docker rmi $IMAGE" >/dev/null 2>&1 || true
}

setup() {
	IFS=, read -ra HOSTS <<<"$SLURMBOX_LAB_HOSTS"
	# the two-host tests need two; tests/run-all makes five
	[ "${#HOSTS[@]}" -ge 2 ]
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
	# around the ring h1 -> h2 -> ... -> hN -> h1 (one bridge: every pair is
	# the same path), and from h1 to every other host
	local n=${#HOSTS[@]} i pairs=() h o
	for ((i = 0; i < n; i++)); do
		pairs+=("${HOSTS[i]} ${HOSTS[(i + 1) % n]}")
		[ "$i" -ge 2 ] && pairs+=("${HOSTS[0]} ${HOSTS[i]}")
	done
	for p in "${pairs[@]}"; do
		read -r h o <<<"$p"
		[ "$h" = "$o" ] && continue
		run lssh "$h" "ping -c1 -W2 $(ip_of "$o") >/dev/null && timeout 3 bash -c '</dev/tcp/$(ip_of "$o")/22' && echo ok"
		echo "$h -> $o: $output"
		[ "$output" = ok ]
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
	lssh h1 docker network inspect "$NET_NAME" >/dev/null || {
		echo "no macvlan network $NET_NAME on h1: the test above failed" >&2
		false
	}
	# An image: a static busybox of this machine (busybox-static, which
	# tests/lib/install-deps installs), imported on h1.
	if ! lssh h1 docker image inspect "$IMAGE" >/dev/null 2>&1; then
		local bb
		bb=$(command -v busybox) || {
			echo "no busybox here: apt-get install busybox-static (tests/lib/install-deps test)" >&2
			false
		}
		run ldd "$bb"
		[ "$status" -ne 0 ] || {
			echo "$bb is linked dynamically: apt-get install busybox-static" >&2
			false
		}
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
	run lssh h1 docker network rm "$NET_NAME"
	echo "$output"
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
	# tests/run-all runs the lab's tests with this machine's dockerd up
	[ -S /var/run/docker.sock ]
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

# The images of a multi-host `up` are built from Debian's mirror: the lab's
# hosts must reach it (one request for its Release file). Not reaching it is a
# failure: the multi-host tests could not build an image either.
@test "hosts reach Debian's mirror through NAT" {
	run lssh h1 curl -sS -I -o /dev/null -w '%{http_code}' --max-time 30 http://deb.debian.org/debian/dists/trixie/Release
	echo "h1 -> mirror: $output"
	[ "$output" = 200 ]
}

@test "tests/lab offline h1 on: h1 loses the mirror (rejected here, nothing leaves) but keeps the LAN; off: back" {
	"$LAB" offline h1 on
	run "$LAB" status
	echo "$output"
	grep -E '^h1 .* offline$' <<<"$output"
	# no way out: the name does not even resolve (the resolver is beyond the LAN)
	run lssh h1 curl -sS -o /dev/null --max-time 10 http://deb.debian.org/debian/dists/trixie/Release
	echo "h1 -> mirror, offline: exit $status: $output"
	[ "$status" -ne 0 ]
	# the LAN still works: h2's sshd, the bridge address
	run lssh h1 "timeout 5 bash -c '</dev/tcp/$(ip_of h2)/22' && ping -c1 -W2 $SLURMBOX_LAB_GATEWAY >/dev/null && echo ok"
	[ "$output" = ok ]
	# twice on is one rule; off removes it
	"$LAB" offline h1 on
	[ "$(iptables -w 5 -S FORWARD | grep -c -- '-s 10.77.0.11/32 .*-j REJECT')" -eq 1 ]
	"$LAB" offline h1 off
	[ "$(iptables -w 5 -S FORWARD | grep -c -- '-s 10.77.0.11/32 .*-j REJECT' || true)" -eq 0 ]
	run lssh h1 curl -sS -I -o /dev/null -w '%{http_code}' --max-time 30 http://deb.debian.org/debian/dists/trixie/Release
	echo "h1 -> mirror, online again: $output"
	[ "$output" = 200 ]
}

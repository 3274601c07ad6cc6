#!/usr/bin/env bats
# slurmbox across the lab's simulated hosts h1 h2 h3 (tests/lab up 3): each a
# network namespace with its own eth0 on one bridge (10.77.0.0/24), its own
# dockerd and sshd. The tests run in order and share the cluster "sbmulti".
# tests/run-all runs this file only once the lab is up: a lab that does not
# answer fails the file (setup_file), it is never a skip.

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export SLURMBOX_CLUSTER=sbmulti
	export LAB=$BATS_TEST_DIRNAME/../lab
	[ -x "$SB" ] || {
		echo "no slurmbox binary at $SB (make)" >&2
		return 1
	}
	"$LAB" check h1 h2 h3
	"$SB" down --purge >/dev/null 2>&1 || true
	mkdir -p /srv/sbmulti-home /srv/sbmulti-private
}

teardown_file() {
	# what a failed test may have left in the hosts first (h3 cut off from
	# ssh would keep down from cleaning it)
	"$LAB" exec h3 iptables -D INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset 2>/dev/null || true
	for h in h1 h2 h3; do
		"$LAB" offline "$h" off >/dev/null 2>&1 || true
		"$LAB" exec "$h" umount /srv/sbmulti-private 2>/dev/null || true
		"$LAB" exec "$h" ip addr del 10.77.0.254/32 dev eth0 2>/dev/null || true
	done
	if [ -z "${SLURMBOX_KEEP:-}" ]; then
		"$SB" down --purge >/dev/null 2>&1 || true
		rm -rf /srv/sbmulti-home /srv/sbmulti-private
	fi
}

on() { # on HOST CMD...: run in a lab host
	local h=$1
	shift
	"$LAB" exec "$h" "$@"
}

node_ip() { "$SB" status --json | jq -r ".nodes[] | select(.node==\"$1\") | .ip"; }

# The slurmbox images a host has, "repository:tag" a line.
images_on() {
	ssh "$1" docker image ls --format "'{{.Repository}}:{{.Tag}}'" | grep -E '^slurmbox-(base|master|worker|rootfs):' || true
}

# Nothing of sbmulti on h1 h2 h3 (labelled objects, the shim, the key copy)
# nor on the control machine (record, key, lock file); what is left is printed.
nothing_of_sbmulti() {
	local h left=""
	for h in h1 h2 h3; do
		left+=$(on "$h" docker ps -aq --filter label=io.slurmbox.cluster=sbmulti | sed "s/^/$h container /")
		left+=$(on "$h" docker network ls -q --filter label=io.slurmbox.cluster=sbmulti | sed "s/^/$h network /")
		left+=$(on "$h" docker volume ls -q --filter label=io.slurmbox.cluster=sbmulti | sed "s/^/$h volume /")
		left+=$(on "$h" ip -o link show | grep -o ' sb-[0-9a-f]*' | sed "s/^ /$h shim /" || true)
		left+=$(on "$h" find /var/lib/slurmbox -maxdepth 1 -name sbmulti | sed "s/^/$h key dir /")
	done
	left+=$(find "/var/lib/slurmbox/sbmulti.json" /var/lib/slurmbox/sbmulti \
		/var/lib/slurmbox/.sbmulti.control.lock 2>/dev/null | sed 's/^/control machine: /')
	[ -z "$left" ] || echo "left: $left"
	[ -z "$left" ]
}

# what a host that cannot reach the mirror gets from it: an error (the packets
# are rejected on this machine, before they leave it)
mirror_unreachable_from() {
	run on "$1" curl -sS -o /dev/null --max-time 10 http://deb.debian.org/debian/dists/trixie/Release
	echo "$1 -> mirror: exit $status: $output"
	[ "$status" -ne 0 ]
}

@test "bad --hosts are refused before ssh runs (exit 2)" {
	run "$SB" up --hosts 'h1,-oProxyCommand=touch /tmp/pwned' --dry-run
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--hosts"* ]]
	run "$SB" up --hosts 'h1,a;b' --dry-run
	[ "$status" -eq 2 ]
	run "$SB" up --hosts h1,h1 --dry-run
	[ "$status" -eq 2 ]
	[[ "$output" == *"more than once"* ]]
	[ ! -e /tmp/pwned ]
}

@test "case 10: no host has the images and h1, which builds them, cannot reach the mirror: up fails, naming it, before creating anything" {
	# no host may hold the images (a lab that ran this file before has them)
	for h in h1 h2 h3; do
		images_on "$h" | xargs -r ssh "$h" docker rmi >/dev/null
		[ -z "$(images_on "$h")" ]
	done
	"$LAB" offline h1 on
	mirror_unreachable_from h1
	run "$SB" up --hosts h1,h2,h3 --home /srv/sbmulti-home
	"$LAB" offline h1 off
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Building the images on 'h1' failed"* ]]
	[[ "$output" == *"is http://deb.debian.org/debian reachable?"* ]]
	[[ "$output" != *"Streaming the images"* ]]
	nothing_of_sbmulti
	for h in h1 h2 h3; do [ -z "$(images_on "$h")" ]; done
}

@test "an address already taken on the LAN is skipped (auto) and refused (explicit, case 12), by a real up too" {
	on h3 ip addr add 10.77.0.254/32 dev eth0
	run "$SB" up --hosts h1,h2,h3 --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"10.77.0.254 answers on the LAN"* ]]
	# no node got it: the IP column is followed by the image column
	! grep -qE '10\.77\.0\.254 +slurmbox-' <<<"$output" || false
	run "$SB" up --hosts h1,h2,h3 --ip-range 10.77.0.248/29 --dry-run
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"10.77.0.254 is already in use"* ]]
	# (not /sys/class/net: a lab host shares the root namespace's /sys)
	mac=$(on h3 ip -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	[ -n "$mac" ]
	[[ "$output" == *"$mac"* ]]
	# not only the plan: a real up with that range is refused the same way,
	# before anything is made on any host (no image built either)
	run "$SB" up --hosts h1,h2,h3 --ip-range 10.77.0.248/29 --home /srv/sbmulti-home
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"10.77.0.254 is already in use on the LAN (by $mac)"* ]]
	[[ "$output" != *"Building the images"* ]]
	on h3 ip addr del 10.77.0.254/32 dev eth0
	nothing_of_sbmulti
}

@test "a --home that is not one shared filesystem is refused; nothing is created" {
	for h in h1 h2 h3; do on "$h" mount -t tmpfs tmpfs /srv/sbmulti-private; done
	run "$SB" up --hosts h1,h2,h3 --home /srv/sbmulti-private
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not shared"* ]]
	for h in h1 h2 h3; do
		[ -z "$(ssh "$h" docker ps -aq --filter label=io.slurmbox.cluster=sbmulti)" ]
		on "$h" umount /srv/sbmulti-private
	done
}

@test "up --hosts h1,h2,h3 brings every node to idle; images built once and streamed, also to h3, which cannot reach the mirror (case 10)" {
	# h2 and h3 have no images (h1 may have built them already: the --home
	# check comes after the images), h3 cannot reach the mirror
	for h in h2 h3; do
		images_on "$h" | xargs -r ssh "$h" docker rmi >/dev/null
		[ -z "$(images_on "$h")" ]
	done
	"$LAB" offline h3 on
	mirror_unreachable_from h3
	run "$SB" up --hosts h1,h2,h3 --home /srv/sbmulti-home
	"$LAB" offline h3 off
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"is up"* ]]
	# built at most once, on h1, and streamed from there
	[ "$(grep -c "Building the images" <<<"$output")" -le 1 ]
	[[ "$output" != *"Building the images on h"[23]* ]]
	[[ "$output" == *"Streaming the images h1 → h2"* ]]
	[[ "$output" == *"Streaming the images h1 → h3"* ]]
	for h in h1 h2 h3; do
		images_on "$h" | grep -q '^slurmbox-master:'
		images_on "$h" | grep -q '^slurmbox-worker:'
	done
}

@test "srun -N3 hostname prints workers on three different hosts" {
	run --separate-stderr "$SB" exec master srun -N3 hostname
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "worker-1 worker-2 worker-3 " ]
	hosts=$("$SB" status --json | jq -r '.nodes[] | select(.role=="worker") | .host' | sort -u | wc -l)
	[ "$hosts" -eq 3 ]
}

@test "hostnames and IPs match the plan on every node" {
	run --separate-stderr "$SB" status --json
	[ "$status" -eq 0 ]
	jq -r '.nodes[] | "\(.node) \(.ip)"' <<<"$output" >"$BATS_TEST_TMPDIR/plan"
	cat "$BATS_TEST_TMPDIR/plan"
	local checked=0
	while read -r node ip; do
		# (</dev/null: exec must not eat the plan that the loop reads)
		[ "$("$SB" exec "$node" hostname </dev/null)" = "$node" ]
		"$SB" exec "$node" ip -4 -o addr show </dev/null | grep -q " $ip/24 "
		# (sort -u: a container's own name is in its /etc/hosts twice, ours and Docker's)
		[ "$("$SB" exec worker-1 getent hosts "$node" </dev/null | awk '{print $1}' | sort -u)" = "$ip" ]
		checked=$((checked + 1))
	done <"$BATS_TEST_TMPDIR/plan"
	# every node of the cluster was checked: the master and three workers
	[ "$checked" -eq 4 ]
}

@test "each lab host reaches its own containers through the shim" {
	for i in 1 2 3; do
		ip=$(node_ip "worker-$i")
		on "h$i" ping -c1 -W2 "$ip"
	done
	on h1 ping -c1 -W2 "$(node_ip master)"
}

@test "a container on h2 answers from h1 and from the bridge address" {
	ip=$(node_ip worker-2)
	on h1 ping -c1 -W2 "$ip"
	ping -c1 -W2 "$ip"
}

@test "/home is shared: a job's file on worker-3 is read on worker-1 and on the host" {
	run --separate-stderr "$SB" exec master sbatch --wait -w worker-3 -o /dev/null \
		--wrap 'hostname > ~/from-worker-3.txt'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$("$SB" exec worker-1 cat from-worker-3.txt)" = worker-3 ]
	[ "$(cat /srv/sbmulti-home/slurmbox/from-worker-3.txt)" = worker-3 ]
}

@test "exec, status and logs work from the control machine without --hosts" {
	run --separate-stderr "$SB" exec worker-3 sh -c 'echo out; echo err >&2; exit 5'
	[ "$status" -eq 5 ]
	[ "$output" = out ]
	[ "$stderr" = err ]
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"h3"* ]]
	run "$SB" logs worker-2
	[ "$status" -eq 0 ]
	[[ "$output" == *"slurmd"* ]]
	run "$SB" exec worker-7 true
	[ "$status" -eq 2 ]
}

@test "up again is a no-op" {
	before=$(for h in h1 h2 h3; do ssh "$h" docker ps -q --filter label=io.slurmbox.cluster=sbmulti; done | sort)
	# the cluster is there (without it, `up` alone would make one on this
	# machine's dockerd, and before = after would be two empty lists)
	[ "$(wc -l <<<"$before")" -eq 4 ]
	[ -f "/var/lib/slurmbox/sbmulti.json" ]
	run "$SB" up
	echo "$output"
	[ "$status" -eq 0 ]
	after=$(for h in h1 h2 h3; do ssh "$h" docker ps -q --filter label=io.slurmbox.cluster=sbmulti; done | sort)
	[ "$before" = "$after" ]
}

@test "with the control machine's record lost, --hosts rebuilds the picture from the labels" {
	before=$(for h in h1 h2 h3; do ssh "$h" docker ps -q --filter label=io.slurmbox.cluster=sbmulti; done | sort)
	[ "$(wc -l <<<"$before")" -eq 4 ]
	rm "/var/lib/slurmbox/sbmulti.json"
	run "$SB" status
	[ "$status" -ne 0 ]
	run "$SB" up --hosts h1,h2,h3
	echo "$output"
	[ "$status" -eq 0 ]
	[ -f "/var/lib/slurmbox/sbmulti.json" ]
	after=$(for h in h1 h2 h3; do ssh "$h" docker ps -q --filter label=io.slurmbox.cluster=sbmulti; done | sort)
	[ "$before" = "$after" ]
	run "$SB" status
	[ "$status" -eq 0 ]
}

@test "down with a host offline cleans the others, lists what is left (exit 3); a later down finishes" {
	ips=$("$SB" status --json | jq -r '.nodes[].ip')
	echo "$ips" >"$BATS_FILE_TMPDIR/ips"
	# h3 goes offline: its sshd refuses, and our shared ssh connection to it is closed
	on h3 iptables -I INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset
	ssh -o ControlPath="/tmp/slurmbox-$(id -u)/cm-%C" -O exit h3 2>/dev/null || true
	run "$SB" status
	echo "$output"
	[ "$status" -ne 0 ]
	grep -E '^worker-3 +worker +h3 +unreachable' <<<"$output"
	run "$SB" down
	on h3 iptables -D INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"only partly removed"* ]]
	[[ "$output" == *"h3:"* ]]
	[ -z "$(ssh h1 docker ps -aq --filter label=io.slurmbox.cluster=sbmulti)" ]
	[ -n "$(ssh h3 docker ps -aq --filter label=io.slurmbox.cluster=sbmulti)" ]
}

@test "down leaves no container, network, shim, route or key file on any host" {
	ips=$(cat "$BATS_FILE_TMPDIR/ips")
	[ -n "$ips" ] # written by the test above: the routes below are checked for these
	run "$SB" down
	echo "$output"
	[ "$status" -eq 0 ]
	for h in h1 h2 h3; do
		[ -z "$(ssh "$h" docker ps -aq --filter label=io.slurmbox.cluster=sbmulti)" ]
		[ -z "$(ssh "$h" docker network ls -q --filter label=io.slurmbox.cluster=sbmulti)" ]
		! on "$h" ip -o link show | grep -q ' sb-' || false
		for ip in $ips; do
			! on "$h" ip route show "$ip/32" | grep -q . || false
		done
		! on "$h" test -e /var/lib/slurmbox/sbmulti/munge.key || false
	done
	run "$SB" status
	[ "$status" -ne 0 ]
}

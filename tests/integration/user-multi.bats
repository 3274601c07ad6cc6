#!/usr/bin/env bats
# slurmbox across two lab hosts, ${SB_LAB_A:-h5} and ${SB_LAB_B:-h6}, as a
# user in the docker group of this machine and of each host, over ssh as
# that user (no root anywhere): the shim that needs CAP_NET_ADMIN is named
# in preflight with nothing made; with --no-shim, up to idle, srun across
# the hosts, /home shared, status, and down --purge leaving nothing. Runs
# after health-multi.bats, whose root run left the images on both hosts
# (the offline debootstrap needs root once). The tests run in order.

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export A=${SB_LAB_A:-h5} B=${SB_LAB_B:-h6} U=sbuser
	export MHOME=/srv/sbuserm-home
	lab_require "$A" "$B"
	user_make "$U"
	"$LAB" user "$U"
	mkdir -p "$MHOME"
	chown "$U:$(id -g "$U")" "$MHOME"
	UHOME=$(getent passwd "$U" | cut -d: -f6)
	export UHOME
	# the plain build goes to the hosts, as the user's copy
	export SLURMBOX_SELF=${SLURMBOX_SELF:-$SB}
	sbu down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	[ -n "${SLURMBOX_KEEP:-}" ] && return 0
	sbu down --purge >/dev/null 2>&1 || true
	rm -rf "$MHOME"
	user_drop "$U"
}

setup() {
	lab_require "$A" "$B"
}

sbu() { as_user "$U" env SLURMBOX_SELF="$SLURMBOX_SELF" "$SB" --name sbuserm "$@"; }

# nothing of the cluster on either host, nor the control machine's record
nothing_left() {
	local h
	for h in "$A" "$B"; do
		[ -z "$(labelled container sbuserm "$h")$(labelled network sbuserm "$h")$(labelled volume sbuserm "$h")" ]
		[ ! -e "$UHOME/.local/state/slurmbox/hosts/$h/sbuserm" ]
		! on "$h" ip -o link show | grep -q " $(shim_name sbuserm)[@:]" || false
	done
	[ ! -e "$UHOME/.local/state/slurmbox/sbuserm.json" ]
}

@test "the user reaches both hosts over ssh as itself, and their Docker, without root" {
	for h in "$A" "$B"; do
		run as_user "$U" ssh "$h" 'id -un; id -nG; docker info --format "{{.Name}}"'
		echo "$output"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "$U" ]
		[[ " ${lines[1]} " == *" docker "* ]]
		[ "${lines[2]}" = "$h" ]
	done
}

@test "without CAP_NET_ADMIN the shim is named in preflight, with the fixes; nothing is made" {
	run sbu up --hosts "$A,$B" --home "$MHOME" --ip-range 10.77.0.192/28
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Preflight found problems; nothing was changed on any host"* ]]
	for h in "$A" "$B"; do
		grep -qF "  $h: the shim (this host's own link to its nodes on the LAN) needs CAP_NET_ADMIN" <<<"$output"
	done
	[[ "$output" == *"give --no-shim to go on without it"* ]]
	[[ "$output" != *sudo* ]]
	nothing_left
}

@test "up --no-shim as the user: every node idle, the consequence said" {
	run sbu up --hosts "$A,$B" --home "$MHOME" --ip-range 10.77.0.192/28 --no-shim
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"--no-shim: $A cannot reach its own nodes of cluster 'sbuserm'"* ]]
	[[ "$output" == *"Cluster 'sbuserm' is up"* ]]
	[ "$(labelled container sbuserm "$A" | wc -l)" -eq 2 ]
	[ "$(labelled container sbuserm "$B" | wc -l)" -eq 1 ]
}

@test "each host's copy of the key is the user's, 0400, under its own host name in the shared home" {
	for h in "$A" "$B"; do
		k=$UHOME/.local/state/slurmbox/hosts/$h/sbuserm/munge.key
		[ "$(stat -c '%U %a' "$k")" = "$U 400" ]
		[ "$(stat -c '%U %a' "$(dirname "$k")")" = "$U 700" ]
	done
	cmp "$UHOME/.local/state/slurmbox/hosts/$A/sbuserm/munge.key" \
		"$UHOME/.local/state/slurmbox/hosts/$B/sbuserm/munge.key"
}

@test "srun -N2 runs on both hosts' workers; a job's file in /home is read on the other host" {
	run --separate-stderr sbu exec master srun -N2 sh -c 'echo "$(hostname) $(id -un)"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ',')" = "worker-1 $U,worker-2 $U," ]
	run --separate-stderr sbu exec master sbatch --wait -N1 -w worker-1 -o /dev/null \
		--wrap 'echo "from $(hostname)" > "$HOME/multi.txt"'
	[ "$status" -eq 0 ]
	run --separate-stderr sbu exec worker-2 cat "/home/$U/multi.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "from worker-1" ]
}

@test "status as the user: both hosts, every node healthy" {
	run --separate-stderr sbu status --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .healthy <<<"$output")" = true ]
	[ "$(jq -r '[.nodes[].host] | unique | join(",")' <<<"$output")" = "$(printf '%s\n' "$A" "$B" | sort | paste -sd,)" ]
}

@test "down --purge as the user leaves nothing on either host" {
	run sbu down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	nothing_left
}

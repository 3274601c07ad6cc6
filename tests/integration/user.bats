#!/usr/bin/env bats
# slurmbox as a user in the docker group, without root or sudo (as Docker's
# post-install guide sets things up): up to idle, srun across nodes, a job
# writing to /home read back on another node, status, and down --purge
# leaving nothing. The user "sbuser" is made for the test and removed after.
# The images are there already (an earlier file built them as root: the
# offline debootstrap path needs root once; see the README).

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export U=sbuser
	user_make "$U"
	UHOME=$(getent passwd "$U" | cut -d: -f6)
	export UHOME
	export USTATE=$UHOME/.local/state/slurmbox/hosts/$(hostname)/sbuser
	as_user "$U" "$SB" --name sbuser down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	[ -n "${SLURMBOX_KEEP:-}" ] && return 0
	as_user "$U" "$SB" --name sbuser down --purge >/dev/null 2>&1 || true
	user_drop "$U"
}

@test "the user is in the docker group, not root, and reaches the daemon" {
	run as_user "$U" id -nG
	[[ " $output " == *" docker "* ]]
	[ "$(as_user "$U" id -u)" != 0 ]
	as_user "$U" docker version --format '{{.Server.APIVersion}}' >/dev/null
}

@test "up as the user: every node idle, no sudo asked for" {
	run as_user "$U" "$SB" --name sbuser up
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Cluster 'sbuser' is up"* ]]
	[[ "$output" != *sudo* ]]
	[ "$(labelled container sbuser | wc -l)" -eq 3 ]
}

@test "the key is the user's: 0400 in a 0700 directory under its home; munged has its own copy" {
	[ "$(stat -c '%U %a' "$USTATE/munge.key")" = "$U 400" ]
	[ "$(stat -c '%U %a' "$USTATE")" = "$U 700" ]
	[ "$(docker exec -u root sbuser-worker-1 stat -c '%U %a' /etc/munge/munge.key)" = "munge 400" ]
}

@test "srun -N2 runs on both workers, as the user" {
	run --separate-stderr as_user "$U" "$SB" --name sbuser exec master srun -N2 sh -c 'echo "$(hostname) $(id -un)"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ',')" = "worker-1 $U,worker-2 $U," ]
}

@test "a job writes to /home on worker-1; worker-2 reads it back" {
	run --separate-stderr as_user "$U" "$SB" --name sbuser exec master sbatch --wait -N1 -w worker-1 \
		-o /dev/null --wrap 'echo "from $(hostname)" > "$HOME/job.txt"'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	run --separate-stderr as_user "$U" "$SB" --name sbuser exec worker-2 cat "/home/$U/job.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "from worker-1" ]
}

@test "status as the user: healthy, exit 0" {
	run --separate-stderr as_user "$U" "$SB" --name sbuser status --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .healthy <<<"$output")" = true ]
	[ "$(jq '.nodes | length' <<<"$output")" -eq 3 ]
	run as_user "$U" "$SB" --name sbuser logs master
	[ "$status" -eq 0 ]
	[[ "$output" == *slurmctld* ]]
}

@test "down --purge as the user leaves nothing: no container, network, volume, key or lock" {
	run as_user "$U" "$SB" --name sbuser down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(labelled container sbuser)$(labelled network sbuser)$(labelled volume sbuser)" ]
	[ ! -e "$USTATE" ]
	[ -z "$(find "$UHOME/.local/state/slurmbox" -name '*sbuser*' 2>/dev/null)" ]
}

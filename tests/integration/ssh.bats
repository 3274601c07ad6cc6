#!/usr/bin/env bats
# The ssh transport against the lab's hosts (tests/lab up 3: h1 h2 h3,
# reachable as `ssh h1`): the remote cases of tests/unit/test_ssh.c (run,
# quoting, exit codes, a bad host, timeouts, copying the binary, ssh_pipe
# h1 -> h2), then `slurmbox agent image-save | image-load` between two hosts'
# Docker daemons. Every test skips, saying why, when the lab is not up.
# SLURMBOX_TEST_SSH_HOSTS="a b" uses other hosts than "h1 h2".

bats_require_minimum_version 1.5.0

setup_file() {
	local root
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export BUILD_DIR=${SLURMBOX_BUILD:-$root/build}
	export SB=${SLURMBOX:-$BUILD_DIR/slurmbox}
	read -r H1 H2 <<<"${SLURMBOX_TEST_SSH_HOSTS:-h1 h2}"
	export H1 H2=${H2:-$H1} LAB_DOWN=""
	for h in "$H1" "$H2"; do
		if ! ssh -o BatchMode=yes -o ConnectTimeout=5 "$h" true 2>/dev/null; then
			export LAB_DOWN="'ssh $h true' fails: the lab is not up (tests/lab up 3)"
			break
		fi
	done
}

need_lab() {
	[ -z "$LAB_DOWN" ] || skip "$LAB_DOWN"
}

@test "ssh_run, ssh_pipe and ssh_slurmbox_ensure over real ssh (test_ssh on h1 and h2)" {
	need_lab
	[ -x "$BUILD_DIR/tests/test_ssh" ] || {
		echo "missing $BUILD_DIR/tests/test_ssh: make $BUILD_DIR/tests/test_ssh" >&2
		false
	}
	[ -x "$SB" ] || {
		echo "missing $SB: make" >&2
		false
	}
	run env SLURMBOX_TEST_SSH_HOST="$H1" SLURMBOX_TEST_SSH_HOST2="$H2" SLURMBOX_SELF="$SB" \
		"$BUILD_DIR/tests/test_ssh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"not ok"* ]]
	[[ "$output" != *"# SKIP"* ]] # every remote case ran
	[[ "$output" == *"ok "*" - test_remote_pipe"* ]]
}

@test "a host that is not an ssh destination is refused before ssh runs" {
	# no lab needed: the check happens before any process starts
	[ -x "$SB" ] || skip "missing $SB"
	run "$SB" up --hosts '-oProxyCommand=touch /tmp/sbtest-pwned' --dry-run
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--hosts"* ]]
	[ ! -e /tmp/sbtest-pwned ]
}

@test "agent image-save on h1 piped into agent image-load on h2 moves two tags" {
	need_lab
	[ -x "$SB" ] || skip "missing $SB"
	[ "$(ssh "$H1" "test -x '$SB' && echo yes")" = yes ] ||
		skip "$SB is not visible on $H1 (the lab shares this machine's file system)"
	local tag=sbtest/ssh-empty
	ssh "$H1" "docker rmi -f $tag:1 $tag:2 >/dev/null 2>&1; tar cf - --files-from /dev/null |
		docker import - $tag:1 >/dev/null && docker tag $tag:1 $tag:2"
	[ "$H2" = "$H1" ] || ssh "$H2" "docker rmi -f $tag:1 $tag:2 >/dev/null 2>&1; true"

	run --separate-stderr bash -c "set -o pipefail; ssh $H1 '$SB' agent image-save $tag:1 $tag:2 |
		ssh $H2 '$SB' agent image-load"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"$tag:1\""* ]]
	[[ "$output" == *"\"$tag:2\""* ]]
	ssh "$H2" docker image inspect "$tag:1" "$tag:2" >/dev/null

	# a missing image: a clear error from the saving side, nothing loaded
	run --separate-stderr bash -c "set -o pipefail; ssh $H1 '$SB' agent image-save $tag:nope |
		ssh $H2 '$SB' agent image-load"
	echo "$stderr"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"$tag:nope"* ]]

	ssh "$H1" "docker rmi -f $tag:1 $tag:2 >/dev/null"
	[ "$H2" = "$H1" ] || ssh "$H2" "docker rmi -f $tag:1 $tag:2 >/dev/null"
}

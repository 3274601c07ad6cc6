#!/usr/bin/env bats
# The ssh transport against the lab's hosts (tests/lab up 3: h1 h2 h3,
# reachable as `ssh h1`): a --hosts entry that is not an ssh destination is
# refused before ssh runs, and `slurmbox agent image-save | image-load` moves
# images between two hosts' Docker daemons. (test_ssh's remote cases run
# against h1 and h2 from tests/run-all itself.) tests/run-all runs this file
# only once the lab is up: a lab that does not answer fails the file
# (setup_file), it is never a skip.
# SLURMBOX_TEST_SSH_HOSTS="a b" uses other hosts than "h1 h2".

bats_require_minimum_version 1.5.0

setup_file() {
	local root
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export SB=${SLURMBOX:-$root/build/slurmbox}
	read -r H1 H2 <<<"${SLURMBOX_TEST_SSH_HOSTS:-h1 h2}"
	export H1 H2=${H2:-$H1}
	[ -x "$SB" ] || {
		echo "no slurmbox binary at $SB (make)" >&2
		return 1
	}
	"$BATS_TEST_DIRNAME/../lab" check "$H1" "$H2"
}

@test "a host that is not an ssh destination is refused before ssh runs" {
	# no lab needed: the check happens before any process starts
	run "$SB" up --hosts '-oProxyCommand=touch /tmp/sbtest-pwned' --dry-run
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--hosts"* ]]
	[ ! -e /tmp/sbtest-pwned ]
}

@test "agent image-save on h1 piped into agent image-load on h2 moves two tags" {
	# the lab's hosts share this machine's file system (tests/lab)
	[ "$(ssh "$H1" "test -x '$SB' && echo yes")" = yes ]
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

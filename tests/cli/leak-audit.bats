#!/usr/bin/env bats
# tests/lib/leak-audit counts only what the test run left: what was here
# before it (a cluster of the user's, its kept /home and key) is listed by
# --snapshot and not counted by --before. A stand-in `docker` on PATH plays
# the engine: the objects it lists are in files the test writes.

setup() {
	AUDIT=$BATS_TEST_DIRNAME/../lib/leak-audit
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/docker" <<'SH'
#!/bin/sh
# docker ps -aq / network ls -q / volume ls -q --filter label=...: the listed ids
case "$1" in
ps) cat "$FAKE/containers" 2>/dev/null ;;
network) cat "$FAKE/networks" 2>/dev/null ;;
*) : ;;
esac
SH
	chmod +x "$BATS_TEST_TMPDIR/bin/docker"
	export PATH=$BATS_TEST_TMPDIR/bin:$PATH FAKE=$BATS_TEST_TMPDIR
}

@test "what was there before the run is not counted; what the run left is" {
	printf 'usercluster-master-id\nusercluster-worker-id\n' >"$FAKE/containers"
	printf 'usercluster-net-id\n' >"$FAKE/networks"
	"$AUDIT" --snapshot "$BATS_TEST_TMPDIR/before"
	grep -qx 'docker ps: usercluster-master-id' "$BATS_TEST_TMPDIR/before"
	# the run leaves one container of its own; the user's are still there
	printf 'usercluster-master-id\nusercluster-worker-id\nleft-by-a-test\n' >"$FAKE/containers"
	run "$AUDIT" --before "$BATS_TEST_TMPDIR/before"
	echo "$output"
	[[ "$output" == *"not ok 1 - 1 objects of slurmbox or its tests are left on local"* ]]
	[[ "$output" == *"docker ps: left-by-a-test"* ]]
	[[ "$output" != *"usercluster"* ]]
	# the user's three, and whatever else this machine had before (never the tests')
	[[ "$output" =~ \#\ ([0-9]+)\ objects\ were\ here\ before\ the\ run\ and\ are\ not\ counted ]]
	[ "${BASH_REMATCH[1]}" -ge 3 ]
	[[ "$output" == *"# objects leaked: 1"* ]]
	# without the snapshot every one counts
	run "$AUDIT"
	[[ "$output" == *"usercluster-master-id"* ]]
	# the run removed what it made: nothing leaked
	printf 'usercluster-master-id\nusercluster-worker-id\n' >"$FAKE/containers"
	run "$AUDIT" --before "$BATS_TEST_TMPDIR/before"
	echo "$output"
	[[ "$output" == *"ok 1 - nothing of slurmbox or its tests is left on local"* ]]
	[[ "$output" == *"# objects leaked: 0"* ]]
}

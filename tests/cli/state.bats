#!/usr/bin/env bats
# The state directory (the cluster's munge key, its locks) without Docker:
# `agent undo` with nothing to undo only takes the host lock beside the state
# directory, and `agent apply` writes the key before it needs the daemon (its
# spec is refused later, exit 2, and the run rolls back). DOCKER_HOST points
# at a socket that does not exist, so nothing here can reach a daemon.

setup() {
	SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export DOCKER_HOST=unix://$BATS_TEST_TMPDIR/no-docker.sock
	unset SLURMBOX_CLUSTER SLURMBOX_STATE_DIR XDG_STATE_HOME
}

mode() { stat -c %a "$1"; }

# agent undo with an empty report: takes the lock in the state dir's parent
undo() {
	run bash -c "echo '{\"created\":[]}' | \"\$0\" --name okname agent undo" "$SB"
	echo "agent undo: status $status: $output"
}

# agent apply with a 64-byte key: makes the state dir and writes the key
apply() {
	local key spec
	key=$(printf 'ab%.0s' $(seq 64))
	spec='{"cluster":"okname","workers":1,"hosts":[{"name":"h1","ncpus":1,"mem_mb":100}]}'
	run bash -c "echo '{\"spec\":$spec,\"key\":\"$key\"}' | \"\$0\" agent apply --host 0" "$SB"
	echo "agent apply: status $status: $output"
}

@test "state: directories already there keep their mode (a shared 1777 one keeps its sticky bit)" {
	local base=$BATS_TEST_TMPDIR/shared
	mkdir "$base"
	chmod 1777 "$base"
	export SLURMBOX_STATE_DIR=$base
	undo
	[ "$status" -eq 0 ]
	[ -e "$base/.okname.host.lock" ]
	[ "$(mode "$base")" = 1777 ]
	apply
	[[ "$output" == *'"key":true'* ]]
	[ "$(mode "$base")" = 1777 ]
	chmod 0750 "$base"
	undo
	[ "$status" -eq 0 ]
	[ "$(mode "$base")" = 750 ]
}

@test "state: the cluster's own directory is made 0700, and a looser one of ours is tightened" {
	export SLURMBOX_STATE_DIR=$BATS_TEST_TMPDIR/state
	mkdir -p "$SLURMBOX_STATE_DIR/okname"
	chmod 0755 "$SLURMBOX_STATE_DIR/okname"
	apply
	[[ "$output" == *'"key":true'* ]]
	[ "$(mode "$SLURMBOX_STATE_DIR/okname")" = 700 ]
	[ "$(mode "$SLURMBOX_STATE_DIR")" = 755 ]
}

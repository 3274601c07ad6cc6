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

# as_user CMD...: run CMD as a user that is not root (nobody, when we are root)
as_user() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	elif command -v setpriv >/dev/null; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		skip "setpriv (util-linux) is needed to run as a user other than root"
	fi
}

@test "state: a user with no HOME (and no XDG_STATE_HOME) is refused, never sent to /tmp" {
	local sb=$SB
	[[ "$sb" == /* ]] || sb=$PWD/$sb
	run as_user env -u HOME bash -c "echo '{\"created\":[]}' | \"\$0\" --name okname agent undo" "$sb"
	echo "status $status: $output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"HOME is not set"*"set HOME to your home directory, or XDG_STATE_HOME or SLURMBOX_STATE_DIR"* ]]
	run as_user env HOME=relative bash -c "echo '{\"created\":[]}' | \"\$0\" --name okname agent undo" "$sb"
	echo "status $status: $output"
	[ "$status" -eq 2 ]
	[[ "$output" == *'HOME="relative" is not an absolute path'* ]]
}

# refused "what the message must contain": agent undo and apply exit 2 and make nothing
refused() {
	undo
	[ "$status" -eq 2 ]
	[[ "$output" == *"$1"* ]]
	apply
	[ "$status" -eq 2 ]
	[[ "$output" == *"$1"* ]]
	[ ! -e "$SLURMBOX_STATE_DIR" ] || [ -z "$(ls -A "$SLURMBOX_STATE_DIR")" ]
}

@test "state: a directory on the key's path that others can write is refused, naming it and the fix" {
	local t=$BATS_TEST_TMPDIR
	mkdir -m 0777 "$t/ww"
	chmod 0777 "$t/ww"
	export SLURMBOX_STATE_DIR=$t/ww/state
	refused "Directory '$t/ww' on the path to the munge key is writable by everyone (mode 0777), who could replace '$t/ww/state': chmod go-w '$t/ww'"
	[ ! -e "$t/ww/state" ]
	chmod 0775 "$t/ww"
	refused "Directory '$t/ww' on the path to the munge key is writable by its group (mode 0775)"
	# the same directory reached through a symbolic link
	mkdir "$t/ww/state"
	ln -s ww/state "$t/link"
	export SLURMBOX_STATE_DIR=$t/link
	refused "Directory '$t/ww' on the path to the munge key is writable by its group"
	rmdir "$t/ww/state"
	# the cluster's own directory, writable by others: its key may be another's
	chmod 0755 "$t/ww"
	export SLURMBOX_STATE_DIR=$t/ww/state
	mkdir -p "$t/ww/state/okname"
	chmod 0770 "$t/ww/state/okname"
	apply
	[ "$status" -eq 2 ]
	[[ "$output" == *"State directory '$t/ww/state/okname' is writable by its group (mode 0770)"*"chmod 700"* ]]
	[ ! -e "$t/ww/state/okname/munge.key" ]
}

@test "state: under a sticky world-writable directory (/tmp) only entries of ours (or root's) are trusted" {
	[ "$(id -u)" -eq 0 ] || skip "making files of another user needs root"
	local t=$BATS_TEST_TMPDIR
	mkdir "$t/sticky"
	chmod 1777 "$t/sticky"
	# ours: fine (the first test's 1777 base is the same case one level down)
	export SLURMBOX_STATE_DIR=$t/sticky/mine
	undo
	[ "$status" -eq 0 ]
	# another user's directory or link in it: refused
	mkdir "$t/sticky/theirs"
	chown 65534 "$t/sticky/theirs"
	export SLURMBOX_STATE_DIR=$t/sticky/theirs/state
	undo
	[ "$status" -eq 2 ]
	[[ "$output" == *"Directory '$t/sticky' on the path to the munge key is writable by everyone (mode 1777), and '$t/sticky/theirs' in it is owned by uid 65534, neither you (uid 0) nor root"* ]]
	[ ! -e "$t/sticky/theirs/state" ]
	ln -s mine "$t/sticky/link"
	chown -h 65534 "$t/sticky/link"
	export SLURMBOX_STATE_DIR=$t/sticky/link
	undo
	[ "$status" -eq 2 ]
	[[ "$output" == *"and '$t/sticky/link' in it is owned by uid 65534"* ]]
	# a directory owned by someone else, even one only they can write
	mkdir -m 0755 "$t/theirs"
	chown 65534 "$t/theirs"
	export SLURMBOX_STATE_DIR=$t/theirs/state
	undo
	[ "$status" -eq 2 ]
	[[ "$output" == *"Directory '$t/theirs' on the path to the munge key is owned by uid 65534, neither you (uid 0) nor root"* ]]
}

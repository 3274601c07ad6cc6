#!/usr/bin/env bats
# CLI tests that need no Docker: usage, --help, and bad input. Bad input must
# exit 2 with a message naming the field and the fix, and create nothing:
# DOCKER_HOST points at a socket that does not exist, so anything that got as
# far as the daemon would fail with exit 1 instead, and the state directory
# must stay absent.

setup() {
	SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export DOCKER_HOST=unix://$BATS_TEST_TMPDIR/no-docker.sock
	export SLURMBOX_STATE_DIR=$BATS_TEST_TMPDIR/state
	unset SLURMBOX_CLUSTER
}

# bad_input "what the message must contain" ARGS...
bad_input() {
	local want=$1
	shift
	run "$SB" "$@"
	echo "args: $* -> status $status: $output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$want"* ]]
	[ ! -e "$SLURMBOX_STATE_DIR" ]
}

@test "--help on every command exits 0 with a usage text" {
	for cmd in up down exec shell status logs images version; do
		run "$SB" "$cmd" --help
		echo "$cmd: $status $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"Usage"* ]]
	done
	run "$SB" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Commands:"* ]]
}

@test "no command and unknown commands are usage errors (exit 2)" {
	bad_input "No command given" 
	bad_input "Unknown command 'frobnicate'" frobnicate
	bad_input "--help" --bogus
}

@test "version prints the version and image tags without a daemon" {
	run "$SB" version
	[ "$status" -eq 0 ]
	[[ "$output" == *"slurmbox 0."* ]]
	[[ "$output" == *"slurmbox-master:"* ]]
	[[ "$output" == *"not reachable"* ]]
}

@test "up: bad --workers" {
	bad_input "--workers '0'" up --workers 0
	bad_input "--workers '251'" up --workers 251
	bad_input "--workers 'two'" up --workers two
	bad_input "--workers '-1'" up --workers -1
	bad_input "from 1 to 250" up -w 1e3
}

@test "up: bad cluster names break DNS or Slurm rules" {
	bad_input "underscore" up --name Node_1
	bad_input "Node_1" --name Node_1 up
	bad_input "ALL" up --name ALL
	bad_input "default" up --name default
	bad_input "n[1]" up --name 'n[1]'
	bad_input "40" up --name "$(printf 'a%.0s' {1..70})"
	bad_input "--name" up --name ''
	bad_input "upper" up --name MyCluster
}

@test "SLURMBOX_CLUSTER is validated like --name" {
	SLURMBOX_CLUSTER=bad_name run "$SB" status
	[ "$status" -eq 2 ]
	[[ "$output" == *"SLURMBOX_CLUSTER"* ]]
}

@test "up: bad --home" {
	bad_input "absolute" up --home relative/dir
	bad_input "mkdir -p" up --home /nonexistent/slurmbox-home
	touch "$BATS_TEST_TMPDIR/file"
	bad_input "not a directory" up --home "$BATS_TEST_TMPDIR/file"
}

@test "up: bad --user" {
	bad_input "root" up --user root
	bad_input "--user" up --user 'a b'
	bad_input "--user" up --user 'Alice'
	bad_input "UID" up --user bob:0
	bad_input "UID" up --user bob:abc
	bad_input "GID" up --user bob:1000:0
	bad_input "UID" up --user bob:70000
}

@test "up: bad --subnet" {
	bad_input "host bits" up --subnet 10.1.2.3/24
	bad_input "--subnet" up --subnet 10.1.2.0/33
	bad_input "--subnet" up --subnet 10.1.2/24
	bad_input "--subnet" up --subnet banana
	bad_input "--subnet" up --subnet 300.1.2.0/24
}

@test "up: bad --timeout and unknown options" {
	bad_input "--timeout" up --timeout 0
	bad_input "--timeout" up --timeout soon
	bad_input "--bogus" up --bogus
	bad_input "unexpected argument" up extra
	bad_input "--workers" up --workers
}

@test "up --help lists --recreate; --recreate takes no value and is checked like any up" {
	run "$SB" up --help
	[ "$status" -eq 0 ]
	grep -q -- '--recreate .*re-create the' <<<"$output"
	bad_input "--recreate" up --recreate=yes
	bad_input "--workers '0'" up --recreate --workers 0
}

@test "exec: missing node or command, bad -w" {
	bad_input "give a node and a command" exec
	bad_input "give a node and a command" exec master
	bad_input "absolute" exec -w tmp master ls
	bad_input "--bogus" exec --bogus master ls
}

@test "logs, status, down, shell, images: bad usage" {
	bad_input "give one node" logs
	bad_input "give one node" logs a b
	bad_input "--tail" logs --tail x master
	bad_input "unexpected argument" status extra
	bad_input "unexpected argument" down extra
	bad_input "unexpected argument" shell master extra
	bad_input "build or list" images
	bad_input "unknown verb" images frob
	bad_input "--arch 'aarch64' is not an architecture" images build --arch aarch64
	bad_input "--arch 'x'" images list --arch x
}

@test "a command that needs Docker says how to reach it (exit 1)" {
	run "$SB" status
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no-docker.sock"* ]]
}

@test "up: options for several hosts are refused without --hosts, never ignored" {
	bad_input "--ip-range is for clusters on several hosts (with --hosts)" up --ip-range 10.0.0.0/33
	bad_input "--parent is for clusters on several hosts" up --parent eth0
	bad_input "--gateway is for clusters on several hosts" up --gateway 10.0.0.1
	bad_input "--network is for clusters on several hosts" up --network macvlan
	bad_input "--workers-per-host is for clusters on several hosts" up --workers-per-host 2
	bad_input "--no-master-worker is for clusters on several hosts" up --no-master-worker
	bad_input "--no-shim is for clusters on several hosts" up --no-shim
}

@test "agent: a request is checked before any path is built from it; a bad key is refused, never a crash" {
	# a cluster name that would leave the state directory
	run bash -c "echo '{\"spec\":{\"cluster\":\"../../x\"},\"key\":\"$(printf 'ab%.0s' $(seq 32))\"}' | '$SB' agent apply --host 0"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"Cluster spec: Invalid --name \"../../x\""* ]]
	[ ! -e "$SLURMBOX_STATE_DIR" ]
	# a key that is null, not hex, or shorter than munge's 32 bytes
	for key in null '"zz"' "\"$(printf 'g%.0s' $(seq 64))\"" "\"$(printf 'ab%.0s' $(seq 31))\""; do
		run bash -c "echo '{\"spec\":{\"cluster\":\"okname\"},\"key\":$key}' | '$SB' agent apply --host 0"
		echo "$key: $status $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"The control machine sent no munge key"* ]]
	done
	[ ! -e "$SLURMBOX_STATE_DIR" ]
}

#!/usr/bin/env bats
# The agent's codec (remote/agent.c), as the control machine meets it over
# ssh: each verb prints one JSON document on stdout that fits its schema,
# or fails with a message. No Docker is needed: DOCKER_HOST points at a
# socket that does not exist, and the facts say so inside.

bats_require_minimum_version 1.5.0

setup() {
	SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export DOCKER_HOST=unix://$BATS_TEST_TMPDIR/no-docker.sock
	export SLURMBOX_STATE_DIR=$BATS_TEST_TMPDIR/state
	unset SLURMBOX_CLUSTER
}

@test "agent facts prints one JSON object: this host, and the engine's error inside" {
	run --separate-stderr "$SB" --name sbagent agent facts --image a:1 --home /tmp
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r type <<<"$output")" = object ]
	[ "$(jq -r .version <<<"$output")" = "$("$SB" version --short)" ]
	[ "$(jq -r .arch <<<"$output")" = "$(uname -m)" ]
	[ "$(jq -r '.euid | type' <<<"$output")" = number ]
	[[ "$(jq -r .docker.error <<<"$output")" == *"no-docker.sock"* ]]
	[ "$(jq -r .home.path <<<"$output")" = "$(realpath /tmp)" ]
	[ "$(jq -r '.uplink | type' <<<"$output")" = object ]
	[ ! -e "$SLURMBOX_STATE_DIR" ]
}

@test "agent probe with no address answers an empty list; bad input is refused" {
	run --separate-stderr "$SB" agent probe --parent lo --timeout 10
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
	run "$SB" agent probe --timeout 10 10.0.0.1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--parent is required"* ]]
	run "$SB" agent probe --parent lo 10.0.0.300
	[ "$status" -eq 2 ]
}

@test "agent apply and wait refuse a request that is not one: nothing is created" {
	run "$SB" --name sbagent agent apply --host 0 <<<'{"spec":null}'
	echo "$output"
	[ "$status" -ne 0 ]
	run "$SB" --name sbagent agent apply --host 3 \
		<<<'{"spec":{"cluster":"sbagent","workers":1,"hosts":[{"name":"h1","ncpus":1}]},"key":"'"$(printf '%064d' 0)"'"}'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Host index 3 is not in the spec"* ]]
	run "$SB" --name sbagent agent undo <<<'[]'
	[ "$status" -ne 0 ]
	[[ "$output" == *"no report of an apply"* ]]
	[ ! -e "$SLURMBOX_STATE_DIR" ]
}

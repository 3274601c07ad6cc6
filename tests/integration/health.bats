#!/usr/bin/env bats
# status's per-node checks on one host, against the real dockerd (reference
# cases 26, 27, 31, 32): the master's slurm.conf against the plan and every
# worker's copy against the master's (drift), an unmunge of a credential
# made on the master (a node with another key is flagged), host name = node
# name, `slurmd -C` >= what the node registered, no DRAIN.
# Cluster "sbhealth"; the tests run in order. health-multi.bats does the
# same across two lab hosts.

bats_require_minimum_version 1.5.0

load lib

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	unset SLURMBOX_CLUSTER
	"$SB" --name sbhealth down --purge >/dev/null 2>&1 || true
}

teardown_file() {
	[ -n "${SLURMBOX_KEEP:-}" ] && return 0
	"$SB" --name sbhealth down --purge >/dev/null 2>&1 || true
}

s1() { "$SB" --name sbhealth "$@"; }

@test "up sbhealth: a master and 2 workers, idle" {
	run s1 up
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(labelled container sbhealth | wc -l)" -eq 3 ]
}

@test "case 26: status after up: every node's conf and munge ok, healthy, exit 0" {
	run --separate-stderr s1 status --json
	echo "$output"
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
	[ "$(jq '.nodes | length' <<<"$output")" -eq 3 ]
	run s1 status
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qE '^NODE .* SLURM +CHECKS$' <<<"$output"
	[ "$(grep -cE '^(master|worker-[12]) .* ok$' <<<"$output")" -eq 3 ]
	[[ "$output" != *"Problems"* ]]
	# the round trip by hand: a credential made on the master, decoded once on every node
	for n in master worker-1 worker-2; do
		docker exec sbhealth-master munge -n | docker exec -i "sbhealth-$n" unmunge >/dev/null
	done
}

@test "case 32: hostname is the node name, slurmd -C >= what the node registered, no node drained" {
	for n in master worker-1 worker-2; do
		[ "$(docker exec "sbhealth-$n" hostname)" = "$n" ]
	done
	for n in worker-1 worker-2; do
		# a dynamic node: slurmctld has what slurmd -Z registered (the plan's CPUs and memory)
		line=$(docker exec sbhealth-master scontrol show node "$n" -o)
		echo "slurmctld: $line"
		want_cpus=$(sed -n 's/.* CPUTot=\([0-9]*\).*/\1/p' <<<"$line")
		want_mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$line")
		[ "$want_cpus" = "$(docker exec "sbhealth-$n" printenv SLURMBOX_CPUS)" ]
		[ "$want_mem" = "$(docker exec "sbhealth-$n" printenv SLURMBOX_MEMORY_MB)" ]
		[[ "$line" == *"AvailableFeatures=worker "* ]]
		have=$(docker exec "sbhealth-$n" slurmd -C | head -n 1)
		echo "slurmd -C: $have"
		have_cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$have")
		have_mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$have")
		[ -n "$want_cpus" ] && [ -n "$want_mem" ] && [ -n "$have_cpus" ] && [ -n "$have_mem" ]
		[ "$have_cpus" -ge "$want_cpus" ]
		[ "$have_mem" -ge "$want_mem" ]
	done
	run --separate-stderr s1 exec master sinfo -h -N -o '%N %t'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq 2 ]
	# idle (or busy), never drained, down or failed
	! grep -vE '^worker-[12] (idle|alloc|mix)$' <<<"$output" || false
	[ "$(s1 status --json | jq -r '[.nodes[].hostname_check] | unique | join(",")')" = ok ]
}

@test "case 31: worker-1's copy of slurm.conf edited is drift (exit 1); undone, healthy again" {
	# configless: a worker keeps no slurm.conf of its own, only slurmd's copy of the master's
	docker exec sbhealth-worker-1 test ! -e /etc/slurm/slurm.conf
	docker exec -u root sbhealth-worker-1 sh -c 'echo "# edited by hand" >>/run/slurm/conf/slurm.conf'
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^worker-1 .* drift$' <<<"$output"
	grep -qE '^worker-2 .* ok$' <<<"$output"
	grep -qE "^ +worker-1 +drift: /run/slurm/conf/slurm.conf differs from the master's \(line [0-9]+: \"# edited by hand\", the master's: end of file\)$" <<<"$output"
	[[ "$output" == *"docker rm -f sbhealth-worker-1"* ]]
	run --separate-stderr s1 status --json
	[ "$status" -eq 1 ]
	[ "$(jq -r .healthy <<<"$output")" = false ]
	[ "$(jq -r '.nodes[] | select(.conf == "drift") | .node' <<<"$output")" = worker-1 ]
	[ "$(jq -r '[.nodes[].munge] | unique | join(",")' <<<"$output")" = ok ]

	docker exec -u root sbhealth-worker-1 sed -i '/^# edited by hand$/d' /run/slurm/conf/slurm.conf
	run --separate-stderr s1 status --json
	echo "$output"
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
}

@test "case 31: the master's slurm.conf edited is drift from the plan, and every copy differs from it" {
	docker exec -u root sbhealth-master sh -c 'echo "# edited by hand" >>/etc/slurm/slurm.conf'
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^ +master +drift: /etc/slurm/slurm.conf differs from the plan \(line [0-9]+: "# edited by hand", the plan: end of file\)$' <<<"$output"
	grep -qE "^ +worker-2 +drift: /run/slurm/conf/slurm.conf differs from the master's \(line [0-9]+: end of file, the master's: \"# edited by hand\"\)$" <<<"$output"
	docker exec -u root sbhealth-master sed -i '/^# edited by hand$/d' /etc/slurm/slurm.conf
	run --separate-stderr s1 status --json
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
}

@test "case 31: a drifted node re-created as the hint says (docker rm -f, up) is healthy" {
	docker exec -u root sbhealth-worker-2 sed -i '/^PartitionName=/d' /run/slurm/conf/slurm.conf
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE "^ +worker-2 +drift: .*the master's: \"PartitionName=" <<<"$output"
	fix=$(grep -o 'docker rm -f sbhealth-worker-2' <<<"$output")
	$fix
	run s1 up
	echo "$output"
	[ "$status" -eq 0 ]
	until_healthy s1
	[ "$(labelled container sbhealth | wc -l)" -eq 3 ]
}

@test "case 27: munged with another key on worker-2 is flagged (exit 1); its own key back, healthy" {
	docker exec -u root sbhealth-worker-2 sh -c "$tamper_munged_sh"
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^worker-2 .* munge$' <<<"$output"
	grep -qE '^master .* ok$' <<<"$output"
	grep -qE '^worker-1 .* ok$' <<<"$output"
	grep -qE "^ +worker-2 +munge: credential rejected; the node's key differs from the master's$" <<<"$output"
	run --separate-stderr s1 status --json
	[ "$status" -eq 1 ]
	[ "$(jq -r '.nodes[] | select(.munge != "ok") | "\(.node) \(.munge)"' <<<"$output")" = "worker-2 failed" ]
	[ "$(jq -r '[.nodes[].conf] | unique | join(",")' <<<"$output")" = ok ]

	docker exec -u root sbhealth-worker-2 sh -c "$restore_munged_sh"
	until_healthy s1
	all_checks_ok "$(s1 status --json)"
}

@test "case 27: a stopped munged on the master is named, not blamed on the workers" {
	docker exec -u root sbhealth-master pkill -x munged
	# pkill only sends the signal: status must see munged gone, not going
	wait_proc gone sbhealth-master munged
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^ +master +munge: cannot make a credential on the master' <<<"$output"
	! grep -qE '^ +worker-[12] ' <<<"$output" || false
	docker exec -u root sbhealth-master sh -c "$restore_munged_sh"
	until_healthy s1
}

@test "down --purge sbhealth leaves no container, network, volume or state" {
	run s1 down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(labelled container sbhealth)" ]
	[ -z "$(labelled network sbhealth)" ]
	[ -z "$(labelled volume sbhealth)" ]
	[ ! -e /var/lib/slurmbox/sbhealth ]
	# no state directory or lock file
	! ls -a /var/lib/slurmbox 2>/dev/null | grep -qE '^\.?sbhealth(\.|$)' || false
}

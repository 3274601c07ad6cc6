#!/usr/bin/env bats
# status's per-node checks against the real dockerd (reference cases 26,
# 27, 31, 32): every node's slurm.conf against the plan (drift), an unmunge
# of a credential made on the master (a node with another key is flagged),
# host name = NodeName, `slurmd -C` >= the config, no DRAIN. First on one
# host (cluster "sbhealth"), then across two lab hosts ${SB_LAB_A:-h4} and
# ${SB_LAB_B:-h5} (cluster "sbhealthm"; skipped when the lab is not up).
# The tests run in order.

bats_require_minimum_version 1.5.0

lab_up() { ssh -o BatchMode=yes -o ConnectTimeout=3 "$HA" true 2>/dev/null; }

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export LAB=$BATS_TEST_DIRNAME/../lab
	export HA=${SB_LAB_A:-h4} HB=${SB_LAB_B:-h5}
	export MHOME=/srv/sbhealthm-home
	unset SLURMBOX_CLUSTER
	"$SB" --name sbhealth down --purge >/dev/null 2>&1 || true
	if lab_up; then
		"$SB" --name sbhealthm down --purge >/dev/null 2>&1 || true
		mkdir -p "$MHOME"
	fi
}

teardown_file() {
	[ -n "${SLURMBOX_KEEP:-}" ] && return 0
	"$SB" --name sbhealth down --purge >/dev/null 2>&1 || true
	if lab_up; then
		"$SB" --name sbhealthm down --purge >/dev/null 2>&1 || true
		"$LAB" exec "$HB" rm -f /tmp/sbhealthm.key.orig
	fi
	rm -rf "$MHOME"
}

s1() { "$SB" --name sbhealth "$@"; }
sm() { "$SB" --name sbhealthm "$@"; }
on() { # on HOST CMD...: run in a lab host
	local h=$1
	shift
	"$LAB" exec "$h" "$@"
}

labelled() { # labelled KIND CLUSTER [HOST]: ids of labelled objects (on a lab host if given)
	local run=()
	[ -n "${3:-}" ] && run=("$LAB" exec "$3")
	case $1 in
	container) "${run[@]}" docker ps -aq --filter "label=io.slurmbox.cluster=$2" ;;
	network) "${run[@]}" docker network ls -q --filter "label=io.slurmbox.cluster=$2" ;;
	volume) "${run[@]}" docker volume ls -q --filter "label=io.slurmbox.cluster=$2" ;;
	esac
}

# the shim interface of a cluster: "sb-" and 12 hex digits of FNV-1a 64 of its name
shim_name() {
	local s=$1 h=$((0xcbf29ce484222325)) i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(((h ^ c) * 0x100000001b3))
	done
	printf 'sb-%.12s\n' "$(printf '%016x' "$h")"
}

# until_healthy CMD...: poll `CMD status` for at most 60 s until it exits 0
until_healthy() {
	local deadline=$((SECONDS + 60))
	until "$@" status >"$BATS_TEST_TMPDIR/status" 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			cat "$BATS_TEST_TMPDIR/status"
			return 1
		fi
		sleep 0.5
	done
}

# every node of `status --json` has conf, munge and hostname ok
all_checks_ok() {
	jq -e '.healthy and ([.nodes[] | .conf == "ok" and .munge == "ok" and .hostname_check == "ok"
		and (.problems | length) == 0] | all)' <<<"$1"
}

# a key for munged that is not the cluster's: run as root in the container (CapDrop ALL
# + CHOWN, DAC_OVERRIDE, KILL, SETGID, SETUID is enough), then munged restarts with it
tamper_munged_sh='set -e
mkdir -p -m 0700 /run/sbtamper
head -c 1024 /dev/urandom >/run/sbtamper/munge.key
chmod 0400 /run/sbtamper/munge.key
chown munge:munge /run/sbtamper /run/sbtamper/munge.key
pkill -x munged
while pgrep -x munged >/dev/null; do sleep 0.05; done
setpriv --reuid=munge --regid=munge --init-groups munged --key-file=/run/sbtamper/munge.key'
restore_munged_sh='set -e
pkill -x munged || true
while pgrep -x munged >/dev/null; do sleep 0.05; done
rm -rf /run/sbtamper
setpriv --reuid=munge --regid=munge --init-groups munged'

# ---- one host ----

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

@test "case 32: hostname is NodeName, slurmd -C >= slurm.conf, no node drained" {
	conf=$(docker exec sbhealth-master cat /etc/slurm/slurm.conf)
	for n in master worker-1 worker-2; do
		[ "$(docker exec "sbhealth-$n" hostname)" = "$n" ]
	done
	for n in worker-1 worker-2; do
		line=$(grep -E "^NodeName=$n " <<<"$conf")
		echo "conf: $line"
		want_cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$line")
		want_mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$line")
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
	! grep -vE '^worker-[12] (idle|alloc|mix)$' <<<"$output"
	[ "$(s1 status --json | jq -r '[.nodes[].hostname_check] | unique | join(",")')" = ok ]
}

@test "case 31: slurm.conf edited on worker-1 is drift (exit 1); undone, healthy again" {
	docker exec -u root sbhealth-worker-1 sh -c 'echo "# edited by hand" >>/etc/slurm/slurm.conf'
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^worker-1 .* drift$' <<<"$output"
	grep -qE '^worker-2 .* ok$' <<<"$output"
	grep -qE '^ +worker-1 +drift: /etc/slurm/slurm.conf differs from the plan \(line [0-9]+: "# edited by hand", the plan: end of file\)$' <<<"$output"
	[[ "$output" == *"docker rm -f sbhealth-worker-1"* ]]
	run --separate-stderr s1 status --json
	[ "$status" -eq 1 ]
	[ "$(jq -r .healthy <<<"$output")" = false ]
	[ "$(jq -r '.nodes[] | select(.conf == "drift") | .node' <<<"$output")" = worker-1 ]
	[ "$(jq -r '[.nodes[].munge] | unique | join(",")' <<<"$output")" = ok ]

	docker exec -u root sbhealth-worker-1 sed -i '/^# edited by hand$/d' /etc/slurm/slurm.conf
	run --separate-stderr s1 status --json
	echo "$output"
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
}

@test "case 31: a drifted node re-created as the hint says (docker rm -f, up) is healthy" {
	docker exec -u root sbhealth-worker-2 sed -i '/^PartitionName=/d' /etc/slurm/slurm.conf
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^ +worker-2 +drift: .*the plan: "PartitionName=' <<<"$output"
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
	run s1 status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^ +master +munge: cannot make a credential on the master' <<<"$output"
	! grep -qE '^ +worker-[12] ' <<<"$output"
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
	! ls -a /var/lib/slurmbox 2>/dev/null | grep -qE '^\.?sbhealth(\.|$)'
}

# ---- two lab hosts ----

@test "multi-host: up sbhealthm on $HA and $HB" {
	lab_up || skip "the lab is not up (tests/lab up)"
	run sm up --hosts "$HA,$HB" --home "$MHOME" --ip-range 10.77.0.160/28
	echo "$output"
	[ "$status" -eq 0 ]
	[ -n "$(labelled container sbhealthm "$HB")" ]
	# the shim's name as the down test computes it
	on "$HA" ip -o link show | grep -q " $(shim_name sbhealthm)@"
}

@test "multi-host case 26: every node on both hosts: conf, munge and hostname ok" {
	lab_up || skip "the lab is not up (tests/lab up)"
	run --separate-stderr sm status --json
	echo "$output"
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
	[ "$(jq -r '[.nodes[].host] | unique | join(",")' <<<"$output")" = "$(printf '%s\n' "$HA" "$HB" | sort | paste -sd,)" ]
	# the node on host B
	node=$(jq -r --arg h "$HB" '.nodes[] | select(.host == $h) | .node' <<<"$output" | head -n 1)
	[ -n "$node" ]
	echo "$node" >"$BATS_FILE_TMPDIR/bnode"
}

@test "multi-host case 31: slurm.conf edited on $HB's worker is drift (exit 1); undone, healthy" {
	lab_up || skip "the lab is not up (tests/lab up)"
	node=$(cat "$BATS_FILE_TMPDIR/bnode")
	on "$HB" docker exec -u root "sbhealthm-$node" sh -c 'echo "# edited by hand" >>/etc/slurm/slurm.conf'
	run sm status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE "^$node +worker +$HB .* drift$" <<<"$output"
	grep -qE "^ +$node +drift: /etc/slurm/slurm.conf differs from the plan" <<<"$output"
	[ "$(grep -cE ' ok$' <<<"$output")" -eq 2 ]
	on "$HB" docker exec -u root "sbhealthm-$node" sed -i '/^# edited by hand$/d' /etc/slurm/slurm.conf
	run --separate-stderr sm status --json
	[ "$status" -eq 0 ]
	all_checks_ok "$output"
}

@test "multi-host case 27: $HB's key file overwritten, its worker restarted: flagged; up puts the key back" {
	lab_up || skip "the lab is not up (tests/lab up)"
	node=$(cat "$BATS_FILE_TMPDIR/bnode")
	key=/var/lib/slurmbox/sbhealthm/munge.key
	on "$HB" cp "$key" /tmp/sbhealthm.key.orig
	on "$HB" sh -c "head -c 1024 /dev/urandom >$key"
	on "$HB" docker restart "sbhealthm-$node"
	run sm status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE "^$node +worker +$HB .* munge$" <<<"$output"
	grep -qE "^ +$node +munge: credential rejected; the node's key differs from the master's$" <<<"$output"
	[ "$(grep -cE ' ok$' <<<"$output")" -eq 2 ]
	[[ "$output" == *"ssh $HB docker restart sbhealthm-$node"* ]]

	# the fix the hint names: up rewrites the host's copy, the restart reads it
	run sm up
	echo "$output"
	[ "$status" -eq 0 ]
	on "$HB" cmp "$key" /tmp/sbhealthm.key.orig
	on "$HB" docker restart "sbhealthm-$node"
	until_healthy sm
	all_checks_ok "$(sm status --json)"
	on "$HB" rm -f /tmp/sbhealthm.key.orig
}

@test "multi-host case 27: a stopped munged on the master ($HA) is named; restarted, healthy" {
	lab_up || skip "the lab is not up (tests/lab up)"
	on "$HA" docker exec -u root sbhealthm-master pkill -x munged
	run sm status
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qE '^ +master +munge: cannot make a credential on the master \(munge -n, status [0-9]+: .*munge' <<<"$output"
	! grep -qE '^ +worker-[0-9]+ ' <<<"$output"
	on "$HA" docker exec -u root sbhealthm-master sh -c "$restore_munged_sh"
	until_healthy sm
}

@test "multi-host: down --purge leaves nothing labelled, no shim, no key on either host" {
	lab_up || skip "the lab is not up (tests/lab up)"
	ips=$(sm status --json | jq -r '.nodes[].ip')
	run sm down --purge
	echo "$output"
	[ "$status" -eq 0 ]
	for h in "$HA" "$HB"; do
		[ -z "$(labelled container sbhealthm "$h")" ]
		[ -z "$(labelled network sbhealthm "$h")" ]
		[ -z "$(labelled volume sbhealthm "$h")" ]
		! on "$h" sh -c 'ls -a /var/lib/slurmbox 2>/dev/null' | grep -qE '^\.?sbhealthm(\.|$)'
		! on "$h" test -e /tmp/sbhealthm.key.orig
		! on "$h" ip -o link show | grep -q " $(shim_name sbhealthm)[@:]"
		for ip in $ips; do ! on "$h" ip route show "$ip/32" | grep -q .; done
	done
	[ ! -e "$HOME/.local/state/slurmbox/sbhealthm.json" ]
	! ls -a /var/lib/slurmbox 2>/dev/null | grep -qE '^\.?sbhealthm(\.|$)'
	run sm status
	[ "$status" -ne 0 ]
}

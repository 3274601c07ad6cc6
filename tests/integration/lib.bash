# shellcheck shell=bash
# Helpers shared by the integration tests (load them with `load lib`).

LAB=${LAB:-$BATS_TEST_DIRNAME/../lab}

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

# lab_require: the lab answers; a lab that was up and stops answering fails
# the test (these files run only when `tests/lab up` succeeded)
lab_require() {
	local h
	for h in "$@"; do
		ssh -o BatchMode=yes -o ConnectTimeout=15 "$h" true || {
			echo "lab host $h does not answer over ssh (tests/lab status)" >&2
			return 1
		}
	done
}

# listening CONTAINER [HOST]: "tcp P1 P2 ... udp N" for a node: its listening
# TCP ports (state 0A) and its count of UDP sockets, off loopback (127/8, ::1,
# ::ffff:127/104; Docker's DNS is on 127.0.0.11), on every address it has
listening() {
	local run=() tcp udp
	[ -n "${2:-}" ] && run=("$LAB" exec "$2")
	local lo='function loopback(s, a) {
		split(s, a, ":")
		if (length(a[1]) == 8) return substr(a[1], 7, 2) == "7F"
		return a[1] == "00000000000000000000000001000000" ||
			(substr(a[1], 1, 24) == "0000000000000000FFFF0000" && substr(a[1], 31, 2) == "7F")
	}'
	tcp=$("${run[@]}" docker exec "$1" sh -c 'cat /proc/net/tcp /proc/net/tcp6') || return 1
	udp=$("${run[@]}" docker exec "$1" sh -c 'cat /proc/net/udp /proc/net/udp6') || return 1
	tcp=$(awk "$lo"' $4 == "0A" && !loopback($2) { split($2, a, ":"); print a[2] }' <<<"$tcp" |
		while read -r h; do echo $((16#$h)); done | sort -un | tr '\n' ' ')
	udp=$(awk "$lo"' $1 != "sl" && !loopback($2)' <<<"$udp" | wc -l)
	echo "tcp ${tcp}udp $udp"
}

# ---- status checks (health.bats, health-multi.bats) ----

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

# wait_proc gone|running CONTAINER PROCESS [HOST]: at most 30 s until PROCESS
# no longer runs (or runs) in the container: a test looks at the state it
# means to see, not one on its way there (pkill only sends the signal, a
# restarted container starts its daemons after `docker restart` returns)
wait_proc() {
	local run=() i
	[ -n "${4:-}" ] && run=("$LAB" exec "$4")
	for i in $(seq 300); do
		if "${run[@]}" docker exec "$2" pgrep -x "$3" >/dev/null 2>&1; then
			[ "$1" = running ] && return 0
		else
			[ "$1" = gone ] && return 0
		fi
		sleep 0.1
	done
	echo "$3 is not $1 in $2 after 30 s" >&2
	return 1
}

# ---- a user in the docker group, without root (user.bats, user-multi.bats) ----

# user_make NAME: make NAME (in the docker group, not locked: sshd refuses a
# locked account even by key) unless it exists; "made" in $BATS_FILE_TMPDIR
# when this file made it, so user_drop removes only what it made
user_make() {
	getent group docker >/dev/null
	if ! id "$1" >/dev/null 2>&1; then
		useradd --create-home --shell /bin/bash --groups docker --password '*' "$1"
		touch "$BATS_FILE_TMPDIR/made-user-$1"
	fi
}

# user_drop NAME: remove NAME if this file made it; its processes first (the
# ssh connections slurmbox keeps open for reuse), or userdel refuses
user_drop() {
	local i
	[ -e "$BATS_FILE_TMPDIR/made-user-$1" ] || return 0
	pkill -KILL -u "$1" || true
	for i in $(seq 50); do
		pgrep -u "$1" >/dev/null || break
		sleep 0.1
	done
	userdel --remove "$1" 2>/dev/null # (it warns of a mail spool it never had)
	! id "$1" >/dev/null 2>&1 || false
}

# as_user NAME CMD...: run as NAME, with its own HOME and nothing of root's
as_user() {
	local u=$1 home
	shift
	home=$(getent passwd "$u" | cut -d: -f6)
	runuser -u "$u" -- env -u XDG_STATE_HOME -u XDG_RUNTIME_DIR -u SLURMBOX_CLUSTER \
		HOME="$home" USER="$u" LOGNAME="$u" "$@"
}

#!/bin/sh
# slurmbox node entrypoint: create the cluster user, start munged, then run
# the role's Slurm daemon in the foreground (its log goes to `docker logs`).
#
# Environment (set by the launcher; never secrets):
#   SLURMBOX_ROLE  master | worker
#   SLURMBOX_USER  cluster user name (default "slurmbox")
#   SLURMBOX_UID   its uid (default 1000)
#   SLURMBOX_GID   its gid (default: the uid)
#   workers only: SLURMBOX_CONF_SERVER (slurmctld's address), SLURMBOX_CPUS,
#   SLURMBOX_MEMORY_MB and SLURMBOX_FEATURES: what the node registers with
# Files put in place by the launcher before start:
#   /etc/slurm/slurm.conf, /etc/slurm/cgroup.conf   (master only, archive
#                                                    upload; a worker fetches
#                                                    them from slurmctld)
#   /etc/slurmbox/munge.key                         (read-only bind of the host's
#                                                    key, owned by whoever runs slurmbox)
#   /etc/munge                                      (a tmpfs: munged's copy of the key)
#
# A node that cannot start exits with status 78 (EX_CONFIG) after a line
# "slurmbox-entrypoint: fatal: ..." (`slurmbox up` stops waiting at once and
# shows it); the restart policy starts it again, which fails the same way.
set -eu

die() {
	echo "slurmbox-entrypoint: fatal: $*" >&2
	exit 78
}

role=${SLURMBOX_ROLE:-}
user=${SLURMBOX_USER:-slurmbox}
uid=${SLURMBOX_UID:-1000}
gid=${SLURMBOX_GID:-$uid}

case $role in
master | worker) ;;
*) die "SLURMBOX_ROLE must be \"master\" or \"worker\", not \"$role\"" ;;
esac
case $user in
'' | -* | *[!a-z0-9_-]*) die "SLURMBOX_USER \"$user\" is not a valid user name (use [a-z0-9_-], not starting with \"-\")" ;;
esac
case $uid$gid in
*[!0-9]*) die "SLURMBOX_UID \"$uid\" and SLURMBOX_GID \"$gid\" must be numbers" ;;
esac

if [ "$role" = master ]; then
	[ -f /etc/slurm/slurm.conf ] ||
		die "/etc/slurm/slurm.conf is missing: the launcher must copy it into the container before starting it"
else
	server=${SLURMBOX_CONF_SERVER:-}
	cpus=${SLURMBOX_CPUS:-}
	mem=${SLURMBOX_MEMORY_MB:-}
	features=${SLURMBOX_FEATURES:-worker}
	[ -n "$server" ] || die "SLURMBOX_CONF_SERVER is not set: a worker needs slurmctld's address"
	case $cpus$mem in
	'' | *[!0-9]*) die "SLURMBOX_CPUS \"$cpus\" and SLURMBOX_MEMORY_MB \"$mem\" must be numbers" ;;
	esac
	case $features in
	*[!a-zA-Z0-9_,-]*) die "SLURMBOX_FEATURES \"$features\" may hold only [a-zA-Z0-9_,-]" ;;
	esac
fi
[ -f /etc/slurmbox/munge.key ] ||
	die "/etc/slurmbox/munge.key is missing: the launcher bind-mounts the cluster's key there"

# Appending is ~15x faster than useradd and needs no lock files; the
# lookups keep a restarted container's files unchanged.
if ! grep -q "^$user:" /etc/group; then
	echo "$user:x:$gid:" >>/etc/group
fi
if ! grep -q "^$user:" /etc/passwd; then
	echo "$user:x:$uid:$gid::/home/$user:/bin/bash" >>/etc/passwd
	echo "$user:!:1::::::" >>/etc/shadow
fi
# /home is shared and every node starts at once: mkdir is the atomic test,
# so exactly one node creates and chowns it, and an existing home is left as
# it is.
if mkdir -m 0755 "/home/$user" 2>/dev/null; then
	chown "$uid:$gid" "/home/$user"
fi

# munged wants its key owned by its own euid, 0400, in a directory only it
# can enter; the host's file is owned by whoever runs slurmbox. So root (with
# CAP_DAC_OVERRIDE and CAP_CHOWN) installs a copy into /etc/munge, a tmpfs:
# in memory only, gone when the container stops, made again at each start.
cp /etc/slurmbox/munge.key /etc/munge/munge.key ||
	die "cannot read the cluster's munge key /etc/slurmbox/munge.key (the container needs CAP_DAC_OVERRIDE)"
# (modes first: root has no CAP_FOWNER for files it no longer owns)
chmod 0400 /etc/munge/munge.key
chmod 0700 /etc/munge
chown munge:munge /etc/munge /etc/munge/munge.key
# munged runs as munge and returns once its socket accepts requests.
mkdir -p /run/munge
chown munge:munge /run/munge
setpriv --reuid=munge --regid=munge --init-groups munged ||
	die "munged refused the cluster's munge key (see its message above); it needs a regular file of at least 32 bytes"

# The daemon's pid file says it started (`slurmbox up` on a host without
# the master waits for it): an old one from before a restart does not count.
mkdir -p /run/slurmbox
rm -f /run/slurmbox/daemon.pid

# A slurmd that starts before slurmctld listens backs off its registration
# for seconds (and a configless one cannot even fetch its slurm.conf), so a
# worker's slurmd starts once the controller answers. The containers
# themselves all start at once.
if [ "$role" = worker ]; then
	waited=0
	until timeout 0.5 bash -c "exec 3<>/dev/tcp/$server/6817" 2>/dev/null; do
		[ $waited = 1 ] || echo "slurmbox-entrypoint: waiting for slurmctld at $server:6817" >&2
		waited=1
		sleep 0.05
	done
fi

# The protocol version a Slurm state file was saved with: its header is the
# packed string "PROTOCOL_VERSION" (a 32-bit length, the text and its NUL)
# and then a 16-bit big-endian number. Nothing when it is not such a file.
state_version() {
	[ -f "$1" ] || return 0
	[ "$(dd if="$1" bs=1 skip=4 count=16 2>/dev/null)" = PROTOCOL_VERSION ] || return 0
	# shellcheck disable=SC2046 # two numbers
	set -- $(od -An -tu1 -j21 -N2 "$1")
	[ $# = 2 ] && echo $(($1 * 256 + $2))
}

# Slurm 24.11 reads the state saved by protocol 9984 (23.02) and newer; an
# older Slurm's (a cluster whose images were upgraded from 22.05, protocol
# 9728) stops it at once ("Can not recover assoc_usage state, incompatible
# version"). `up` said before it re-created the master that the jobs in it
# are dropped: read it once with -i, which drops what it cannot read (jobs,
# the nodes' states) and keeps the job numbers; the state is then saved in
# this Slurm's format. Never -i otherwise: it would hide a damaged state.
once=
if [ "$role" = master ]; then
	v=$(state_version /var/spool/slurmctld/job_state)
	if [ -n "$v" ] && [ "$v" -lt 9984 ]; then
		n=$(find /var/spool/slurmctld -maxdepth 2 -path '*/hash.*/job.*' | wc -l)
		jobs="$n jobs"
		[ "$n" != 1 ] || jobs="1 job"
		echo "slurmbox-entrypoint: the Slurm state here was saved by an older Slurm (protocol $v) than this one reads (9984 and newer): starting once with -i; the $jobs in it dropped, the job numbers go on" >&2
		once=-i
	fi
fi

# Every worker is a dynamic node: slurmd -Z registers it under its host
# name with these resources and features (slurmd -C in a container would
# report the host's), fetches slurm.conf from slurmctld (configless, cached
# in /run/slurm/conf) and joins the partition's NodeSet by its feature. So
# nodes join and leave with no restart of any daemon; see images/NOTES.md.
if [ "$role" = master ]; then
	# shellcheck disable=SC2086 # -i or nothing
	set -- slurmctld -D $once
else
	set -- slurmd -D -Z --conf-server "$server" \
		--conf "Feature=$features CPUs=$cpus RealMemory=$mem"
fi

# The daemon runs as our child: SIGTERM and SIGINT (docker stop) are passed
# to it, and its exit status is the container's.
pid=
trap '[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true' TERM INT
"$@" &
pid=$!
echo "$pid" >/run/slurmbox/daemon.pid
status=0
# a trapped signal ends `wait` early: wait until the daemon is gone
while kill -0 "$pid" 2>/dev/null; do
	if wait "$pid"; then status=0; else status=$?; fi
done
exit "$status"

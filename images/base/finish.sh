#!/bin/sh
# Finishing steps of slurmbox-base, run by both base Dockerfiles after the
# packages are installed: pin munge to uid/gid 980, remove the key Debian
# generated, and create Slurm's directories.
set -eu

# Every listed package must be there (catches a stale or partial rootfs).
missing=
while read -r p; do
	case $p in '' | '#'*) continue ;; esac
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done </tmp/slurmbox/packages
if [ -n "$missing" ]; then
	echo "finish.sh: packages not installed:$missing" >&2
	exit 1
fi

# munge's uid is dynamic in Debian; the host's key file is owned by 980.
if [ "$(id -u munge)" != 980 ] || [ "$(id -g munge)" != 980 ]; then
	groupmod -g 980 munge
	usermod -u 980 -g 980 munge
fi
# The postinst generated a key: never ship one.
rm -f /etc/munge/munge.key
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
chown munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/log/munge
chmod 0711 /var/lib/munge
chmod 0755 /run/munge
find /var/lib/munge /var/log/munge -mindepth 1 -exec chown munge:munge {} +

# Slurm's state and spool directories; slurm.conf is written by the launcher.
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm
chmod 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd
rm -f /etc/slurm/slurm.conf /etc/slurm/cgroup.conf
# Debian's plugstack.conf Includes plugstack.conf.d/*.conf, a glob Slurm
# cannot read (slurmctld logs an error at every start, and configless would
# serve the file to every worker): no SPANK plugins, no file.
rm -rf /etc/slurm/plugstack.conf /etc/slurm/plugstack.conf.d

# No passwords anywhere: lock root. No setuid/setgid programs either: the
# cluster user needs none (docker exec -u), and the containers run with
# no-new-privileges anyway.
usermod -p '!' root
find / -xdev -type f -perm /6000 -exec chmod ug-s {} +

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/slurmbox

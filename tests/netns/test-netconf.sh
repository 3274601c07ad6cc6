#!/bin/bash
# SPDX-License-Identifier: MIT
#
# netconf against a real kernel, in private network namespaces (OpenVPN's
# t_net.sh idea): do it through netconf-driver, check it with iproute2.
# Prints TAP; exits 77 when not root or when namespaces cannot be made.
#
#   host  (sbtest-PID-host)  eth0 10.77.0.2/24, default via 10.77.0.1,
#                            spare0 10.88.0.1/24 (no default route) - spare1 (no IPv4),
#                            lo also 172.31.5.1/16 noprefixroute, a route in table 100
#   lan   (sbtest-PID-lan)   lan0 = eth0's veth peer: 10.77.0.1 (the gateway) and
#                            10.77.0.5 (another host); no default route
#   ct    (sbtest-PID-ct)    ct0 10.77.0.200/24: a macvlan (bridge) on host's eth0,
#                            like a container on the LAN
#
# All traffic stays inside these namespaces. Everything is removed on exit.
#
# NETCONF_DRIVER=path uses a built driver (make build/tests/netconf-driver);
# otherwise the script compiles one from netconf/*.c into a temporary dir.

# Checks are functions passed to check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
for tool in ip jq gcc pkg-config setpriv; do
	command -v "$tool" >/dev/null || skip_all "needs $tool"
done

ns=sbtest-$$
H=$ns-host
L=$ns-lan
C=$ns-ct
tmp=$(mktemp -d)

cleanup() {
	local n
	for n in "$C" "$H" "$L"; do
		ip netns del "$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$H" 2>/dev/null || skip_all "cannot create network namespaces"
ip netns add "$L" || exit 1
ip netns add "$C" || exit 1

# ---- the driver ----
chmod 755 "$tmp"
if [ -n "${NETCONF_DRIVER:-}" ]; then
	cp "$NETCONF_DRIVER" "$tmp/netconf-driver" || exit 1
else
	# shellcheck disable=SC2046 # pkg-config prints a list of flags
	gcc -std=gnu11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror -o "$tmp/netconf-driver" \
		tests/netns/netconf-driver.c netconf/*.c \
		$(pkg-config --cflags --libs libnl-route-3.0 libmnl) || {
		echo "Bail out! cannot build netconf-driver"
		exit 1
	}
fi
chmod 755 "$tmp/netconf-driver"
driver=$tmp/netconf-driver

# ---- the network ----
setup() {
	set -e
	ip -n "$H" link set lo up
	ip -n "$L" link set lo up
	ip -n "$C" link set lo up
	ip -n "$H" link add eth0 type veth peer name lan0 netns "$L"
	ip -n "$L" addr add 10.77.0.1/24 dev lan0
	ip -n "$L" addr add 10.77.0.5/24 dev lan0
	ip -n "$L" link set lan0 up
	ip -n "$H" addr add 10.77.0.2/24 dev eth0
	ip -n "$H" link set eth0 up
	ip -n "$H" route add default via 10.77.0.1
	# the kernel gives up on an unanswered ARP after 3 x 5 s, not 3 x 1 s, so
	# a probe's own timeout is far from the kernel's (see "probe: ... after")
	ip netns exec "$H" sh -c 'echo 5000 >/proc/sys/net/ipv4/neigh/eth0/retrans_time_ms'
	ip -n "$H" route add 10.99.0.0/16 via 10.77.0.1 metric 300
	ip -n "$H" route add 192.168.99.0/24 via 10.77.0.1 table 100
	ip -n "$H" addr add 172.31.5.1/16 dev lo noprefixroute
	ip -n "$H" link add spare0 type veth peer name spare1
	ip -n "$H" addr add 10.88.0.1/24 dev spare0
	ip -n "$H" link set spare0 up
	ip -n "$H" link set spare1 up
	set +e
}
if ! (setup); then
	echo "Bail out! cannot set up the namespaces"
	exit 1
fi

# ---- TAP ----
n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	failed=1
}
# check DESC CMD...: one point, passing when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
diag() { sed 's/^/# /'; }

drv() { ip netns exec "$H" "$driver" "$@"; }
# value KEY: the value of KEY=... in $out
value() { sed -n "s/^$1=//p" <<<"$out"; }
# eq WHAT GOT WANT
eq() {
	[ "$2" = "$3" ] && return 0
	echo "# $1: got '$2', want '$3'"
	return 1
}
# err_has TEXT: the driver failed and said TEXT
err_has() {
	[ "$rc" -ne 0 ] || {
		echo "# the driver succeeded: $out"
		return 1
	}
	grep -qF -- "$1" <<<"$err" && return 0
	echo "# error was: $err"
	return 1
}
# run ARGS...: the driver in the host namespace; sets out, err, rc
run() {
	out=$(drv "$@" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
}
# reachable NS ADDR: does ADDR answer from NS? ping, or without ping a TCP
# connect to a closed port: "Connection refused" needs the RST to come back.
reachable() {
	if command -v ping >/dev/null; then
		ip netns exec "$1" ping -n -q -c1 -W1 "$2" >/dev/null 2>&1
		return
	fi
	local o
	o=$(ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1)
	[[ $o == *"Connection refused"* ]]
}
mac_of() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- uplink ----
# uplink_is IF GATEWAY: $out describes IF as ip(8) sees it
uplink_is() {
	local j
	[ "$rc" -eq 0 ] || {
		echo "# $err"
		return 1
	}
	eq ifname "$(value ifname)" "$1" || return 1
	j=$(ip -n "$H" -j link show "$1")
	eq ifindex "$(value ifindex)" "$(jq -r '.[0].ifindex' <<<"$j")" || return 1
	eq mtu "$(value mtu)" "$(jq -r '.[0].mtu' <<<"$j")" || return 1
	j=$(ip -n "$H" -j -4 addr show dev "$1" scope global)
	eq addr "$(value addr)" "$(jq -r '.[0].addr_info[0] | "\(.local)/\(.prefixlen)"' <<<"$j")" ||
		return 1
	eq gateway "$(value gateway)" "$2" || return 1
	eq wireless "$(value wireless)" 0
}

run uplink
check "uplink: the default route's interface, address, gateway and MTU match ip(8)" \
	uplink_is eth0 "$(ip -n "$H" -j route show default | jq -r '.[0].gateway')"
run uplink eth0
check "uplink eth0: the same" uplink_is eth0 10.77.0.1
run uplink spare0
check "uplink spare0: an interface off the default route has no gateway" uplink_is spare0 0.0.0.0
run uplink eth9
check "uplink eth9: a missing --parent is named" err_has "--parent 'eth9': no such interface"
run uplink spare1
check "uplink spare1: an interface without IPv4 is refused" \
	err_has "Interface 'spare1' has no global IPv4 address"
out=$(ip netns exec "$L" "$driver" uplink 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
check "uplink without a default route says how to name the interface" \
	err_has "No IPv4 default route; name the LAN interface with --parent"

# ---- routes ----
# "DST/PREFIX TABLE DEV" per route, from ip(8) and from the driver
norm_ip_routes() {
	ip -n "$H" -4 -j route show table all | jq -r '.[] |
		(.dst | if . == "default" then "0.0.0.0/0" elif test("/") then . else . + "/32" end)
		+ " " + ((.table // "main") | if . == "main" then "254" elif . == "local" then "255"
			 elif . == "default" then "253" else . end)
		+ " " + (.dev // "-")' | sort -u
}
norm_drv_routes() {
	sed -E 's/^dst=([^ ]+) gw=[^ ]+ dev=([^ ]+) .* table=([0-9]+)$/\1 \3 \2/' <<<"$out" | sort -u
}
routes_cover_ip() {
	local missing
	[ "$rc" -eq 0 ] || return 1
	missing=$(comm -23 "$tmp/ip-routes" "$tmp/drv-routes")
	[ -z "$missing" ] && return 0
	echo "# missing: $missing"
	return 1
}
routes_details() {
	grep -qx "dst=10.99.0.0/16 gw=10.77.0.1 dev=eth0 ifindex=[0-9]* metric=300 table=254" <<<"$out" &&
		grep -qx "dst=192.168.99.0/24 gw=10.77.0.1 dev=eth0 ifindex=[0-9]* metric=0 table=100" <<<"$out" &&
		grep -qx "dst=10.77.0.0/24 gw=0.0.0.0 dev=eth0 ifindex=[0-9]* metric=0 table=254" <<<"$out"
}
run routes
norm_ip_routes >"$tmp/ip-routes"
norm_drv_routes >"$tmp/drv-routes"
check "routes: every route of every table that ip(8) shows" routes_cover_ip
check "routes: plus only the prefix of the noprefixroute address" \
	eq extra "$(comm -13 "$tmp/ip-routes" "$tmp/drv-routes" | tr '\n' ';')" "172.31.0.0/16 254 lo;"
check "routes: gateway, metric and table" routes_details

# ---- neighbour probe ----
run probe eth0 10.77.0.5 2000
check "probe: an address another host has is in use, with that host's MAC" \
	eq probe "$out" "in_use mac=$(mac_of "$L" lan0)"
t0=$(now_ms)
run probe eth0 10.77.0.99 500
took=$(($(now_ms) - t0))
check "probe: an unused address is free" eq probe "$out" free
# Not before its 500 ms, and ended by them: 4 s is room for an ASan driver on
# loaded cores, and well short of the kernel's own failure at 15 s (setup).
check "probe: ... after the timeout (500 ms; took $took ms)" \
	test "$took" -ge 450 -a "$took" -lt 4000
run probe eth0 10.77.0.2 500
check "probe: the host's own address is in use" eq probe "$out" "in_use mac=$(mac_of "$H" eth0)"
run probe eth9 10.77.0.5 100
check "probe: a missing interface is an error" err_has "no interface 'eth9'"
# A user in the docker group (no CAP_NET_ADMIN) cannot drop the old entry the
# probes above left: the probe goes on and the kernel's fresh answer counts.
ip -n "$H" neigh show 10.77.0.5 dev eth0 | grep -q lladdr
out=$(ip netns exec "$H" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$driver" probe eth0 10.77.0.5 2000 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
check "probe: without CAP_NET_ADMIN, a known neighbour is still probed (in use)" \
	eq probe "$out" "in_use mac=$(mac_of "$L" lan0)"
# A neighbour that left (a container of a cluster just removed): its stale
# entry cannot be dropped without CAP_NET_ADMIN; the kernel checks it again
# (delay_first_probe_time, 5 s), no answer comes, and the address is free.
ip -n "$L" addr add 10.77.0.6/24 dev lan0
run probe eth0 10.77.0.6 2000
check "probe: a neighbour's address is in use while it is there" \
	eq probe "$out" "in_use mac=$(mac_of "$L" lan0)"
ip -n "$L" addr del 10.77.0.6/24 dev lan0
ip -n "$H" neigh change 10.77.0.6 dev eth0 lladdr "$(mac_of "$L" lan0)" nud stale
t0=$(now_ms)
out=$(ip netns exec "$H" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$driver" probe eth0 10.77.0.6 2000 2>"$tmp/err")
rc=$?
took=$(($(now_ms) - t0))
err=$(cat "$tmp/err")
check "probe: without CAP_NET_ADMIN, a neighbour that left is free once its old entry is checked (took $took ms)" \
	eq probe "$out" free

# ---- shim ----
if ! ip -n "$H" link add ct0 link eth0 type macvlan mode bridge ||
	! ip -n "$H" link set ct0 netns "$C" ||
	! ip -n "$C" addr add 10.77.0.200/24 dev ct0 ||
	! ip -n "$C" link set ct0 up; then
	echo "Bail out! cannot make the container-like macvlan"
	exit 1
fi
unreachable() { ! reachable "$@"; }
check "shim: without it, the host cannot reach its macvlan sibling" unreachable "$H" 10.77.0.200

# Everything ip(8) says about the shim, for before/after comparisons.
snapshot() {
	{
		ip -n "$H" -d -j link show sb-shim | jq -c '.[0] | {ifindex, link, flags,
			kind: .linkinfo.info_kind, mode: .linkinfo.info_data.mode}'
		ip -n "$H" -4 -j addr show dev sb-shim | jq -c '[.[0].addr_info[] |
			"\(.local)/\(.prefixlen)"]'
		ip -n "$H" -j route show table all dev sb-shim | jq -c 'sort_by(.dst)'
	} 2>&1
}
ran_ok() {
	[ "$rc" -eq 0 ] && [ "$out" = ok ] && return 0
	echo "# rc=$rc out=$out err=$err"
	return 1
}
# link_is NAME KIND MODE PARENT: ip -d link agrees, and the link is up
link_is() {
	local j
	j=$(ip -n "$H" -d -j link show "$1") || return 1
	eq kind "$(jq -r '.[0].linkinfo.info_kind' <<<"$j")" "$2" &&
		eq mode "$(jq -r '.[0].linkinfo.info_data.mode' <<<"$j")" "$3" &&
		eq parent "$(jq -r '.[0].link' <<<"$j")" "$4" &&
		jq -e '.[0].flags | index("UP")' <<<"$j" >/dev/null
}
same_as_before() {
	local now
	now=$(snapshot)
	[ "$now" = "$before" ] && return 0
	diff <(echo "$before") <(echo "$now") | diag
	return 1
}

run shim-ensure sb-shim eth0 macvlan 10.77.0.250 10.77.0.200 10.77.0.201
check "shim-ensure: creates it" ran_ok
check "shim-ensure: a macvlan on eth0 in mode bridge, up" link_is sb-shim macvlan bridge eth0
check "shim-ensure: with 10.77.0.250/32 and nothing else" \
	eq addrs "$(ip -n "$H" -4 -j addr show dev sb-shim |
		jq -r '[.[0].addr_info[] | "\(.local)/\(.prefixlen)"] | join(" ")')" 10.77.0.250/32
check "shim-ensure: /32 routes, scope link, proto static, main table" \
	eq routes "$(ip -n "$H" -j route show table main dev sb-shim |
		jq -r 'sort_by(.dst) | map("\(.dst) \(.scope) \(.protocol)") | join(";")')" \
	"10.77.0.200 link static;10.77.0.201 link static"
before=$(snapshot)
run shim-ensure sb-shim eth0 macvlan 10.77.0.250 10.77.0.200 10.77.0.201
check "shim-ensure: a second run succeeds" ran_ok
check "shim-ensure: ... and changes nothing (same link, no duplicates)" same_as_before
check "shim: the host reaches its macvlan sibling through it" reachable "$H" 10.77.0.200
run probe sb-shim 10.77.0.200 2000
check "probe: through the shim, the sibling is in use with its MAC" \
	eq probe "$out" "in_use mac=$(mac_of "$C" ct0)"

ip -n "$H" link set sb-shim down
run shim-ensure sb-shim eth0 macvlan 10.77.0.250 10.77.0.200 10.77.0.201
check "shim-ensure: repairs a shim that was set down (and so lost its routes)" same_as_before

run shim-ensure spare1 eth0 macvlan 10.77.0.250
check "shim-ensure: a link of another kind by that name is an error" \
	err_has "a link by that name exists and is a veth, not a macvlan"
run shim-ensure sb-shim spare0 macvlan 10.77.0.250
check "shim-ensure: the same name on another parent is an error" \
	err_has "Shim 'sb-shim' exists on parent 'eth0', not on 'spare0'"
ip -n "$H" link add sb-vepa link eth0 type macvlan
run shim-ensure sb-vepa eth0 macvlan 10.77.0.251
check "shim-ensure: a macvlan left in the default mode (vepa) is an error" \
	err_has "Shim 'sb-vepa' is a macvlan in mode vepa, not bridge"
ip -n "$H" link del sb-vepa
run shim-ensure sb-x eth9 macvlan 10.77.0.251
check "shim-ensure: a missing parent is named" err_has "--parent 'eth9': no such interface"
out=$(ip netns exec "$H" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$driver" shim-ensure sb-nobody eth0 macvlan 10.77.0.252 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
check "shim-ensure: without CAP_NET_ADMIN the error says so" \
	err_has "Creating macvlan shim 'sb-nobody' on 'eth0' needs CAP_NET_ADMIN: run as root"

# ipvlan: this kernel may lack it; ask iproute2 first, then check netconf agrees.
if ip -n "$H" link add sb-ipcheck link spare0 type ipvlan mode l2 2>/dev/null; then
	ip -n "$H" link del sb-ipcheck
	run shim-ensure sb-ipv spare0 ipvlan 10.88.0.250 10.88.0.200
	check "shim-ensure ipvlan: an ipvlan in mode l2 (this kernel has ipvlan)" \
		link_is sb-ipv ipvlan l2 spare0
	drv link-del sb-ipv >/dev/null
else
	no_ipvlan_shim() { ! ip -n "$H" link show sb-ipv >/dev/null 2>&1; }
	run shim-ensure sb-ipv spare0 ipvlan 10.88.0.250 10.88.0.200
	check "shim-ensure ipvlan: ip(8) cannot make one either; the error says the kernel lacks ipvlan" \
		err_has "the kernel lacks ipvlan"
	check "shim-ensure ipvlan: ... and leaves nothing behind" no_ipvlan_shim
fi

# ---- link-exists, link-del ----
shim_gone() { ! ip -n "$H" link show sb-shim >/dev/null 2>&1; }
run link-exists sb-shim
check "link-exists: yes" eq exists "$out" exists=1
run link-del sb-shim
check "link-del: succeeds" ran_ok
check "link-del: the shim is gone" shim_gone
check "link-del: and with it its routes" \
	eq routes "$(ip -n "$H" -4 route show table all | grep -c 'dev sb-shim')" 0
check "shim: without it, the sibling is unreachable again" unreachable "$H" 10.77.0.200
run link-exists sb-shim
check "link-exists: no" eq exists "$out" exists=0
run link-del sb-shim
check "link-del: an absent link is success" ran_ok

echo "1..$n"
exit $failed

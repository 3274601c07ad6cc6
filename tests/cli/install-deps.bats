#!/usr/bin/env bats
# tests/lib/install-deps never replaces a Docker that is there: with Docker's
# own engine package installed (a stand-in built here with dpkg-deb that
# declares itself as docker-ce and provides /usr/bin/dockerd, installed into
# a directory that stands for /), it leaves it and does not pull docker.io;
# with nothing installed it installs docker.io. --dry-run shows the decision
# without apt-get; no daemon answers (DOCKER_HOST points nowhere).

setup() {
	DEPS=$BATS_TEST_DIRNAME/../lib/install-deps
	ROOT=$BATS_TEST_TMPDIR/root
	mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
	touch "$ROOT/var/lib/dpkg/status"
	export INSTALL_DEPS_ROOT=$ROOT DOCKER_HOST=unix://$BATS_TEST_TMPDIR/no-docker.sock
}

# standin PACKAGE [FILE]: build a package of that name (with FILE, an
# executable, in it) and install it into $ROOT
standin() {
	local pkg=$BATS_TEST_TMPDIR/pkg-$1
	mkdir -p "$pkg/DEBIAN"
	cat >"$pkg/DEBIAN/control" <<CONTROL
Package: $1
Version: 5:27.3.1-1~slurmbox.test
Architecture: all
Maintainer: slurmbox tests <tests@invalid>
Description: stand-in for Docker's own $1 (slurmbox tests)
CONTROL
	if [ -n "${2:-}" ]; then
		mkdir -p "$pkg/$(dirname "$2")"
		printf '#!/bin/sh\necho "Docker version 27.3.1, build stand-in"\n' >"$pkg/$2"
		chmod 0755 "$pkg/$2"
	fi
	dpkg-deb --root-owner-group --build "$pkg" "$pkg.deb" >/dev/null
	dpkg --root="$ROOT" --force-script-chrootless --force-not-root -i "$pkg.deb" >/dev/null
	dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' "$1" | grep -q 'install ok installed'
}

@test "nothing installed: docker.io is installed, with the rest" {
	run "$DEPS" --dry-run build
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"would install "*" docker.io"* ]]
	[[ "$output" == *" libcurl4-openssl-dev "* ]]
	# the cross build's packages are the test set's only
	[[ "$output" != *":arm64"* ]]
}

@test "the test set adds the arm64 cross build and emulation" {
	run "$DEPS" --dry-run test
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" gcc-aarch64-linux-gnu "* ]]
	[[ "$output" == *" libcurl4-openssl-dev:arm64 "* ]]
	[[ "$output" == *" qemu-user-static "* ]]
}

@test "Docker's own engine (docker-ce with /usr/bin/dockerd) is used as it is; docker.io is not pulled" {
	standin docker-ce usr/bin/dockerd
	for set in build test; do
		run "$DEPS" --dry-run "$set"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"using the Docker Engine that is installed ($ROOT/usr/bin/dockerd, package docker-ce)"* ]]
		[[ "$output" == *"would install "* ]]
		[[ "$output" != *docker.io* ]]
	done
	# and it is still installed, untouched
	dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}' docker-ce | grep -q 'install ok installed'
	[ -x "$ROOT/usr/bin/dockerd" ]
}

@test "Docker's client without an engine is reported with the fix, never swapped for docker.io" {
	standin docker-ce-cli usr/bin/docker
	run "$DEPS" --dry-run build
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"package docker-ce-cli is installed, but no dockerd"*"sudo apt-get install docker-ce"* ]]
	[[ "$output" != *"would install"* ]]
}

@test "an unknown set is a usage error" {
	run "$DEPS" --dry-run everything
	[ "$status" -eq 2 ]
	[[ "$output" == *"give build or test"* ]]
}

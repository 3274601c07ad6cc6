#!/usr/bin/env bats
# arm64 hosts (Raspberry Pis) driven from an x86_64 control machine. slurmbox
# cross-builds for arm64 (make ARCH=arm64, build-arm64/slurmbox; tests/run-all
# builds it) and that binary runs here under qemu (binfmt_misc). A lab host
# made to answer `uname -m` with aarch64 (`tests/lab arch`) is what an arm64
# host is to slurmbox: it gets the arm64 build, whose agent then runs there
# under emulation for a whole `up`; without that build, the error names the
# command that makes it, and nothing is created. The host's Docker is this
# machine's kind (x86_64), so its images are. tests/run-all runs this file
# only once the lab is up: a lab that does not answer fails the file.

bats_require_minimum_version 1.5.0

setup_file() {
	export SB=${SLURMBOX:-$BATS_TEST_DIRNAME/../../build/slurmbox}
	export ROOT=$BATS_TEST_DIRNAME/../..
	export SELF=${SLURMBOX_SELF:-$ROOT/build/slurmbox}
	export ARM=$ROOT/build-arm64/slurmbox
	export LAB=$BATS_TEST_DIRNAME/../lab
	export A=${SB_LAB_A:-h5} B=${SB_LAB_B:-h6}
	export SLURMBOX_CLUSTER=sbarch RANGE=10.77.0.208/28
	# the copy a host keeps is named for its machine (the lab's hosts share this home)
	V=$("$SELF" version --short)
	export V
	export CACHE="/root/.cache/slurmbox/slurmbox-$V"
	rm -f "$CACHE-aarch64"
	[ -x "$ARM" ] || {
		echo "no arm64 build at $ARM (make ARCH=arm64)" >&2
		return 1
	}
	"$ROOT/tests/lib/ensure-binfmt"
	"$LAB" check "$A" "$B"
	"$SB" down --purge >/dev/null 2>&1 || true
	"$LAB" arch "$B" aarch64 >/dev/null
}

setup() {
	# fresh ssh connections, so the new sshd's environment applies
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR
}

teardown_file() {
	"$SB" down --purge >/dev/null 2>&1 || true
	"$LAB" arch "$B" off >/dev/null 2>&1 || true
	rm -f "$CACHE-aarch64"
}

# e_machine of an ELF file: 183 for aarch64, 62 for x86_64
elf_machine() { od -An -tu2 -j18 -N2 "$1" | tr -d ' '; }

@test "make ARCH=arm64 built an aarch64 slurmbox, the same version, that runs here under qemu" {
	[ "$(elf_machine "$ARM")" = 183 ]
	[ "$(elf_machine "$SELF")" = 62 ]
	[ "$("$ARM" version --short)" = "$("$SELF" version --short)" ]
}

@test "an aarch64 host without an arm64 build beside this one: the error names make ARCH=arm64; nothing is made" {
	[ "$(ssh "$B" uname -m)" = aarch64 ]
	# this binary alone in a directory: no build-arm64 beside it
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cp "$SELF" "$BATS_TEST_TMPDIR/bin/slurmbox"
	run env SLURMBOX_SELF="$BATS_TEST_TMPDIR/bin/slurmbox" "$SB" up --hosts "$A,$B" --ip-range "$RANGE"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Host '$B' is aarch64 and this slurmbox is x86_64: build slurmbox for it in this source tree with \`make ARCH=arm64\`"* ]]
	[[ "$output" == *"$BATS_TEST_TMPDIR/bin/slurmbox-aarch64"* ]]
	[ -z "$(ssh "$A" docker ps -aq --filter label=io.slurmbox.cluster=sbarch)" ]
	[ ! -e /var/lib/slurmbox/sbarch.json ]
	[ ! -e "$CACHE-aarch64" ]
}

@test "up --hosts A,B with B aarch64: B gets the arm64 build, its agent runs there, the cluster works" {
	run "$SB" up --hosts "$A,$B" --ip-range "$RANGE"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(elf_machine "$CACHE-aarch64")" = 183 ]
	[ "$(elf_machine "$CACHE-x86_64")" = 62 ]
	# the agent ran there as the arm64 build: its process is qemu's on this kernel
	[ "$(ssh "$B" "$CACHE-aarch64" version --short)" = "$V" ]
	run --separate-stderr "$SB" exec master srun -N2 hostname
	echo "$output"
	[ "$(sort <<<"$output")" = "$(printf 'worker-1\nworker-2')" ]
	run "$SB" status
	echo "$output"
	[ "$status" -eq 0 ]
	run "$SB" down --purge
	[ "$status" -eq 0 ]
}

/* SPDX-License-Identifier: MIT */
/*
 * release.c - the Debian releases the node images can be made of, the Slurm
 * each ships, and whether one Slurm can read the state another saved. Pure
 * data: the diff of an upgrade names the Slurm versions, and `up` says
 * before it re-creates the master what the new Slurm will not read.
 */
#include "compose.h"

static const struct compose_release releases[] = {
    {"bookworm", "12", "22.05.8"},
    {"trixie", "13", "24.11.5"},
};

/*
 * Slurm's major releases in order. Slurm reads the state saved by its own
 * release and the two before it (its upgrade guide: "any two versions whose
 * major release numbers differ by two or less").
 */
static const char *const slurm_majors[] = {
    "22.05", "23.02", "23.11", "24.05", "24.11", "25.05", "25.11", "26.05",
};

const struct compose_release *compose_release_find(const char *name)
{
	if (!name)
		name = COMPOSE_RELEASE_BEFORE;
	for (size_t i = 0; i < ARRAY_SIZE(releases); i++)
		if (strcmp(releases[i].name, name) == 0)
			return &releases[i];
	return NULL;
}

/* The index of a version's major release ("24.11.5" -> "24.11"), or -1. */
static int major_index(const char *version)
{
	for (size_t i = 0; i < ARRAY_SIZE(slurm_majors); i++) {
		size_t n = strlen(slurm_majors[i]);
		if (strncmp(version, slurm_majors[i], n) == 0 &&
		    (version[n] == '\0' || version[n] == '.'))
			return (int)i;
	}
	return -1;
}

bool compose_slurm_state_readable(const char *saved_by, const char *reader)
{
	int a = major_index(saved_by), b = major_index(reader);

	return a >= 0 && b >= 0 && b >= a && b - a <= 2;
}

size_t compose_release_note(const struct compose_spec *old, const struct compose_spec *new,
                            struct sb_buf *out)
{
	const struct compose_release *a = compose_release_find(old->release),
	                             *b = compose_release_find(new->release);

	if (!a || !b || a == b || compose_slurm_state_readable(a->slurm, b->slurm))
		return 0;
	sb_buf_printf(out,
	              "Slurm %.5s cannot read the state Slurm %.5s saved (Slurm reads the two "
	              "releases before its own): when the master is re-created, the jobs "
	              "queued or running in it and the nodes' saved states are dropped; "
	              "/home, the munge key and the job numbers are kept\n",
	              b->slurm, a->slurm);
	return 1;
}

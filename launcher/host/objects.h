/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_HOST_OBJECTS_H
#define SLURMBOX_HOST_OBJECTS_H

#include "../docker/docker.h"

/* ---- the cluster's objects on one engine, found by label ---- */

struct cli_node {
	char *id;
	char *container; /* name without '/' */
	char *node;      /* io.slurmbox.node */
	char *role;      /* io.slurmbox.role */
	char *user;      /* io.slurmbox.user */
	char *state;     /* "running", "exited", ... */
	char *ip;        /* on the cluster network; may be "" */
	char *hash;      /* io.slurmbox.config-hash */
	char *spec;      /* io.slurmbox.spec (master only) */
};

struct cli_cluster {
	struct cli_node *nodes; /* master first, then workers by number */
	size_t n_nodes;
};

int cli_cluster_load(struct docker *d, const char *cluster, struct cli_cluster *out,
                     struct sb_err *err);
void cli_cluster_free(struct cli_cluster *c);
const struct cli_node *cli_cluster_node(const struct cli_cluster *c, const char *node);
/*
 * One node by its container name "<cluster>-<node>", checked against its
 * labels (a same-named container of someone else is not found). One
 * inspect instead of a list: the fast path of exec and logs.
 */
int cli_node_find(struct docker *d, const char *cluster, const char *node, struct cli_node *out,
                  bool *found, struct sb_err *err);
void cli_node_free(struct cli_node *n);
/* "Unknown node 'x' in cluster 'y'; its nodes are: master, worker-1, ..." exit 2. */
int cli_node_unknown(const struct cli_cluster *c, const char *cluster, const char *node,
                     struct sb_err *err);

#endif

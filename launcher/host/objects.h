/* SPDX-License-Identifier: MIT */
#ifndef SLURMBOX_HOST_OBJECTS_H
#define SLURMBOX_HOST_OBJECTS_H

#include "../docker/docker.h"

/* ---- the cluster's objects on one engine, found by label ---- */

struct host_node {
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

struct host_cluster {
	struct host_node *nodes; /* master first, then workers by number */
	size_t n_nodes;
};

int host_cluster_load(struct docker *d, const char *cluster, struct host_cluster *out,
                      struct sb_err *err);
void host_cluster_free(struct host_cluster *c);
const struct host_node *host_cluster_node(const struct host_cluster *c, const char *node);
/*
 * One node by its container name "<cluster>-<node>", checked against its
 * labels (a same-named container of someone else is not found). One
 * inspect instead of a list: the fast path of exec and logs.
 */
int host_node_find(struct docker *d, const char *cluster, const char *node, struct host_node *out,
                   bool *found, struct sb_err *err);
void host_node_free(struct host_node *n);
/* "Unknown node 'x' in cluster 'y'; its nodes are: master, worker-1, ..." exit 2. */
int host_node_unknown(const struct host_cluster *c, const char *cluster, const char *node,
                      struct sb_err *err);

#endif

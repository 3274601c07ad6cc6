/* SPDX-License-Identifier: MIT */
/*
 * proto - the one place where an answer from another machine is let in.
 * Each answer of `slurmbox agent VERB` (remote/agent.c) has a schema here:
 * every member the control machine reads is checked for its JSON type and
 * range, recursively, and a required one for being there, before anything
 * else reads it. An answer that does not fit is refused whole, naming the
 * member ("facts: docker.ncpus: an integer from 0 to 1048576, got
 * \"x\""), so no getter ever meets a type it does not expect.
 */
#ifndef SLURMBOX_REMOTE_PROTO_H
#define SLURMBOX_REMOTE_PROTO_H

#include "../../compose/base.h"

struct json_object;

enum proto_msg {
	PROTO_FACTS,  /* host_facts */
	PROTO_PROBE,  /* host_probe */
	PROTO_REPORT, /* host_apply's report, also the input of undo */
	PROTO_UNDO,   /* host_undo */
	PROTO_DOWN,   /* host_down */
	PROTO_CHECK,  /* host_check */
};

/* 0 if o fits msg's schema; else -EPROTO with the first member that does not. */
int proto_check(enum proto_msg msg, struct json_object *o, struct sb_err *err);

#endif

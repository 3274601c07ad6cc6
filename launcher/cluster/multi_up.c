/* SPDX-License-Identifier: MIT */
/*
 * multi_up.c - `slurmbox up --hosts h1,h2,...`: facts, preflight, plan,
 * images (built once per architecture, streamed to the others), the shared
 * /home check, then each host's part (the master's host first, the others in
 * parallel) and the wait for every node to be idle.
 */
#include "multi.h"
#include "multi_int.h"
#include "../host/reconcile.h"
#include "refuse.h"
#include "../remote/remote.h"
#include "../../compose/compose.h"
#include "../host/state.h"
#include "../host/user.h"
#include "../remote/interrupt.h"
#include "../util/json.h"
#include "../util/progress.h"

#include <pthread.h>

#define APPLY_MS (15 * 60 * 1000)
/* A cluster on a bridge network takes a free /24 of this pool. */
#define BRIDGE_POOL   "10.213.0.0/16"
#define BRIDGE_PREFIX 24

static bool host_has_image(struct multi_host *h, const char *tag)
{
	struct json_object *v =
	    util_json_get(util_json_get(util_json_get(h->facts, "docker"), "images"), tag);

	return v && json_object_get_boolean(v);
}

/* Build once per architecture, stream to the other hosts of that architecture. */
static int images_distribute(struct multi_host *hosts, size_t n, const struct image_set *im,
                             const char *image_base, const struct sb_ctx *ctx, struct sb_err *err)
{
	bool *done = xcalloc(n, sizeof(*done));
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *arch = util_json_str(util_json_get(hosts[i].facts, "docker"), "arch");
		struct multi_host *src = NULL;
		struct util_step step;

		if (done[i])
			continue;
		for (size_t k = i; k < n; k++)
			if (!done[k] && !src &&
			    strcmp(util_json_str(util_json_get(hosts[k].facts, "docker"), "arch"),
			           arch) == 0 &&
			    host_has_image(&hosts[k], im->master) &&
			    host_has_image(&hosts[k], im->worker))
				src = &hosts[k];
		if (!src) {
			util_step_begin(&step, ctx, "Building the images on %s (%s)", hosts[i].dest,
			                arch);
			if (ctx->stderr_tty)
				fputc('\n', stderr);
			ret = remote_images_build(hosts[i].dest, ctx, image_base, err);
			if (ret < 0) {
				util_step_fail(&step);
				break;
			}
			util_step_end(&step, NULL);
			src = &hosts[i];
		}
		for (size_t k = i; k < n && ret == 0; k++) {
			const char *tags[] = {im->master, im->worker, NULL};

			if (strcmp(util_json_str(util_json_get(hosts[k].facts, "docker"), "arch"),
			           arch) != 0)
				continue;
			done[k] = true;
			if (&hosts[k] == src || (host_has_image(&hosts[k], im->master) &&
			                         host_has_image(&hosts[k], im->worker)))
				continue;
			util_step_begin(&step, ctx, "Streaming the images %s → %s", src->dest,
			                hosts[k].dest);
			ret = remote_images_copy(src->dest, hosts[k].dest, tags, err);
			if (ret < 0) {
				util_step_fail(&step);
				break;
			}
			util_step_end(&step, NULL);
		}
	}
	free(done);
	return ret;
}

/* --home on several hosts must be one shared filesystem: a marker written on one is read on all. */
static int home_check_shared(struct multi_host *hosts, size_t n, const char *home,
                             struct sb_err *err)
{
	char token[17];
	_cleanup_free_ char *marker = NULL;
	int ret;

	multi_token(token);
	marker = xasprintf("%s/.slurmbox-shared-%s", home, token);
	ret = remote_file_put(hosts[0].dest, marker, token, err);
	if (ret < 0)
		return sb_err_input(err, "--home '%s': cannot write it on '%s': %s", home,
		                    hosts[0].dest, err->msg);
	for (size_t i = 1; i < n && ret == 0; i++) {
		_cleanup_buf_ struct sb_buf out = SB_BUF_INIT;
		struct sb_err ignored = SB_ERR_INIT;

		if (remote_file_get(hosts[i].dest, marker, &out, &ignored) < 0 || !out.data ||
		    strcmp(out.data, token) != 0)
			ret = sb_err_input(
			    err,
			    "--home '%s' is not shared: a file written there on '%s' "
			    "is not there on '%s'. Mount one shared filesystem (NFS, "
			    "GlusterFS, ...) at '%s' on every host, or leave out --home",
			    home, hosts[0].dest, hosts[i].dest, home);
	}
	remote_file_remove(hosts[0].dest, marker);
	return ret;
}

/* The cluster's munge key (made if it is new: *created), for every host's apply. */
static int key_load(const char *cluster, unsigned char *key, size_t *len, bool *created,
                    struct sb_err *err)
{
	_cleanup_free_ char *key_path = NULL;
	int ret;

	ret = state_key_ensure(cluster, &key_path, created, err);
	if (ret == 0)
		ret = state_key_read(key_path, key, STATE_KEY_MAX, len, err);
	return ret;
}

static int wait_ready(struct multi_host *h0, const struct spec_doc *doc, const struct sb_ctx *ctx,
                      unsigned timeout, struct sb_err *err)
{
	int ret = remote_wait(h0->dest, ctx, doc, timeout, err);

	if (interrupt_signal)
		ret = sb_err_set(err, EINTR, "Interrupted while waiting for the nodes");
	return ret;
}

/* The cluster's bridge subnet: the one its network has, else a free /24 of BRIDGE_POOL there. */
static int bridge_subnet_pick(const struct multi_host *h, struct compose_cidr *out,
                              struct sb_err *err)
{
	struct json_object *br = util_json_get(util_json_get(h->facts, "docker"), "bridge"),
	                   *used = util_json_get(br, "used");
	struct compose_cidr pool, *v = NULL;
	struct sb_err ignored = SB_ERR_INIT;
	size_t n = 0;
	int ret;

	if (util_json_str(br, "subnet"))
		return compose_cidr_parse("the cluster's network", util_json_str(br, "subnet"), out,
		                          err);
	if (!json_object_is_type(used, json_type_array))
		return sb_err_set(err, EIO, "'%s' did not say which subnets it uses%s%s", h->dest,
		                  util_json_str(br, "error") ? ": " : "",
		                  util_json_str(br, "error") ?: "");
	v = xcalloc(json_object_array_length(used) + 1, sizeof(*v));
	for (size_t i = 0; i < json_object_array_length(used); i++) {
		const char *text = json_object_get_string(json_object_array_get_idx(used, i));
		if (text && compose_cidr_parse("subnet", text, &v[n], &ignored) == 0)
			n++;
	}
	compose_cidr_parse("pool", BRIDGE_POOL, &pool, &ignored);
	ret = compose_subnet_choose(&pool, BRIDGE_PREFIX, v, n, out, err);
	free(v);
	return ret;
}

/*
 * --home as every host sees it: a directory on each (said with the fix if not),
 * and the first host's real path (a symlink resolved) is the one mounted.
 */
static int home_resolve(struct multi_host *hosts, size_t n, char **out, struct sb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct json_object *h = util_json_get(hosts[i].facts, "home");
		const char *why = util_json_str(h, "error");

		if (hosts[i].ret < 0)
			continue; /* unreachable: preflight says so */
		if (!why && !util_json_str(h, "path"))
			why = "no answer about it";
		if (why && n == 1)
			return sb_err_input(err, "%s", why);
		if (why)
			return sb_err_input(err, "On %s: %s", hosts[i].dest, why);
	}
	*out = xstrdup(util_json_str(util_json_get(hosts[0].facts, "home"), "path") ?: "");
	return 0;
}

static int spec_fill(struct spec_doc *doc, const struct multi_up_opts *o, const char *home,
                     const struct sb_ctx *ctx, struct multi_host *hosts, size_t n,
                     const struct spec_doc *prev, bool have_prev, const struct image_set *im,
                     struct sb_err *err)
{
	struct compose_spec *s = &doc->spec;
	int ret;

	s->cluster = xstrdup(ctx->cluster);
	doc->generation = have_prev ? prev->generation + 1 : 1;
	s->workers = o->workers_set || !have_prev ? o->workers_per_host : prev->spec.workers;
	s->no_master_worker = o->no_master_worker;
	s->home_path = xstrdup(home ? home : (have_prev ? prev->spec.home_path : NULL));
	{
		/* this machine's; each host's agent puts its own state directory's in */
		_cleanup_free_ char *dir = NULL;

		ret = state_dir(ctx->cluster, &dir, err);
		if (ret < 0)
			return ret;
		s->key_path = xasprintf("%s/munge.key", dir);
	}
	if (o->user)
		ret = user_parse(o->user, &s->user, err);
	else if (have_prev && prev->spec.user.name) {
		s->user.name = xstrdup(prev->spec.user.name);
		s->user.uid = prev->spec.user.uid;
		s->user.gid = prev->spec.user.gid;
		ret = 0;
	} else {
		user_default(&s->user);
		ret = 0;
	}
	if (ret < 0)
		return ret;
	s->release = xstrdup(image_release());
	s->image_master = xstrdup(im->master);
	s->image_worker = xstrdup(im->worker);
	doc->image_base = xstrdup(o->image_base);
	doc->ip_range = xstrdup(o->ip_range ? o->ip_range : (have_prev ? prev->ip_range : NULL));
	s->net_mode = COMPOSE_NET_MACVLAN;
	for (size_t i = 0; i < n; i++)
		if (hosts[i].wireless)
			s->net_mode = COMPOSE_NET_IPVLAN; /* macvlan does not work over Wi-Fi */
	if (o->network && strcmp(o->network, "ipvlan") == 0)
		s->net_mode = COMPOSE_NET_IPVLAN;
	if (o->network && strcmp(o->network, "bridge") == 0)
		s->net_mode = COMPOSE_NET_BRIDGE;
	if (o->network && strcmp(o->network, "macvlan") == 0) {
		for (size_t i = 0; i < n; i++)
			if (hosts[i].wireless)
				return sb_err_input(
				    err,
				    "--network macvlan: '%s' reaches the LAN over Wi-Fi "
				    "(%s), where macvlan does not work; use --network "
				    "ipvlan or a wired interface (--parent)",
				    hosts[i].dest, hosts[i].ifname);
	}
	if (o->subnet) {
		ret = compose_cidr_parse("--subnet", o->subnet, &s->subnet, err);
		if (ret < 0)
			return ret;
	} else if (s->net_mode == COMPOSE_NET_BRIDGE) {
		ret = bridge_subnet_pick(&hosts[0], &s->subnet, err);
		if (ret < 0)
			return ret;
	} else {
		s->subnet = hosts[0].lan;
	}
	if (s->net_mode == COMPOSE_NET_BRIDGE) {
		/* Docker's bridge is the gateway */
	} else if (o->gateway) {
		ret = compose_ipv4_parse("--gateway", o->gateway, &s->gateway, err);
		if (ret < 0)
			return ret;
	} else {
		for (size_t i = 0; i < n && !s->gateway; i++)
			s->gateway = hosts[i].gateway;
		if (!s->gateway)
			return sb_err_input(err,
			                    "No host has a default route on %s: give the LAN's "
			                    "router with --gateway",
			                    hosts[0].lan_text);
	}
	s->n_hosts = n;
	s->hosts = xcalloc(n, sizeof(*s->hosts));
	doc->lan = s->net_mode == COMPOSE_NET_BRIDGE ? NULL : xcalloc(n, sizeof(*doc->lan));
	for (size_t i = 0; i < n; i++) {
		struct json_object *dk = util_json_get(hosts[i].facts, "docker");

		s->hosts[i].name = xstrdup(hosts[i].dest);
		s->hosts[i].ncpus = (unsigned)json_object_get_int(util_json_get(dk, "ncpus"));
		s->hosts[i].mem_mb = (uint64_t)json_object_get_int64(util_json_get(dk, "mem_mb"));
		s->hosts[i].arch = xstrdup(util_json_str(dk, "arch"));
		if (doc->lan) {
			doc->lan[i].parent = xstrdup(hosts[i].ifname);
			doc->lan[i].addr = hosts[i].addr;
		}
	}
	return 0;
}

/*
 * The cluster's containers exist on some host, but this machine has lost
 * the key (key: its path here, the spec's): a new one would not match the
 * one they hold. Refused, never replaced.
 */
static int key_check(struct multi_host *hosts, size_t n, const char *key, const struct sb_ctx *ctx,
                     struct sb_err *err)
{
	const char *where = NULL;

	for (size_t i = 0; i < n && !where; i++) {
		struct json_object *nodes =
		    util_json_get(util_json_get(hosts[i].facts, "cluster"), "nodes");
		if (json_object_is_type(nodes, json_type_array) && json_object_array_length(nodes))
			where = hosts[i].dest;
	}
	if (!where || access(key, F_OK) == 0 || errno != ENOENT)
		return 0;
	return sb_err_set(err, ENOENT,
	                  "The munge key of cluster '%s' (%s) is missing, but the cluster's "
	                  "containers exist (on %s) and hold the old one; a new key would not "
	                  "match it. Run `slurmbox%s down`, then `up` again (your /home is kept)",
	                  ctx->cluster, key, where, sb_ctx_name_arg(ctx));
}

/*
 * `up` failed, or was interrupted, once hosts were being changed: remove
 * what this run made on every host (unless kept), and say what happened.
 */
static int up_fail(const struct sb_ctx *ctx, struct multi_host *hosts, size_t n, bool keep,
                   bool had_record, bool key_created, struct sb_err *err)
{
	_cleanup_buf_ struct sb_buf left = SB_BUF_INIT;
	int code = interrupt_signal ? EINTR : err->code;
	char why[sizeof(err->msg)];
	struct util_step step;
	size_t n_left;

	if (interrupt_signal)
		snprintf(why, sizeof(why), "Interrupted by %s", strsignal(interrupt_signal));
	else
		snprintf(why, sizeof(why), "%s", err->msg);
	if (keep)
		return sb_err_set(err, code,
		                  "%s\n--keep-on-failure: kept what this run created on the hosts, "
		                  "for debugging; `slurmbox down` removes it",
		                  why);
	util_step_begin(&step, ctx, "Rolling back what this run created");
	if ((n_left = multi_rollback(hosts, n, ctx->cluster, &left))) {
		util_step_end(&step, "done where it could; %zu host%s not cleaned", n_left,
		              n_left == 1 ? "" : "s");
		return sb_err_set(err, code,
		                  "%s\nRolled back where it could; these hosts may keep part of "
		                  "it:\n%sRun `slurmbox down` once they are reachable",
		                  why, left.data);
	}
	util_step_end(&step, "every host");
	if (!had_record) {
		multi_state_remove(ctx->cluster);
	}
	if (key_created) {
		struct sb_err ignored = SB_ERR_INIT;
		state_remove(ctx->cluster, &ignored);
	}
	return sb_err_set(err, code,
	                  "%s\nRolled back: removed what this run had created on every host; "
	                  "nothing else was touched",
	                  why);
}

int multi_up(struct sb_ctx *ctx, const struct multi_up_opts *o, struct sb_err *err)
{
	struct multi_host *hosts = xcalloc(o->n_hosts, sizeof(*hosts));
	bool bridge = o->network && strcmp(o->network, "bridge") == 0;
	_cleanup_free_ char *home = NULL;
	struct spec_doc doc = {0}, prev = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_buf_ struct sb_buf diff = SB_BUF_INIT, note = SB_BUF_INIT;
	unsigned char key[STATE_KEY_MAX];
	size_t key_len = 0;
	struct image_set im;
	struct util_step step;
	double t0 = util_now();
	bool have_prev, had_record = false, key_created = false, changed = false;
	size_t n = o->n_hosts, n_nodes, n_old = 0; /* n_old: hosts kept while growing */
	bool recreate = false; /* remove the containers that differ (or leave) first */
	char **paths = NULL;
	int ret;

	image_set_tags(o->image_base, NULL, &im);
	for (size_t i = 0; i < n; i++)
		hosts[i].dest = o->hosts[i];
	/* from here on, Ctrl-C stops the ssh children and rolls back what this run made */
	if (!o->dry_run)
		interrupt_catch();

	util_step_begin(&step, ctx, "Facts from %zu host%s", n, n == 1 ? "" : "s");
	multi_facts_gather(hosts, n, ctx->cluster, o->parent, o->home, &im);
	/* bad input first (exit 2), then what is wrong with the hosts */
	ret = o->home ? home_resolve(hosts, n, &home, err) : 0;
	if (ret == 0)
		ret = multi_preflight(hosts, n, ctx->cluster, !bridge, o->no_shim, err);
	if (ret < 0) {
		util_step_fail(&step);
		goto out;
	}
	if (bridge)
		util_step_end(&step, "Docker %s",
		              util_json_str(util_json_get(hosts[0].facts, "docker"), "server"));
	else
		util_step_end(&step, "one LAN %s", hosts[0].lan_text);

	ret = multi_prev_find(hosts, n, ctx->cluster, o->recreate, &prev, &have_prev, err);
	if (ret < 0)
		goto out;
	ret = spec_fill(&doc, o, home, ctx, hosts, n, &prev, have_prev, &im, err);
	if (ret < 0)
		goto out;
	n_nodes = compose_spec_node_count(&doc.spec);
	multi_numbers_assign(&doc, &prev, have_prev);
	doc.node_ips = xcalloc(n_nodes + n, sizeof(*doc.node_ips));
	if (doc.lan) {
		ret = multi_addrs_assign(&doc, &prev, have_prev, hosts, n, doc.ip_range, ctx, err);
		if (ret < 0)
			goto out;
	}
	if (doc.lan) {
		doc.spec.node_ips = doc.node_ips;
		doc.spec.n_node_ips = n_nodes;
	}
	ret = compose_spec_validate(&doc.spec, err);
	if (ret == 0)
		ret = compose_plan_build(&doc.spec, &plan, err);
	if (ret == 0)
		ret = multi_names_check(hosts, n, plan, err);
	if (ret < 0)
		goto out;
	/* what differs from the cluster's previous settings, and what an upgrade of Slurm drops */
	if (have_prev && reconcile_diff(&prev, &doc, &diff) > 0)
		compose_release_note(&prev.spec, &doc.spec, &note);
	if (!o->dry_run) {
		/*
		 * Other settings: refused with the diff, unless --recreate. Hosts
		 * added (nothing else changed) grow the cluster in place: the
		 * hosts it had go first (their nodes learn of the new ones),
		 * then the new hosts.
		 */
		const char *new_hash = NULL,
		           *old_hash = multi_hash_differing(hosts, n, plan, false, &new_hash);
		/* every setting that differs is named, even when a container's hash says so too */
		bool differs = diff.len > 0;

		differs = differs || old_hash;

		if (differs && have_prev && !old_hash && multi_spec_grows(&prev, &doc)) {
			n_old = prev.spec.n_hosts;
		} else if (differs && have_prev &&
		           multi_members_only(&prev, &doc, hosts, n, plan)) {
			recreate = true; /* nodes join and leave; the others are kept as they are */
		} else if (differs && !o->recreate) {
			ret = reconcile_refuse(ctx, diff.data, note.data, old_hash, new_hash,
			                       o->argc, o->argv, err);
			goto out;
		} else if (differs) {
			recreate = true;
			if (note.len) /* said before anything is removed */
				util_warn("%.*s", (int)note.len - 1, note.data);
		}
	}
	if (o->dry_run) {
		_cleanup_free_ char *text = compose_render_plan(plan);
		fputs(text, stdout);
		if (diff.len)
			printf("\nChanges to the running cluster (old -> new):\n%s", diff.data);
		if (note.len)
			printf("%s", note.data);
		for (size_t i = 0; doc.lan && i < n; i++) {
			char a[16], b[16];
			printf("LAN on %s: parent %s, host %s, shim %s\n", hosts[i].dest,
			       doc.lan[i].parent, compose_ipv4_format(doc.lan[i].addr, a),
			       compose_ipv4_format(doc.lan[i].shim, b));
		}
		goto out;
	}
	/* a new key would not match the one the cluster's containers hold */
	ret = key_check(hosts, n, doc.spec.key_path, ctx, err);
	if (ret < 0)
		goto out;
	if (!doc.spec.home_path && n > 1)
		util_warn("no --home: each host gets its own /home volume, so /home is NOT shared "
		          "between hosts; jobs see different files on different hosts. Mount one "
		          "shared filesystem on every host and pass --home PATH");

	/* a --home that is not shared is bad input: said before any image is built */
	if (doc.spec.home_path && n > 1) {
		util_step_begin(&step, ctx, "Checking that --home %s is shared",
		                doc.spec.home_path);
		ret = home_check_shared(hosts, n, doc.spec.home_path, err);
		if (ret < 0) {
			util_step_fail(&step);
			goto out;
		}
		util_step_end(&step, NULL);
	}
	ret = images_distribute(hosts, n, &im, o->image_base, ctx, err);
	if (ret < 0)
		goto out;

	if (interrupt_signal) {
		ret = sb_err_set(err, EINTR,
		                 "Interrupted before any host was changed; nothing was "
		                 "created");
		goto out;
	}
	had_record = multi_state_exists(ctx->cluster);
	ret = key_load(ctx->cluster, key, &key_len, &key_created, err);
	if (ret < 0)
		goto out;
	if (key_created)
		util_info(ctx,
		          "  Created the cluster's munge key (%s, 0400; it reaches the hosts over "
		          "stdin only)",
		          doc.spec.key_path);
	paths = xcalloc(n, sizeof(*paths));
	for (size_t i = 0; i < n; i++)
		paths[i] = hosts[i].path;
	if (recreate && have_prev) {
		ret = multi_nodes_leave(&prev, hosts, n, plan, o->timeout, o->force, ctx, err);
		if (ret == 0)
			ret = multi_hosts_drop(&prev, hosts, n, ctx->cluster, err);
		if (ret < 0)
			goto out;
	}
	/* recorded before anything is created, so `down` finds a half-made cluster */
	ret = multi_state_save(ctx->cluster, &doc, paths, err);
	if (ret == 0 && n_old) {
		util_info(ctx, "  Adding %zu host%s to the %zu it has; its nodes are kept",
		          n - n_old, n - n_old == 1 ? "" : "s", n_old);
		ret = multi_hosts_apply(hosts, 0, n_old, ctx, &doc, key, key_len, o->timeout,
		                        o->keep_on_failure, false, err);
	}
	if (ret == 0)
		ret = multi_hosts_apply(hosts, n_old, n, ctx, &doc, key, key_len, o->timeout,
		                        o->keep_on_failure, recreate, err);
	if (ret == 0)
		multi_nodes_rejoin(hosts, plan, ctx);
	if (ret == 0)
		ret = wait_ready(&hosts[0], &doc, ctx, o->timeout, err);
	if (ret < 0) {
		ret = up_fail(ctx, hosts, n, o->keep_on_failure, had_record, key_created, err);
		goto out;
	}
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		changed = changed || multi_host_changed(&hosts[i]);
	{
		char net[32];

		compose_cidr_format(&plan->network.subnet, net);
		fprintf(stderr,
		        "\nCluster '%s' is up in %.1fs: %s + %zu worker%s on %zu host%s, %s %s, "
		        "user %s (uid %u)\n",
		        ctx->cluster, util_now() - t0, plan->nodes[0].name, plan->n_nodes - 1,
		        plan->n_nodes == 2 ? "" : "s", n, n == 1 ? "" : "s",
		        bridge ? "bridge network" : "LAN", bridge ? net : hosts[0].lan_text,
		        doc.spec.user.name, doc.spec.user.uid);
	}
	if (!changed)
		fprintf(stderr, "Nothing to change: it was already up.\n");
out:
	/* a run that leaves nothing (no record, no state) leaves no lock file either */
	if (ret < 0 && !multi_state_exists(ctx->cluster))
		state_lock_drop_unused(ctx->cluster);
	if (ret < 0 && interrupt_signal && err->code != EINTR)
		ret = sb_err_set(err, EINTR,
		                 "Interrupted before any host was changed; nothing was "
		                 "created");
	explicit_bzero(key, sizeof(key));
	free(paths);
	spec_doc_free(&doc);
	spec_doc_free(&prev);
	multi_hosts_free(hosts, n);
	return ret;
}

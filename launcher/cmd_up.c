/* SPDX-License-Identifier: MIT */
/*
 * cmd_up.c - `slurmbox up`: parse and validate everything, gather the
 * host's facts, plan, then apply and wait until every node is idle.
 *
 * Nothing is created before the whole input has been checked. Running `up`
 * again with the same settings changes nothing; settings left out default
 * to the existing cluster's (kept in the master's io.slurmbox.spec label).
 * Other settings are refused with a diff of old against new, unless
 * --recreate, which re-creates the containers that differ.
 */
#include "apply.h"
#include "bridge.h"
#include "multi.h"
#include "multi_int.h"
#include "docker_api.h"
#include "image.h"
#include "members.h"
#include "reconcile.h"
#include "spec_json.h"
#include "../compose/compose.h"

#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUBNET_POOL   "10.213.0.0/16"
#define SUBNET_PREFIX 24
#define LABEL_USER    "io.slurmbox.user"
#define LABEL_SPEC    "io.slurmbox.spec"

static const char up_usage[] =
    "Usage: slurmbox up [OPTIONS]\n"
    "\n"
    "Create a Slurm cluster (a master running slurmctld and N workers running slurmd) on the\n"
    "local Docker engine, and return when every node is idle. Run again to heal it.\n"
    "\n"
    "  -n, --name NAME        Cluster name (default \"slurmbox\")\n"
    "  -w, --workers N        Number of workers, 1-250 (default 2)\n"
    "      --home PATH        Bind-mount PATH as /home (default: a named volume)\n"
    "      --user NAME[:UID[:GID]]  The cluster user (default: you, or slurmbox:1000 as root)\n"
    "      --subnet CIDR      The cluster network (default: a free /24 in " SUBNET_POOL ")\n"
    "      --timeout SEC      How long to wait for every node to be idle (default 180)\n"
    "      --image-base IMAGE Build the images from IMAGE (pulled if missing) instead of a\n"
    "                         local debian:bookworm-slim or a debootstrap of bookworm\n"
    "      --keep-on-failure  Keep what a failed run created, for debugging\n"
    "      --recreate         The cluster exists with other settings: re-create the\n"
    "                         containers that differ (/home, key and Slurm state are kept)\n"
    "\n"
    "Several hosts (each an ssh destination running Docker; \"localhost\" is this one):\n"
    "      --hosts H1,H2,...  The master on H1; workers on every host, on the LAN (macvlan)\n"
    "      --workers-per-host N  Workers on each host (default 1)\n"
    "      --no-master-worker The first host runs the master only\n"
    "      --network MODE     macvlan (default), ipvlan (Wi-Fi), or bridge (one host only)\n"
    "      --parent IFACE     The LAN interface (default: the default route's)\n"
    "      --gateway IP       The LAN's router (default: the default route's)\n"
    "      --ip-range CIDR    Take the nodes' addresses from here (all must be free);\n"
    "                         default: free addresses from the top of the subnet\n"
    "      --no-shim          Go on where the ssh user may not make the shim (needs\n"
    "                         CAP_NET_ADMIN): that host then cannot reach its own nodes\n"
    "      --dry-run          Print the plan (nodes, IPs, mounts, slurm.conf); change nothing\n"
    "  -h, --help             This help\n";

struct up_opts {
	struct multi_up_opts m;
	const char *hosts;
	unsigned workers;
	bool workers_set;
	const char *home;
	const char *user;
	const char *subnet;
	const char *image_base;
	unsigned timeout;
	bool dry_run;
	bool keep_on_failure;
	bool recreate;
	int argc; /* the command line, for the --recreate hint */
	char **argv;
};

static int up_parse(struct cli_ctx *ctx, int argc, char **argv, struct up_opts *o,
                    struct sb_err *err)
{
	enum {
		OPT_HOME = 256,
		OPT_USER,
		OPT_SUBNET,
		OPT_TIMEOUT,
		OPT_BASE,
		OPT_KEEP,
		OPT_DRY,
		OPT_HOSTS,
		OPT_WPH,
		OPT_NMW,
		OPT_NETWORK,
		OPT_PARENT,
		OPT_GATEWAY,
		OPT_RANGE,
		OPT_RECREATE,
		OPT_NO_SHIM,
	};
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"workers", required_argument, NULL, 'w'},
	    {"home", required_argument, NULL, OPT_HOME},
	    {"user", required_argument, NULL, OPT_USER},
	    {"subnet", required_argument, NULL, OPT_SUBNET},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"image-base", required_argument, NULL, OPT_BASE},
	    {"keep-on-failure", no_argument, NULL, OPT_KEEP},
	    {"dry-run", no_argument, NULL, OPT_DRY},
	    {"hosts", required_argument, NULL, OPT_HOSTS},
	    {"workers-per-host", required_argument, NULL, OPT_WPH},
	    {"no-master-worker", no_argument, NULL, OPT_NMW},
	    {"network", required_argument, NULL, OPT_NETWORK},
	    {"parent", required_argument, NULL, OPT_PARENT},
	    {"gateway", required_argument, NULL, OPT_GATEWAY},
	    {"ip-range", required_argument, NULL, OPT_RANGE},
	    {"recreate", no_argument, NULL, OPT_RECREATE},
	    {"no-shim", no_argument, NULL, OPT_NO_SHIM},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, ret;

	o->workers = 2;
	o->timeout = 180;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+n:w:h", opts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case 'n':
			ret = cli_set_cluster(ctx, optarg, err);
			break;
		case 'w':
			ret = cli_parse_uint("--workers", optarg, 1, COMPOSE_MAX_WORKERS,
			                     &o->workers, err);
			o->workers_set = true;
			break;
		case OPT_HOME:
			o->home = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_SUBNET:
			o->subnet = optarg;
			break;
		case OPT_TIMEOUT:
			ret = cli_parse_uint("--timeout", optarg, 1, 86400, &o->timeout, err);
			break;
		case OPT_BASE:
			o->image_base = optarg;
			break;
		case OPT_KEEP:
			o->keep_on_failure = true;
			break;
		case OPT_DRY:
			o->dry_run = true;
			break;
		case OPT_HOSTS:
			o->hosts = optarg;
			break;
		case OPT_WPH:
			ret = cli_parse_uint("--workers-per-host", optarg, 0, COMPOSE_MAX_WORKERS,
			                     &o->m.workers_per_host, err);
			o->m.workers_set = true;
			break;
		case OPT_NMW:
			o->m.no_master_worker = true;
			break;
		case OPT_NETWORK:
			if (strcmp(optarg, "macvlan") && strcmp(optarg, "ipvlan") &&
			    strcmp(optarg, "bridge"))
				ret = sb_err_input(
				    err, "--network '%s': use macvlan, ipvlan or bridge", optarg);
			o->m.network = optarg;
			break;
		case OPT_PARENT:
			if (!*optarg || strlen(optarg) >= 16 || strpbrk(optarg, "/ \t\n"))
				ret = sb_err_input(err, "--parent '%s' is not an interface name",
				                   optarg);
			o->m.parent = optarg;
			break;
		case OPT_GATEWAY:
			o->m.gateway = optarg;
			break;
		case OPT_RANGE:
			o->m.ip_range = optarg;
			break;
		case OPT_RECREATE:
			o->recreate = true;
			break;
		case OPT_NO_SHIM:
			o->m.no_shim = true;
			break;
		case 'h':
			fputs(up_usage, stdout);
			return 1;
		default:
			return cli_usage_error("up", argv[optind - 1], err);
		}
		if (ret < 0)
			return ret;
	}
	if (optind < argc)
		return sb_err_input(err, "up: unexpected argument '%s'; see `slurmbox up --help`",
		                    argv[optind]);
	return 0;
}

static char *up_spec_label(const struct compose_spec *spec, const char *image_base,
                           unsigned generation)
{
	struct spec_doc doc = {
	    .spec = *spec, .image_base = (char *)image_base, .generation = generation};
	struct json_object *o = spec_json_from(&doc);
	char *s = xasprintf("%s=%s", LABEL_SPEC,
	                    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                          JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

static void image_progress(const char *line, void *arg)
{
	const struct cli_ctx *ctx = arg;

	if (ctx->stderr_tty)
		fprintf(stderr, "\r\033[K    %.*s", 100, line);
	else
		fprintf(stderr, "    %s\n", line);
}

static int home_check(const char *path, char **out, struct sb_err *err)
{
	char real[PATH_MAX];
	struct stat st;

	if (*path != '/')
		return sb_err_input(
		    err, "--home '%s' must be an absolute path, e.g. /srv/slurm-home", path);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return sb_err_input(
		    err, "--home '%s' is not a directory; create it first: mkdir -p '%s'", path,
		    path);
	if (!realpath(path, real))
		return sb_err_input(err, "--home '%s': %s", path, strerror(errno));
	*out = xstrdup(real);
	return 0;
}

/* --hosts (or a cluster recorded with hosts): the multi-host path. */
static int up_multi(struct cli_ctx *ctx, struct up_opts *o, struct sb_err *err)
{
	struct multi_up_opts *m = &o->m;
	struct spec_doc doc = {0};
	char **paths = NULL;
	int ret;

	if (o->home && *o->home != '/')
		return sb_err_input(
		    err, "--home '%s' must be an absolute path, the same on every host", o->home);
	if (o->subnet) {
		struct compose_cidr c;
		ret = compose_cidr_parse("--subnet", o->subnet, &c, err);
		if (ret < 0)
			return ret;
	}
	if (m->gateway) {
		uint32_t a;
		ret = compose_ipv4_parse("--gateway", m->gateway, &a, err);
		if (ret < 0)
			return ret;
	}
	if (m->ip_range) {
		struct compose_cidr c;
		ret = compose_cidr_parse("--ip-range", m->ip_range, &c, err);
		if (ret < 0)
			return ret;
	}
	if (o->user) {
		struct compose_user u = {0};
		ret = cli_user_parse(o->user, &u, err);
		free(u.name);
		if (ret < 0)
			return ret;
	}
	if (o->hosts) {
		ret = multi_hosts_parse(o->hosts, &m->hosts, &m->n_hosts, err);
	} else {
		/* the hosts of the recorded cluster */
		ret = multi_state_load(ctx->cluster, &doc, &paths, err);
		if (ret == 0) {
			m->n_hosts = doc.spec.n_hosts;
			m->hosts = xcalloc(m->n_hosts, sizeof(*m->hosts));
			for (size_t i = 0; i < m->n_hosts; i++)
				m->hosts[i] = xstrdup(doc.spec.hosts[i].name);
			for (size_t i = 0; i < doc.spec.n_hosts; i++)
				free(paths[i]);
			free(paths);
		}
		spec_doc_free(&doc);
	}
	if (ret < 0)
		return ret;
	if (!m->workers_set) {
		m->workers_per_host = 1;
		if (o->workers_set) {
			m->workers_per_host = o->workers;
			m->workers_set = true;
		}
	}
	m->home = o->home;
	m->user = o->user;
	m->subnet = o->subnet;
	m->image_base = o->image_base;
	m->timeout = o->timeout;
	m->dry_run = o->dry_run;
	m->keep_on_failure = o->keep_on_failure;
	m->recreate = o->recreate;
	m->argc = o->argc;
	m->argv = o->argv;
	if (!m->dry_run) {
		int lock_fd = -1; /* held until we exit */
		ret = cli_lock_take(ctx->cluster, "control", &lock_fd, err);
	}
	if (ret == 0)
		ret = multi_up(ctx, m, err);
	for (size_t i = 0; i < m->n_hosts; i++)
		free(m->hosts[i]);
	free(m->hosts);
	return ret;
}

int cmd_up(struct cli_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	struct up_opts o = {0};
	struct spec_doc prev = {0};
	bool have_prev;
	struct compose_spec spec = {0};
	struct cli_cluster have = {0};
	_cleanup_plan_ struct compose_plan *plan = NULL;
	_cleanup_docker_ struct docker *d = NULL;
	_cleanup_free_ char *spec_label = NULL, *user_label = NULL, *state_dir = NULL;
	_cleanup_free_ char *spec_file = NULL;
	struct docker_info info;
	struct image_set images;
	struct apply_diff diff;
	struct cli_step step;
	double t0 = cli_now();
	const char *image_base;
	bool found, recreate, differs = false;
	_cleanup_buf_ struct sb_buf diff_text = SB_BUF_INIT;
	struct spec_doc now = {0};
	size_t n_synced = 0;
	int ret;

	ret = up_parse(ctx, argc, argv, &o, err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	o.argc = argc;
	o.argv = argv;
	if (o.hosts || cli_routed(ctx))
		return up_multi(ctx, &o, err);

	/* Everything the user typed is checked before the daemon is even asked. */
	{
		const char *lan_only = o.m.parent     ? "--parent"
		                       : o.m.gateway  ? "--gateway"
		                       : o.m.ip_range ? "--ip-range"
		                       : o.m.network && strcmp(o.m.network, "bridge") != 0
		                           ? "--network"
		                       : o.m.workers_per_host ? "--workers-per-host"
		                       : o.m.no_master_worker ? "--no-master-worker"
		                       : o.m.no_shim          ? "--no-shim"
		                                              : NULL;
		if (lan_only)
			return sb_err_input(err,
			                    "%s is for clusters on several hosts (with --hosts); "
			                    "a cluster on this host alone has a bridge network: "
			                    "leave it out, or give --hosts",
			                    lan_only);
	}
	if (o.user) {
		ret = cli_user_parse(o.user, &spec.user, err);
		if (ret < 0)
			goto out;
	}
	if (o.home) {
		ret = home_check(o.home, &spec.home_path, err);
		if (ret < 0)
			goto out;
	}
	if (o.subnet) {
		ret = compose_cidr_parse("--subnet", o.subnet, &spec.subnet, err);
		if (ret < 0)
			goto out;
	}

	if (!o.dry_run) {
		int lock_fd = -1; /* held until we exit */
		ret = cli_lock_take(ctx->cluster, "control", &lock_fd, err);
		if (ret < 0)
			goto out;
	}
	cli_step_begin(&step, ctx, "Docker engine");
	ret = docker_open(NULL, &d, err);
	if (ret == 0)
		ret = docker_version_check(d, err);
	if (ret == 0)
		ret = docker_info_get(d, &info, err);
	if (ret < 0) {
		cli_step_fail(&step);
		goto out;
	}
	cli_step_end(&step, "%s, API %s, %u CPUs, %llu MiB", info.server_version,
	             docker_api_version(d), info.ncpus, (unsigned long long)(info.mem_bytes >> 20));

	ret = cli_cluster_load(d, ctx->cluster, &have, err);
	if (ret < 0)
		goto out;
	ret = cli_state_dir(ctx->cluster, &state_dir, err);
	if (ret < 0)
		goto out;
	spec_file = xasprintf("%s/spec.json", state_dir);
	have_prev = reconcile_prev_load(&have, spec_file, &prev);

	/* Settings not given fall back to the existing cluster's, then to defaults. */
	spec.cluster = (char *)ctx->cluster;
	spec.workers = o.workers_set || !have_prev ? o.workers : prev.spec.workers;
	if (!o.home && have_prev && prev.spec.home_path)
		spec.home_path = xstrdup(prev.spec.home_path);
	if (!o.user && have_prev && prev.spec.user.name) {
		spec.user.name = xstrdup(prev.spec.user.name);
		spec.user.uid = prev.spec.user.uid;
		spec.user.gid = prev.spec.user.gid;
	}
	if (!spec.user.name)
		cli_user_default(&spec.user);
	image_base = o.image_base ? o.image_base : prev.image_base;

	{
		struct compose_cidr existing;

		ret = bridge_subnet_existing(d, ctx->cluster, &existing, &found, err);
		if (ret < 0)
			goto out;
		/* another --subnet shows in the diff below (refused, or --recreate) */
		if (found && !o.subnet)
			spec.subnet = existing;
	}
	if (!found && !o.subnet) {
		struct compose_cidr pool, *used = NULL;
		size_t n_used = 0;
		struct sb_err ignored = SB_ERR_INIT;

		compose_cidr_parse("pool", SUBNET_POOL, &pool, &ignored);
		ret = bridge_subnets_used(d, &used, &n_used, err);
		if (ret == 0)
			ret = compose_subnet_choose(&pool, SUBNET_PREFIX, used, n_used,
			                            &spec.subnet, err);
		free(used);
		if (ret < 0)
			goto out;
	}

	image_set_tags(image_base, &images);
	spec.image_master = xstrdup(images.master);
	spec.image_worker = xstrdup(images.worker);
	spec.key_path = xasprintf("%s/munge.key", state_dir);
	spec.net_mode = COMPOSE_NET_BRIDGE;
	spec.n_hosts = 1;
	spec.hosts = xcalloc(1, sizeof(*spec.hosts));
	spec.hosts[0].name = xstrdup("localhost");
	spec.hosts[0].ncpus = info.ncpus;
	spec.hosts[0].mem_mb = info.mem_bytes >> 20;
	spec.hosts[0].arch = xstrdup(info.arch);

	ret = compose_spec_validate(&spec, err);
	if (ret < 0)
		goto out;
	ret = compose_plan_build(&spec, &plan, err);
	if (ret < 0)
		goto out;

	if (o.dry_run) {
		_cleanup_free_ char *text = compose_render_plan(plan);
		fputs(text, stdout);
		ret = 0;
		goto out;
	}

	apply_diff_compute(plan, &have, NULL, &diff);
	now.spec = spec;
	now.image_base = (char *)image_base;
	now.generation = have_prev ? prev.generation + 1 : 1;
	/* other settings (even those that keep every container: more workers) */
	if (have_prev)
		differs = reconcile_diff(&prev, &now, &diff_text) > 0;
	differs = differs || diff.n_changed || diff.n_foreign;
	recreate = differs && o.recreate;
	if (differs && !o.recreate) {
		const char *old_hash = NULL, *new_hash = NULL;

		for (size_t i = 0; i < have.n_nodes && !old_hash; i++) {
			const struct compose_node *p = compose_plan_node(plan, have.nodes[i].node);
			if (p && strcmp(have.nodes[i].hash, p->hash) != 0) {
				old_hash = have.nodes[i].hash;
				new_hash = p->hash;
			}
		}
		ret = reconcile_refuse(ctx, diff_text.data, old_hash, new_hash, argc, argv, err);
		goto out;
	}

	/* A new key would not match the one the running containers hold. */
	if (have.n_nodes && (diff.n_missing || diff.n_stopped || recreate) &&
	    access(spec.key_path, F_OK) < 0 && errno == ENOENT) {
		ret = sb_err_set(err, ENOENT,
		                 "The munge key of cluster '%s' (%s) is missing, but the cluster's "
		                 "containers exist and hold the old one; a new key would not "
		                 "match it. Run `slurmbox%s%s down`, then `up` again (your /home "
		                 "is kept)",
		                 ctx->cluster, spec.key_path, ctx->name_given ? " --name " : "",
		                 ctx->name_given ? ctx->cluster : "");
		goto out;
	}

	if (diff.n_missing || diff.n_stopped || recreate) {
		bool created;
		_cleanup_free_ char *key = NULL;
		struct apply_opts ao = {
		    .cli = ctx,
		    .keep_on_failure = o.keep_on_failure,
		    .timeout_sec = o.timeout,
		    .wait_ready = true,
		};

		cli_step_begin(&step, ctx, "Images");
		ret = image_ensure(d, image_base, image_progress, ctx, &images, err);
		if (ret < 0) {
			cli_step_fail(&step);
			goto out;
		}
		cli_step_end(&step, "%s, %s", images.master, images.worker);

		/* from here on, Ctrl-C rolls back what this run creates */
		cli_interrupt_catch();
		ret = cli_key_ensure(ctx->cluster, &key, &created, err);
		if (ret < 0)
			goto out;
		cli_info(ctx, "  %s munge key (%s, 0400)", created ? "Created" : "Reusing the",
		         key);

		spec_label = up_spec_label(&spec, image_base, now.generation);
		user_label = xasprintf("%s=%s", LABEL_USER, spec.user.name);
		ao.extra_labels[ao.n_extra_labels++] = user_label;
		ao.extra_labels[ao.n_extra_labels++] = spec_label;
		if (recreate) {
			size_t n_removed = 0;

			/* the volumes and the key stay: /home, the jobs and the nodes' state */
			ret = reconcile_remove_changed(d, plan, &ao, diff.n_foreign > 0, &have,
			                               &n_removed, err);
			if (ret == 0)
				ret = reconcile_network_drop(d, plan, err);
			if (ret < 0)
				goto out;
		}
		/* the containers kept learn of the others before those start */
		ret = members_sync(d, plan, &now, &ao, &have, &n_synced, err);
		if (ret < 0)
			goto out;
		ret = apply_plan(d, plan, &have, &ao, err);
		if (ret < 0 && !o.keep_on_failure) {
			struct sb_err ignored = SB_ERR_INIT;
			if (created) /* the key was this run's too */
				cli_state_remove(ctx->cluster, &ignored);
			if (ret == -EINTR)
				sb_err_set(err, EINTR,
				           recreate
				               ? "Interrupted: removed what this run had created; "
				                 "the containers it was re-creating are gone, run "
				                 "`slurmbox up --recreate` again to finish"
				               : "Interrupted: removed what this run had created; "
				                 "nothing else was touched");
		}
		if (ret < 0)
			goto out;
	} else {
		struct apply_opts ao = {.cli = ctx, .timeout_sec = o.timeout};

		/* containers an earlier `up` kept: is their node list the plan's? */
		ret = members_sync(d, plan, &now, &ao, &have, &n_synced, err);
		if (ret == 0)
			ret = apply_wait_ready(d, plan, o.timeout, ctx, err);
		if (ret < 0)
			goto out;
	}
	/* the settings of record: a container kept by this run keeps its old label */
	ret = reconcile_prev_save(spec_file, &now, err);
	if (ret < 0)
		goto out;

	{
		char cidr[32];
		fprintf(
		    stderr,
		    "\nCluster '%s' is up in %.1fs: %s + %zu worker%s on %s, user %s (uid %u)\n",
		    ctx->cluster, cli_now() - t0, plan->nodes[0].name, plan->n_nodes - 1,
		    plan->n_nodes == 2 ? "" : "s", compose_cidr_format(&plan->network.subnet, cidr),
		    plan->user.name, plan->user.uid);
		if (diff.n_missing == 0 && diff.n_stopped == 0 && !recreate)
			fprintf(stderr, "Nothing to change: it was already up.\n");
	}
	ret = 0;
out:
	cli_cluster_free(&have);
	spec_doc_free(&prev);
	spec.cluster = NULL;
	spec_fields_free(&spec);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_up.c - `slurmbox up`: the command line into one request, checked as
 * far as it can be without a host, then one call for any number of hosts
 * (multi_up): --hosts, else the recorded cluster's hosts, else this machine
 * alone ("localhost", reached without ssh, on a bridge network).
 *
 * Nothing is created before the whole input has been checked. Running `up`
 * again with the same settings changes nothing; settings left out default
 * to the existing cluster's. Other settings are refused with a diff of old
 * against new, unless --recreate, which re-creates the containers that differ.
 */
#include "cli.h"
#include "../cluster/multi.h"
#include "../cluster/multi_int.h"
#include "../host/spec_json.h"
#include "../../compose/compose.h"

#include <getopt.h>
#include <unistd.h>

static const char up_usage[] =
    "Usage: slurmbox up [OPTIONS]\n"
    "\n"
    "Create a Slurm cluster (a master running slurmctld and N workers running slurmd) on the\n"
    "local Docker engine (or on --hosts), and return when every node is idle. Run again to\n"
    "heal it; without options it keeps the cluster's hosts and settings.\n"
    "\n"
    "  -n, --name NAME        Cluster name (default \"slurmbox\")\n"
    "  -w, --workers N        Number of workers, 1-250 (default 2; with --hosts, per host).\n"
    "                         A running cluster takes a new number in place: new workers\n"
    "                         join, workers taken away are drained and leave\n"
    "      --home PATH        Bind-mount PATH as /home (default: a named volume)\n"
    "      --user NAME[:UID[:GID]]  The cluster user (default: you, or slurmbox:1000 as root)\n"
    "      --subnet CIDR      The cluster network (default: a free /24 in 10.213.0.0/16)\n"
    "      --timeout SEC      How long to wait for every node to be idle, and for the jobs\n"
    "                         of workers taken away (default 180)\n"
    "      --image-base IMAGE Build the images from IMAGE (pulled if missing) instead of a\n"
    "                         local debian:trixie-slim or a debootstrap of trixie\n"
    "      --keep-on-failure  Keep what a failed run created, for debugging\n"
    "      --recreate         The cluster exists with other settings: re-create the\n"
    "                         containers that differ (/home, key and Slurm state are kept)\n"
    "      --force            Workers taken away still run jobs after --timeout: end the\n"
    "                         jobs and remove them (default: refuse, naming the jobs)\n"
    "\n"
    "Several hosts (each an ssh destination running Docker; \"localhost\" is this one):\n"
    "      --hosts H1,H2,...  The master on H1; workers on every host, on the LAN (macvlan)\n"
    "      --workers-per-host N  Workers on each host (default 1)\n"
    "      --no-master-worker The first host runs the master only\n"
    "      --network MODE     macvlan (default), ipvlan (Wi-Fi), or bridge (one host only;\n"
    "                         the default without --hosts)\n"
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
	bool force;
	int argc; /* the command line, for the --recreate hint */
	char **argv;
};

static int up_parse(struct sb_ctx *ctx, int argc, char **argv, struct up_opts *o,
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
		OPT_FORCE,
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
	    {"force", no_argument, NULL, OPT_FORCE},
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
			ret = util_uint_parse("--workers", optarg, 1, COMPOSE_MAX_WORKERS,
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
			ret = util_uint_parse("--timeout", optarg, 1, 86400, &o->timeout, err);
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
			ret = util_uint_parse("--workers-per-host", optarg, 0, COMPOSE_MAX_WORKERS,
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
		case OPT_FORCE:
			o->force = true;
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
			return util_usage_error("up", argv[optind - 1], err);
		}
		if (ret < 0)
			return ret;
	}
	if (optind < argc)
		return sb_err_input(err, "up: unexpected argument '%s'; see `slurmbox up --help`",
		                    argv[optind]);
	return 0;
}

/*
 * The hosts: --hosts, else the recorded cluster's, else this one alone
 * ("localhost", on a bridge network). One path for any number of them.
 */
static int up_hosts(struct sb_ctx *ctx, struct up_opts *o, struct sb_err *err)
{
	struct multi_up_opts *m = &o->m;
	struct spec_doc doc = {0};
	char **paths = NULL;
	int ret = 0;

	if (o->home && *o->home != '/')
		return sb_err_input(
		    err,
		    "--home '%s' must be an absolute path (the same on every host), "
		    "e.g. /srv/slurm-home",
		    o->home);
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
		ret = user_parse(o->user, &u, err);
		free(u.name);
		if (ret < 0)
			return ret;
	}
	if (o->hosts) {
		ret = multi_hosts_parse(o->hosts, &m->hosts, &m->n_hosts, err);
	} else if (multi_state_exists(ctx->cluster)) {
		/* the hosts of the recorded cluster, and its kind of network */
		ret = multi_state_load(ctx->cluster, &doc, &paths, err);
		if (ret == 0) {
			m->n_hosts = doc.spec.n_hosts;
			m->hosts = xcalloc(m->n_hosts, sizeof(*m->hosts));
			for (size_t i = 0; i < m->n_hosts; i++)
				m->hosts[i] = xstrdup(doc.spec.hosts[i].name);
			multi_paths_free(paths, doc.spec.n_hosts);
			if (!m->network && doc.spec.net_mode == COMPOSE_NET_BRIDGE)
				m->network = "bridge";
		}
		spec_doc_free(&doc);
	} else {
		m->n_hosts = 1;
		m->hosts = xcalloc(1, sizeof(*m->hosts));
		m->hosts[0] = xstrdup("localhost");
		m->network = "bridge";
	}
	if (ret < 0)
		return ret;
	if (m->network && strcmp(m->network, "bridge") == 0 && m->n_hosts > 1)
		ret = sb_err_input(err,
		                   "--network bridge is for a cluster on one host; on %zu hosts "
		                   "the nodes need the LAN: leave out --network (macvlan), or "
		                   "give ipvlan",
		                   m->n_hosts);
	if (!m->workers_set) {
		/* one host alone: its workers (-w, default 2); else one per host */
		m->workers_per_host = o->hosts || m->n_hosts > 1 ? 1 : o->workers;
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
	m->force = o->force;
	m->argc = o->argc;
	m->argv = o->argv;
	if (ret == 0 && !m->dry_run) {
		int lock_fd = -1; /* held until we exit */
		ret = state_lock_take(ctx->cluster, "control", &lock_fd, err);
	}
	if (ret == 0)
		ret = multi_up(ctx, m, err);
	for (size_t i = 0; i < m->n_hosts; i++)
		free(m->hosts[i]);
	free(m->hosts);
	return ret;
}

int cmd_up(struct sb_ctx *ctx, int argc, char **argv, struct sb_err *err)
{
	struct up_opts o = {0};
	int ret;

	ret = up_parse(ctx, argc, argv, &o, err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	o.argc = argc;
	o.argv = argv;
	/* Everything the user typed is checked before any host is even asked. */
	if (!o.hosts && !cli_routed(ctx)) {
		const char *lan_only = o.m.parent     ? "--parent"
		                       : o.m.gateway  ? "--gateway"
		                       : o.m.ip_range ? "--ip-range"
		                       : o.m.network && strcmp(o.m.network, "bridge") != 0
		                           ? "--network"
		                       : o.m.workers_set      ? "--workers-per-host"
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
	return up_hosts(ctx, &o, err);
}

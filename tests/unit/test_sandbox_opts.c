// SPDX-License-Identifier: Apache-2.0
/* cove run's option parsing and address allocation (pure logic). */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "runtime/runtime.h"

/* parse() - run rt_opts_parse on a NULL-terminated list of words. */
static int parse(struct sbx_opts *o, struct cove_err *err, const char **words)
{
	static char *argv[64];
	int argc = 0;

	while (words[argc]) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	return rt_opts_parse(argc, argv, o, err);
}

static void test_defaults(void)
{
	const char *w[] = { "run", "--network=kernel", "--", "true", NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, w) == 0);
	CHECK(o.mode == SBX_NET_STACK);
	CHECK(!strcmp(o.network, "kernel"));
	CHECK(o.link == SBX_LINK_PACKET);
	CHECK(!o.have_ip && !o.have_name && !o.verbose);
	CHECK(!o.host_fs_rw); /* the host read-only, root mapped: the default */
	CHECK(!strcmp(o.argv[0], "true") && !o.argv[1]);
}

static void test_host_fs(void)
{
	const char *rw[] = { "run", "--network=kernel", "--host-fs=rw", "true",
			     NULL };
	const char *ro[] = { "run",
			     "--network=kernel",
			     "--host-fs=rw",
			     "--host-fs",
			     "ro",
			     "true",
			     NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, rw) == 0 && o.host_fs_rw);
	CHECK(parse(&o, &err, ro) == 0 && !o.host_fs_rw);
}

static void test_all_options(void)
{
	const char *w[] = { "run",	    "--network",
			    "host",	    "--ip=192.168.7.9/24",
			    "--name",	    "web-1",
			    "--env",	    "A=b",
			    "--env=C=",	    "--workdir=/tmp",
			    "--user",	    "1000:100",
			    "--poll-us=50", "--verbose",
			    "redis-server", "--port",
			    "7000",	    NULL };
	struct sbx_opts o;
	struct cove_err err;
	char buf[INET_ADDRSTRLEN];

	CHECK(parse(&o, &err, w) == 0);
	CHECK(o.mode == SBX_NET_HOST);
	CHECK(o.have_ip && o.prefix_len == 24);
	CHECK(!strcmp(inet_ntop(AF_INET, &o.gateway, buf, sizeof(buf)),
		      "192.168.7.1"));
	CHECK(!strcmp(o.name, "web-1"));
	CHECK(o.nenv == 2 && !strcmp(o.env[1], "C="));
	CHECK(o.have_user && o.uid == 1000 && o.gid == 100);
	CHECK(o.poll_us == 50 && o.verbose);
	/* Options after the command belong to the command. */
	CHECK(!strcmp(o.argv[0], "redis-server") &&
	      !strcmp(o.argv[1], "--port"));
}

static void test_errors(void)
{
	static const char *bad[][4] = {
		{ "--network=nosuch", "x", NULL },
		{ "--ip=10.0.0.1", "x", NULL },
		{ "--ip=10.0.0.1/31", "x", NULL },
		{ "--ip=10.0.0.1/24", "x", NULL }, /* the gateway itself */
		{ "--name=../x", "x", NULL },
		{ "--name=", "x", NULL },
		{ "--publish=80", "x", NULL },
		{ "--publish=0:80", "x", NULL },
		{ "--env=noequals", "x", NULL },
		{ "--workdir=rel", "x", NULL },
		{ "--user=bob", "x", NULL },
		{ "--poll-us=-1", "x", NULL },
		{ "--link=xdp", "x", NULL },
		{ "--host-fs=yes", "x", NULL },
		{ "--host-fs", NULL },
		{ "--bogus", "x", NULL },
		{ "--network=kernel", NULL }, /* no command */
		{ "--netns=/run/netns/a", "--ip=10.0.0.2/24", "x", NULL },
	};
	struct sbx_opts o;
	struct cove_err err;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *w[8] = { "run" };
		unsigned j;

		for (j = 0; bad[i][j]; j++)
			w[j + 1] = bad[i][j];
		err.msg[0] = '\0';
		CHECK(parse(&o, &err, w) < 0);
		CHECK(err.msg[0] != '\0' && !strchr(err.msg, '\n'));
	}
}

/* No xdp link in this binary: the error says where to find one. */
static void test_link_xdp_absent(void)
{
	const char *w[] = { "run", "--link=xdp", "x", NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, w) < 0);
	CHECK(strstr(err.msg, "no xdp link (cove-plugin has)") != NULL);
}

static void test_help(void)
{
	const char *w[] = { "run", "--help", NULL };
	struct sbx_opts o;
	struct cove_err err;

	CHECK(parse(&o, &err, w) == 1);
}

static void test_names(void)
{
	CHECK(rt_name_valid("a"));
	CHECK(rt_name_valid("cove-0123abcd"));
	CHECK(!rt_name_valid(".lock"));
	CHECK(!rt_name_valid("a/b"));
	CHECK(!rt_name_valid("0123456789012345678901234567890123"));
}

static void test_ipam(void)
{
	uint32_t net = 0x0a580000u, out = 0;
	uint32_t used[] = { 0x0a580003u, 0x0a580002u, 0x0a580005u };
	uint32_t small[] = { 0xc0a80102u };

	CHECK(rt_ipam_pick(net, 16, NULL, 0, &out) == 0 && out == 0x0a580002u);
	CHECK(rt_ipam_pick(net, 16, used, 3, &out) == 0 && out == 0x0a580004u);
	/* A /30 has exactly one sandbox address besides the gateway. */
	CHECK(rt_ipam_pick(0xc0a80100u, 30, NULL, 0, &out) == 0 &&
	      out == 0xc0a80102u);
	CHECK(rt_ipam_pick(0xc0a80100u, 30, small, 1, &out) < 0);
	CHECK(rt_ipam_pick(net, 31, NULL, 0, &out) < 0);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_host_fs);
	RUN(test_all_options);
	RUN(test_errors);
	RUN(test_link_xdp_absent);
	RUN(test_help);
	RUN(test_names);
	RUN(test_ipam);
	return check_failures ? 1 : 0;
}

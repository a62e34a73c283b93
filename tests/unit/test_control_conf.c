// SPDX-License-Identifier: Apache-2.0
/* Unit tests: control addresses and cove.conf parsing. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "control/control.h"
#include "check.h"

static void test_addr_good(void)
{
	struct cove_ctl_addr a;
	struct cove_err err = { 0 };
	char s[160];

	CHECK(cove_ctl_addr_parse(NULL, "box1", &a, &err) == 0);
	CHECK(a.transport == COVE_CTL_UNIX);
	CHECK(strcmp(a.path, "/run/cove/box1/control.sock") == 0);
	CHECK(cove_ctl_addr_parse("unix", "b", &a, &err) == 0);
	CHECK(strcmp(a.path, "/run/cove/b/control.sock") == 0);
	CHECK(cove_ctl_addr_parse("unix:/tmp/x.sock", NULL, &a, &err) == 0);
	CHECK(strcmp(a.path, "/tmp/x.sock") == 0);
	CHECK(cove_ctl_addr_parse("vsock:3:1024", NULL, &a, &err) == 0);
	CHECK(a.transport == COVE_CTL_VSOCK && a.cid == 3 && a.port == 1024);
	CHECK(strcmp(cove_ctl_addr_str(&a, s, sizeof(s)), "vsock:3:1024") == 0);
	CHECK(cove_ctl_addr_parse("vsock:4294967295:0", NULL, &a, &err) == 0);
	CHECK(a.cid == 4294967295u && a.port == 0);
	CHECK(cove_ctl_addr_parse("hvsock:/run/fc/v.sock:52", NULL, &a, &err) ==
	      0);
	CHECK(a.transport == COVE_CTL_HVSOCK && a.port == 52);
	CHECK(strcmp(a.path, "/run/fc/v.sock") == 0);
	/* the port is after the last colon; the path may hold colons */
	CHECK(cove_ctl_addr_parse("hvsock:/a:b/v.sock:7", NULL, &a, &err) == 0);
	CHECK(strcmp(a.path, "/a:b/v.sock") == 0 && a.port == 7);
	CHECK(strcmp(cove_ctl_addr_str(&a, s, sizeof(s)),
		     "hvsock:/a:b/v.sock:7") == 0);
}

static void test_addr_bad(void)
{
	static const char *const bad[] = {
		"tcp:1.2.3.4:5",
		"unix:",
		"vsock:3",
		"vsock::5",
		"vsock:3:",
		"vsock:x:5",
		"vsock:3:5x",
		"vsock:4294967296:1",
		"vsock:-1:2",
		"hvsock:/p",
		"hvsock::5",
		"hvsock:/p:",
		"hvsock:/p:99999999999",
	};
	struct cove_ctl_addr a;
	struct cove_err err = { 0 };
	char longp[300];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cove_err_clear(&err);
		CHECK(cove_ctl_addr_parse(bad[i], "n", &a, &err) == -1);
		CHECK(strstr(err.msg, "control address") != NULL);
		CHECK(strchr(err.msg, '\n') == NULL);
	}
	CHECK(cove_ctl_addr_parse(NULL, NULL, &a, &err) == -1);
	CHECK(cove_ctl_addr_parse("unix", "../etc", &a, &err) == -1);
	CHECK(cove_ctl_addr_parse("unix", "..", &a, &err) == -1);
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "unix:/", 6);
	longp[sizeof(longp) - 1] = '\0';
	CHECK(cove_ctl_addr_parse(longp, NULL, &a, &err) == -1);
	CHECK(strstr(err.msg, "longer than") != NULL);
	memset(longp, 'b', 200);
	longp[200] = '\0';
	CHECK(cove_ctl_addr_parse("unix", longp, &a, &err) == -1);
}

static void test_config_good(void)
{
	static const char text[] =
		"# Cove configuration\n"
		"\n"
		"dial.attempt_timeout_ms = 25\n"
		"  dial.retry_initial_ms=2   # trailing comment\n"
		"dial.retry_max_ms\t=\t40\r\n"
		"dial.deadline_ms = 1000\n"
		"dial.handshake_timeout_ms = 7\n"
		"control.max_frame_bytes = 65536"; /* no final newline */
	struct cove_config cfg;
	struct cove_err err = { 0 };

	cove_config_defaults(&cfg);
	CHECK(cfg.dial_attempt_timeout_ms == 50 &&
	      cfg.dial_retry_initial_ms == 1 && cfg.dial_retry_max_ms == 10 &&
	      cfg.dial_deadline_ms == 5000);
	CHECK(cove_config_parse(text, strlen(text), "t.conf", &cfg, &err) == 0);
	CHECK(cfg.dial_attempt_timeout_ms == 25);
	CHECK(cfg.dial_retry_initial_ms == 2);
	CHECK(cfg.dial_retry_max_ms == 40);
	CHECK(cfg.dial_deadline_ms == 1000);
	CHECK(cfg.dial_handshake_timeout_ms == 7);
	CHECK(cfg.control_max_frame == 65536);
	CHECK(cove_config_parse("", 0, "empty", &cfg, &err) == 0);
	CHECK(cove_config_set(&cfg, "dial.deadline_ms", "77", &err) == 0);
	CHECK(cfg.dial_deadline_ms == 77);
}

/* bad_case() - parse @text and expect an error mentioning @want */
static void bad_case(const char *text, const char *want)
{
	struct cove_config cfg;
	struct cove_err err = { 0 };

	cove_config_defaults(&cfg);
	CHECK(cove_config_parse(text, strlen(text), "c.conf", &cfg, &err) ==
	      -1);
	if (!strstr(err.msg, want)) {
		fprintf(stderr, "  message '%s' lacks '%s'\n", err.msg, want);
		CHECK(0);
	}
}

static void test_config_bad(void)
{
	struct cove_config cfg;
	struct cove_err err = { 0 };

	bad_case("dial.deadline_ms = 5\nnope = 1\n",
		 "c.conf:2: unknown key 'nope'");
	bad_case("\n\ndial.deadline_ms = abc\n",
		 "c.conf:3: dial.deadline_ms: expected a whole number");
	bad_case("dial.deadline_ms = -1\n", "c.conf:1:");
	bad_case("dial.deadline_ms = 0\n", "out of range");
	bad_case("dial.deadline_ms = 99999999999999999999\n", "c.conf:1:");
	bad_case("dial.deadline_ms =\n", "missing value");
	bad_case("dial.deadline_ms 5\n", "expected 'key = value'");
	bad_case("control.max_frame_bytes = 2000000\n", "out of range");
	bad_case("dial.retry_initial_ms = 30\ndial.retry_max_ms = 10\n",
		 "larger than dial.retry_max_ms");
	bad_case("dial.deadline_ms = 1 2\n", "expected a whole number");
	CHECK(cove_config_parse("a\0b = 1\n", 8, "z", &cfg, &err) == -1);
	CHECK(strstr(err.msg, "z:1: NUL") != NULL);
	CHECK(cove_config_set(&cfg, "dial.bogus", "1", &err) == -1);
	CHECK(strstr(err.msg, "unknown setting 'dial.bogus'") != NULL);
}

/* pool and pool6: networks of unicast addresses, defaults as sandbox.h. */
static void test_config_pools(void)
{
	static const char text[] = "pool = 10.50.0.0/20 # ours\n"
				   "pool6 =  fd00:12:34::/48\n";
	struct cove_config cfg;
	struct cove_err err = { 0 };
	char s[INET6_ADDRSTRLEN];

	cove_config_defaults(&cfg);
	inet_ntop(AF_INET, &cfg.pool, s, sizeof(s));
	CHECK(!strcmp(s, "10.209.0.0") && cfg.pool_prefix == 16);
	inet_ntop(AF_INET6, &cfg.pool6, s, sizeof(s));
	CHECK(!strcmp(s, "fd63:6f76:6500::") && cfg.pool6_prefix == 48);
	CHECK(cove_config_parse(text, strlen(text), "p", &cfg, &err) == 0);
	inet_ntop(AF_INET, &cfg.pool, s, sizeof(s));
	CHECK(!strcmp(s, "10.50.0.0") && cfg.pool_prefix == 20);
	inet_ntop(AF_INET6, &cfg.pool6, s, sizeof(s));
	CHECK(!strcmp(s, "fd00:12:34::") && cfg.pool6_prefix == 48);
	CHECK(cove_config_set(&cfg, "pool6", "2001:db8::/64", &err) == 0 &&
	      cfg.pool6_prefix == 64);
	bad_case("pool = 10.50.0.0\n", "pool: expected A.B.C.D/N (N 8..30)");
	bad_case("pool = 10.50.0.0/31\n", "expected A.B.C.D/N");
	bad_case("pool = 10.50.0.0/\n", "expected A.B.C.D/N");
	bad_case("pool = 10.50.0.0/+16\n", "expected A.B.C.D/N");
	bad_case("pool = 10.50.0.1/16\n", "bits set past its prefix");
	bad_case("pool = 127.0.0.0/8\n", "not unicast");
	bad_case("pool = 224.0.0.0/8\n", "not unicast");
	bad_case("pool = fd00::/48\n", "expected A.B.C.D/N");
	bad_case("pool6 = fd00::/65\n", "expected an IPv6 network/N");
	bad_case("pool6 = fd00::1/64\n", "bits set past its prefix");
	bad_case("pool6 = fe80::/64\n", "not unicast");
	bad_case("pool6 = ff00::/8\n", "not unicast");
	bad_case("pool6 = ::/8\n", "not unicast");
	bad_case("pool6 = 10.0.0.0/8\n", "expected an IPv6");
	bad_case("pool6 = fd00:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/48\n",
		 "expected an IPv6");
}

static void test_config_load(void)
{
	char path[] = "/tmp/cv-control-conf-XXXXXX";
	struct cove_config cfg;
	struct cove_err err = { 0 };
	int fd;

	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "dial.retry_max_ms = 9\nx = 1\n", 28) == 28);
	close(fd);
	CHECK(cove_config_load(path, &cfg, &err) == -1);
	CHECK(strstr(err.msg, ":2: unknown key 'x'") != NULL);
	fd = open(path, O_WRONLY | O_TRUNC);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, "dial.retry_max_ms = 9\n", 22) == 22);
	close(fd);
	CHECK(cove_config_load(path, &cfg, &err) == 0);
	CHECK(cfg.dial_retry_max_ms == 9 && cfg.dial_deadline_ms == 5000);
	unlink(path);
	CHECK(cove_config_load(path, &cfg, &err) ==
	      -1); /* explicit: must exist */
	CHECK(strstr(err.msg, "cannot open config") != NULL);
}

int main(void)
{
	RUN(test_addr_good);
	RUN(test_addr_bad);
	RUN(test_config_good);
	RUN(test_config_bad);
	RUN(test_config_load);
	RUN(test_config_pools);
	return check_summary();
}

// SPDX-License-Identifier: Apache-2.0
/* Unit tests for common/cleanup.h: scope-bound release and hand-off. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "tests/unit/check.h"

/* fd_open() - true if @fd is an open descriptor of this process. */
static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_close_on_scope_exit(void)
{
	int seen = -1;

	{
		cove_cleanup_close int fd = open("/dev/null", O_RDONLY);

		REQUIRE(fd >= 0);
		seen = fd;
		CHECK(fd_open(seen));
	}
	CHECK(!fd_open(seen) && errno == EBADF);
}

/* early_return() - open two fds, hand one off, fail after the second. */
static int early_return(int *kept, int *dropped, bool fail)
{
	cove_cleanup_close int a = open("/dev/null", O_RDONLY);
	cove_cleanup_close int b = open("/dev/null", O_RDONLY);

	*kept = a;
	*dropped = b;
	if (fail)
		return -1;	  /* both closed */
	return cove_steal_fd(&a); /* a is the caller's now, b closed */
}

static void test_steal_fd(void)
{
	int kept, dropped, r;

	r = early_return(&kept, &dropped, true);
	CHECK(r == -1);
	CHECK(!fd_open(kept) && !fd_open(dropped));

	r = early_return(&kept, &dropped, false);
	CHECK(r == kept && fd_open(kept));
	CHECK(!fd_open(dropped));
	close(r);
}

static void test_empty_values(void)
{
	/* -1 and NULL release nothing (and crash on nothing). */
	{
		cove_cleanup_close int fd = -1;
		cove_cleanup_free char *p = NULL;
		cove_cleanup_fclose FILE *f = NULL;
		cove_cleanup_closedir DIR *d = NULL;

		(void)fd;
		(void)p;
		(void)f;
		(void)d;
	}
	{
		cove_cleanup_close int fd = open("/dev/null", O_RDONLY);

		CHECK(cove_steal_fd(&fd) >= 0 && fd == -1);
		CHECK(cove_steal_fd(&fd) == -1);
	}
}

static void test_close_early(void)
{
	int seen, again;

	{
		cove_cleanup_close int fd = open("/dev/null", O_RDONLY);

		REQUIRE(fd >= 0);
		seen = fd;
		cove_closep(&fd);
		CHECK(fd == -1 && !fd_open(seen));
		/* The number is reused; the scope's clean-up must not close it. */
		again = open("/dev/null", O_RDONLY);
		CHECK(again == seen);
	}
	CHECK(fd_open(again));
	close(again);
}

static void test_errno_kept(void)
{
	int fd;

	{
		cove_cleanup_close int tmp = open("/dev/null", O_RDONLY);

		fd = tmp;
		errno = ENOSPC;
	}
	CHECK(errno == ENOSPC);
	CHECK(!fd_open(fd));
}

/* make_buf() - a malloc'ed copy of @s handed to the caller, or NULL. */
static char *make_buf(const char *s, bool fail)
{
	cove_cleanup_free char *p = strdup(s);

	if (!p || fail)
		return NULL; /* freed here; ASan's leak check would see it */
	return cove_steal_ptr(&p);
}

static void test_steal_ptr(void)
{
	char *q = make_buf("cove", false);

	CHECK(q && !strcmp(q, "cove"));
	free(q);
	CHECK(make_buf("cove", true) == NULL);
	{
		cove_cleanup_free int *n = malloc(sizeof(*n));
		int *mine;

		REQUIRE(n);
		*n = 7;
		mine = cove_steal_ptr(&n);
		CHECK(n == NULL && *mine == 7);
		free(mine);
	}
}

static void test_fclose_closedir(void)
{
	int fd;

	{
		cove_cleanup_fclose FILE *f = fopen("/dev/null", "re");

		REQUIRE(f);
		fd = fileno(f);
		CHECK(fd_open(fd));
	}
	CHECK(!fd_open(fd));
	{
		cove_cleanup_closedir DIR *d = opendir("/");

		REQUIRE(d);
		fd = dirfd(d);
		CHECK(fd_open(fd));
	}
	CHECK(!fd_open(fd));
}

int main(void)
{
	RUN(test_close_on_scope_exit);
	RUN(test_steal_fd);
	RUN(test_empty_values);
	RUN(test_close_early);
	RUN(test_errno_kept);
	RUN(test_steal_ptr);
	RUN(test_fclose_closedir);
	return check_summary();
}

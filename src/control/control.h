/* SPDX-License-Identifier: Apache-2.0 */
/* Control channel API: addresses, dialer, config, frames, server, client. */
#ifndef COVE_CONTROL_H
#define COVE_CONTROL_H

/*
 * The sentry listens; the runtime dials. Nothing here listens on behalf of
 * the runtime, so a compromised sandbox finds no runtime socket to attack.
 *
 *   addr.c    parse "unix:PATH", "vsock:CID:PORT", "hvsock:PATH:PORT"
 *   dial.c    one dialer for every transport: non-blocking connect + poll,
 *             bounded retries, readiness fd; hvsock.c does the hybrid
 *             vsock "CONNECT <port>" handshake
 *   config.c  /etc/cove/cove.conf ("key = value")
 *   frame.c   ttrpc-style 10-byte frame header and incremental decoder
 *   msg.c     protobuf-c envelopes (Request/Response) and their checks
 *   server.c  the sentry's listener: framing, dispatch; server_admit.c
 *             peer credentials, the connection limit, handshake and idle
 *             timeouts; server_table.c the slot table's basics
 *   client.c  the runtime's side: dial, hello, call with a deadline
 *
 * Times are milliseconds on CLOCK_MONOTONIC; a deadline is an absolute
 * time on that clock (cove_now_ms() + timeout).
 *
 * Theory of operation
 *
 * The runtime starts the sentry, then dials it: cove_ctl_dial() retries
 * with a doubling pause (retry_initial_ms up to retry_max_ms) until the
 * deadline, and cuts a pause short when the sentry writes its readiness
 * byte (ready.c), so the next attempt follows as soon as it listens.
 * The dialer keeps no state between calls; what it did is returned in
 * struct cove_ctl_conn (attempts, the pauses it chose), which tests check
 * instead of a wall clock. The connection is then adopted by a client,
 * whose first call is cove.Hello (version agreement, and the sentry's
 * peer check answered).
 *
 * State lives in three objects, each owned by one side and freed by its
 * _close()/_free():
 *
 *  - struct cove_ctl_rx, the frame decoder both sides use: received bytes
 *    in buf[off..len), never more than one whole frame (max + 10 bytes),
 *    every header checked before its payload is buffered.
 *  - struct cove_ctl_client (runtime): one connection, one call at a time.
 *    Calls use odd stream ids in increasing order; a response for an older
 *    stream (a call that timed out) is dropped. A call that timed out
 *    waiting for its response leaves the client usable; a transport or
 *    framing error marks it broken and every later call fails with
 *    ENOTCONN, so the caller closes it.
 *  - struct cove_ctl_server (sentry): listeners and a fixed table of
 *    connections behind one epoll fd, served without blocking from the
 *    sentry's loop. A bad frame closes that connection only. A handler
 *    may answer later (cove.Wait) through struct cove_ctl_call, which goes
 *    stale safely when its connection closes.
 *
 * Trust: each side treats the other's bytes as hostile. The sentry runs
 * beside the sandboxed program and may be compromised, so the client
 * bounds every frame by control_max_frame and validates every envelope
 * (msg.c) before a verb reads it; the server checks its peer (uid or
 * vsock CID) at accept and bounds decoder, transmit queue and passed fds
 * per connection.
 *
 * Errors: this is control plane code. Functions return 0 or -1 and fill a
 * struct cove_err with one line a person can act on (its code is an errno
 * value); the frame decoder and the envelope checks, used by both, return
 * -1 with a static reason in *why instead.
 */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cove/err.h"

/* Time: src/common/clock.h (cove_now_ms(), cove_ms_left()). */

/* ---- addresses (addr.c) -------------------------------------------- */

enum cove_ctl_transport {
	COVE_CTL_UNIX = 1,
	COVE_CTL_VSOCK,
	COVE_CTL_HVSOCK, /* Firecracker / Cloud Hypervisor */
};

#define COVE_CTL_PATH_MAX 108 /* sizeof(sun_path) */
#define COVE_CTL_RUN_DIR  "/run/cove"

struct cove_ctl_addr {
	enum cove_ctl_transport transport;
	char path[COVE_CTL_PATH_MAX]; /* unix, hvsock: socket path */
	uint32_t cid;		      /* vsock */
	uint32_t port;		      /* vsock, hvsock */
};

/**
 * cove_ctl_addr_parse() - parse a --control value
 * @spec:	"unix", "unix:PATH", "vsock:CID:PORT" or "hvsock:PATH:PORT";
 *		NULL or "" means "unix"
 * @name:	sandbox name, for the default path
 *		/run/cove/NAME/control.sock (may be NULL if @spec has a path)
 * @out:	filled on success
 * @err:	one-line reason on failure
 *
 * Return: 0 or -1.
 */
int cove_ctl_addr_parse(const char *spec, const char *name,
			struct cove_ctl_addr *out, struct cove_err *err);

/**
 * cove_ctl_addr_str() - format an address the way it is parsed
 * @a:		address
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: @buf.
 */
const char *cove_ctl_addr_str(const struct cove_ctl_addr *a, char *buf,
			      size_t len);

/* ---- configuration (config.c) -------------------------------------- */

#define COVE_CONFIG_DEFAULT_PATH "/etc/cove/cove.conf"
#define COVE_CTL_FRAME_MAX	 (1u << 20) /* hard limit on a frame payload */

struct cove_config {
	uint32_t dial_attempt_timeout_ms;   /* one connect attempt */
	uint32_t dial_retry_initial_ms;	    /* first pause between attempts */
	uint32_t dial_retry_max_ms;	    /* cap of the doubling pause */
	uint32_t dial_deadline_ms;	    /* whole dial */
	uint32_t dial_handshake_timeout_ms; /* hybrid vsock reply line */
	uint32_t control_max_frame;	    /* <= COVE_CTL_FRAME_MAX */
	/* cove run's address pools ("pool", "pool6"; network order) */
	struct in_addr pool;
	uint8_t pool_prefix; /* 8..30 */
	struct in6_addr pool6;
	uint8_t pool6_prefix; /* 8..64 */
};

/**
 * cove_config_defaults() - fill the built-in defaults
 * @cfg:	configuration to fill
 */
void cove_config_defaults(struct cove_config *cfg);

/**
 * cove_config_parse() - apply "key = value" lines to a configuration
 * @text:	file contents (need not be NUL-terminated)
 * @len:	bytes in @text
 * @file:	name used in messages ("file:line: ...")
 * @cfg:	configuration, changed key by key; on error it may be half
 *		applied, so parse into a copy if that matters
 * @err:	"FILE:LINE: reason" on failure
 *
 * Return: 0 or -1.
 */
int cove_config_parse(const char *text, size_t len, const char *file,
		      struct cove_config *cfg, struct cove_err *err);

/**
 * cove_config_load() - defaults, then a file
 * @path:	file to read; NULL means COVE_CONFIG_DEFAULT_PATH, which may
 *		be missing (defaults stay); an explicit path must exist
 * @cfg:	filled on success
 * @err:	reason on failure
 *
 * Return: 0 or -1.
 */
int cove_config_load(const char *path, struct cove_config *cfg,
		     struct cove_err *err);

/**
 * cove_config_set() - set one key, as the config file or a flag would
 * @cfg:	configuration
 * @key:	"dial.deadline_ms", ...
 * @value:	decimal value
 * @err:	reason on failure
 *
 * Return: 0 or -1.
 */
int cove_config_set(struct cove_config *cfg, const char *key, const char *value,
		    struct cove_err *err);

/* ---- dialer (dial.c, hvsock.c) ------------------------------------- */

struct cove_ctl_dial_opts {
	uint32_t attempt_timeout_ms;   /* default 50 */
	uint32_t retry_initial_ms;     /* default 1 */
	uint32_t retry_max_ms;	       /* default 10 */
	uint32_t deadline_ms;	       /* default 5000 */
	uint32_t handshake_timeout_ms; /* default 100, hvsock only */
	int ready_fd;		       /* readiness fd or -1 */
};

#define COVE_CTL_HS_MAX 64 /* longest hybrid vsock reply line */

#define COVE_CTL_TRACE_MAX   64	     /* pauses a dial trace records */
#define COVE_CTL_TRACE_EARLY 0x8000u /* pause_ms flag: ended early */

/*
 * The schedule a dial followed, so tests check the schedule itself (each
 * pause as chosen, which ones a wake source cut short, when the last two
 * attempts started) rather than timing the dial with a wall clock.
 */
struct cove_ctl_dial_trace {
	uint32_t n;	  /* pauses recorded in pause_ms[] */
	uint32_t dropped; /* pauses past COVE_CTL_TRACE_MAX */
	uint32_t early;	  /* pauses a wake source ended early */
	uint16_t pause_ms[COVE_CTL_TRACE_MAX]; /* as chosen, | _EARLY */
	int64_t prev_start_ns; /* CLOCK_MONOTONIC, 0: one attempt */
	int64_t last_start_ns; /* start of the attempt that ended it */
};

/* A connected channel: the fd plus bytes that arrived with the handshake. */
struct cove_ctl_conn {
	int fd;
	size_t pending_len;
	uint8_t pending[COVE_CTL_HS_MAX];
	unsigned attempts;		  /* connect attempts made, for tests */
	struct cove_ctl_dial_trace trace; /* the schedule followed */
};

/**
 * cove_ctl_trace_str() - a dial's schedule as one line for --verbose
 * @t:		trace
 * @buf:	output, "pauses 1,2,4,8e ms; +3 more" (e: ended early)
 * @len:	its size
 *
 * Return: @buf.
 */
const char *cove_ctl_trace_str(const struct cove_ctl_dial_trace *t, char *buf,
			       size_t len);

/**
 * cove_ctl_dial_opts_from() - dial options from a configuration
 * @o:		filled
 * @cfg:	configuration, or NULL for the defaults
 */
void cove_ctl_dial_opts_from(struct cove_ctl_dial_opts *o,
			     const struct cove_config *cfg);

/**
 * cove_ctl_dial() - connect to a sandbox's control socket
 * @a:		address
 * @o:		options (NULL: defaults)
 * @out:	the connection (non-blocking fd, close-on-exec)
 * @err:	one clear line naming the transport and address on failure
 *
 * Retries ECONNREFUSED, ENOENT, ECONNRESET, a per-attempt timeout and a
 * hybrid handshake closed before its reply line; fails at once on
 * anything else; never runs past the deadline. While pausing between
 * attempts it watches @o->ready_fd, so a listener that announces itself
 * is dialed at once.
 *
 * Return: 0 or -1.
 */
int cove_ctl_dial(const struct cove_ctl_addr *a,
		  const struct cove_ctl_dial_opts *o, struct cove_ctl_conn *out,
		  struct cove_err *err);

/**
 * cove_ctl_wait_ready() - wait for the sentry's readiness byte
 * @fd:		read end of the readiness pipe
 * @deadline:	absolute CLOCK_MONOTONIC ms
 * @err:	reason on failure
 *
 * Return: 0 once a byte was read; -1 on timeout (ETIMEDOUT), on end of
 * file (EPIPE: the sentry exited before listening) or on a read error.
 */
int cove_ctl_wait_ready(int fd, int64_t deadline, struct cove_err *err);

/**
 * cove_ctl_signal_ready() - the sentry's side: write the readiness byte
 * @fd:		write end of the readiness pipe
 *
 * Return: 0 or negative errno.
 */
int cove_ctl_signal_ready(int fd);

/* ---- frames (frame.c) ---------------------------------------------- */

#define COVE_CTL_HDR_LEN 10

enum cove_ctl_frame_type {
	COVE_CTL_T_REQUEST = 1,
	COVE_CTL_T_RESPONSE = 2,
	COVE_CTL_T_DATA = 3,
};

#define COVE_CTL_F_REMOTE_CLOSED 0x01
#define COVE_CTL_F_REMOTE_OPEN	 0x02
#define COVE_CTL_F_NO_DATA	 0x04
#define COVE_CTL_F_ALL		 0x07

struct cove_ctl_hdr {
	uint32_t len; /* payload bytes after the header */
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
};

/**
 * cove_ctl_hdr_put() - write a frame header
 * @out:	10 bytes
 * @h:		header
 */
void cove_ctl_hdr_put(uint8_t out[COVE_CTL_HDR_LEN],
		      const struct cove_ctl_hdr *h);

/**
 * cove_ctl_hdr_get() - read and validate a frame header
 * @buf:	bytes received
 * @avail:	how many
 * @max:	largest payload accepted
 * @h:		filled when the header is complete
 * @why:	static reason when the header is invalid
 *
 * Return: 1 header valid, 0 need more bytes, -1 invalid (*@why says why).
 */
int cove_ctl_hdr_get(const uint8_t *buf, size_t avail, uint32_t max,
		     struct cove_ctl_hdr *h, const char **why);

/* Incremental decoder: bytes in, whole frames out. */
struct cove_ctl_rx {
	uint8_t *buf;
	size_t cap, len, off; /* frames live in buf[off..len) */
	uint32_t max;	      /* payload limit */
};

/**
 * cove_ctl_rx_init() - an empty decoder
 * @rx:		decoder
 * @max:	payload limit, clamped to COVE_CTL_FRAME_MAX
 */
void cove_ctl_rx_init(struct cove_ctl_rx *rx, uint32_t max);

/**
 * cove_ctl_rx_free() - release a decoder's buffer
 * @rx:		decoder
 */
void cove_ctl_rx_free(struct cove_ctl_rx *rx);

/**
 * cove_ctl_rx_space() - room to receive into
 * @rx:		decoder
 * @want:	bytes wanted (grown up to one whole frame)
 * @room:	set to the bytes available at the returned pointer
 *
 * Return: where to write, or NULL on allocation failure.
 */
uint8_t *cove_ctl_rx_space(struct cove_ctl_rx *rx, size_t want, size_t *room);

/**
 * cove_ctl_rx_commit() - account bytes written at cove_ctl_rx_space()
 * @rx:		decoder
 * @n:		bytes written
 */
void cove_ctl_rx_commit(struct cove_ctl_rx *rx, size_t n);

/**
 * cove_ctl_rx_feed() - copy bytes in (tests, fuzzers, hvsock leftovers)
 * @rx:		decoder
 * @p:		bytes
 * @n:		count
 *
 * Return: 0 or -ENOMEM.
 */
int cove_ctl_rx_feed(struct cove_ctl_rx *rx, const uint8_t *p, size_t n);

/**
 * cove_ctl_rx_next() - the next whole frame, if any
 * @rx:		decoder
 * @h:		header of the frame
 * @payload:	set to its payload, valid until the next call on @rx
 * @why:	reason when the stream is invalid
 *
 * Return: 1 frame returned, 0 need more bytes, -1 invalid stream.
 */
int cove_ctl_rx_next(struct cove_ctl_rx *rx, struct cove_ctl_hdr *h,
		     const uint8_t **payload, const char **why);

/* ---- messages (msg.c) ---------------------------------------------- */

#define COVE_CTL_VERSION    1 /* protocol version spoken here */
#define COVE_CTL_METHOD_MAX 64

/* Status codes: the values of cove.control.Code (gRPC numbering). */
enum cove_ctl_code {
	COVE_CTL_OK = 0,
	COVE_CTL_INVALID_ARGUMENT = 3,
	COVE_CTL_DEADLINE_EXCEEDED = 4,
	COVE_CTL_NOT_FOUND = 5,
	COVE_CTL_ALREADY_EXISTS = 6,
	COVE_CTL_PERMISSION_DENIED = 7,
	COVE_CTL_RESOURCE_EXHAUSTED = 8,
	COVE_CTL_FAILED_PRECONDITION = 9,
	COVE_CTL_UNIMPLEMENTED = 12,
	COVE_CTL_INTERNAL = 13,
	COVE_CTL_UNAVAILABLE = 14,
};

/* A decoded, validated request envelope (borrowed from the frame). */
struct cove_ctl_request {
	char method[COVE_CTL_METHOD_MAX + 1];
	const uint8_t *payload;
	size_t payload_len;
	uint32_t timeout_ms;
	void *pb; /* owns the bytes above */
};

/* A decoded, validated response envelope. */
struct cove_ctl_response {
	int32_t code;
	char message[256];
	uint8_t *payload; /* malloc'd copy, caller frees */
	size_t payload_len;
};

/**
 * cove_ctl_msg_request_decode() - unpack and check a Request envelope
 * @p:		frame payload
 * @n:		its length
 * @out:	filled; release with cove_ctl_msg_request_free()
 * @why:	static reason on failure
 *
 * Return: 0 or -1.
 */
int cove_ctl_msg_request_decode(const uint8_t *p, size_t n,
				struct cove_ctl_request *out, const char **why);

/**
 * cove_ctl_msg_request_free() - release a decoded request
 * @r:		request
 */
void cove_ctl_msg_request_free(struct cove_ctl_request *r);

/**
 * cove_ctl_msg_response_decode() - unpack and check a Response envelope
 * @p:		frame payload
 * @n:		its length
 * @out:	filled; free @out->payload
 * @why:	static reason on failure
 *
 * Return: 0 or -1.
 */
int cove_ctl_msg_response_decode(const uint8_t *p, size_t n,
				 struct cove_ctl_response *out,
				 const char **why);

/**
 * cove_ctl_msg_request_frame() - a Request frame
 * @stream:	stream id (odd)
 * @method:	method name
 * @payload:	packed method message (may be NULL when @len is 0)
 * @len:	its length
 * @timeout_ms:	0 or the caller's timeout
 * @max:	payload limit
 * @out_len:	frame length
 *
 * Return: malloc'd frame or NULL.
 */
uint8_t *cove_ctl_msg_request_frame(uint32_t stream, const char *method,
				    const uint8_t *payload, size_t len,
				    uint32_t timeout_ms, uint32_t max,
				    size_t *out_len);

/**
 * cove_ctl_msg_response_frame() - a Response frame
 * @stream:	stream id of the request
 * @code:	status
 * @message:	text when @code != 0 (may be NULL)
 * @payload:	packed method message (may be NULL when @len is 0)
 * @len:	its length
 * @max:	payload limit
 * @out_len:	frame length
 *
 * Return: malloc'd frame or NULL.
 */
uint8_t *cove_ctl_msg_response_frame(uint32_t stream, int32_t code,
				     const char *message,
				     const uint8_t *payload, size_t len,
				     uint32_t max, size_t *out_len);

/**
 * cove_ctl_msg_check_payload() - decode a method's payload and throw it away
 * @method:	method name
 * @response:	true for the response message, false for the request
 * @p:		payload
 * @n:		its length
 *
 * Used by the fuzzer and by the server's own methods.
 *
 * Return: 0 valid, -1 invalid or unknown method.
 */
int cove_ctl_msg_check_payload(const char *method, int response,
			       const uint8_t *p, size_t n);

/* ---- server (server.c) --------------------------------------------- */

struct cove_ctl_server;

/* Identifies one call, so a handler can answer later (cove.Wait). */
struct cove_ctl_call {
	uint64_t conn_gen; /* connection generation */
	uint32_t stream;
};

/* What a handler returns; the server owns and frees payload. */
struct cove_ctl_reply {
	int32_t code;
	char message[256];
	uint8_t *payload; /* malloc'd packed message, or NULL */
	size_t len;
	int deferred; /* handler answers later */
};

/**
 * typedef cove_ctl_handler_fn - serve one method
 * @opaque:	the server config's opaque
 * @call:	identity of the call (keep it to answer later)
 * @req:	request payload, valid during the call only
 * @len:	its length
 * @rep:	fill code/message/payload, or set deferred and later call
 *		cove_ctl_server_reply() with @call
 */
typedef void (*cove_ctl_handler_fn)(void *opaque,
				    const struct cove_ctl_call *call,
				    const uint8_t *req, size_t len,
				    struct cove_ctl_reply *rep);

struct cove_ctl_method {
	const char *name; /* "cove.Exec" */
	cove_ctl_handler_fn fn;
};

/* Most fds one request may carry (SCM_RIGHTS): stdin, stdout, stderr. */
#define COVE_CTL_MAX_FDS 3

struct cove_ctl_server_cfg {
	uid_t owner_uid;       /* only this peer uid (and root) may connect */
	unsigned max_conns;    /* 0: 16; when full an idle one makes room */
	uint32_t handshake_ms; /* 0: 3000; no cove.Hello by then: closed */
	uint32_t idle_ms;      /* 0: 60000; no request, no deferred call */
	uint32_t evict_ms;     /* 0: 1000; idle this long: may give way */
	uint32_t max_frame;    /* 0: COVE_CTL_FRAME_MAX */
	mode_t socket_mode;    /* 0: 0600 */
	const char *sandbox;   /* name, for Hello */
	const struct cove_ctl_method *methods; /* NULL-name terminated */
	void *opaque;
	/* Log one line (no newline); NULL: stderr with a "cove: " prefix. */
	void (*log)(void *opaque, const char *line);
	/* The clock of the timeouts, in ms; NULL: cove_now_ms(). Tests
	 * inject one (tests/unit/test_control_limits.c). */
	int64_t (*now_ms)(void *opaque);
};

/**
 * cove_ctl_server_new() - a server with no listener yet
 * @cfg:	configuration (copied; methods must outlive the server)
 * @out:	the server
 * @err:	reason on failure
 *
 * Return: 0 or -1.
 */
int cove_ctl_server_new(const struct cove_ctl_server_cfg *cfg,
			struct cove_ctl_server **out, struct cove_err *err);

/**
 * cove_ctl_server_listen() - add a listening socket
 * @srv:	server
 * @a:		unix or vsock address (hvsock: the VMM listens, the guest
 *		side uses vsock)
 * @err:	reason on failure
 *
 * A unix socket's directory must exist; a stale socket file is replaced.
 *
 * Return: 0 or -1.
 */
int cove_ctl_server_listen(struct cove_ctl_server *srv,
			   const struct cove_ctl_addr *a, struct cove_err *err);

/**
 * cove_ctl_server_adopt() - serve a socket that is already connected
 * @srv:	server
 * @fd:		stream socket, e.g. one end of a socketpair the runtime made
 *		when it started the sentry; taken over (closed on failure)
 * @err:	reason on failure
 *
 * No peer check: whoever created the pair chose the peer.
 *
 * Return: 0 or -1.
 */
int cove_ctl_server_adopt(struct cove_ctl_server *srv, int fd,
			  struct cove_err *err);

/**
 * cove_ctl_server_fd() - the fd to watch (readable: call _run())
 * @srv:	server
 *
 * Return: an epoll fd that covers every listener and connection.
 */
int cove_ctl_server_fd(const struct cove_ctl_server *srv);

/**
 * cove_ctl_server_run() - serve whatever is ready, without blocking
 * @srv:	server
 * @timeout_ms:	how long to wait for the first event (0: do not wait)
 *
 * Return: events handled, or negative errno if the epoll fd failed.
 */
int cove_ctl_server_run(struct cove_ctl_server *srv, int timeout_ms);

/**
 * cove_ctl_server_reply() - answer a deferred call
 * @srv:	server
 * @call:	from the handler
 * @rep:	the answer; its payload is taken over (freed by the server)
 *
 * Return: 0, or -ENOENT if the connection has gone.
 */
int cove_ctl_server_reply(struct cove_ctl_server *srv,
			  const struct cove_ctl_call *call,
			  struct cove_ctl_reply *rep);

/**
 * cove_ctl_server_take_fds() - take the fds passed with a request
 * @srv:	server
 * @call:	the call being handled
 * @fds:	filled with up to @max fds, in the order sent; the caller owns
 *		them (close-on-exec set)
 * @max:	room in @fds; fds beyond it are closed
 *
 * Only meaningful during the handler: fds that no handler took are closed
 * once the request is served.
 *
 * Return: how many fds were taken.
 */
unsigned cove_ctl_server_take_fds(struct cove_ctl_server *srv,
				  const struct cove_ctl_call *call, int *fds,
				  unsigned max);

/**
 * cove_ctl_server_conns() - connections open now (tests)
 * @srv:	server
 *
 * Return: count.
 */
unsigned cove_ctl_server_conns(const struct cove_ctl_server *srv);

/**
 * cove_ctl_server_free() - close everything, unlink unix sockets
 * @srv:	server (may be NULL)
 */
void cove_ctl_server_free(struct cove_ctl_server *srv);

/* ---- client (client.c) --------------------------------------------- */

struct cove_ctl_client;

/**
 * cove_ctl_client_open() - dial and say hello
 * @a:		address
 * @cfg:	configuration (NULL: defaults)
 * @ready_fd:	readiness fd or -1
 * @out:	the client
 * @err:	reason on failure
 *
 * Return: 0 or -1.
 */
int cove_ctl_client_open(const struct cove_ctl_addr *a,
			 const struct cove_config *cfg, int ready_fd,
			 struct cove_ctl_client **out, struct cove_err *err);

/**
 * cove_ctl_client_adopt() - say hello on a connection already dialed
 * @conn:	from cove_ctl_dial(); its fd is taken over (closed on failure)
 * @cfg:	configuration (NULL: defaults)
 * @out:	the client
 * @err:	reason on failure
 *
 * For callers that time or count the dial themselves (cove run).
 *
 * Return: 0 or -1.
 */
int cove_ctl_client_adopt(const struct cove_ctl_conn *conn,
			  const struct cove_config *cfg,
			  struct cove_ctl_client **out, struct cove_err *err);

/**
 * cove_ctl_client_send() - the first half of a call: send the request
 * @c:		client
 * @method:	method
 * @req:	packed request message (may be NULL when @len is 0)
 * @len:	its length
 * @timeout_ms:	how long the write may take
 * @stream:	set to the call's stream id, for cove_ctl_client_recv()
 * @err:	transport failure (the connection is then unusable)
 *
 * With cove_ctl_client_recv() and cove_ctl_client_fd(), a caller can wait
 * for a long call (cove.Wait) in its own poll loop next to other fds.
 *
 * Return: 0 or -1.
 */
int cove_ctl_client_send(struct cove_ctl_client *c, const char *method,
			 const uint8_t *req, size_t len, uint32_t timeout_ms,
			 uint32_t *stream, struct cove_err *err);

/**
 * cove_ctl_client_recv() - the second half: the response on @stream
 * @c:		client
 * @stream:	from cove_ctl_client_send()
 * @timeout_ms:	how long to wait (0: only what has arrived already)
 * @resp:	the answer; free resp->payload
 * @err:	ETIMEDOUT when not there yet (the client stays usable), else a
 *		transport failure
 *
 * Return: 0 when the response arrived, -1 otherwise.
 */
int cove_ctl_client_recv(struct cove_ctl_client *c, uint32_t stream,
			 uint32_t timeout_ms, struct cove_ctl_response *resp,
			 struct cove_err *err);

/**
 * cove_ctl_client_fd() - the connection's fd, to poll for readability
 * @c:		client
 *
 * Return: the fd (owned by the client).
 */
int cove_ctl_client_fd(const struct cove_ctl_client *c);

/**
 * cove_ctl_client_call() - one request, one response
 * @c:		client
 * @method:	"cove.Health", ...
 * @req:	packed request message (may be NULL when @len is 0)
 * @len:	its length
 * @timeout_ms:	how long to wait for the answer
 * @resp:	the answer (code may be non-zero); free resp->payload
 * @err:	transport failure (the connection is then unusable)
 *
 * Return: 0 when a response arrived (check resp->code), -1 otherwise.
 */
int cove_ctl_client_call(struct cove_ctl_client *c, const char *method,
			 const uint8_t *req, size_t len, uint32_t timeout_ms,
			 struct cove_ctl_response *resp, struct cove_err *err);

/**
 * cove_ctl_client_call_fds() - cove_ctl_client_call() passing fds along
 * @c:		client
 * @method:	method
 * @req:	packed request message
 * @len:	its length
 * @fds:	fds to pass with the request (SCM_RIGHTS; unix transport only)
 * @nfds:	how many, at most COVE_CTL_MAX_FDS
 * @timeout_ms:	how long to wait for the answer
 * @resp:	the answer; free resp->payload
 * @err:	transport failure
 *
 * Return: 0 when a response arrived, -1 otherwise.
 */
int cove_ctl_client_call_fds(struct cove_ctl_client *c, const char *method,
			     const uint8_t *req, size_t len, const int *fds,
			     unsigned nfds, uint32_t timeout_ms,
			     struct cove_ctl_response *resp,
			     struct cove_err *err);

/**
 * cove_ctl_client_version() - protocol version agreed at hello
 * @c:		client
 *
 * Return: the version.
 */
uint32_t cove_ctl_client_version(const struct cove_ctl_client *c);

/**
 * cove_ctl_client_close() - close the connection and free the client
 * @c:		client (may be NULL)
 */
void cove_ctl_client_close(struct cove_ctl_client *c);

#endif /* COVE_CONTROL_H */

/*
 * server.h: the HTTP server (libmicrohttpd glue): starts and stops listening.
 */
#ifndef FX_SERVER_H
#define FX_SERVER_H

#include "http/ctx.h"

struct fx_server;

struct fx_server_opts {
    const char *listen;   /* "127.0.0.1:8080" or "[::1]:8080" */
    unsigned threads;     /* libmicrohttpd thread pool size */
    unsigned max_connections; /* open at once; 0: FX_MAX_CONNECTIONS */
    const char *tls_cert; /* PEM file or NULL */
    const char *tls_key;  /* PEM file or NULL */
};

/* Starts serving. *out owned by the caller: fx_server_stop(). */
enum fx_err fx_server_start(struct fx_ctx *ctx, const struct fx_server_opts *opts,
                            struct fx_server **out);
/* Stops accepting, lets requests in flight finish, and frees the server. */
void fx_server_stop(struct fx_server *srv);

/* Parses "host:port" into a sockaddr; true when it is a loopback address. */
enum fx_err fx_server_parse_listen(const char *listen, void *sa_out, unsigned *sa_len_out,
                                   int *is_loopback);

#endif

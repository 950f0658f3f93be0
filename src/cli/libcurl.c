/*
 * libcurl.c: libcurl, loaded the first time fx talks to a server.
 *
 * fx verify works offline, and loading libcurl with its thirty-odd shared
 * libraries (TLS, Kerberos, LDAP, SSH...) at every start costs several times
 * what the verification itself does. So fx is not linked with libcurl: the
 * first command that needs the network opens it with dlopen() and calls it
 * through the table below. The headers still come from the libcurl the build
 * found, and FX_LIBCURL_SONAME names that same library.
 */
#include "cli/cli_int.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#ifndef FX_LIBCURL_SONAME
#define FX_LIBCURL_SONAME "libcurl.so.4"
#endif

static struct fx_curl api;     /* filled once by fx_curl() */
static void *handle;           /* dlopen()'s; closed by fx_curl_unload() */
static bool initialised;       /* curl_global_init() succeeded */

/* The names tried, in order: the library the build used, then the usual SONAME. */
static const char *const sonames[] = {FX_LIBCURL_SONAME, "libcurl.so.4"};

static bool bind_symbols(void)
{
    /* dlsym() returns a data pointer; POSIX guarantees that converting it
     * back to the function's type is sound, which this copy does. */
#define BIND(field, sym)                                                                           \
    do {                                                                                           \
        void *p = dlsym(handle, sym);                                                              \
        if (p == NULL)                                                                             \
            return false;                                                                          \
        memcpy(&api.field, &p, sizeof(p));                                                         \
    } while (0)
    BIND(global_init, "curl_global_init");
    BIND(global_cleanup, "curl_global_cleanup");
    BIND(easy_init, "curl_easy_init");
    BIND(easy_cleanup, "curl_easy_cleanup");
    BIND(easy_reset, "curl_easy_reset");
    BIND(easy_setopt, "curl_easy_setopt");
    BIND(easy_perform, "curl_easy_perform");
    BIND(easy_getinfo, "curl_easy_getinfo");
    BIND(easy_header, "curl_easy_header");
    BIND(easy_strerror, "curl_easy_strerror");
    BIND(slist_append, "curl_slist_append");
    BIND(slist_free_all, "curl_slist_free_all");
#undef BIND
    return true;
}

/*
 * The libcurl table, loading and initialising the library on the first call.
 * NULL when it cannot be loaded; the reason has then been printed on stderr.
 * Not thread-safe: fx is single-threaded.
 */
const struct fx_curl *fx_curl(void)
{
    if (initialised)
        return &api;
    for (size_t i = 0; handle == NULL && i < FX_ARRAY_LEN(sonames); i++)
        handle = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        fprintf(stderr, "fx: cannot load libcurl (%s): %s\n", FX_LIBCURL_SONAME, dlerror());
        return NULL;
    }
    if (!bind_symbols()) {
        fprintf(stderr, "fx: %s lacks a function fx needs (libcurl 7.83 or later)\n",
                FX_LIBCURL_SONAME);
        goto fail;
    }
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("fx: cannot initialise libcurl\n", stderr);
        goto fail;
    }
    initialised = true;
    return &api;
fail:
    dlclose(handle);
    handle = NULL;
    return NULL;
}

/* Undoes fx_curl(), when it ran; safe to call either way. */
void fx_curl_unload(void)
{
    if (initialised)
        api.global_cleanup();
    initialised = false;
    if (handle != NULL)
        dlclose(handle);
    handle = NULL;
}

// A plain C face for the one libcurl call the Flower client needs: an HTTP(S) POST whose TLS trust can be given a
// CA file (Foundation's URLSession on Linux cannot be told which certificates to trust). Only primitive types
// appear here; curl's own headers are included by the .c file alone.
#ifndef BACKDOOR_LAB_CCURL_H
#define BACKDOOR_LAB_CCURL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How a POST that got no HTTP answer failed.
enum {
  BL_HTTP_ANSWERED = 0,        ///< an HTTP answer arrived (any status)
  BL_HTTP_UNREACHABLE = 1,     ///< no connection, a timeout or a dropped connection: worth retrying
  BL_HTTP_UNTRUSTED = 2,       ///< the TLS handshake failed: an untrusted or mismatched certificate, or TLS spoken to a plain HTTP server (or the reverse)
  BL_HTTP_BAD_CA_FILE = 3,     ///< the CA file given could not be read as certificates
  BL_HTTP_OTHER = 4,           ///< anything else (a bad URL, out of memory)
};

/// The outcome of `bl_http_post`. Free with `bl_http_response_free`.
typedef struct {
  int failure;          ///< one of the BL_HTTP_ values
  long status;          ///< the HTTP status when answered
  unsigned char *body;  ///< the answer's body (malloc'd; may be NULL when empty)
  size_t body_length;
  char *date_header;    ///< the value of the answer's `Date` header, NUL-terminated, or NULL
  char message[512];    ///< curl's description of a failure, NUL-terminated
} bl_http_response;

/// POSTs `body` to `url` (http:// or https://) with the given "Name: value" header lines. `ca_file`: a PEM file of
/// certificates to trust instead of the system store, or NULL for the system store. Times out after `timeout_seconds`.
/// Thread-safe: each call uses its own handle.
void bl_http_post(const char *url, const char *const *headers, int header_count, const void *body, size_t body_length,
                  const char *ca_file, long timeout_seconds, bl_http_response *response);

void bl_http_response_free(bl_http_response *response);

#ifdef __cplusplus
}
#endif

#endif

#include "CCurl.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_once_t global_init_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct {
  unsigned char *bytes;
  size_t length;
  size_t capacity;
  int failed;
} growing_buffer;

static size_t append_body(char *data, size_t size, size_t count, void *context) {
  growing_buffer *buffer = context;
  size_t length = size * count;
  if (buffer->length + length > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->length + length) capacity *= 2;
    unsigned char *grown = realloc(buffer->bytes, capacity);
    if (!grown) {
      buffer->failed = 1;
      return 0;
    }
    buffer->bytes = grown;
    buffer->capacity = capacity;
  }
  memcpy(buffer->bytes + buffer->length, data, length);
  buffer->length += length;
  return length;
}

// Keeps the last `Date:` header line's value (a redirect or 100-continue may bring several header blocks).
static size_t read_header(char *data, size_t size, size_t count, void *context) {
  char **date = context;
  size_t length = size * count;
  if (length > 5 && strncasecmp(data, "date:", 5) == 0) {
    size_t start = 5, end = length;
    while (start < end && (data[start] == ' ' || data[start] == '\t')) start++;
    while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' ')) end--;
    char *value = malloc(end - start + 1);
    if (value) {
      memcpy(value, data + start, end - start);
      value[end - start] = 0;
      free(*date);
      *date = value;
    }
  }
  return length;
}

static int classify(CURLcode code) {
  switch (code) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE:
    return BL_HTTP_UNREACHABLE;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return BL_HTTP_UNTRUSTED;
  case CURLE_SSL_CACERT_BADFILE:
    return BL_HTTP_BAD_CA_FILE;
  default:
    return BL_HTTP_OTHER;
  }
}

void bl_http_post(const char *url, const char *const *headers, int header_count, const void *body, size_t body_length,
                  const char *ca_file, long timeout_seconds, bl_http_response *response) {
  memset(response, 0, sizeof *response);
  pthread_once(&global_init_once, global_init);
  CURL *handle = curl_easy_init();
  if (!handle) {
    response->failure = BL_HTTP_OTHER;
    strcpy(response->message, "libcurl could not make a handle");
    return;
  }
  struct curl_slist *list = NULL;
  for (int i = 0; i < header_count; i++) list = curl_slist_append(list, headers[i]);
  // Without this curl waits for a "100 Continue" before sending a body over 1 KiB.
  list = curl_slist_append(list, "Expect:");
  growing_buffer buffer = {0};
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(handle, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  // Never NULL: with no POSTFIELDS libcurl would read the body from standard input.
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body ? body : "");
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &buffer);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response->date_header);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT, timeout_seconds);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, timeout_seconds < 10 ? timeout_seconds : 10L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
  if (ca_file) curl_easy_setopt(handle, CURLOPT_CAINFO, ca_file);

  CURLcode code = curl_easy_perform(handle);
  if (code == CURLE_OK && !buffer.failed) {
    response->failure = BL_HTTP_ANSWERED;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response->status);
    response->body = buffer.bytes;
    response->body_length = buffer.length;
  } else {
    response->failure = buffer.failed ? BL_HTTP_OTHER : classify(code);
    const char *text = buffer.failed ? "out of memory for the answer" : (error[0] ? error : curl_easy_strerror(code));
    strncpy(response->message, text, sizeof response->message - 1);
    free(buffer.bytes);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(handle);
}

void bl_http_response_free(bl_http_response *response) {
  free(response->body);
  free(response->date_header);
  response->body = NULL;
  response->date_header = NULL;
}

// Typed wrappers over libcurl's variadic setters, which Swift cannot call directly.
#ifndef SVAR_CCURL_SHIM_H
#define SVAR_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode svar_curl_set_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode svar_curl_set_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode svar_curl_set_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
/// A blob option (CURLOPT_CAINFO_BLOB): libcurl copies the bytes, so they need not outlive the call.
static inline CURLcode svar_curl_set_blob(CURL *curl, CURLoption option, const void *data, size_t length) {
    struct curl_blob blob = { (void *)data, length, CURL_BLOB_COPY };
    return curl_easy_setopt(curl, option, &blob);
}
static inline CURLcode svar_curl_set_slist(CURL *curl, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(curl, option, value);
}
typedef size_t (*svar_curl_read_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode svar_curl_set_read_callback(CURL *curl, svar_curl_read_callback callback) {
    return curl_easy_setopt(curl, CURLOPT_READFUNCTION, callback);
}
static inline CURLcode svar_curl_response_code(CURL *curl, long *code) {
    return curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
}
static inline CURLcode svar_curl_connection_count(CURL *curl, long *count) {
    return curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, count);
}
#endif

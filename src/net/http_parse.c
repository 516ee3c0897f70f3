/* SPDX-License-Identifier: MIT */
/*
 * http_parse.c - the HTTP/1.1 request-head parser and the chunked body
 * decoder (RFC 9112), both zero-copy.
 *
 * The head parser is stateless: it runs over the bytes it is given from
 * the start each time, and stops at the first byte that settles the
 * answer (an error, or the end of the head). Each part of the head is
 * scanned inside a window that ends at its limit (the request line at
 * max_request_line, the header section at max_header_bytes past the
 * request line), so running out of bytes means PENDING before the limit
 * and the limit's status (414, 431) at it. That makes the answer for any
 * prefix either PENDING or the answer for the whole input, which the
 * fuzz harness checks at every split point.
 *
 * Header fields the framing depends on (Content-Length,
 * Transfer-Encoding, Host, Connection, Upgrade, Expect) are read as each
 * line ends; the rules that need the whole head (Host present in 1.1,
 * not both framings) are checked at its end.
 */
#include "net/net_int.h"
#include "rill/http.h"

#include <string.h>

enum {
    DEFAULT_MAX_REQUEST_LINE = 8192,
    DEFAULT_MAX_HEADER_BYTES = 16384,
    DEFAULT_MAX_BODY = 1 << 20,
};

typedef struct scan {
    const unsigned char *b;
    size_t len;
    size_t end;   /* min(len, limit): the bytes we may look at */
    size_t limit; /* the first position past the current part's limit */
    int limit_status;
    rill_http_request_t *req;
} scan_t;

/* The facts about the head that are settled at its end. */
typedef struct seen {
    unsigned hosts;
    bool has_length;
    bool has_te;
    bool conn_close, conn_keep_alive, conn_upgrade;
    bool has_upgrade;
} seen_t;

static int fail(rill_http_request_t *req, int status, const char *why)
{
    req->status = status;
    req->error = why;
    return RILL_EPROTO;
}

/* Out of bytes at the window's end: the limit, or wait for more. */
static int more(const scan_t *s)
{
    if (s->end == s->limit)
        return fail(s->req, s->limit_status,
                    s->limit_status == 414 ? "request line too long"
                                           : "header section too large");
    return RILL_PENDING;
}

static void window(scan_t *s, size_t start, size_t max)
{
    s->limit = max > SIZE_MAX - start ? SIZE_MAX : start + max;
    s->end = s->len < s->limit ? s->len : s->limit;
}

/* The first position from p (before end) whose byte may not be in a
 * request target (VCHAR: 0x21..0x7E): whole words of good bytes are
 * skipped eight at a time, the rest is left to the byte loop. */
static size_t skip_target(const unsigned char *b, size_t p, size_t end)
{
    for (; p + 8 <= end; p += 8) {
        uint64_t x;
        memcpy(&x, b + p, 8);
        if (rill__has_below(x, 0x21) | rill__has_byte(x, 0x7f) |
            (x & rill__rep8(0x80)))
            break;
    }
    return p;
}

/* The same for field values (SP, VCHAR and obs-text; HTAB is left to the
 * byte loop). */
static size_t skip_value(const unsigned char *b, size_t p, size_t end)
{
    for (; p + 8 <= end; p += 8) {
        uint64_t x;
        memcpy(&x, b + p, 8);
        if (rill__has_below(x, 0x20) | rill__has_byte(x, 0x7f))
            break;
    }
    return p;
}

/* Advance p while cond (over b[p]) holds; out of bytes returns more(). */
#define SCAN_WHILE(cond)                                                       \
    for (;; p++) {                                                             \
        if (p >= s.end)                                                        \
            return more(&s);                                                   \
        if (!(cond))                                                           \
            break;                                                             \
    }
/* Make sure b[i] can be looked at. */
#define NEED(i)                                                                \
    do {                                                                       \
        if ((i) >= s.end)                                                      \
            return more(&s);                                                   \
    } while (0)

static const struct {
    const char *name;
    rill_http_method_t method;
} methods[] = {
    {"GET", RILL_HTTP_GET},       {"HEAD", RILL_HTTP_HEAD},
    {"POST", RILL_HTTP_POST},     {"PUT", RILL_HTTP_PUT},
    {"DELETE", RILL_HTTP_DELETE}, {"OPTIONS", RILL_HTTP_OPTIONS},
    {"PATCH", RILL_HTTP_PATCH},   {"CONNECT", RILL_HTTP_CONNECT},
    {"TRACE", RILL_HTTP_TRACE},
};

static rill_http_method_t method_of(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i].name) == n && memcmp(methods[i].name, p, n) == 0)
            return methods[i].method;
    return RILL_HTTP_OTHER;
}

const char *rill_http_method_name(rill_http_method_t method)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == method)
            return methods[i].name;
    return "OTHER";
}

/* Split the target into path and query. */
static void split_target(rill_http_request_t *req)
{
    const char *t = req->target.ptr;
    size_t n = req->target.len;
    size_t start = 0, end;
    req->query = (rill_http_str_t){t + n, 0};
    if (t[0] == '/') {
        start = 0;
    } else if (n == 1 && t[0] == '*') {
        req->path = req->target;
        return;
    } else {
        /* absolute-form (scheme "://" authority path) or authority-form */
        const char *sep = NULL;
        for (size_t i = 0; i + 2 < n; i++)
            if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/') {
                sep = t + i + 3;
                break;
            }
        if (!sep) {
            req->path = (rill_http_str_t){t, 0};
            return;
        }
        start = (size_t)(sep - t);
        while (start < n && t[start] != '/' && t[start] != '?')
            start++;
        if (start == n || t[start] == '?') {
            req->path = (rill_http_str_t){"/", 1};
            if (start < n)
                req->query = (rill_http_str_t){t + start + 1, n - start - 1};
            return;
        }
    }
    end = start;
    while (end < n && t[end] != '?')
        end++;
    req->path = (rill_http_str_t){t + start, end - start};
    if (end < n)
        req->query = (rill_http_str_t){t + end + 1, n - end - 1};
}

/* The fields the framing depends on, told apart by name length first. */
enum { F_OTHER, F_LENGTH, F_TE, F_HOST, F_CONNECTION, F_UPGRADE, F_EXPECT };

static int field_kind(const char *n, size_t nl)
{
    static const struct {
        const char *name;
        int kind;
    } by_len[18] = {[4] = {"host", F_HOST},
                    [6] = {"expect", F_EXPECT},
                    [7] = {"upgrade", F_UPGRADE},
                    [10] = {"connection", F_CONNECTION},
                    [14] = {"content-length", F_LENGTH},
                    [17] = {"transfer-encoding", F_TE}};
    if (nl >= 18 || !by_len[nl].name ||
        !rill__http_eq_nocase(n, nl, by_len[nl].name))
        return F_OTHER;
    return by_len[nl].kind;
}

/* Read one header field that the framing depends on. */
static int note_field(rill_http_request_t *req, seen_t *seen,
                      const rill_http_header_t *h)
{
    const char *v = h->value.ptr;
    size_t vl = h->value.len;
    switch (field_kind(h->name.ptr, h->name.len)) {
    case F_LENGTH: {
        if (vl == 0)
            return fail(req, 400, "empty Content-Length");
        uint64_t x = 0;
        for (size_t i = 0; i < vl; i++) {
            if (v[i] < '0' || v[i] > '9')
                return fail(req, 400, "malformed Content-Length");
            unsigned d = (unsigned)(v[i] - '0');
            if (x > (UINT64_MAX - d) / 10)
                return fail(req, 413, "Content-Length too large");
            x = x * 10 + d;
        }
        if (seen->has_length && x != req->content_length)
            return fail(req, 400, "conflicting Content-Length fields");
        seen->has_length = true;
        req->content_length = x;
        break;
    }
    case F_TE:
        if (seen->has_te)
            return fail(req, 400, "repeated Transfer-Encoding");
        seen->has_te = true;
        if (!rill__http_eq_nocase(v, vl, "chunked"))
            return fail(req, 501, "unsupported transfer coding");
        req->chunked = true;
        break;
    case F_HOST:
        if (++seen->hosts > 1)
            return fail(req, 400, "repeated Host");
        break;
    case F_CONNECTION:
        seen->conn_close |= rill__http_list_has(v, vl, "close");
        seen->conn_keep_alive |= rill__http_list_has(v, vl, "keep-alive");
        seen->conn_upgrade |= rill__http_list_has(v, vl, "upgrade");
        break;
    case F_UPGRADE:
        seen->has_upgrade |= vl > 0;
        break;
    case F_EXPECT:
        req->expect_continue |= rill__http_eq_nocase(v, vl, "100-continue");
        break;
    default:
        break;
    }
    return 0;
}

int rill_http_parse_request(rill_http_request_t *req, const void *buf,
                            size_t len, rill_http_header_t *headers,
                            size_t max_headers,
                            const rill_http_parse_config_t *cfg)
{
    if (!req || (!buf && len > 0) || (!headers && max_headers > 0))
        return RILL_MISUSE("rill_http_parse_request",
                           "NULL request, buffer or headers");
    size_t max_line = cfg && cfg->max_request_line ? cfg->max_request_line
                                                   : DEFAULT_MAX_REQUEST_LINE;
    size_t max_hdr = cfg && cfg->max_header_bytes ? cfg->max_header_bytes
                                                  : DEFAULT_MAX_HEADER_BYTES;
    uint64_t max_body = cfg && cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    memset(req, 0, sizeof *req);
    req->headers = headers;
    scan_t s = {buf, len, 0, 0, 414, req};
    const unsigned char *b = buf;
    size_t p = 0;

    /* ---- request line (RFC 9112 3), after any empty lines (2.2) ---- */
    window(&s, 0, max_line);
    for (;;) {
        NEED(p);
        if (b[p] != '\r')
            break;
        NEED(p + 1);
        if (b[p + 1] != '\n')
            return fail(req, 400, "CR without LF");
        p += 2;
    }
    size_t m0 = p;
    SCAN_WHILE(rill__http_is_tchar(b[p]));
    if (p == m0 || b[p] != ' ')
        return fail(req, 400, "malformed method");
    req->method_name = (rill_http_str_t){(const char *)b + m0, p - m0};
    req->method = method_of(req->method_name.ptr, req->method_name.len);
    size_t t0 = ++p;
    p = skip_target(b, p, s.end);
    SCAN_WHILE(b[p] > 0x20 && b[p] < 0x7f);
    if (p == t0 || b[p] != ' ')
        return fail(req, 400, "malformed request target");
    req->target = (rill_http_str_t){(const char *)b + t0, p - t0};
    p++;
    for (const char *v = "HTTP/"; *v; v++, p++) {
        NEED(p);
        if (b[p] != (unsigned char)*v)
            return fail(req, 400, "malformed HTTP version");
    }
    /* DIGIT "." DIGIT CRLF, each byte judged as it comes. */
    static const char shape[] = "0.0\r\n";
    unsigned char major = 0, minor = 0;
    for (size_t i = 0; i < sizeof shape - 1; i++, p++) {
        NEED(p);
        bool ok = shape[i] == '0' ? b[p] >= '0' && b[p] <= '9'
                                  : b[p] == (unsigned char)shape[i];
        if (!ok)
            return fail(req, 400,
                        i < 3 ? "malformed HTTP version"
                              : "malformed request line");
        if (i == 0)
            major = b[p];
        if (i == 2)
            minor = b[p];
        if (i == 2 && major != '1')
            return fail(req, 505, "HTTP version not supported");
    }
    req->version = minor == '0' ? 10 : 11;
    split_target(req);

    /* ---- header section (RFC 9112 5) ---- */
    seen_t seen = {0};
    s.limit_status = 431;
    window(&s, p, max_hdr);
    for (;;) {
        NEED(p);
        if (b[p] == '\r') {
            NEED(p + 1);
            if (b[p + 1] != '\n')
                return fail(req, 400, "CR without LF");
            p += 2;
            break;
        }
        if (b[p] == ' ' || b[p] == '\t')
            return fail(req, 400, "obsolete line folding");
        size_t n0 = p;
        SCAN_WHILE(rill__http_is_tchar(b[p]));
        if (p == n0 || b[p] != ':')
            return fail(req, 400, "malformed header field name");
        size_t n1 = p++;
        SCAN_WHILE(b[p] == ' ' || b[p] == '\t');
        size_t v0 = p;
        for (;; p++) {
            p = skip_value(b, p, s.end);
            NEED(p);
            unsigned char c = b[p];
            if (c == '\r')
                break;
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return fail(req, 400, "control character in header value");
        }
        size_t v1 = p; /* the value ends before trailing whitespace */
        while (v1 > v0 && (b[v1 - 1] == ' ' || b[v1 - 1] == '\t'))
            v1--;
        NEED(p + 1);
        if (b[p + 1] != '\n')
            return fail(req, 400, "CR without LF");
        p += 2;
        if (req->header_count == max_headers)
            return fail(req, 431, "too many header fields");
        rill_http_header_t *h = &headers[req->header_count++];
        h->name = (rill_http_str_t){(const char *)b + n0, n1 - n0};
        h->value = (rill_http_str_t){(const char *)b + v0, v1 - v0};
        int rc = note_field(req, &seen, h);
        if (rc != 0)
            return rc;
    }
    req->head_len = p;

    /* ---- what needs the whole head ---- */
    if (req->version == 11 && seen.hosts == 0)
        return fail(req, 400, "missing Host");
    if (seen.has_te && seen.has_length)
        return fail(req, 400, "both Content-Length and Transfer-Encoding");
    if (seen.has_te && req->version == 10)
        return fail(req, 400, "Transfer-Encoding in HTTP/1.0");
    if (req->content_length > max_body)
        return fail(req, 413, "body too large");
    req->keep_alive =
        !seen.conn_close && (req->version == 11 || seen.conn_keep_alive);
    req->upgrade = seen.conn_upgrade && seen.has_upgrade;
    return 0;
}

const rill_http_header_t *
rill_http_request_header(const rill_http_request_t *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (size_t i = 0; i < req->header_count; i++)
        if (rill__http_eq_nocase(req->headers[i].name.ptr,
                                 req->headers[i].name.len, name))
            return &req->headers[i];
    return NULL;
}

const char *rill_http_status_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

/* ---- chunked bodies (RFC 9112 7.1) ----
 *
 * chunked-body = *chunk last-chunk trailer-section CRLF
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * The decoder is a state machine fed in pieces; framing lines are limited
 * to CHUNK_LINE_MAX bytes (extensions and trailer fields are skipped, not
 * kept, so a long line is the only way to make it work without end).
 */
enum {
    CH_SIZE,    /* hex digits of the size */
    CH_EXT,     /* after the size: extensions up to CR */
    CH_SIZE_LF, /* the LF after the size line */
    CH_DATA,    /* chunk data */
    CH_DATA_CR, /* the CRLF after the data */
    CH_DATA_LF,
    CH_TRAILER, /* start of a trailer line (or the final CRLF) */
    CH_TRAILER_LINE,
    CH_TRAILER_LF,
    CH_END_LF, /* the LF of the final empty line */
    CH_DONE,
    CH_ERROR,
};
enum { CHUNK_LINE_MAX = 4096 };

void rill_http_chunked_init(rill_http_chunked_t *c, uint64_t max_body)
{
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->max_body_ = max_body ? max_body : DEFAULT_MAX_BODY;
    c->state_ = CH_SIZE;
}

static int chunk_fail(rill_http_chunked_t *c, int status)
{
    c->state_ = CH_ERROR;
    c->status = status;
    return RILL_EPROTO;
}

static int hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int rill_http_chunked_decode(rill_http_chunked_t *c, const void *buf,
                             size_t len, size_t *used, rill_http_str_t *data)
{
    if (!c || (!buf && len > 0) || !used || !data)
        return RILL_MISUSE("rill_http_chunked_decode", "NULL argument");
    const unsigned char *b = buf;
    size_t p = 0;
    *data = (rill_http_str_t){NULL, 0};
    while (p < len || c->state_ == CH_DONE || c->state_ == CH_ERROR) {
        if (c->state_ == CH_DONE) {
            *used = p;
            return RILL_DONE;
        }
        if (c->state_ == CH_ERROR) {
            *used = p;
            return RILL_EPROTO;
        }
        unsigned char ch = b[p];
        if (c->state_ != CH_DATA && ++c->line_ > CHUNK_LINE_MAX)
            return *used = p, chunk_fail(c, 400);
        switch (c->state_) {
        case CH_SIZE: {
            int h = hexval(ch);
            if (h >= 0) {
                if (c->left_ > (UINT64_MAX >> 4))
                    return *used = p, chunk_fail(c, 413);
                c->left_ = c->left_ << 4 | (uint64_t)h;
                c->digits_++;
                p++;
                break;
            }
            if (c->digits_ == 0)
                return *used = p, chunk_fail(c, 400);
            if (c->left_ > c->max_body_ - c->body_)
                return *used = p, chunk_fail(c, 413);
            c->state_ = CH_EXT;
            break;
        }
        case CH_EXT:
            /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ),
             * skipped: any visible characters, spaces and tabs. */
            if (ch == '\r') {
                c->state_ = CH_SIZE_LF;
            } else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                return *used = p, chunk_fail(c, 400);
            }
            p++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return *used = p, chunk_fail(c, 400);
            p++;
            c->line_ = 0;
            c->digits_ = 0;
            c->state_ = c->left_ ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t take = len - p;
            if ((uint64_t)take > c->left_)
                take = (size_t)c->left_;
            *data = (rill_http_str_t){(const char *)b + p, take};
            c->left_ -= take;
            c->body_ += take;
            if (c->left_ == 0)
                c->state_ = CH_DATA_CR;
            *used = p + take;
            return 0;
        }
        case CH_DATA_CR:
            if (ch != '\r')
                return *used = p, chunk_fail(c, 400);
            c->state_ = CH_DATA_LF;
            p++;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return *used = p, chunk_fail(c, 400);
            c->state_ = CH_SIZE;
            c->line_ = 0;
            p++;
            break;
        case CH_TRAILER:
            c->state_ = ch == '\r' ? CH_END_LF : CH_TRAILER_LINE;
            if (ch != '\r' && (ch == ' ' || ch == '\t' || ch == ':'))
                return *used = p, chunk_fail(c, 400);
            p++;
            break;
        case CH_TRAILER_LINE:
            if (ch == '\r')
                c->state_ = CH_TRAILER_LF;
            else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return *used = p, chunk_fail(c, 400);
            p++;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n')
                return *used = p, chunk_fail(c, 400);
            c->line_ = 0;
            c->state_ = CH_TRAILER;
            p++;
            break;
        case CH_END_LF:
            if (ch != '\n')
                return *used = p, chunk_fail(c, 400);
            c->state_ = CH_DONE;
            p++;
            break;
        default:
            RILL_PANIC("chunked decoder in state %u", c->state_);
        }
    }
    *used = p;
    return RILL_PENDING;
}

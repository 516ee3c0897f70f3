/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http.c - the HTTP/1.1 request parser and the chunked body decoder.
 *
 * The first input byte picks a mode:
 *   raw         the rest is a byte stream of pipelined requests, parsed
 *               with small limits taken from the input. Checked: the
 *               answer is 0, PENDING or EPROTO with a known status; every
 *               string lies inside the buffer; every prefix answers
 *               PENDING or the whole input's answer (prefixes shorter than
 *               a complete head: PENDING); bodies (Content-Length or
 *               chunked) are skipped and the next request parsed. In the
 *               libFuzzer build with Debian's libhttp-parser (FUZZ_HTTP_
 *               PARSER), a request we accept with a known method must be
 *               accepted by http-parser with the same method, target,
 *               version, fields, keep-alive, length and chunking.
 *   structured  the input picks a request from parts (methods, targets,
 *               versions, a palette of fields including the framing ones)
 *               and a chunked or sized body, then a second request; a
 *               model written from RFC 9112's rules says what the parser
 *               must answer (fields, keep-alive, upgrade, or the status of
 *               the first rule broken) and what body the chunked decoder
 *               must give, fed at split points from the input.
 */
#include "fuzz.h"
#include <rill/http.h>
#ifdef FUZZ_HTTP_PARSER
#include <http_parser.h>
#include <limits.h>
#include <strings.h>
#endif

enum { MAXH = 12 };

static bool inside(rill_http_str_t s, const uint8_t *b, size_t n)
{
    return s.len == 0 || ((const uint8_t *)s.ptr >= b &&
                          (const uint8_t *)s.ptr + s.len <= b + n);
}

static bool str_eq(rill_http_str_t a, rill_http_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void same_request(const rill_http_request_t *a,
                         const rill_http_request_t *b)
{
    FZ_EQ(a->head_len, b->head_len);
    FZ_EQ(a->method, b->method);
    FZ_CHECK(str_eq(a->target, b->target));
    FZ_CHECK(str_eq(a->path, b->path));
    FZ_CHECK(str_eq(a->query, b->query));
    FZ_EQ(a->version, b->version);
    FZ_EQ(a->header_count, b->header_count);
    FZ_EQ(a->content_length, b->content_length);
    FZ_EQ(a->chunked, b->chunked);
    FZ_EQ(a->keep_alive, b->keep_alive);
    FZ_EQ(a->upgrade, b->upgrade);
}

#ifdef FUZZ_HTTP_PARSER
/* ---- http-parser as an oracle ---- */

typedef struct hp_seen {
    const char *url;
    size_t url_len;
    size_t nfields, nvalues;
    rill_http_str_t name[64], value[64];
    bool complete;
} hp_seen_t;

static int hp_url(http_parser *p, const char *at, size_t n)
{
    hp_seen_t *s = p->data;
    if (!s->url)
        s->url = at;
    s->url_len += n;
    return 0;
}

static int hp_field(http_parser *p, const char *at, size_t n)
{
    hp_seen_t *s = p->data;
    if (s->nfields == s->nvalues) {
        if (s->nfields == 64)
            return 1;
        s->name[s->nfields++] = (rill_http_str_t){at, n};
    } else {
        s->name[s->nfields - 1].len += n;
    }
    return 0;
}

static int hp_value(http_parser *p, const char *at, size_t n)
{
    hp_seen_t *s = p->data;
    if (s->nvalues < s->nfields)
        s->value[s->nvalues++] = (rill_http_str_t){at, n};
    else
        s->value[s->nvalues - 1].len += n;
    return 0;
}

static int hp_done(http_parser *p)
{
    ((hp_seen_t *)p->data)->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

/* Where http-parser reads RFC 9110 differently: whitespace after the
 * value of a field it interprets (OWS = *( SP / HTAB ), not part of the
 * value) makes an invalid length, an unknown coding or an unknown
 * connection option to it. */
static bool known_difference(const rill_http_request_t *req)
{
    static const char *const names[] = {"content-length", "transfer-encoding",
                                        "connection", "upgrade"};
    unsigned lengths = 0;
    for (size_t i = 0; i < req->header_count; i++) {
        const rill_http_header_t *h = &req->headers[i];
        /* Content-Length twice with one value: RFC 9112 6.3 lets us take
         * it as one; http-parser refuses any repeat. */
        if (h->name.len == 14 &&
            !strncasecmp(h->name.ptr, "content-length", 14) && ++lengths > 1)
            return true;
        if (h->value.ptr[h->value.len] == '\r')
            continue;
        for (size_t k = 0; k < 4; k++)
            if (h->name.len == strlen(names[k]) &&
                !strncasecmp(h->name.ptr, names[k], h->name.len))
                return true;
    }
    return false;
}

static void oracle(const uint8_t *b, size_t n, const rill_http_request_t *req)
{
    if (req->method == RILL_HTTP_OTHER)
        return; /* http-parser knows a fixed list of methods */
    if (known_difference(req))
        return;
    http_parser_settings st;
    http_parser_settings_init(&st);
    st.on_url = hp_url;
    st.on_header_field = hp_field;
    st.on_header_value = hp_value;
    st.on_headers_complete = hp_done;
    http_parser p;
    http_parser_init(&p, HTTP_REQUEST);
    hp_seen_t seen = {0};
    p.data = &seen;
    size_t used = http_parser_execute(&p, &st, (const char *)b, n);
    if (!seen.complete) {
        fprintf(stderr, "http-parser refused what we accept: %s (%s)\n",
                http_errno_name(HTTP_PARSER_ERRNO(&p)),
                http_errno_description(HTTP_PARSER_ERRNO(&p)));
        FZ_CHECK(seen.complete);
    }
    /* Paused in on_headers_complete, http-parser has not counted the
     * final LF. */
    FZ_EQ(used + 1, req->head_len);
    FZ_CHECK(strcmp(http_method_str(p.method),
                    rill_http_method_name(req->method)) == 0);
    FZ_CHECK(seen.url_len == req->target.len &&
             memcmp(seen.url, req->target.ptr, seen.url_len) == 0);
    FZ_EQ(p.http_major, 1);
    FZ_EQ(p.http_minor == 0 ? 10 : 11, req->version);
    FZ_EQ(seen.nfields, req->header_count);
    for (size_t i = 0; i < seen.nfields; i++) {
        FZ_CHECK(str_eq(seen.name[i], req->headers[i].name));
        rill_http_str_t v = seen.value[i];
        while (v.len && (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
            v.len--; /* http-parser keeps trailing whitespace */
        FZ_CHECK(str_eq(v, req->headers[i].value));
    }
    /* http-parser lets keep-alive win over close in HTTP/1.0; RFC 9112
     * 9.3 says close wins. */
    bool close_too = false;
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name.len == 10 &&
            !strncasecmp(req->headers[i].name.ptr, "connection", 10))
            close_too |= memmem(req->headers[i].value.ptr,
                                req->headers[i].value.len, "close", 5) != NULL;
    if (!req->upgrade && !(close_too && req->version == 10))
        FZ_EQ(http_should_keep_alive(&p) != 0, req->keep_alive);
    FZ_EQ((p.flags & F_CHUNKED) != 0, req->chunked);
    if (p.content_length != ULLONG_MAX && !req->chunked)
        FZ_EQ(p.content_length, req->content_length);
}
#endif

/* ---- raw mode ---- */

static void check_request(const uint8_t *b, size_t n,
                          const rill_http_request_t *req, size_t maxh)
{
    FZ_CHECK(req->head_len > 0 && req->head_len <= n);
    FZ_CHECK(req->header_count <= maxh);
    FZ_CHECK(inside(req->method_name, b, n) && req->method_name.len > 0);
    FZ_CHECK(inside(req->target, b, n) && req->target.len > 0);
    FZ_CHECK(req->path.len == 0 || req->path.ptr[0] == '/' ||
             (req->path.len == 1 && req->path.ptr[0] == '*'));
    FZ_CHECK(req->query.len == 0 || inside(req->query, b, n));
    FZ_CHECK(req->version == 10 || req->version == 11);
    FZ_CHECK(!(req->chunked && req->content_length));
    for (size_t i = 0; i < req->header_count; i++) {
        FZ_CHECK(inside(req->headers[i].name, b, n));
        FZ_CHECK(inside(req->headers[i].value, b, n));
        FZ_CHECK(req->headers[i].name.len > 0);
    }
}

static bool known_status(int s)
{
    return s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505;
}

/* Parse one request at b[0..n); returns its answer. */
static int parse_checked(const uint8_t *b, size_t n, size_t maxh,
                         const rill_http_parse_config_t *cfg,
                         rill_http_request_t *req, rill_http_header_t *h)
{
    int rc = rill_http_parse_request(req, b, n, h, maxh, cfg);
    FZ_CHECK(rc == 0 || rc == RILL_PENDING || rc == RILL_EPROTO);
    if (rc == 0)
        check_request(b, n, req, maxh);
    if (rc == RILL_EPROTO)
        FZ_CHECK(known_status(req->status) && req->error);
    /* Every prefix: PENDING or the same answer. */
    for (size_t k = 0; k < n; k++) {
        rill_http_request_t part;
        rill_http_header_t ph[MAXH];
        int prc = rill_http_parse_request(&part, b, k, ph, maxh, cfg);
        if (rc == 0 && k < req->head_len) {
            FZ_EQ(prc, RILL_PENDING);
            continue;
        }
        if (prc == RILL_PENDING) {
            FZ_CHECK(rc != 0); /* a complete head stays complete */
            continue;
        }
        FZ_EQ(prc, rc);
        if (rc == RILL_EPROTO)
            FZ_EQ(part.status, req->status);
        else
            same_request(&part, req);
    }
    return rc;
}

/* Skip a chunked body at b[0..n); returns its end, or n + 1 if it does
 * not end there (or is refused). */
static size_t skip_chunked(const uint8_t *b, size_t n, uint64_t max)
{
    rill_http_chunked_t c;
    rill_http_chunked_init(&c, max);
    size_t off = 0;
    for (;;) {
        size_t used;
        rill_http_str_t data;
        int rc = rill_http_chunked_decode(&c, b + off, n - off, &used, &data);
        FZ_CHECK(used <= n - off);
        if (rc == 0) {
            FZ_CHECK(data.len > 0 && (const uint8_t *)data.ptr >= b + off &&
                     (const uint8_t *)data.ptr + data.len <= b + off + used);
            off += used;
            continue;
        }
        off += used;
        if (rc == RILL_DONE)
            return off;
        if (rc == RILL_EPROTO)
            FZ_CHECK(c.status == 400 || c.status == 413);
        else
            FZ_EQ(rc, RILL_PENDING);
        return n + 1;
    }
}

static void run_raw(fz_in_t *in)
{
    rill_http_parse_config_t cfg = {0};
    unsigned k = fz_u8(in);
    if (k & 1)
        cfg.max_request_line = 8 + fz_u8(in);
    if (k & 2)
        cfg.max_header_bytes = 8 + fz_u8(in);
    if (k & 4)
        cfg.max_body = 1 + fz_u8(in);
    size_t maxh = (k >> 3) % (MAXH + 1);
    const uint8_t *b = in->p;
    size_t n = in->n;
    for (int req_no = 0; req_no < 8 && n > 0; req_no++) {
        rill_http_request_t req;
        rill_http_header_t h[MAXH];
        if (parse_checked(b, n, maxh, &cfg, &req, h) != 0)
            break;
#ifdef FUZZ_HTTP_PARSER
        oracle(b, n, &req);
#endif
        size_t next = req.head_len;
        if (req.chunked) {
            next += skip_chunked(b + next, n - next, cfg.max_body);
        } else {
            FZ_CHECK(req.content_length <=
                     (cfg.max_body ? cfg.max_body : 1 << 20));
            next += req.content_length;
        }
        if (next > n)
            break;
        b += next;
        n -= next;
    }
}

/* ---- structured mode: a model of the rules ---- */

typedef struct model {
    char buf[2048];
    size_t len;
    int status; /* the first rule broken, 0 if none */
    int version;
    unsigned hosts, nfields;
    bool has_cl, has_te, chunked, conn_close, conn_ka, conn_up, has_up;
    uint64_t cl;
} model_t;

static void add(model_t *m, const char *s, size_t n)
{
    FZ_CHECK(m->len + n <= sizeof m->buf);
    memcpy(m->buf + m->len, s, n);
    m->len += n;
}

static void adds(model_t *m, const char *s)
{
    add(m, s, strlen(s));
}

static void broke(model_t *m, int status)
{
    if (!m->status)
        m->status = status;
}

static const char *const METHODS[] = {"GET",    "HEAD",    "POST",  "PUT",
                                      "DELETE", "OPTIONS", "PATCH", "TRACE",
                                      "FOO",    "M-SEARCH"};
static const char *const CONNECTIONS[] = {
    "close",      "keep-alive",          "Upgrade",
    "foo, close", "keep-alive, upgrade", "  Keep-Alive  ",
    "x,,y"};

/* One header field from the palette. */
static void field(model_t *m, fz_in_t *in, size_t maxh)
{
    char value[64];
    const char *name;
    if (m->nfields++ == maxh) /* counted before the field is read */
        broke(m, 431);
    unsigned pick = fz_pick(in, 9);
    switch (pick) {
    case 0:
        name = "Host";
        snprintf(value, sizeof value, "h%u.example", fz_u8(in) % 3);
        m->hosts++;
        if (m->hosts > 1)
            broke(m, 400);
        break;
    case 1: {
        name = fz_u8(in) & 1 ? "Content-Length" : "content-length";
        uint64_t v = fz_u8(in) % 40;
        snprintf(value, sizeof value, "%llu", (unsigned long long)v);
        if (m->has_cl && v != m->cl)
            broke(m, 400);
        m->has_cl = true;
        m->cl = v;
        break;
    }
    case 2:
        name = "Transfer-Encoding";
        snprintf(value, sizeof value, "%s",
                 fz_u8(in) & 1 ? "chunked" : "Chunked");
        if (m->has_te)
            broke(m, 400);
        m->has_te = m->chunked = true;
        break;
    case 3: {
        name = "Connection";
        const char *c = CONNECTIONS[fz_pick(in, 7)];
        snprintf(value, sizeof value, "%s", c);
        m->conn_close |= strstr(c, "close") != NULL;
        m->conn_ka |= strstr(c, "keep-alive") || strstr(c, "Keep-Alive");
        m->conn_up |= strstr(c, "pgrade") != NULL;
        break;
    }
    case 4:
        name = "Upgrade";
        snprintf(value, sizeof value, "websocket");
        m->has_up = true;
        break;
    default: {
        static const char *const names[] = {"X-A", "accept", "Cookie", "b"};
        name = names[pick - 5];
        /* A value of visible characters and inner spaces, obs-text too. */
        size_t n = fz_pick(in, 20), j = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned c = fz_u8(in);
            c = c < 0x21 ? 'a' + c % 26 : c == 0x7f ? ' ' : c;
            if (i == 0 || i + 1 == n)
                c = c == ' ' ? 'z' : c;
            value[j++] = (char)c;
        }
        value[j] = '\0';
        break;
    }
    }
    adds(m, name);
    add(m, ":", 1);
    unsigned ws = fz_u8(in);
    adds(m, ws & 1 ? " " : ws & 2 ? "\t " : "");
    adds(m, value);
    adds(m, ws & 4 ? " \t" : "");
    adds(m, "\r\n");
}

static void run_structured(fz_in_t *in)
{
    model_t m = {0};
    size_t maxh = 1 + fz_pick(in, MAXH);
    uint64_t max_body = fz_u8(in) & 1 ? 30 : 0;
    if (fz_u8(in) % 4 == 0)
        adds(&m, "\r\n"); /* an empty line first is skipped */
    const char *method = METHODS[fz_pick(in, 10)];
    adds(&m, method);
    add(&m, " ", 1);
    size_t t0 = m.len;
    add(&m, "/", 1);
    size_t plen = fz_pick(in, 12);
    for (size_t i = 0; i < plen; i++)
        add(&m, &"abc/._-~%AZ09"[fz_pick(in, 13)], 1);
    size_t path_len = m.len - t0, q0 = 0;
    if (fz_u8(in) & 1) {
        add(&m, "?", 1);
        q0 = m.len;
        size_t ql = fz_pick(in, 8);
        for (size_t i = 0; i < ql; i++)
            add(&m, &"a=b&?/"[fz_pick(in, 6)], 1);
    }
    size_t t1 = m.len;
    m.version = fz_u8(in) & 1 ? 11 : 10;
    adds(&m, m.version == 11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
    size_t nf = fz_pick(in, 10);
    for (size_t i = 0; i < nf; i++)
        field(&m, in, maxh);
    adds(&m, "\r\n");
    size_t head_len = m.len;
    /* The rules that need the whole head, in the parser's order. */
    if (m.version == 11 && m.hosts == 0)
        broke(&m, 400);
    if (m.has_te && m.has_cl)
        broke(&m, 400);
    if (m.has_te && m.version == 10)
        broke(&m, 400);
    if (!m.chunked && m.cl > (max_body ? max_body : 1 << 20))
        broke(&m, 413);
    /* The body: chunked (split into chunks from the input) or sized. */
    char body[64];
    size_t body_len = m.chunked ? fz_pick(in, 40) : m.cl;
    for (size_t i = 0; i < body_len; i++)
        body[i] = (char)('A' + i % 26);
    if (m.chunked) {
        size_t at = 0;
        while (at < body_len) {
            size_t c = 1 + fz_pick(in, 16);
            if (c > body_len - at)
                c = body_len - at;
            char line[32];
            snprintf(line, sizeof line,
                     fz_u8(in) & 1 ? "%zx\r\n" : "%zX;e=1\r\n", c);
            adds(&m, line);
            add(&m, body + at, c);
            adds(&m, "\r\n");
            at += c;
        }
        adds(&m, fz_u8(in) & 1 ? "0\r\n\r\n" : "0\r\nT: v\r\n\r\n");
    } else {
        add(&m, body, body_len);
    }
    size_t next = m.len;
    adds(&m, "GET /next HTTP/1.1\r\nHost: n\r\n\r\n");

    if (getenv("FUZZ_SHOW")) /* to see what an artifact builds */
        fprintf(stderr, "request (status %d):\n%.*s\n", m.status, (int)m.len,
                m.buf);
    rill_http_parse_config_t cfg = {.max_body = max_body};
    rill_http_request_t req;
    rill_http_header_t h[MAXH];
    const uint8_t *b = (const uint8_t *)m.buf;
    int rc = parse_checked(b, m.len, maxh, &cfg, &req, h);
    if (m.status) {
        FZ_EQ(rc, RILL_EPROTO);
        FZ_EQ(req.status, m.status);
        return;
    }
    FZ_EQ(rc, 0);
    FZ_EQ(req.head_len, head_len);
    FZ_CHECK(strlen(method) == req.method_name.len &&
             memcmp(method, req.method_name.ptr, req.method_name.len) == 0);
    FZ_CHECK(req.target.ptr == m.buf + t0 && req.target.len == t1 - t0);
    FZ_CHECK(req.path.ptr == m.buf + t0 && req.path.len == path_len);
    FZ_EQ(req.query.len, q0 ? t1 - q0 : 0);
    FZ_EQ(req.version, m.version);
    FZ_EQ(req.header_count, nf);
    FZ_EQ(req.chunked, m.chunked);
    FZ_EQ(req.content_length, m.cl);
    FZ_EQ(req.keep_alive, !m.conn_close && (m.version == 11 || m.conn_ka));
    FZ_EQ(req.upgrade, m.conn_up && m.has_up);
#ifdef FUZZ_HTTP_PARSER
    oracle(b, m.len, &req);
#endif
    /* The body, fed to the chunked decoder in pieces from the input. */
    size_t off = req.head_len;
    if (m.chunked) {
        rill_http_chunked_t c;
        rill_http_chunked_init(&c, max_body);
        char got[64];
        size_t got_len = 0, avail = off;
        int crc;
        for (;;) {
            if (avail == off) {
                size_t step = 1 + fz_pick(in, 16);
                avail = off + step < next ? off + step : next;
            }
            size_t used;
            rill_http_str_t d;
            crc = rill_http_chunked_decode(&c, b + off, avail - off, &used, &d);
            off += used;
            if (crc == 0) {
                FZ_CHECK(got_len + d.len <= sizeof got);
                memcpy(got + got_len, d.ptr, d.len);
                got_len += d.len;
            } else if (crc != RILL_PENDING) {
                break;
            }
        }
        if (max_body && body_len > max_body) {
            FZ_EQ(crc, RILL_EPROTO);
            FZ_EQ(c.status, 413);
            return;
        }
        FZ_EQ(crc, RILL_DONE);
        FZ_EQ(got_len, body_len);
        FZ_CHECK(memcmp(got, body, body_len) == 0);
    } else {
        off += req.content_length;
    }
    FZ_EQ(off, next);
    FZ_EQ(rill_http_parse_request(&req, b + off, m.len - off, h, MAXH, &cfg),
          0);
    FZ_CHECK(req.path.len == 5 && memcmp(req.path.ptr, "/next", 5) == 0);
}

static void body(fz_in_t *in)
{
    if (fz_u8(in) & 1)
        run_structured(in);
    else
        run_raw(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, body);
}

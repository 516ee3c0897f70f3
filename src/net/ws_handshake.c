/* SPDX-License-Identifier: MIT */
/*
 * ws_handshake.c - the server's side of the WebSocket opening handshake
 * (RFC 6455 4.2): check the upgrade request, compute Sec-WebSocket-Accept,
 * select a subprotocol, write the 101 response.
 *
 * Extensions (Sec-WebSocket-Extensions) are never accepted, so RSV bits
 * stay reserved and the frame decoder refuses them.
 */
#include "core/core.h"
#include "net/net_int.h"
#include "rill/ws.h"

#include <stdio.h>
#include <string.h>

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int rill_ws_accept_key(const char *key, size_t key_len,
                       char accept[RILL_WS_ACCEPT_LEN + 1])
{
    if ((!key && key_len > 0) || !accept)
        return RILL_MISUSE("rill_ws_accept_key", "NULL key or accept");
    uint8_t digest[RILL__SHA1_LEN];
    rill__sha1(key, key_len, GUID, sizeof GUID - 1, digest);
    rill__base64_encode(digest, sizeof digest, accept);
    accept[RILL_WS_ACCEPT_LEN] = '\0';
    return 0;
}

static int refuse(rill_ws_handshake_t *hs, int status, const char *why)
{
    hs->status = status;
    hs->error = why;
    return RILL_EPROTO;
}

/* The first of the server's protocols that some Sec-WebSocket-Protocol
 * field of the request lists. */
static const char *select_protocol(const rill_http_request_t *req,
                                   const rill_ws_handshake_config_t *cfg)
{
    if (!cfg || !cfg->protocols)
        return NULL;
    for (size_t k = 0; k < cfg->protocol_count; k++) {
        const char *want = cfg->protocols[k];
        if (!want)
            continue;
        for (size_t i = 0; i < req->header_count; i++) {
            const rill_http_header_t *h = &req->headers[i];
            if (!rill__http_eq_nocase(h->name.ptr, h->name.len,
                                      "sec-websocket-protocol"))
                continue;
            /* Subprotocol names are case-sensitive (RFC 6455 11.3.4). */
            size_t pos = 0;
            rill_http_str_t e;
            while (rill__http_list_next(h->value.ptr, h->value.len, &pos, &e))
                if (e.len == strlen(want) && memcmp(e.ptr, want, e.len) == 0)
                    return want;
        }
    }
    return NULL;
}

/* The single value of a field that must appear once; NULL if absent or
 * repeated. */
static const rill_http_header_t *only(const rill_http_request_t *req,
                                      const char *name)
{
    const rill_http_header_t *found = NULL;
    for (size_t i = 0; i < req->header_count; i++)
        if (rill__http_eq_nocase(req->headers[i].name.ptr,
                                 req->headers[i].name.len, name)) {
            if (found)
                return NULL;
            found = &req->headers[i];
        }
    return found;
}

int rill_ws_handshake(const rill_http_request_t *req, rill_ws_handshake_t *hs,
                      const rill_ws_handshake_config_t *cfg)
{
    if (!req || !hs)
        return RILL_MISUSE("rill_ws_handshake", "NULL request or handshake");
    memset(hs, 0, sizeof *hs);
    if (req->method != RILL_HTTP_GET)
        return refuse(hs, 400, "WebSocket handshake must be GET");
    if (req->version < 11)
        return refuse(hs, 400, "WebSocket handshake needs HTTP/1.1");
    bool upgrade_ws = false, conn_upgrade = false;
    for (size_t i = 0; i < req->header_count; i++) {
        const rill_http_header_t *h = &req->headers[i];
        if (rill__http_eq_nocase(h->name.ptr, h->name.len, "upgrade"))
            upgrade_ws |=
                rill__http_list_has(h->value.ptr, h->value.len, "websocket");
        else if (rill__http_eq_nocase(h->name.ptr, h->name.len, "connection"))
            conn_upgrade |=
                rill__http_list_has(h->value.ptr, h->value.len, "upgrade");
    }
    if (!upgrade_ws || !conn_upgrade)
        return refuse(hs, 400, "not a WebSocket upgrade request");
    const rill_http_header_t *v = only(req, "sec-websocket-version");
    if (!v || v->value.len != 2 || memcmp(v->value.ptr, "13", 2) != 0)
        return refuse(hs, 426, "WebSocket version must be 13");
    const rill_http_header_t *k = only(req, "sec-websocket-key");
    if (!k || !rill__base64_is(k->value.ptr, k->value.len, 16))
        return refuse(hs, 400, "Sec-WebSocket-Key is not 16 bytes in base64");
    rill_ws_accept_key(k->value.ptr, k->value.len, hs->accept);
    hs->protocol = select_protocol(req, cfg);
    return 0;
}

size_t rill_ws_handshake_response(const rill_ws_handshake_t *hs, char *buf,
                                  size_t cap)
{
    if (!hs || !buf)
        return 0;
    int n;
    if (hs->protocol)
        n = snprintf(buf, cap,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n"
                     "Sec-WebSocket-Protocol: %s\r\n\r\n",
                     hs->accept, hs->protocol);
    else
        n = snprintf(buf, cap,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     hs->accept);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

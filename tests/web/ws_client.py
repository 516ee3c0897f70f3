# SPDX-License-Identifier: MIT
"""WebSocket checks against tests/web/serve.c with an independent client
(Debian's python3-websockets). Usage: ws_client.py PORT CHECK
Prints one "ok: ..." line per check; exits non-zero on the first failure."""
import asyncio
import socket
import struct
import sys

import websockets

PORT = int(sys.argv[1])
URI = f"ws://127.0.0.1:{PORT}/ws"


async def echo():
    async with websockets.connect(URI, subprotocols=["x", "echo.rill"]) as ws:
        assert ws.subprotocol == "echo.rill", ws.subprotocol
        await ws.send("h\u00e9llo w\u00f6rld")
        assert await ws.recv() == "h\u00e9llo w\u00f6rld"
        await ws.send(bytes(range(256)) * 300)  # 76800 bytes: 64-bit length
        assert await ws.recv() == bytes(range(256)) * 300
        await ws.send(["frag", "mented"])  # a fragmented text message
        assert await ws.recv() == "fragmented"
        pong = await ws.ping(b"p")
        await asyncio.wait_for(pong, 5)
        for i in range(1000):
            await ws.send(f"m{i}")
        for i in range(1000):
            assert await ws.recv() == f"m{i}"
    assert ws.close_code == 1000, ws.close_code
    print("ok: ws echo (text, 76800-byte binary, fragmented, ping, 1000 in order, close 1000)")


async def server_close():
    async with websockets.connect(URI) as ws:
        await ws.send("close")
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("expected a close")
        except websockets.ConnectionClosed as e:
            assert e.code == 4000 and e.reason == "asked to", (e.code, e.reason)
    print("ok: ws server-initiated close (4000 'asked to')")


def raw(frame_bytes):
    """Handshake by hand, send raw bytes, return the close frame's code."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += s.recv(4096)
    assert resp.startswith(b"HTTP/1.1 101"), resp
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in resp, resp
    rest = resp.split(b"\r\n\r\n", 1)[1]
    s.sendall(frame_bytes)
    data = rest
    while len(data) < 4:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data[0] == 0x88, data
    return struct.unpack(">H", data[2:4])[0]


def early_frame():
    """A frame sent with the handshake, before the 101: closed with 1002."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n" + masked(0x81, b"early"))
    data = b""
    while True:
        c = s.recv(4096)
        if not c:
            break
        data += c
    s.close()
    assert data.startswith(b"HTTP/1.1 101"), data
    frame = data.split(b"\r\n\r\n", 1)[1]
    assert frame[:4] == b"\x88\x02\x03\xea", frame
    print("ok: ws frame before the handshake's answer: 101, then close 1002")


def masked(b0, payload):
    key = b"\x01\x02\x03\x04"
    body = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return bytes([b0, 0x80 | len(payload)]) + key + body


def bad_frames():
    assert raw(masked(0xC1, b"x")) == 1002  # RSV1
    assert raw(bytes([0x81, 0x01]) + b"x") == 1002  # unmasked
    assert raw(masked(0x83, b"x")) == 1002  # reserved opcode
    assert raw(masked(0x81, b"\xff")) == 1007  # not UTF-8
    assert raw(masked(0x09, b"")) == 1002  # fragmented ping
    big = bytes([0x82, 0xFF]) + struct.pack(">Q", 1 << 63) + b"\0\0\0\0"
    assert raw(big) == 1002  # 2^63 length
    huge = bytes([0x82, 0xFF]) + struct.pack(">Q", 1 << 40) + b"\0\0\0\0"
    assert raw(huge) == 1009  # over max_frame
    print("ok: ws bad frames (RSV 1002, unmasked 1002, opcode 1002, UTF-8 1007, "
          "fragmented ping 1002, 2^63 1002, 2^40 1009)")


async def held_open():
    """Connect, say so, then wait for the server's shutdown to close us."""
    async with websockets.connect(URI) as ws:
        print("connected", flush=True)
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except websockets.ConnectionClosed as e:
            assert e.code == 1001, e.code
            print("ok: ws closed by shutdown with 1001", flush=True)
            return
    raise AssertionError("not closed by shutdown")


check = sys.argv[2]
if check == "echo":
    asyncio.run(echo())
    asyncio.run(server_close())
    bad_frames()
    early_frame()
elif check == "held":
    asyncio.run(held_open())

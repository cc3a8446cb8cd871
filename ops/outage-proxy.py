#!/usr/bin/env python3
"""A TCP proxy that can take a server down and bring it back, for outage drills and tests.

    ops/outage-proxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT

Clients connect to 127.0.0.1:LISTEN_PORT and reach the target through the proxy. SIGUSR1 takes
the server "down" as a client sees a crashed or unreachable server: every open connection is
reset and new connections are refused. SIGUSR2 brings it back. Prints "ready" once listening.
"""
import asyncio
import signal
import socket
import struct
import sys


async def main() -> None:
    # A parent may have spawned us with these blocked (threads of a test runner often do).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT})
    listen_port = int(sys.argv[1])
    target_host, target_port = sys.argv[2].rsplit(":", 1)
    connections: set = set()
    server = None

    def reset(writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            if sock is not None:
                # RST instead of FIN: the peer sees the connection fail, as with a killed server.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # already closed by the other side: nothing to reset
        writer.close()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, int(target_port))
        except OSError:
            reset(client_writer)
            return
        pair = (client_writer, upstream_writer)
        connections.add(pair)
        try:
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        finally:
            connections.discard(pair)

    async def up() -> None:
        nonlocal server
        if server is None:
            server = await asyncio.start_server(handle, "127.0.0.1", listen_port, reuse_address=True)

    def down() -> None:
        nonlocal server
        if server is not None:
            server.close()
            server = None
        for client, upstream in list(connections):
            reset(client)
            reset(upstream)
        connections.clear()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, down)
    loop.add_signal_handler(signal.SIGUSR2, lambda: loop.create_task(up()))
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    await up()
    print("ready", flush=True)
    await stop
    down()


if __name__ == "__main__":
    asyncio.run(main())

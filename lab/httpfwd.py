#!/usr/bin/python3
"""lab/httpfwd.py: makes autonomyd's HTTP server in the lab's router namespace
reachable from the host (docs/LAB.md). Standard library only.

It binds its listening socket in the namespace it starts in (the host's), then enters
the router's network namespace with setns(2), so every connection it accepts on the
host is connected to the address given by --to inside the namespace, and bytes are
pumped both ways. lab/lab start runs it; lab/lab stop ends it with SIGTERM.

  httpfwd.py [--listen 127.0.0.1:8080] [--netns /run/netns/ar-router]
             [--to 127.0.0.1:8080] [--pidfile FILE]
"""
import argparse
import ctypes
import errno
import os
import selectors
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000
MAX_CONNS = 64          # pairs at once; more wait in the listen backlog
BUF_MAX = 256 * 1024    # per direction: a side that stops reading stops the other
CHUNK = 65536
CONNECT_TIMEOUT_S = 3


class Stop(Exception):
    pass


def log(msg):
    print("httpfwd: " + msg, file=sys.stderr, flush=True)


def addr(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % text)
    return host or "127.0.0.1", int(port)


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)


class Side:
    """One socket of a pair and the bytes waiting to be written to it."""

    def __init__(self, sock):
        self.sock = sock
        self.out = bytearray()
        self.eof_in = False     # the peer sent FIN: nothing more to read
        self.shut_out = False   # we sent FIN after the other side's EOF


class Pair:
    def __init__(self, fwd, client, upstream):
        self.fwd = fwd
        self.a = Side(client)
        self.b = Side(upstream)
        self.other = {id(self.a): self.b, id(self.b): self.a}
        for s in (self.a, self.b):
            s.sock.setblocking(False)
            fwd.sel.register(s.sock, selectors.EVENT_READ, (self, s))

    def registered(self, s):
        return self.fwd.sel.get_map().get(s.sock.fileno()) is not None

    def update(self, s):
        """Waits to read from s while its peer's queue has room, to write while
        bytes are queued for it; a socket that waits for nothing is unregistered."""
        ev = 0
        if not s.eof_in and len(self.other[id(s)].out) < BUF_MAX:
            ev |= selectors.EVENT_READ
        if s.out:
            ev |= selectors.EVENT_WRITE
        if ev and self.registered(s):
            self.fwd.sel.modify(s.sock, ev, (self, s))
        elif ev:
            self.fwd.sel.register(s.sock, ev, (self, s))
        elif self.registered(s):
            self.fwd.sel.unregister(s.sock)

    def readable(self, s):
        peer = self.other[id(s)]
        try:
            data = s.sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if data:
            peer.out += data
        else:
            s.eof_in = True
        self.flush(peer)

    def flush(self, s):
        """Writes what is queued for s; passes an EOF on once the queue is empty."""
        peer = self.other[id(s)]
        if s.out:
            try:
                n = s.sock.send(s.out)
                del s.out[:n]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self.close()
                return
        if not s.out and peer.eof_in and not s.shut_out:
            try:
                s.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            s.shut_out = True
        if self.a.shut_out and self.b.shut_out:
            self.close()
            return
        self.update(s)
        self.update(peer)

    def close(self):
        for s in (self.a, self.b):
            if self.registered(s):
                self.fwd.sel.unregister(s.sock)
            s.sock.close()
        self.fwd.pairs.discard(self)


class Forwarder:
    def __init__(self, listener, target):
        self.listener = listener
        self.target = target
        self.sel = selectors.DefaultSelector()
        self.pairs = set()
        listener.setblocking(False)
        self.sel.register(listener, selectors.EVENT_READ, None)
        self.accepting = True

    def accept(self):
        try:
            client, peer = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            log("accept: %s" % e.strerror)
            return
        try:
            upstream = socket.create_connection(self.target, timeout=CONNECT_TIMEOUT_S)
        except OSError as e:
            log("cannot connect to %s:%d in the namespace: %s" % (self.target + (e.strerror or e,)))
            client.close()
            return
        self.pairs.add(Pair(self, client, upstream))
        self.limit()

    def limit(self):
        want = len(self.pairs) < MAX_CONNS
        if want != self.accepting:
            self.accepting = want
            if want:
                self.sel.register(self.listener, selectors.EVENT_READ, None)
            else:
                self.sel.unregister(self.listener)

    def run(self):
        while True:
            for key, ev in self.sel.select(timeout=1.0):
                if key.data is None:
                    self.accept()
                    continue
                pair, side = key.data
                if pair not in self.pairs:
                    continue
                if ev & selectors.EVENT_WRITE:
                    pair.flush(side)
                if ev & selectors.EVENT_READ and pair in self.pairs:
                    pair.readable(side)
            self.limit()

    def close(self):
        for pair in list(self.pairs):
            pair.close()
        self.listener.close()
        self.sel.close()


def main():
    ap = argparse.ArgumentParser(description="forward a host TCP port into a network namespace")
    ap.add_argument("--listen", type=addr, default=("127.0.0.1", 8080))
    ap.add_argument("--netns", default="/run/netns/ar-router")
    ap.add_argument("--to", type=addr, default=("127.0.0.1", 8080))
    ap.add_argument("--pidfile")
    args = ap.parse_args()

    def stop(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(args.listen)
        listener.listen(64)
    except OSError as e:
        log("cannot listen on %s:%d: %s" % (args.listen + (e.strerror or e,)))
        return 1
    try:
        setns(args.netns)
    except OSError as e:
        log(str(e) if e.errno is None or e.errno != errno.ENOENT else
            "no namespace %s (is the lab up?)" % args.netns)
        return 1
    fwd = Forwarder(listener, args.to)
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(args.pidfile + ".tmp", args.pidfile)
    log("forwarding %s:%d to %s:%d in %s" % (args.listen + args.to + (args.netns,)))
    try:
        fwd.run()
    except Stop:
        pass
    finally:
        fwd.close()
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except FileNotFoundError:
                pass
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The lab's "internet": answers probes in the ar-internet namespace.

lab/lab starts this inside ar-internet, where the kernel itself ignores ICMP echo
(net.ipv4.icmp_echo_ignore_all=1), so every echo reply comes from here. That lets the lab
add latency per uplink without netem: each ISP reaches ar-internet through its own
interface (in-NAME), and replies to packets that came in through it are held back by the
delay configured for it in RUN/delay-IFNAME ("MS JITTER").

Services (all replies leave from the address the request was sent to):
  ICMP echo        every local address; delayed per ingress interface
  DNS, UDP 53      the probe targets; NOERROR, question echoed, no answers; delayed
  TCP 443          the probe targets; accepted and closed at once
  whoami, UDP 7777 the test server; replies "MEMBER PAYLOAD", MEMBER being the member
                   whose ISP the datagram came through ("unknown" if none); not delayed

The ingress interface comes from IP_PKTINFO on every received packet. Nothing here may
end the process: a failing handler is logged to RUN/responder.log and the loop goes on.
Standard library only.
"""

import argparse
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time
import traceback

TARGETS = ("1.1.1.1", "8.8.8.8", "9.9.9.9")
TEST_SERVER = "203.0.113.80"
WHOAMI_PORT = 7777
DNS_PORT = 53
TCP_PORT = 443

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Python 3.11 does not export it
SOL_RAW = 255
ICMP_FILTER = 1
ICMP_ECHOREPLY = 0
ICMP_ECHO = 8
CMSG_SPACE = socket.CMSG_SPACE(struct.calcsize("@i4s4s"))

DELAY_RECHECK_S = 0.05  # how stale a delay setting may be before we stat its file
IFMAP_RECHECK_S = 2.0   # interfaces are re-resolved at least this often


class Log:
    """Timestamped lines to a file; rate limited so a bug cannot fill /run."""

    def __init__(self, path):
        self.path = path
        self.window = 0
        self.count = 0

    def __call__(self, msg):
        now = int(time.time())
        if now // 60 != self.window:
            self.window, self.count = now // 60, 0
        self.count += 1
        if self.count > 100:
            return
        if self.count == 100:
            msg = "too many messages; quiet until the next minute"
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + msg.rstrip() + "\n"
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
        except OSError:
            sys.stderr.write(line)


class Members:
    """Maps an ingress ifindex to (interface name, member name).

    RUN/members has one line per member: "K NAME ROUTER_DEV INTERNET_DEV". Interface
    indexes change when the lab is rebuilt, so the map is dropped whenever that file
    changes and at least every IFMAP_RECHECK_S seconds.
    """

    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.checked = 0.0
        self.member_of_dev = {}
        self.by_index = {}

    def _refresh(self):
        now = time.monotonic()
        if now - self.checked < IFMAP_RECHECK_S:
            return
        self.checked = now
        try:
            st = os.stat(self.path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        self.by_index = {}
        if stamp == self.stamp:
            return
        self.stamp = stamp
        self.member_of_dev = {}
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    fields = line.split()
                    if len(fields) >= 4:
                        self.member_of_dev[fields[3]] = fields[1]
        except OSError:
            pass

    def lookup(self, ifindex):
        """(ifname or None, member or None) for an interface index."""
        self._refresh()
        hit = self.by_index.get(ifindex)
        if hit is None:
            try:
                ifname = socket.if_indextoname(ifindex)
            except OSError:
                ifname = None
            hit = (ifname, self.member_of_dev.get(ifname))
            self.by_index[ifindex] = hit
        return hit


class Delays:
    """Per-interface delay settings from RUN/delay-IFNAME ("MS JITTER").

    A file is stat()ed at most every DELAY_RECHECK_S and read again only when it
    changed; a missing or unreadable file means no delay.
    """

    def __init__(self, run_dir, log):
        self.run_dir = run_dir
        self.log = log
        self.cache = {}  # ifname -> [checked, stamp, ms, jitter]

    def seconds(self, ifname):
        if not ifname:
            return 0.0
        now = time.monotonic()
        entry = self.cache.get(ifname)
        if entry is None:
            entry = self.cache[ifname] = [0.0, None, 0.0, 0.0]
        if now - entry[0] >= DELAY_RECHECK_S:
            entry[0] = now
            self._reload(ifname, entry)
        ms, jitter = entry[2], entry[3]
        if jitter > 0:
            ms += random.uniform(-jitter, jitter)
        return max(ms, 0.0) / 1000.0

    def _reload(self, ifname, entry):
        path = os.path.join(self.run_dir, "delay-" + ifname)
        try:
            st = os.stat(path)
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            entry[1:] = [None, 0.0, 0.0]
            return
        if stamp == entry[1]:
            return
        entry[1] = stamp
        try:
            with open(path, encoding="utf-8") as f:
                fields = f.read().split()
            ms = float(fields[0]) if fields else 0.0
            jitter = float(fields[1]) if len(fields) > 1 else 0.0
            entry[2:] = [max(ms, 0.0), max(jitter, 0.0)]
        except (OSError, ValueError) as e:
            self.log("%s: %s; using no delay" % (path, e))
            entry[2:] = [0.0, 0.0]


def checksum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ingress_index(ancdata):
    """The ingress interface index from an IP_PKTINFO control message, or 0."""
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(data) >= 4:
            return struct.unpack("@i", data[:4])[0]
    return 0


def pktinfo_from(addr):
    """Control message that makes a reply leave from local address `addr`."""
    info = struct.pack("@i4s4s", 0, socket.inet_aton(addr), b"\0\0\0\0")
    return [(socket.IPPROTO_IP, IP_PKTINFO, info)]


def parse_echo_request(packet):
    """(src, dst, icmp bytes) of a valid ICMP echo request in an IPv4 packet, else None."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0x0F) * 4
    total = struct.unpack("!H", packet[2:4])[0]
    if ihl < 20 or packet[9] != socket.IPPROTO_ICMP or total > len(packet):
        return None
    icmp = packet[ihl:total]
    if len(icmp) < 8 or icmp[0] != ICMP_ECHO or icmp[1] != 0 or checksum(icmp) != 0:
        return None
    dst = socket.inet_ntoa(packet[16:20])
    if int(dst.split(".")[0]) >= 224:  # multicast/broadcast: not ours to answer
        return None
    return socket.inet_ntoa(packet[12:16]), dst, icmp


def echo_reply(icmp):
    """The echo reply for an echo request: same id, sequence and payload."""
    body = bytes([ICMP_ECHOREPLY, 0, 0, 0]) + icmp[4:]
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def skip_name(msg, pos):
    """Position after a (possibly compressed) domain name at pos; ValueError if bad."""
    for _ in range(128):
        if pos >= len(msg):
            raise ValueError("name runs past the end")
        length = msg[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            if pos + 2 > len(msg):
                raise ValueError("truncated pointer")
            return pos + 2
        if length & 0xC0:
            raise ValueError("bad label type")
        pos += 1 + length
    raise ValueError("name too long")


def dns_response(query):
    """A NOERROR response echoing the questions of `query`, or None if it is no query."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000:  # a response, not a query
        return None
    pos = 12
    for _ in range(qdcount):
        pos = skip_name(query, pos) + 4
        if pos > len(query):
            return None
    opcode_rd = flags & 0x7900  # keep OPCODE and RD
    out_flags = 0x8000 | opcode_rd | 0x0080  # QR, RA; RCODE 0
    return struct.pack("!HHHHHH", ident, out_flags, qdcount, 0, 0, 0) + query[12:pos]


class Responder:
    def __init__(self, run_dir, log):
        self.run_dir = run_dir
        self.log = log
        self.members = Members(os.path.join(run_dir, "members"))
        self.delays = Delays(run_dir, log)
        self.poll = select.poll()
        self.handlers = {}  # fd -> (socket, handler)
        self.timers = []    # heap of (due, seq, socket, data, ancdata, address)
        self.seq = 0

    # -- sockets ------------------------------------------------------------------

    def add(self, sock, handler):
        sock.setblocking(False)
        self.handlers[sock.fileno()] = (sock, handler)
        self.poll.register(sock.fileno(), select.POLLIN)

    def open_all(self):
        icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        icmp.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        # Let the kernel hand us echo requests only, not every ICMP message.
        icmp.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", ~(1 << ICMP_ECHO) & 0xFFFFFFFF))
        self.add(icmp, self.on_icmp)
        for addr in TARGETS:
            self.add(self.udp(addr, DNS_PORT), self.on_dns)
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((addr, TCP_PORT))
            tcp.listen(128)
            self.add(tcp, self.on_tcp)
        self.add(self.udp(TEST_SERVER, WHOAMI_PORT), self.on_whoami)

    @staticmethod
    def udp(addr, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        sock.bind((addr, port))
        return sock

    # -- handlers -----------------------------------------------------------------

    def on_icmp(self, sock):
        packet, anc, _flags, _addr = sock.recvmsg(65535, CMSG_SPACE)
        parsed = parse_echo_request(packet)
        if parsed is None:
            return
        src, dst, icmp = parsed
        ifname, _member = self.members.lookup(ingress_index(anc))
        self.later(self.delays.seconds(ifname), sock, echo_reply(icmp),
                   pktinfo_from(dst), (src, 0))

    def on_dns(self, sock):
        query, anc, _flags, addr = sock.recvmsg(65535, CMSG_SPACE)
        try:
            answer = dns_response(query)
        except ValueError:
            return
        if answer is None:
            return
        ifname, _member = self.members.lookup(ingress_index(anc))
        self.later(self.delays.seconds(ifname), sock, answer, [], addr)

    def on_whoami(self, sock):
        payload, anc, _flags, addr = sock.recvmsg(65535, CMSG_SPACE)
        _ifname, member = self.members.lookup(ingress_index(anc))
        reply = (member or "unknown").encode() + b" " + payload
        sock.sendto(reply, addr)

    @staticmethod
    def on_tcp(sock):
        while True:
            try:
                conn, _addr = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.close()

    # -- delayed sends ------------------------------------------------------------

    def later(self, delay, sock, data, anc, addr):
        if delay <= 0:
            self.send(sock, data, anc, addr)
            return
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, sock, data, anc, addr))

    def send(self, sock, data, anc, addr):
        try:
            sock.sendmsg([data], anc, 0, addr)
        except OSError as e:
            self.log("reply to %s failed: %s" % (addr[0], e))

    def run_due(self):
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _due, _seq, sock, data, anc, addr = heapq.heappop(self.timers)
            self.send(sock, data, anc, addr)

    def poll_timeout_ms(self):
        if not self.timers:
            return 1000
        return max(0, min(1000, int((self.timers[0][0] - time.monotonic()) * 1000) + 1))

    # -- main loop ----------------------------------------------------------------

    def loop(self):
        while True:
            for fd, _event in self.poll.poll(self.poll_timeout_ms()):
                sock, handler = self.handlers[fd]
                try:
                    handler(sock)
                except (BlockingIOError, InterruptedError):
                    pass
                except Exception:  # keep answering whatever one packet did
                    self.log("handler %s failed:\n%s" % (handler.__name__, traceback.format_exc()))
            try:
                self.run_due()
            except Exception:
                self.log("timer failed:\n%s" % traceback.format_exc())


def write_pidfile(path):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="the autonomy lab's probe responder")
    ap.add_argument("--run-dir", default="/run/autonomy-lab",
                    help="lab state directory (members, delay-* files)")
    ap.add_argument("--pidfile", help="written once every socket is open")
    ap.add_argument("--log", help="log file (default RUN_DIR/responder.log)")
    args = ap.parse_args()

    log = Log(args.log or os.path.join(args.run_dir, "responder.log"))

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    responder = Responder(args.run_dir, log)
    try:
        responder.open_all()
    except OSError as e:
        log("cannot open sockets: %s" % e)
        return 1
    if args.pidfile:
        write_pidfile(args.pidfile)
    log("responder %d ready" % os.getpid())
    try:
        responder.loop()
    finally:
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

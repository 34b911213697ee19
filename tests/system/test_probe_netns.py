"""The probe engines on real interfaces: a router namespace with two veth
"uplinks", each into a peer namespace that owns the same probe target.

    ar-ptest-<pid>-r                      ar-ptest-<pid>-a / -b
    upa 10.201.1.1/30 fd00:a::1 ───────── eth0 10.201.1.2 fd00:a::2   lo 198.51.100.1 2001:db8:100::1
    upb 10.201.2.1/30 fd00:b::1 ───────── eth0 10.201.2.2 fd00:b::2   lo 198.51.100.1 2001:db8:100::1

The main table's default route prefers upb (metric 10 over 20), as the route
controller leaves it for a standby member. A probe bound to upa must still
leave through upa; nftables counters per interface, and the mark, say where
every probe went. Needs root, iproute2 and nft; a small driver (probetool.c)
is compiled against the engine's sources.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PREFIX = "ar-ptest-%d" % os.getpid()
R, A, B = PREFIX + "-r", PREFIX + "-a", PREFIX + "-b"
TARGET, TARGET6 = "198.51.100.1", "2001:db8:100::1"
MARK = 0x4D2

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nft")
    or not shutil.which("gcc"),
    reason="needs root, iproute2, nft and gcc")


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def ns(name, *args, check=True):
    return sh("ip", "netns", "exec", name, *args, check=check)


def nft(name, script):
    r = subprocess.run(["ip", "netns", "exec", name, "nft", "-f", "-"], input=script,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def delete_namespaces():
    for n in (R, A, B):
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


@pytest.fixture(scope="module")
def probetool(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("probetool") / "probetool")
    flags = sh("pkg-config", "--cflags", "--libs", "json-c").stdout.split()
    srcs = ["tests/system/probetool.c", "src/probe/probe.c", "src/probe/wire.c",
            "src/core/log.c", "src/core/util.c"]
    r = subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-g",
                        "-Isrc", "-D_GNU_SOURCE", "-o", out] + srcs + flags + ["-lev"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def lab(request, probetool):
    delete_namespaces()
    request.addfinalizer(delete_namespaces)
    for n in (R, A, B):
        sh("ip", "netns", "add", n)
        sh("ip", "-n", n, "link", "set", "lo", "up")
    for side, peer, net in (("a", A, 1), ("b", B, 2)):
        dev = "up" + side
        sh("ip", "link", "add", dev, "netns", R, "type", "veth", "peer", "name", "eth0",
           "netns", peer)
        sh("ip", "-n", R, "addr", "add", "10.201.%d.1/30" % net, "dev", dev)
        sh("ip", "-n", R, "addr", "add", "fd00:%s::1/64" % side, "dev", dev, "nodad")
        sh("ip", "-n", R, "link", "set", dev, "up")
        sh("ip", "-n", peer, "addr", "add", "10.201.%d.2/30" % net, "dev", "eth0")
        sh("ip", "-n", peer, "addr", "add", "fd00:%s::2/64" % side, "dev", "eth0", "nodad")
        sh("ip", "-n", peer, "addr", "add", TARGET + "/32", "dev", "lo")
        sh("ip", "-n", peer, "addr", "add", TARGET6 + "/128", "dev", "lo")
        sh("ip", "-n", peer, "link", "set", "eth0", "up")
        sh("ip", "-n", peer, "route", "add", "default", "via", "10.201.%d.1" % net)
        sh("ip", "-n", peer, "-6", "route", "add", "default", "via", "fd00:%s::1" % side)
        metric = "20" if side == "a" else "10"
        sh("ip", "-n", R, "route", "add", "default", "via", "10.201.%d.2" % net, "dev", dev,
           "metric", metric)
        sh("ip", "-n", R, "-6", "route", "add", "default", "via", "fd00:%s::2" % side,
           "dev", dev, "metric", metric)
    # Everything the router sends, by interface and by mark.
    nft(R, """
table inet ptest {
    counter icmp_upa {}
    counter icmp_upb {}
    counter marked {}
    counter tcp_out {}
    counter tcp_in {}
    chain out {
        type filter hook output priority 0;
        icmp type echo-request oifname "upa" counter name icmp_upa
        icmp type echo-request oifname "upb" counter name icmp_upb
        icmpv6 type echo-request oifname "upa" counter name icmp_upa
        icmpv6 type echo-request oifname "upb" counter name icmp_upb
        meta mark %d counter name marked
        tcp dport 443 counter name tcp_out
    }
    chain in {
        type filter hook input priority 0;
        tcp sport 443 counter name tcp_in
    }
}
""" % MARK)
    # Wait until both uplinks answer on IPv4 and IPv6 (links up, neighbours known).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(len(probe(probetool, "--device", dev, "--wait-ms", "300", TARGET, TARGET6)
                   ["replies"]) == 2 for dev in ("upa", "upb")):
            break
        time.sleep(0.1)
    return R


def counter(name):
    out = ns(R, "nft", "-j", "list", "counter", "inet", "ptest", name).stdout
    for item in json.loads(out)["nftables"]:
        if "counter" in item:
            return item["counter"]["packets"], item["counter"]["bytes"]
    raise AssertionError("no counter " + name)


def reset_counters():
    ns(R, "nft", "reset", "counters", "table", "inet", "ptest")


def probe(tool, *args):
    r = ns(R, tool, *args, check=False)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_main_table_prefers_b(lab):
    assert "dev upb" in ns(R, "ip", "route", "get", TARGET).stdout
    assert "dev upb" in ns(R, "ip", "-6", "route", "get", TARGET6).stdout


def test_icmp_bound_to_a_leaves_through_a(lab, probetool):
    reset_counters()
    out = probe(probetool, "--device", "upa", "--count", "5", "--interval-ms", "50",
                "--wait-ms", "500", TARGET)
    assert out["sent"] == 5 and out["errors"] == []
    assert sorted(r["seq"] for r in out["replies"]) == [1, 2, 3, 4, 5]
    assert all(0 <= r["rtt_ms"] < 100 and r["bytes"] == 52 for r in out["replies"])
    assert out["bytes_sent"] == out["bytes_received"] == 5 * 52
    assert counter("icmp_upa")[0] == 5
    assert counter("icmp_upb")[0] == 0


def test_icmp6_bound_to_a_leaves_through_a(lab, probetool):
    reset_counters()
    out = probe(probetool, "--device", "upa", "--count", "3", "--interval-ms", "50",
                "--wait-ms", "500", TARGET6)
    assert sorted(r["seq"] for r in out["replies"]) == [1, 2, 3], out
    assert all(r["bytes"] == 72 for r in out["replies"])
    assert counter("icmp_upa") == (3, 3 * 72)
    assert counter("icmp_upb")[0] == 0


def test_blackholed_b_does_not_answer_but_a_does(lab, probetool):
    nft(B, "table inet hole {\n chain in {\n type filter hook input priority 0;\n"
           " meta l4proto { icmp, ipv6-icmp } drop\n }\n}\n")
    try:
        reset_counters()
        out_b = probe(probetool, "--device", "upb", "--count", "3", "--interval-ms", "50",
                      "--wait-ms", "500", TARGET)
        out_a = probe(probetool, "--device", "upa", "--count", "3", "--interval-ms", "50",
                      "--wait-ms", "500", TARGET)
    finally:
        ns(B, "nft", "delete", "table", "inet", "hole")
    assert out_b["sent"] == 3 and out_b["replies"] == []
    assert out_b["bytes_received"] == 0
    assert len(out_a["replies"]) == 3
    assert counter("icmp_upb")[0] == 3 and counter("icmp_upa")[0] == 3


def test_mark_is_set(lab, probetool):
    reset_counters()
    probe(probetool, "--device", "upa", "--count", "2", "--wait-ms", "300", TARGET)
    assert counter("marked")[0] == 0
    out = probe(probetool, "--device", "upa", "--mark", str(MARK), "--count", "4",
                "--interval-ms", "20", "--wait-ms", "300", TARGET, TARGET6)
    assert len(out["replies"]) == 8
    assert counter("marked")[0] == 8


def test_source_address(lab, probetool):
    # A source address of another uplink cannot answer through this one.
    r = ns(R, probetool, "--device", "upa", "--src", "10.201.9.9", TARGET, check=False)
    assert r.returncode == 1
    assert "icmp probe: cannot bind to 10.201.9.9 on upa: Cannot assign requested address" \
        in r.stderr
    out = probe(probetool, "--device", "upa", "--src", "10.201.1.1", "--count", "2",
                "--wait-ms", "300", TARGET)
    assert len(out["replies"]) == 2


def test_open_error_names_the_device(lab, probetool):
    for kind in ("icmp", "dns", "tcp"):
        r = ns(R, probetool, "--type", kind, "--device", "nosuch0", TARGET, check=False)
        assert r.returncode == 1
        assert "%s probe: cannot bind to device nosuch0: No such device" % kind in r.stderr


def start_in(name, code):
    p = subprocess.Popen(["ip", "netns", "exec", name, "/usr/bin/python3", "-c", code],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


RESOLVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.1", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    s.sendto(q[:2] + bytes([q[2] | 0x80, 0x83]) + q[4:], peer)   # NXDOMAIN
"""

WEB = r"""
import signal, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 443))
s.listen(64)
print("ready", flush=True)
# Never accepts: a connection closed by the server would add a FIN and its
# ACK to the packets counted below. The probe's RST removes it from the queue.
signal.pause()
"""


def test_dns_and_tcp_through_a(lab, probetool):
    resolver, web = start_in(A, RESOLVER), start_in(A, WEB)
    try:
        reset_counters()
        dns = probe(probetool, "--type", "dns", "--device", "upa", "--count", "3",
                    "--interval-ms", "50", "--wait-ms", "500", TARGET)
        tcp = probe(probetool, "--type", "tcp", "--device", "upa", "--count", "3",
                    "--interval-ms", "50", "--wait-ms", "500", TARGET)
        # B has no web server: its kernel refuses, which still proves the path.
        refused = probe(probetool, "--type", "tcp", "--device", "upb", "--count", "2",
                        "--interval-ms", "50", "--wait-ms", "500", TARGET)
    finally:
        resolver.kill()
        web.kill()
        resolver.wait()
        web.wait()
    assert sorted(r["seq"] for r in dns["replies"]) == [1, 2, 3], dns
    assert all(r["bytes"] == 20 + 8 + 17 for r in dns["replies"])
    assert dns["bytes_sent"] == 3 * 45
    assert sorted(r["seq"] for r in tcp["replies"]) == [1, 2, 3], tcp
    assert all(r["bytes"] == 60 for r in tcp["replies"])
    assert sorted(r["seq"] for r in refused["replies"]) == [1, 2], refused
    assert all(r["bytes"] == 40 for r in refused["replies"])
    # The byte estimate is what the wire carried: per connect SYN + ACK + RST
    # out and a SYN-ACK in; a refusal costs only the SYN out and a RST in.
    time.sleep(0.2)
    out_pk, out_bytes = counter("tcp_out")
    in_pk, in_bytes = counter("tcp_in")
    assert (out_pk, out_bytes) == (3 * 3 + 2, tcp["bytes_sent"] + 2 * 60)
    assert in_bytes == tcp["bytes_received"] + refused["bytes_received"]


def make_upc():
    sh("ip", "link", "add", "upc", "netns", R, "type", "veth", "peer", "name", "eth1",
       "netns", A)
    sh("ip", "-n", R, "addr", "add", "10.201.3.1/30", "dev", "upc")
    sh("ip", "-n", A, "addr", "add", "10.201.3.2/30", "dev", "eth1")
    sh("ip", "-n", A, "link", "set", "eth1", "up")
    sh("ip", "-n", R, "link", "set", "upc", "up")


def test_device_recreated(lab, probetool):
    """A modem reconnect deletes and recreates wwan0 with a new ifindex: the
    engine's sockets, bound to the old one, are reopened on their own."""
    make_upc()
    p = subprocess.Popen(["ip", "netns", "exec", R, probetool, "--device", "upc", "--count", "40",
                          "--interval-ms", "100", "--wait-ms", "500", "10.201.3.2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        sh("ip", "-n", R, "link", "del", "upc")
        time.sleep(0.5)
        make_upc()
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
        subprocess.run(["ip", "-n", R, "link", "del", "upc"], capture_output=True)
    assert p.returncode == 0, err
    res = json.loads(out)
    seqs = sorted(r["seq"] for r in res["replies"])
    assert any("No such device" in e for e in res["errors"]), res
    assert seqs and seqs[0] < 10, res       # before the reconnect
    assert seqs[-1] > 30, res               # and after it, on a new socket
    assert "upc is back" in err

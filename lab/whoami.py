#!/usr/bin/python3
"""Ask the lab's test server which member carried a datagram: `lab/lab path`.

Run inside ar-router. Sends a datagram to 203.0.113.80:7777 with an ordinary socket
(so the main routing table picks the uplink, as it would for any traffic) and prints the
member name from the reply. The responder in ar-internet answers "MEMBER PAYLOAD"; the
payload carries a random token so a late reply to an earlier run is never taken for
ours. A few datagrams are sent within the timeout so a single lost packet does not read
as "no path". Prints "none" and exits 1 if nothing answers in time.

  whoami.py [--timeout S] [--device DEV]   (--device pins the datagram to one uplink)
"""

import argparse
import os
import select
import socket
import sys
import time

SERVER = ("203.0.113.80", 7777)
TRIES = 5


def ask(timeout, device):
    token = os.urandom(8).hex().encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if device:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    deadline = time.monotonic() + timeout
    next_send = 0.0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return None
        if now >= next_send:
            try:
                sock.sendto(token, SERVER)
            except OSError:
                pass  # no route right now: keep trying until the deadline
            next_send = now + timeout / TRIES
        wait = max(0.0, min(deadline, next_send) - time.monotonic())
        if not select.select([sock], [], [], wait)[0]:
            continue
        try:
            reply = sock.recv(2048)
        except OSError:
            continue
        member, _, payload = reply.partition(b" ")
        if payload == token and member:
            return member.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(description="which lab member carries traffic")
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds (default 1)")
    ap.add_argument("--device", help="send through this device only")
    args = ap.parse_args()
    member = ask(args.timeout, args.device)
    print(member or "none")
    return 0 if member else 1


if __name__ == "__main__":
    sys.exit(main())

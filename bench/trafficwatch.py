#!/usr/bin/python3
"""Runs inside ar-router: sends a numbered UDP datagram to the lab's whoami
server every INTERVAL ms and prints one line per reply:
"<monotonic send time> <member>". The send time tells when traffic that
reached the internet through <member> left the router. Stops after DURATION s
or when stdin closes."""
import select
import socket
import sys
import time

INTERVAL = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 0.002
DURATION = float(sys.argv[2]) if len(sys.argv) > 2 else 600
SERVER = ("203.0.113.80", 7777)


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    sent = {}
    seq = 0
    end = time.monotonic() + DURATION
    nxt = time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= nxt:
            seq += 1
            sent[seq] = now
            try:
                s.sendto(str(seq).encode(), SERVER)
            except OSError:
                pass    # no route at this instant: that is what we measure
            nxt += INTERVAL
            if len(sent) > 10000:
                for k in list(sent)[:5000]:
                    del sent[k]
        r, _, _ = select.select([s, sys.stdin], [], [], max(0, nxt - time.monotonic()))
        if sys.stdin in r and not sys.stdin.readline():
            return
        if s in r:
            while True:
                try:
                    data = s.recv(512).decode(errors="replace").split()
                except BlockingIOError:
                    break
                if len(data) == 2 and data[1].isdigit() and int(data[1]) in sent:
                    print(f"{sent.pop(int(data[1])):.6f} {data[0]}", flush=True)


if __name__ == "__main__":
    main()

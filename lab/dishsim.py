#!/usr/bin/python3
"""A Starlink dish simulator that speaks the dish's real local gRPC API.

Serves `/SpaceX.API.Device.Device/Handle` over cleartext HTTP/2 (h2c) with grpcio, using
message classes generated at start from our own contract, src/collect/starlink.proto.
What the dish reports is driven by a small JSON state file that the `set` command
rewrites atomically; the server notices every change (it watches the file's identity).

  dishsim.py serve --listen ADDR:PORT --state FILE [--pidfile F] [--log F]
                   [--uptime S] [--ring full|written] [--seed N] [-v]
  dishsim.py set --state FILE SPEC...
  dishsim.py get --target ADDR:PORT [--timeout S] [status|history|device_info]

See docs/DISHSIM.md for what is simulated and what is not.
"""

import argparse
import contextlib
import fcntl
import importlib.util
import json
import logging
import math
import os
import random
import signal
import sys
import tempfile
import threading
import time

try:
    import grpc
except ImportError:   # `set` works without it; serve and get say what is missing
    grpc = None

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.normpath(os.path.join(HERE, "..", "src", "collect", "starlink.proto"))

SERVICE = "SpaceX.API.Device.Device"
METHOD = "Handle"
FULL_METHOD = "/%s/%s" % (SERVICE, METHOD)

API_VERSION = 25
RING_LEN = 900             # one-second samples the dish keeps, as the real one does
TICK_S = 0.1               # how often the ring advances and the state file is checked
OBSTRUCTED_THRESHOLD = 0.1 # fraction from which currently_obstructed is reported
HANG_LIMIT_S = 600.0       # a hung call from a client without a deadline still ends
MAX_WORKERS = 16
MAX_OUTAGES = 100          # history outages kept (the window prunes them anyway)

DEVICE_ID = "ut01000000-00000000-00000000"
HARDWARE_VERSION = "rev4_prod1"
SOFTWARE_VERSION = "2026.11.01.mr40000"
COUNTRY_CODE = "US"
FIRST_BOOTCOUNT = 17       # arbitrary: a dish that has rebooted before

SOFTWARE_UPDATE_IDLE = 1
SOFTWARE_UPDATE_REBOOT_REQUIRED = 6
DISABLEMENT_OKAY = 1

# Outage causes (an open enum: any number is accepted as well).
CAUSES = {
    "UNKNOWN": 0, "BOOTING": 1, "STOWED": 2, "THERMAL_SHUTDOWN": 3, "NO_SCHEDULE": 4,
    "NO_SATS": 5, "OBSTRUCTED": 6, "NO_DOWNLINK": 7, "NO_PINGS": 8,
    "ACTUATOR_ACTIVITY": 9, "CABLE_TEST": 10, "SLEEPING": 11, "SKY_SEARCH": 13,
    "INHIBIT_RF": 14,
}
MODES = ("normal", "hang", "garbage", "error")

DEFAULT_STATE = {
    "obstructed": 0.0,
    "outage": None,
    "alerts": [],
    "mode": "normal",
    "swupdate_reboot_ready": False,
    "latency_ms": 38.0,
    "drop_rate": 0.0,
    "reboot": 0,
}

log = logging.getLogger("dishsim")


class StateError(ValueError):
    """A state value or a `set` argument that cannot be used."""


# ---------------------------------------------------------------------------
# Message classes, generated from the contract at run time (nothing is committed)

_messages = None


def load_messages(proto=PROTO):
    """Runs protoc on the contract and imports the result; cached per process.

    The generated module is imported straight from a temporary directory that is
    removed before returning, so nothing is left behind even if we are killed later.
    Generating once per process also keeps the descriptor pool free of duplicates.
    """
    global _messages
    if _messages is not None:
        return _messages
    from grpc_tools import protoc  # imported late: `set` without alerts does not need it
    name = os.path.splitext(os.path.basename(proto))[0] + "_pb2"
    with tempfile.TemporaryDirectory(prefix="dishsim-") as out:
        rc = protoc.main(["protoc", "-I", os.path.dirname(proto), "--python_out=" + out, proto])
        if rc != 0:
            raise RuntimeError("protoc failed (%d) on %s" % (rc, proto))
        spec = importlib.util.spec_from_file_location("dishsim_" + name, os.path.join(out, name + ".py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    _messages = module
    return module


def alert_names(pb):
    return [f.name for f in pb.DishAlerts.DESCRIPTOR.fields]


# ---------------------------------------------------------------------------
# State file

def cause_number(value):
    """An outage cause from a name (any case) or a number; None means no outage."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise StateError("outage cause must be a name or a number, not %r" % value)
    if isinstance(value, int):
        if value < 0 or value > 0x7FFFFFFF:
            raise StateError("outage cause %d out of range" % value)
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return cause_number(int(text))
        if text.upper() in CAUSES:
            return CAUSES[text.upper()]
    raise StateError("unknown outage cause %r; valid: %s, or any number"
                     % (value, ", ".join("%s (%d)" % kv for kv in CAUSES.items())))


def _number(raw, key, lo, hi):
    value = raw.get(key, DEFAULT_STATE[key])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise StateError("%s must be a number" % key)
    if not lo <= value <= hi:
        raise StateError("%s must be within %g..%g" % (key, lo, hi))
    return float(value)


def normalize_state(raw, known_alerts=None):
    """Validates a state dict key by key; a bad key falls back to its default.

    Returns (state, problems): a hand-edited file with one typo still drives the dish,
    and the problems are logged rather than taking the simulator down.
    """
    state, problems = dict(DEFAULT_STATE), []
    if not isinstance(raw, dict):
        return state, ["state is not a JSON object"]

    def take(key, parse):
        try:
            state[key] = parse()
        except StateError as e:
            problems.append(str(e))

    take("obstructed", lambda: _number(raw, "obstructed", 0.0, 1.0))
    take("drop_rate", lambda: _number(raw, "drop_rate", 0.0, 1.0))
    take("latency_ms", lambda: _number(raw, "latency_ms", 0.0, 60000.0))
    take("outage", lambda: cause_number(raw.get("outage")))
    take("mode", lambda: _mode(raw.get("mode", "normal")))
    take("swupdate_reboot_ready", lambda: _flag(raw.get("swupdate_reboot_ready", False)))
    take("reboot", lambda: _counter(raw.get("reboot", 0)))
    take("alerts", lambda: _alerts(raw.get("alerts", []), known_alerts))
    return state, problems


def _mode(value):
    if value not in MODES:
        raise StateError("mode must be one of %s" % ", ".join(MODES))
    return value


def _flag(value):
    if not isinstance(value, bool):
        raise StateError("swupdate_reboot_ready must be true or false")
    return value


def _counter(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StateError("reboot must be a counter (integer >= 0)")
    return value


def _alerts(value, known):
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise StateError("alerts must be a list of alert names")
    bad = [a for a in value if known is not None and a not in known]
    if bad:
        raise StateError("unknown alert(s) %s; valid: %s" % (", ".join(bad), ", ".join(known)))
    return sorted(set(value))


def read_state_file(path):
    """The raw JSON of the state file; None if it does not exist."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def write_state_file(path, state):
    """Replaces the file atomically, so the server never reads half a state."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".dishsim-state-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def directory_lock(path):
    """Serialises read-modify-write of the state file between `set` commands.

    The lock is on the directory, not the file, because every write replaces the
    file's inode (a lock on the old one would protect nothing) and a lock file would
    litter the directory.
    """
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# The simulated dish

class Outage:
    """The outage in progress: wall-clock start for the API, monotonic for its length."""

    def __init__(self, cause, mono):
        self.cause = cause
        self.start_mono = mono
        self.start_ns = time.time_ns()

    def duration_ns(self, mono):
        return max(0, int((mono - self.start_mono) * 1e9))


class Dish:
    """Everything the dish reports; thread safe (gRPC handlers plus the ticker).

    Time: sample n covers second [n, n+1) after the simulated boot and is written when
    that second ends, with the state in force then, so `current` == whole seconds since
    boot. All public methods first bring the ring and the state file up to date.
    """

    def __init__(self, pb, state_path, uptime=0.0, ring="full", seed=None, clock=time.monotonic):
        self.pb = pb
        self.state_path = state_path
        self.ring_mode = ring
        self.clock = clock
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.known_alerts = alert_names(pb)
        self.state = dict(DEFAULT_STATE)
        self.state_key = None
        self.reboot_seen = None   # first state read sets the baseline, it is no reboot
        self.outage = None
        self.bootcount = FIRST_BOOTCOUNT
        self._boot(self.clock() - uptime)
        self._refresh_state()

    # -- time and state -----------------------------------------------------

    def _boot(self, boot_mono):
        self.boot_mono = boot_mono
        self.written = 0
        self.ring = {k: [0.0] * RING_LEN for k in ("drop", "latency", "down", "up", "power")}
        self.outages = []
        # An earlier uptime (--uptime) is history from before we started: normal samples.
        self._write_samples(self._elapsed_samples(), normal=True)

    def _elapsed_samples(self):
        return int(max(0.0, self.clock() - self.boot_mono))

    def _write_samples(self, target, normal=False):
        # After a long stall only the last RING_LEN samples can still be seen.
        self.written = max(self.written, target - RING_LEN)
        while self.written < target:
            drop, latency, down, up, power = self._sample(normal)
            i = self.written % RING_LEN
            self.ring["drop"][i] = drop
            self.ring["latency"][i] = latency
            self.ring["down"][i] = down
            self.ring["up"][i] = up
            self.ring["power"][i] = power
            self.written += 1

    def refresh(self):
        with self.lock:
            self._write_samples(self._elapsed_samples())
            self._refresh_state()

    def _refresh_state(self):
        try:
            st = os.stat(self.state_path)
        except FileNotFoundError:
            st = None
        # A `set` replaces the file, so the inode changes even within one mtime tick.
        key = st and (st.st_ino, st.st_mtime_ns, st.st_size)
        if key == self.state_key:
            return
        self.state_key = key
        try:
            raw = read_state_file(self.state_path)
        except (OSError, ValueError) as e:
            log.warning("state file %s unreadable, keeping the previous state: %s", self.state_path, e)
            return
        if raw is None:
            raw = {}
        state, problems = normalize_state(raw, self.known_alerts)
        for p in problems:
            log.warning("state file %s: %s (using the default)", self.state_path, p)
        self._apply(state)

    def _apply(self, new):
        old, self.state = self.state, new
        now = self.clock()
        if self.reboot_seen is not None and new["reboot"] > self.reboot_seen:
            self._reboot(now)
        self.reboot_seen = new["reboot"]
        cur = self.outage
        if cur is not None and cur.cause != new["outage"]:
            self._end_outage(now)
        if new["outage"] is not None and (cur is None or cur.cause != new["outage"]):
            self.outage = Outage(new["outage"], now)
            log.info("outage started: cause %d", new["outage"])
        changed = {k: new[k] for k in new if old.get(k) != new[k]}
        if changed:
            log.info("state: %s", json.dumps(changed, sort_keys=True))

    def _end_outage(self, now):
        o = self.outage
        self.outage = None
        entry = self.pb.DishOutage(cause=o.cause, start_timestamp_ns=o.start_ns,
                                   duration_ns=o.duration_ns(now))
        self.outages.append(entry)
        del self.outages[:-MAX_OUTAGES]
        log.info("outage ended: cause %d after %.1f s", o.cause, entry.duration_ns / 1e9)

    def _reboot(self, now):
        self.bootcount += 1
        self._boot(now)
        if self.outage is not None:
            # The condition that caused it is still there after the boot.
            self.outage = Outage(self.outage.cause, now)
        log.info("rebooted: bootcount %d", self.bootcount)

    # -- values ---------------------------------------------------------------

    def _latency(self):
        base = self.state["latency_ms"]
        if base <= 0:
            return 0.0    # `latency 0`: the firmware bug that reports 0 (unset on the wire)
        return max(1.0, self.rng.gauss(base, max(0.5, 0.08 * base)))

    def _drop(self):
        # Obstructions cost a few pings even between full outages.
        extra = self.state["obstructed"] * self.rng.uniform(0.05, 0.15)
        return min(1.0, self.state["drop_rate"] + extra)

    def _sample(self, normal=False):
        """(drop, latency, down, up, power) for one second."""
        power = self.rng.gauss(45.0, 2.0)
        if normal:
            return 0.0, max(1.0, self.rng.gauss(38.0, 3.0)), self._down(), self._up(), power
        if self.outage is not None:
            # Latency means nothing in a sample with 100 % drop; 0 makes a client that
            # averages it anyway visibly wrong.
            return 1.0, 0.0, 0.0, 0.0, power
        return self._drop(), self._latency(), self._down(), self._up(), power

    def _down(self):
        return self.rng.uniform(0.2e6, 5e6)

    def _up(self):
        return self.rng.uniform(50e3, 800e3)

    # -- responses ----------------------------------------------------------

    def mode(self):
        with self.lock:
            self.refresh()
            return self.state["mode"]

    def fill_device_info(self, info):
        with self.lock:
            self.refresh()
            self._fill_device_info(info)

    def _fill_device_info(self, info):
        info.id = DEVICE_ID
        info.hardware_version = HARDWARE_VERSION
        info.software_version = SOFTWARE_VERSION
        info.country_code = COUNTRY_CODE
        info.bootcount = self.bootcount

    def fill_status(self, st):
        """A DishGetStatusResponse; proto3 leaves every zero/false field out by itself."""
        with self.lock:
            self.refresh()
            now = self.clock()
            s = self.state
            self._fill_device_info(st.device_info)
            uptime = int(now - self.boot_mono)
            st.device_state.uptime_s = uptime
            if self.outage is not None:
                st.pop_ping_drop_rate = 1.0
                st.outage.SetInParent()   # cause 0 (UNKNOWN) alone would not mark it present
                st.outage.cause = self.outage.cause
                st.outage.start_timestamp_ns = self.outage.start_ns
                st.outage.duration_ns = self.outage.duration_ns(now)
            else:
                st.pop_ping_drop_rate = self._drop()
                st.pop_ping_latency_ms = self._latency()
                st.downlink_throughput_bps = self._down()
                st.uplink_throughput_bps = self._up()
            self._fill_obstruction(st.obstruction_stats, uptime)
            st.alerts.SetInParent()
            for name in s["alerts"]:
                setattr(st.alerts, name, True)
            st.gps_stats.gps_valid = True
            st.gps_stats.gps_sats = self.rng.randint(10, 16)
            st.eth_speed_mbps = 1000
            st.is_snr_above_noise_floor = self.outage is None
            st.swupdate_reboot_ready = s["swupdate_reboot_ready"]
            st.software_update_state = (SOFTWARE_UPDATE_REBOOT_REQUIRED if s["swupdate_reboot_ready"]
                                        else SOFTWARE_UPDATE_IDLE)
            st.disablement_code = DISABLEMENT_OKAY

    def _fill_obstruction(self, ob, uptime):
        frac = self.state["obstructed"]
        ob.SetInParent()
        ob.fraction_obstructed = frac
        ob.valid_s = float(uptime)
        ob.currently_obstructed = frac >= OBSTRUCTED_THRESHOLD
        if frac > 0:
            ob.avg_prolonged_obstruction_valid = True
            ob.avg_prolonged_obstruction_duration_s = 2.0 + 10.0 * frac
            ob.avg_prolonged_obstruction_interval_s = 60.0 / frac
        else:
            # Real dishes send NaN for the interval while they have nothing to average.
            ob.avg_prolonged_obstruction_interval_s = float("nan")

    def fill_history(self, h):
        with self.lock:
            self.refresh()
            h.current = self.written
            n = RING_LEN if self.ring_mode == "full" else min(self.written, RING_LEN)
            h.pop_ping_drop_rate.extend(self.ring["drop"][:n])
            h.pop_ping_latency_ms.extend(self.ring["latency"][:n])
            h.downlink_throughput_bps.extend(self.ring["down"][:n])
            h.uplink_throughput_bps.extend(self.ring["up"][:n])
            h.power_in.extend(self.ring["power"][:n])
            horizon = time.time_ns() - RING_LEN * 10**9
            self.outages = [o for o in self.outages if o.start_timestamp_ns + o.duration_ns >= horizon]
            h.outages.extend(self.outages)


# ---------------------------------------------------------------------------
# gRPC service

class Failure(Exception):
    """Ends a call with a gRPC status other than OK."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def garbage(valid):
    """Bytes that are not a Response: the real answer cut in half.

    Every answer starts with its small id/api_version fields and then one embedded
    message holding almost all the bytes, so half of it always ends inside that
    message and its length prefix promises bytes that never come.
    """
    if len(valid) >= 16:
        return valid[: len(valid) // 2]
    return b"\x08\x80"   # field 1 varint whose continuation bit leads nowhere


class Handler:
    """The Handle method: raw bytes in, raw bytes out, every failure a gRPC status."""

    def __init__(self, dish, stopping, verbose=False):
        self.dish = dish
        self.pb = dish.pb
        self.stopping = stopping
        self.verbose = verbose

    def __call__(self, data, context):
        try:
            return self._handle(data, context)
        except Failure as f:
            log.info("call from %s: %s %s", context.peer(), f.code.name, f.message)
            context.abort(f.code, f.message)
        except Exception:
            # Whatever went wrong, this call fails and the server goes on.
            log.exception("call from %s failed", context.peer())
            context.abort(grpc.StatusCode.INTERNAL, "simulator error")

    def _handle(self, data, context):
        mode = self.dish.mode()
        if mode == "hang":
            self._hang(context)
            raise Failure(grpc.StatusCode.DEADLINE_EXCEEDED, "simulated hang ended")
        if mode == "error":
            raise Failure(grpc.StatusCode.UNAVAILABLE, "simulated dish error (mode error)")
        try:
            req = self.pb.Request.FromString(data)
        except Exception as e:   # DecodeError, or RuntimeError from some implementations
            raise Failure(grpc.StatusCode.INVALID_ARGUMENT, "malformed Request: %s" % e)
        kind = req.WhichOneof("request")
        if self.verbose:
            log.info("call from %s: id %d %s", context.peer(), req.id, kind)
        resp = self.pb.Response(id=req.id, api_version=API_VERSION)
        if kind == "get_status":
            self.dish.fill_status(resp.dish_get_status)
        elif kind == "get_history":
            self.dish.fill_history(resp.dish_get_history)
        elif kind == "get_device_info":
            self.dish.fill_device_info(resp.get_device_info.device_info)
        else:
            raise Failure(grpc.StatusCode.UNIMPLEMENTED, "request not supported by the simulator")
        out = resp.SerializeToString()
        return garbage(out) if mode == "garbage" else out

    def _hang(self, context):
        """Holds the call without answering until the client gives up.

        The callback fires when the call ends for any reason (deadline, cancel, closed
        connection), so the worker thread is back in the pool right then.
        """
        done = threading.Event()
        if not context.add_callback(done.set):
            return
        limit = time.monotonic() + HANG_LIMIT_S
        while context.is_active() and not self.stopping.is_set() and time.monotonic() < limit:
            done.wait(0.5)


def need_grpc():
    if grpc is None:
        sys.exit("dishsim: needs grpcio and grpc_tools (Debian: python3-grpcio python3-grpc-tools)")


def parse_addr(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError("expected ADDR:PORT, got %r" % text)
    return text


def serve(args):
    need_grpc()
    from concurrent import futures
    setup_logging(args.log)
    pb = load_messages()
    try:
        if read_state_file_safe(args.state) is None:
            write_state_file(args.state, DEFAULT_STATE)   # shows the format to whoever looks
    except OSError as e:
        print("dishsim: cannot create %s: %s" % (args.state, e), file=sys.stderr)
        return 1
    dish = Dish(pb, args.state, uptime=args.uptime, ring=args.ring, seed=args.seed)
    stopping = threading.Event()
    handler = grpc.method_handlers_generic_handler(SERVICE, {
        # No (de)serialisers: the handler parses itself, to answer INVALID_ARGUMENT on
        # a malformed request and to be able to send bytes that are no Response at all.
        METHOD: grpc.unary_unary_rpc_method_handler(Handler(dish, stopping, args.verbose)),
    })
    # SO_REUSEPORT (grpc's default) would let a second simulator share the port silently.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=MAX_WORKERS),
                         handlers=[handler], options=[("grpc.so_reuseport", 0)])
    try:
        port = server.add_insecure_port(args.listen)
    except RuntimeError as e:
        port, why = 0, e
    else:
        why = "address in use or not available"
    if not port:
        log.error("cannot listen on %s: %s", args.listen, why)
        print("dishsim: cannot listen on %s: %s" % (args.listen, why), file=sys.stderr)
        return 1
    server.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    if args.pidfile:
        write_pidfile(args.pidfile)
    host = args.listen.rpartition(":")[0]
    log.info("listening on %s:%d, state %s, uptime %d s, bootcount %d",
             host, port, args.state, args.uptime, dish.bootcount)
    # The actual port matters when --listen asked for port 0.
    print("dishsim: listening on %s:%d" % (host, port), flush=True)
    try:
        while not stopping.wait(TICK_S):
            try:
                dish.refresh()
            except Exception:
                log.exception("refresh failed")
    finally:
        server.stop(grace=0.5).wait()
        if args.pidfile:
            remove_pidfile(args.pidfile)
        log.info("stopped")
    return 0


def read_state_file_safe(path):
    try:
        return read_state_file(path)
    except (OSError, ValueError):
        return {}   # exists but is unusable: the server logs it and uses defaults


def write_pidfile(path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(tmp, path)


def remove_pidfile(path):
    """Removes the pidfile only if it is still ours (a successor may have replaced it)."""
    with contextlib.suppress(OSError, ValueError):
        with open(path) as f:
            if int(f.read().strip()) == os.getpid():
                os.unlink(path)


def setup_logging(path):
    handler = logging.FileHandler(path) if path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s dishsim[%(process)d] %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


# ---------------------------------------------------------------------------
# set

# SPEC keyword -> number of arguments it takes.
SPECS = {
    "obstructed": 1, "outage": 1, "alert": 1, "latency": 1, "drop": 1, "swupdate": 1,
    "clear": 0, "normal": 0, "hang": 0, "garbage": 0, "error": 0, "reboot": 0,
}


def split_specs(words):
    """[['outage', 'NO_SATS'], ['hang'], ...] from the command line words."""
    specs, i = [], 0
    while i < len(words):
        word = words[i]
        if word not in SPECS:
            raise StateError("unknown SPEC %r; valid: %s" % (word, ", ".join(SPECS)))
        n = SPECS[word]
        if len(words) - i - 1 < n:
            raise StateError("%s needs %d argument(s)" % (word, n))
        specs.append(words[i:i + 1 + n])
        i += 1 + n
    if not specs:
        raise StateError("no SPEC given")
    return specs


def _fraction(text, what):
    try:
        value = float(text)
    except ValueError:
        raise StateError("%s: %r is not a number" % (what, text)) from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise StateError("%s must be within 0..1, got %s" % (what, text))
    return value


def apply_spec(state, spec, known_alerts_fn):
    """Changes the raw state dict for one SPEC."""
    word, args = spec[0], spec[1:]
    if word == "obstructed":
        state["obstructed"] = _fraction(args[0], "obstructed")
    elif word == "drop":
        state["drop_rate"] = _fraction(args[0], "drop")
    elif word == "outage":
        if args[0].lower() in ("none", "off"):
            state["outage"] = None
        else:
            cause = cause_number(args[0])
            names = [n for n, v in CAUSES.items() if v == cause]
            state["outage"] = names[0] if names else cause
    elif word == "alert":
        known = known_alerts_fn()
        if args[0] not in known:
            raise StateError("unknown alert %r; valid: %s" % (args[0], ", ".join(known)))
        state["alerts"] = sorted(set(state.get("alerts") or []) | {args[0]})
    elif word == "latency":
        try:
            ms = float(args[0])
        except ValueError:
            raise StateError("latency: %r is not a number of ms" % args[0]) from None
        if math.isnan(ms) or not 0.0 <= ms <= 60000.0:
            raise StateError("latency must be within 0..60000 ms, got %s" % args[0])
        state["latency_ms"] = ms
    elif word == "swupdate":
        if args[0] not in ("on", "off"):
            raise StateError("swupdate takes on or off, got %r" % args[0])
        state["swupdate_reboot_ready"] = args[0] == "on"
    elif word == "reboot":
        state["reboot"] = _counter_or_zero(state.get("reboot")) + 1
    elif word == "clear":
        reboot = state.get("reboot")
        state.clear()
        state.update(DEFAULT_STATE)
        # The counter stays: lowering it must not look like (or hide) a reboot.
        state["reboot"] = _counter_or_zero(reboot)
    else:   # a mode
        state["mode"] = word


def _counter_or_zero(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def update_state_file(path, specs, known_alerts_fn):
    """Read-modify-write of the state file; raises StateError before writing anything."""
    with directory_lock(path):
        raw = read_state_file(path)
        state = dict(DEFAULT_STATE)
        if isinstance(raw, dict):
            state.update(raw)
        for spec in specs:
            apply_spec(state, spec, known_alerts_fn)
        write_state_file(path, state)


def set_state(args, parser):
    known = []

    def known_alerts():
        # Generating the classes costs a protoc run: only for an `alert` SPEC.
        if not known:
            known.extend(alert_names(load_messages()))
        return known

    try:
        update_state_file(args.state, split_specs(args.spec), known_alerts)
    except StateError as e:
        parser.error(str(e))           # exit 2
    except (OSError, ValueError) as e:
        print("dishsim set: %s: %s (fix or remove it)" % (args.state, e), file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------
# get

REQUESTS = {"status": "get_status", "history": "get_history", "device_info": "get_device_info"}


def get(args):
    need_grpc()
    from google.protobuf import json_format
    pb = load_messages()
    req = pb.Request(id=args.id)
    getattr(req, REQUESTS[args.what]).SetInParent()
    with grpc.insecure_channel(args.target) as channel:
        call = channel.unary_unary(FULL_METHOD, request_serializer=pb.Request.SerializeToString,
                                   response_deserializer=pb.Response.FromString)
        try:
            resp = call(req, timeout=args.timeout)
        except grpc.RpcError as e:
            print("dishsim get: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
            return 1
    try:
        print(json_format.MessageToJson(resp, preserving_proto_field_name=True))
    except BrokenPipeError:   # `get history | head` is a normal way to use it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(prog="dishsim.py", description="Starlink dish simulator (gRPC).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the dish API")
    p.add_argument("--listen", required=True, type=parse_addr, help="ADDR:PORT (port 0: any free port)")
    p.add_argument("--state", required=True, help="state file (JSON); created if missing")
    p.add_argument("--pidfile")
    p.add_argument("--log", help="log file (default: stderr)")
    p.add_argument("--uptime", type=float, default=0.0,
                   help="pretend the dish booted this many seconds ago (default 0)")
    p.add_argument("--ring", choices=("full", "written"), default="full",
                   help="history arrays: always %d long (full) or only the samples written so far" % RING_LEN)
    p.add_argument("--seed", type=int, help="seed the noise, for repeatable values")
    p.add_argument("-v", "--verbose", action="store_true", help="log every call")

    s = sub.add_parser("set", help="change the simulated state")
    s.add_argument("--state", required=True)
    s.add_argument("spec", nargs="+", metavar="SPEC",
                   help="obstructed F | outage CAUSE|none | alert NAME | clear | hang | garbage | "
                        "error | normal | swupdate on|off | latency MS | drop RATE | reboot")

    g = sub.add_parser("get", help="ask a dish (or this simulator) and print JSON")
    g.add_argument("--target", required=True, type=parse_addr)
    g.add_argument("--timeout", type=float, default=3.0)
    g.add_argument("--id", type=int, default=1)
    g.add_argument("what", nargs="?", default="status", choices=sorted(REQUESTS))

    args = parser.parse_args(argv)
    if args.command == "serve":
        if args.uptime < 0:
            parser.error("--uptime must be >= 0")
        return serve(args)
    if args.command == "set":
        return set_state(args, s)
    return get(args)


if __name__ == "__main__":
    sys.exit(main())

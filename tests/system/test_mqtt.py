"""MQTT against a real broker: each test starts its own mosquitto on a random
free port bound to 127.0.0.1 (anonymous, or with a password file), subscribes
with paho, and runs the real autonomyd publishing to it.

What is checked: retained availability/state/member/info, events after a
reload, the last will after kill -9, a clean stop, reconnecting after the
broker restarts with the events queued meanwhile delivered, the bounded queue,
user name and password (and that the password is never shown or logged), Home
Assistant discovery and its cleanup, TLS, and bad options refused.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import BASE_CONFIG, Daemon

paho = pytest.importorskip("paho.mqtt.client")

MOSQUITTO = "/usr/sbin/mosquitto"
pytestmark = pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="needs mosquitto")

USER, PASSWORD = "router", "pw-Secr3t-9f2"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class Broker:
    """A mosquitto of the test's own; restart() keeps port and sessions."""

    def __init__(self, dir, auth=False, tls=None, persistence=False):
        self.dir = dir
        self.port = free_port()
        self.log = dir / "mosquitto.log"
        lines = ["user root", "listener %d 127.0.0.1" % self.port,
                 "log_dest file %s" % self.log, "log_type all", "connection_messages true"]
        if auth:
            pwfile = dir / "passwd"
            subprocess.run(["mosquitto_passwd", "-b", "-c", str(pwfile), USER, PASSWORD],
                           check=True, capture_output=True)
            lines += ["allow_anonymous false", "password_file %s" % pwfile]
        else:
            lines += ["allow_anonymous true"]
        if tls:
            lines += ["cafile %s" % tls["ca"], "certfile %s" % tls["cert"],
                      "keyfile %s" % tls["key"]]
        if persistence:
            lines += ["persistence true", "persistence_location %s/" % dir,
                      "autosave_interval 1"]
        else:
            lines += ["persistence false"]
        self.conf = dir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: %s" % self.proc.stderr.read())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, 10, "mosquitto to listen")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def logtext(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Sub:
    """A paho subscriber that records every message as (topic, payload, retain)."""

    def __init__(self, broker, topics, client_id="", clean=True, auth=False, qos=0):
        self.msgs = []
        self.lock = threading.Lock()
        self.topics = topics
        self.qos = qos
        self.connected = threading.Event()
        self.c = paho.Client(client_id=client_id, clean_session=clean)
        if auth:
            self.c.username_pw_set(USER, PASSWORD)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(0.2, 1)
        self.c.connect("127.0.0.1", broker.port, keepalive=10)
        self.c.loop_start()
        assert self.connected.wait(10), "the subscriber could not connect"

    def _on_connect(self, c, userdata, flags, rc):
        if rc == 0:
            for t in self.topics:
                c.subscribe(t, self.qos)
            self.connected.set()

    def _on_message(self, c, userdata, m):
        with self.lock:
            self.msgs.append((m.topic, m.payload.decode(errors="replace"), bool(m.retain)))

    def all(self, topic=None):
        with self.lock:
            return [m for m in self.msgs if topic is None or m[0] == topic]

    def last(self, topic, timeout=10.0, cond=lambda payload: True):
        def find():
            for m in reversed(self.all(topic)):
                if cond(m[1]):
                    return m
            return None
        return wait_for(find, timeout, "a message on %s" % topic)

    def json(self, topic, timeout=10.0, cond=lambda obj: True):
        def ok(p):
            try:
                return p != "" and cond(json.loads(p))
            except ValueError:
                return False
        return json.loads(self.last(topic, timeout, ok)[1])

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def retained(broker, topic, auth=False, timeout=2.0):
    """The retained payload of topic as a fresh subscriber sees it, or None."""
    s = Sub(broker, [topic], auth=auth)
    try:
        m = s.last(topic, timeout)
        return m[1] if m[2] else None
    except AssertionError:
        return None
    finally:
        s.close()


def mqtt_config(broker, extra=""):
    opts = ("\toption mqtt_host '127.0.0.1'\n\toption mqtt_port '%d'\n"
            "\toption mqtt_interval_s '1'\n\toption mqtt_client_id 'autonomy-test'\n"
            % broker.port) + extra
    return BASE_CONFIG.replace("\toption controller 'none'\n",
                               "\toption controller 'none'\n" + opts)


def info(d):
    return d.request({"method": "info"})["mqtt"]


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def cleanup():
    things = []
    yield things
    for t in reversed(things):
        if isinstance(t, Daemon):
            if t.proc and t.proc.poll() is None:
                t.proc.kill()
                t.proc.wait(10)
        else:
            t.close() if isinstance(t, Sub) else t.stop()


def start_daemon(tmp_path, config, cleanup, level="info"):
    d = Daemon(tmp_path, config=config.replace("option log_level 'info'",
                                               "option log_level '%s'" % level))
    cleanup.append(d)
    return d.start()


def test_state_members_events_info(tmp_path, broker, cleanup):
    sub = Sub(broker, ["autonomy/#"])
    cleanup.append(sub)
    d = start_daemon(tmp_path, mqtt_config(broker), cleanup)

    assert sub.last("autonomy/availability", cond=lambda p: p == "online")
    state = sub.json("autonomy/state")
    assert state["controller"] == "none"
    assert [m["name"] for m in state["members"]] == ["fiber", "lte"]
    for name in ("fiber", "lte"):
        m = sub.json("autonomy/member/" + name)
        assert m["name"] == name
        for key in ("score", "latency_ms", "loss_pct", "jitter_ms", "status", "class", "probes"):
            assert key in m, key
    assert sub.json("autonomy/member/lte")["class"] == "cellular"
    inf = sub.json("autonomy/info", cond=lambda o: "mqtt" in o)
    assert inf["version"] and inf["mqtt"]["host"] == "127.0.0.1"
    # the daemon's start was queued before the broker answered, and still arrives
    start = sub.json("autonomy/event", cond=lambda e: e["type"] == "daemon")
    assert start["reason"] == "start"

    # samples keep coming every mqtt_interval_s
    n = len(sub.all("autonomy/member/fiber"))
    wait_for(lambda: len(sub.all("autonomy/member/fiber")) >= n + 2, 5, "two more samples")

    # an event: published at once, not retained, and the state follows it
    d.proc.send_signal(signal.SIGHUP)
    ev = sub.json("autonomy/event", cond=lambda e: e["reason"] == "reload")
    assert ev["type"] == "config" and "configuration reloaded" in ev["message"]
    assert [m for m in sub.all("autonomy/event") if m[2]] == []
    sub.json("autonomy/state", timeout=3,
             cond=lambda s: s["last_event"] and s["last_event"]["reason"] == "reload")

    # what a late subscriber gets: everything retained except events
    assert retained(broker, "autonomy/availability") == "online"
    assert json.loads(retained(broker, "autonomy/state"))["controller"] == "none"
    assert json.loads(retained(broker, "autonomy/member/lte"))["name"] == "lte"
    assert retained(broker, "autonomy/event", timeout=1) is None

    i = info(d)
    assert i["state"] == "connected" and i["port"] == broker.port
    assert i["client_id"] == "autonomy-test" and i["prefix"] == "autonomy"
    assert i["published"] > 5 and i["dropped"] == 0 and i["queued"] == 0
    r = d.ctl("info")
    assert r.returncode == 0


def test_last_will_after_kill(tmp_path, broker, cleanup):
    sub = Sub(broker, ["autonomy/availability"])
    cleanup.append(sub)
    d = start_daemon(tmp_path, mqtt_config(broker), cleanup)
    sub.last("autonomy/availability", cond=lambda p: p == "online")
    t0 = time.monotonic()
    d.proc.kill()
    d.proc.wait(10)
    sub.last("autonomy/availability", timeout=10, cond=lambda p: p == "offline")
    # the kernel closes the socket of a killed process: the broker sends the will at once
    assert time.monotonic() - t0 < 3
    assert retained(broker, "autonomy/availability") == "offline"


def test_clean_stop(tmp_path, broker, cleanup):
    sub = Sub(broker, ["autonomy/availability", "autonomy/event"])
    cleanup.append(sub)
    d = start_daemon(tmp_path, mqtt_config(broker), cleanup)
    sub.last("autonomy/availability", cond=lambda p: p == "online")
    assert d.stop() == 0
    sub.last("autonomy/availability", cond=lambda p: p == "offline")
    stop = sub.json("autonomy/event", cond=lambda e: e["reason"] == "stop")
    assert stop["type"] == "daemon"
    # our own "offline", then a clean DISCONNECT: the broker had no will to send
    assert "Client autonomy-test disconnected." in broker.logtext()
    time.sleep(0.5)
    assert [m[1] for m in sub.all("autonomy/availability")][1:] == ["offline"]
    assert "MQTT: disconnected from 127.0.0.1" in d.log()


def test_reconnect_after_broker_restart(tmp_path, cleanup):
    broker = Broker(tmp_path, persistence=True).start()
    cleanup.append(broker)
    # a persistent QoS 1 session: the broker keeps it (and what arrives for it) over its restart
    sub = Sub(broker, ["autonomy/event", "autonomy/availability"], client_id="watcher",
              clean=False, qos=1)
    cleanup.append(sub)
    d = start_daemon(tmp_path, mqtt_config(broker), cleanup)
    sub.last("autonomy/availability", cond=lambda p: p == "online")

    broker.stop()
    wait_for(lambda: info(d)["state"].startswith("error:"), 15, "the daemon to see the broker gone")
    assert d.wait_log("MQTT: lost the connection to 127.0.0.1")
    for _ in range(3):
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.1)
    wait_for(lambda: info(d)["queued"] >= 3, 5, "queued events")
    i = info(d)
    assert "refused" in i["state"] or "lost" in i["state"], i

    broker.start()
    wait_for(lambda: info(d)["state"] == "connected", 20, "the daemon to reconnect")
    wait_for(lambda: len([m for m in sub.all("autonomy/event")
                          if json.loads(m[1])["reason"] == "reload"]) >= 3, 15,
             "the three queued reload events")
    sub.last("autonomy/availability", cond=lambda p: p == "online")
    i = info(d)
    assert i["dropped"] == 0
    wait_for(lambda: info(d)["queued"] == 0, 5, "an empty queue")


def test_queue_is_bounded_and_delivered_once_auth_is_fixed(tmp_path, cleanup):
    broker = Broker(tmp_path, auth=True).start()
    cleanup.append(broker)
    sub = Sub(broker, ["autonomy/event"], auth=True)
    cleanup.append(sub)
    conf = mqtt_config(broker, "\toption mqtt_username '%s'\n\toption mqtt_password 'wrong'\n"
                       % USER)
    d = start_daemon(tmp_path, conf, cleanup)
    wait_for(lambda: "refused" in info(d)["state"], 10, "the broker to refuse the connection")
    assert "not authorised" in info(d)["state"] or "password" in info(d)["state"]

    # 300 events while the broker refuses us: the queue keeps the newest 256
    with d.connect() as s:
        f = s.makefile("rb")
        for _ in range(300):
            s.sendall(b'{"method":"action","params":{"cmd":"set_level","level":"info"}}\n')
        for _ in range(300):
            assert json.loads(f.readline())["ok"] is True
    i = info(d)
    assert i["queued"] == 256 and i["dropped"] >= 44, i
    assert sub.all() == []

    r = d.request({"method": "config.set", "params": {"values": {"main.mqtt_password": PASSWORD}}})
    assert r["ok"] is True, r
    wait_for(lambda: info(d)["state"] == "connected", 10, "the daemon to connect")
    # events only, oldest first, ending with the config change that fixed it
    wait_for(lambda: any(json.loads(m[1])["type"] == "config" for m in sub.all()), 10,
             "the config/set event")
    evs = [json.loads(m[1]) for m in sub.all()]
    assert len(evs) >= 250
    assert evs[-1]["type"] == "config" and evs[-1]["reason"] == "set"
    assert all(e["type"] == "log" for e in evs[:-1])
    wait_for(lambda: info(d)["queued"] == 0, 5, "an empty queue")


def test_password_is_secret(tmp_path, cleanup):
    broker = Broker(tmp_path, auth=True).start()
    cleanup.append(broker)
    conf = mqtt_config(broker, "\toption mqtt_username '%s'\n\toption mqtt_password '%s'\n"
                       % (USER, PASSWORD))
    d = start_daemon(tmp_path, conf, cleanup, level="debug")
    wait_for(lambda: info(d)["state"] == "connected", 10, "an authenticated connection")
    assert retained(broker, "autonomy/availability", auth=True) == "online"

    got = d.request({"method": "config.get"})
    assert got["values"]["main"]["mqtt_password"] == "********"
    assert got["values"]["main"]["mqtt_username"] == USER
    r = d.ctl("--json", "config", "get")
    assert r.returncode == 0 and PASSWORD not in r.stdout
    assert PASSWORD not in json.dumps(d.request({"method": "info"}))
    assert PASSWORD not in json.dumps(d.request({"method": "status"}))
    # a reload and a config.set of the password itself: still never logged
    d.proc.send_signal(signal.SIGHUP)
    r = d.request({"method": "config.set",
                   "params": {"values": {"main.mqtt_password": PASSWORD + "x"}}})
    assert r["ok"] is True and r["changed"] == ["main.mqtt_password"]
    wait_for(lambda: "refused" in info(d)["state"], 10, "the wrong password refused")
    r = d.request({"method": "config.set", "params": {"values": {"main.mqtt_password": PASSWORD}}})
    wait_for(lambda: info(d)["state"] == "connected", 10, "the right password again")
    assert d.stop() == 0
    assert PASSWORD not in d.log()
    assert PASSWORD not in broker.logtext()


def ha_topics(node, members):
    t = {"homeassistant/sensor/%s/active/config" % node}
    for m in members:
        t |= {"homeassistant/sensor/%s/%s_%s/config" % (node, m, k)
              for k in ("score", "latency", "loss")}
        t.add("homeassistant/binary_sensor/%s/%s_up/config" % (node, m))
    return t


def test_home_assistant_discovery(tmp_path, broker, cleanup):
    sub = Sub(broker, ["homeassistant/#", "autonomy/member/#"])
    cleanup.append(sub)
    # a host name: looked up by the resolver child, not on the loop
    conf = mqtt_config(broker, "\toption mqtt_ha_discovery '1'\n").replace(
        "mqtt_host '127.0.0.1'", "mqtt_host 'localhost'")
    d = start_daemon(tmp_path, conf, cleanup)
    want = ha_topics("autonomy-test", ["fiber", "lte"])
    wait_for(lambda: want <= {m[0] for m in sub.all()}, 10, "every discovery config")
    devices = set()
    for topic in want:
        cfg = json.loads(sub.all(topic)[-1][1])
        assert cfg["availability_topic"] == "autonomy/availability"
        assert cfg["unique_id"].startswith("autonomy-test_")
        assert cfg["state_topic"] in ("autonomy/state", "autonomy/member/fiber",
                                      "autonomy/member/lte")
        assert "value_json" in cfg["value_template"]
        assert cfg["device"]["name"] == "autonomy" and cfg["device"]["sw_version"]
        assert cfg["device"]["model"]
        devices.add(json.dumps(cfg["device"], sort_keys=True))
    assert len(devices) == 1
    up = json.loads(sub.all("homeassistant/binary_sensor/autonomy-test/lte_up/config")[-1][1])
    assert up["device_class"] == "connectivity"
    assert json.loads(sub.all("homeassistant/sensor/autonomy-test/fiber_latency/config")[-1][1])[
        "unit_of_measurement"] == "ms"
    assert len({json.loads(sub.all(t)[-1][1])["unique_id"] for t in want}) == len(want)
    assert d.wait_log("MQTT: connected to localhost")

    # lte leaves the configuration: its configs and its member topic are cleared
    conf_no_lte = conf.split("config member 'lte'")[0]
    d.conf.write_text(conf_no_lte)
    d.proc.send_signal(signal.SIGHUP)
    gone = ha_topics("autonomy-test", ["lte"]) - ha_topics("autonomy-test", [])
    gone.add("autonomy/member/lte")
    wait_for(lambda: all(sub.all(t)[-1][1] == "" for t in gone), 10, "lte's topics cleared")
    for t in gone:
        assert retained(broker, t, timeout=0.5) is None
    assert retained(broker, "homeassistant/sensor/autonomy-test/fiber_score/config") is not None

    # discovery off: every config of ours goes
    r = d.request({"method": "config.set", "params": {"values": {"main.mqtt_ha_discovery": False}}})
    assert r["ok"] is True
    left = ha_topics("autonomy-test", ["fiber"])
    wait_for(lambda: all(sub.all(t)[-1][1] == "" for t in left), 10, "every config cleared")


def test_stale_configs_cleared_at_connect(tmp_path, broker, cleanup):
    """A member removed while the daemon was stopped: cleared at the next connect."""
    conf = mqtt_config(broker, "\toption mqtt_ha_discovery '1'\n")
    d = start_daemon(tmp_path, conf, cleanup)
    wait_for(lambda: retained(broker, "homeassistant/sensor/autonomy-test/lte_score/config",
                              timeout=0.5), 10, "lte's config")
    assert d.stop() == 0
    d.conf.write_text(conf.split("config member 'lte'")[0])
    d.start()
    wait_for(lambda: info(d)["state"] == "connected", 10, "the connection")
    wait_for(lambda: retained(broker, "homeassistant/sensor/autonomy-test/lte_score/config",
                              timeout=0.5) is None, 10, "the stale config cleared")
    assert retained(broker, "autonomy/member/lte", timeout=0.5) is None
    assert retained(broker, "homeassistant/sensor/autonomy-test/fiber_score/config")
    assert d.wait_log("clearing stale retained topic autonomy/member/lte")


def test_bad_options_refused(tmp_path, broker, cleanup):
    d = start_daemon(tmp_path, mqtt_config(broker), cleanup)
    for key, value, why in (("main.mqtt_prefix", "a/+/b", "wildcard '+'"),
                            ("main.mqtt_prefix", "site/#", "wildcard '#'"),
                            ("main.mqtt_prefix", "a//b", "empty topic level"),
                            ("main.mqtt_prefix", "", "must not be empty"),
                            ("main.mqtt_ha_prefix", "/ha", "empty topic level"),
                            ("main.mqtt_host", "mqtt://x", "not a host name"),
                            ("main.mqtt_port", 70000, "out of range"),
                            ("main.mqtt_interval_s", 0, "out of range"),
                            ("main.mqtt_tls", "sometimes", "not a boolean")):
        r = d.request({"method": "config.set", "params": {"values": {key: value}}})
        assert r["error"]["code"] == "invalid_argument", (key, r)
        assert r["error"]["field"] == key and why in r["error"]["message"], r
    assert "a/+/b" not in d.conf.read_text()
    assert info(d)["state"] == "connected"

    # in a file: one warning each, the default is used
    bad = tmp_path / "bad.conf"
    bad.write_text(mqtt_config(broker, "\toption mqtt_prefix 'x/#'\n\toption mqtt_port 'abc'\n"))
    from conftest import AUTONOMYD
    r = subprocess.run([AUTONOMYD, "--check", "-c", str(bad)], capture_output=True, text=True)
    assert r.returncode == 0
    assert "mqtt_prefix: 'x/#' contains the wildcard '#'; using the default 'autonomy'" in r.stderr
    assert "mqtt_port: 'abc' is not a whole number" in r.stderr


def test_broker_unreachable_and_tls_errors(tmp_path, cleanup):
    port = free_port()
    conf = BASE_CONFIG.replace("\toption controller 'none'\n", "\toption controller 'none'\n"
                               "\toption mqtt_host '127.0.0.1'\n\toption mqtt_port '%d'\n" % port)
    d = start_daemon(tmp_path, conf, cleanup)
    wait_for(lambda: info(d)["state"] == "error: Connection refused", 5, "connection refused")
    assert d.wait_log("MQTT: cannot connect to 127.0.0.1 port %d: Connection refused; "
                      "retrying in 1 s" % port)
    # the loop is not held up: requests answer at once
    t0 = time.monotonic()
    for _ in range(20):
        d.request({"method": "status"})
    assert time.monotonic() - t0 < 1.0
    # the backoff grows: 1, 2, 4 s; a warning only the first time
    time.sleep(3.5)
    assert d.log().count("Connection refused; retrying") == 1

    r = d.request({"method": "config.set", "params": {"values": {
        "main.mqtt_tls": True, "main.mqtt_cafile": str(tmp_path / "missing.pem")}}})
    assert r["ok"] is True
    wait_for(lambda: "missing.pem" in info(d)["state"], 5, "the TLS error")
    assert info(d)["state"].startswith("error: TLS: cannot use the CA certificates")

    r = d.request({"method": "config.set", "params": {"values": {"main.mqtt_host": ""}}})
    assert r["ok"] is True
    wait_for(lambda: info(d)["state"] == "off", 5, "MQTT off")
    assert info(d)["host"] is None


def make_certs(dir):
    def ssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=dir)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")
    (dir / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")
    return {"ca": dir / "ca.pem", "cert": dir / "server.pem", "key": dir / "server.key"}


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")
def test_tls(tmp_path, cleanup):
    certs = make_certs(tmp_path)
    broker = Broker(tmp_path, tls=certs).start()
    cleanup.append(broker)
    conf = mqtt_config(broker, "\toption mqtt_tls '1'\n\toption mqtt_cafile '%s'\n" % certs["ca"])
    d = start_daemon(tmp_path, conf, cleanup)
    wait_for(lambda: info(d)["state"] == "connected", 10, "a TLS connection")
    assert "(TLS)" in d.log()

    # a CA that did not sign the broker's certificate: refused, and said so
    other = tmp_path / "other"
    other.mkdir()
    wrong = make_certs(other)["ca"]
    r = d.request({"method": "config.set", "params": {"values": {"main.mqtt_cafile": str(wrong)}}})
    assert r["ok"] is True
    wait_for(lambda: info(d)["state"].startswith("error:"), 10, "the TLS failure")

"""OpenWrt packaging: `make ipk`, the files in packaging/openwrt/autonomy/files and the
rpcd exec plugin protocol (docs/OPENWRT.md, docs/API.md "rpcd / ubus")."""
import gzip
import io
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile

import pytest

from conftest import AUTONOMYCTL, AUTONOMYD, BUILD, ROOT

FILES = os.path.join(ROOT, "packaging", "openwrt", "autonomy", "files")
PKG_MAKEFILE = os.path.join(ROOT, "packaging", "openwrt", "autonomy", "Makefile")

# path in the package -> (mode, source file in FILES or None for a binary)
LAYOUT = {
    "usr/sbin/autonomyd": (0o755, None),
    "usr/bin/autonomyctl": (0o755, None),
    "etc/init.d/autonomy": (0o755, "autonomy.init"),
    "etc/config/autonomy": (0o600, "autonomy.config"),  # may hold secrets
    "etc/uci-defaults/50-autonomy": (0o755, "autonomy.defaults"),
    "etc/hotplug.d/iface/30-autonomy": (0o644, "autonomy.hotplug"),
    "usr/libexec/rpcd/autonomy": (0o755, "autonomy.rpcd"),
    "usr/share/rpcd/acl.d/autonomy.json": (0o644, "autonomy.acl.json"),
}
READ_METHODS = {"status", "members", "events", "history", "info", "config.get"}
WRITE_METHODS = {"action", "config.set", "mwan3"}


def version():
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M).group(1)


def members(tar):
    """Entries by path without the leading ./ (the top directory is "")."""
    return {"" if m.name == "." else m.name[2:]: m for m in tar.getmembers()}


def read_member(tar, name):
    return tar.extractfile(tar.getmember(name)).read()


def parse_control(text):
    fields, last = {}, None
    for line in text.splitlines():
        if line.startswith(" ") and last:
            fields[last] += "\n" + line[1:]
        else:
            key, value = line.split(":", 1)
            assert key not in fields, key
            last = key
            fields[key] = value.strip()
    return fields


@pytest.fixture(scope="module")
def ipk():
    r = subprocess.run(["make", "--no-print-directory", "ipk"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"mkipk: (\S+\.ipk) \((\S+),", r.stdout)
    assert m, r.stdout
    path = os.path.join(ROOT, m.group(1))
    assert os.path.basename(path) == "autonomy_%s_%s.ipk" % (version(), m.group(2))
    with open(path, "rb") as f:
        raw = f.read()
    outer = tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz")
    control = tarfile.open(fileobj=io.BytesIO(read_member(outer, "./control.tar.gz")), mode="r:gz")
    data_gz = read_member(outer, "./data.tar.gz")
    data = tarfile.open(fileobj=io.BytesIO(data_gz), mode="r:gz")
    return {"path": path, "raw": raw, "outer": outer, "control": control, "data": data,
            "data_gz": data_gz, "arch": m.group(2)}


def test_outer_structure(ipk):
    assert ipk["raw"][:2] == b"\x1f\x8b"    # gzip, not ar
    outer = ipk["outer"]
    assert outer.getnames() == ["./debian-binary", "./control.tar.gz", "./data.tar.gz"]
    for m in outer.getmembers():
        assert m.isfile() and (m.uid, m.gid) == (0, 0) and m.mode == 0o644, m.name
    assert read_member(outer, "./debian-binary") == b"2.0\n"
    for name in ("./control.tar.gz", "./data.tar.gz"):
        assert read_member(outer, name)[:2] == b"\x1f\x8b"


def test_control_fields(ipk):
    ctl = ipk["control"]
    names = sorted(members(ctl))
    assert names == ["", "conffiles", "control", "postinst", "prerm"], names
    for m in ctl.getmembers():
        assert (m.uid, m.gid) == (0, 0)
    assert members(ctl)["postinst"].mode == 0o755 and members(ctl)["prerm"].mode == 0o755
    assert members(ctl)["control"].mode == 0o644
    fields = parse_control(read_member(ctl, "./control").decode())
    for key in ("Package", "Version", "Depends", "Source", "SourceName", "Section",
                "Architecture", "Installed-Size", "Description"):
        assert fields.get(key), key
    assert fields["Package"] == "autonomy"
    assert fields["Version"] == version()
    assert fields["Architecture"] == ipk["arch"]
    assert re.fullmatch(r"[a-z0-9_-]+", fields["Architecture"])
    assert fields["Section"] == "net"
    assert int(fields["Installed-Size"]) == len(gzip.decompress(ipk["data_gz"]))
    deps = [d.strip() for d in fields["Depends"].split(",")]
    for lib in ("libc", "libev", "libjson-c", "libmnl", "libmicrohttpd", "libmosquitto",
                "kmod-nf-conntrack-netlink"):
        assert lib in deps
    assert len(deps) == len(set(deps))
    assert "\n" in fields["Description"]    # summary line plus continuation lines


def test_conffiles_are_in_data(ipk):
    conffiles = read_member(ipk["control"], "./conffiles").decode().split()
    assert conffiles == ["/etc/config/autonomy"]
    data = members(ipk["data"])
    for path in conffiles:
        assert data[path.lstrip("/")].isfile()


def test_data_files_modes_and_owners(ipk):
    data = members(ipk["data"])
    for path, (mode, src) in LAYOUT.items():
        m = data.get(path)
        assert m is not None and m.isfile(), path
        assert stat.S_IMODE(m.mode) == mode, "%s: %o" % (path, m.mode)
        if src:
            with open(os.path.join(FILES, src), "rb") as f:
                assert read_member(ipk["data"], "./" + path) == f.read(), path
    mtimes = set()
    for name, m in data.items():
        assert (m.uid, m.gid) == (0, 0), name
        assert m.isdir() or m.isfile(), name    # no links, devices
        assert m.mode & 0o7022 == 0, "%s: %o" % (name, m.mode)    # no setuid, no g/o write
        if m.isdir():
            assert m.mode == 0o755, name
        elif name.startswith("usr/share/autonomy/www/"):
            assert m.mode == 0o644, name
        else:
            assert name in LAYOUT, "unexpected file " + name
        mtimes.add(m.mtime)
    assert len(mtimes) == 1
    # every directory on the way is an entry of its own
    for name in data:
        parent = os.path.dirname(name)
        assert parent == "" or parent in data, name


def test_binaries_are_stripped_and_run(ipk, tmp_path):
    for path in ("usr/sbin/autonomyd", "usr/bin/autonomyctl"):
        blob = read_member(ipk["data"], "./" + path)
        assert blob[:4] == b"\x7fELF"
        out = tmp_path / os.path.basename(path)
        out.write_bytes(blob)
        out.chmod(0o755)
        r = subprocess.run(["readelf", "-S", "-W", str(out)], capture_output=True, text=True)
        assert r.returncode == 0 and ".symtab" not in r.stdout and ".debug_" not in r.stdout
    r = subprocess.run([str(tmp_path / "autonomyd"), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and version() in r.stdout + r.stderr


def test_reproducible(tmp_path):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    outs = []
    for n in ("a", "b"):
        env["IPK_OUT"] = str(tmp_path / n)
        r = subprocess.run(["sh", "scripts/mkipk.sh", BUILD, version(), "1"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        (ipk,) = os.listdir(tmp_path / n)
        outs.append((tmp_path / n / ipk).read_bytes())
    assert outs[0] == outs[1]
    with tarfile.open(fileobj=io.BytesIO(outs[0]), mode="r:gz") as t:
        assert {m.mtime for m in t.getmembers()} == {1700000000}


def test_mkipk_refuses_bad_input(tmp_path):
    env = dict(os.environ, IPK_OUT=str(tmp_path))
    r = subprocess.run(["sh", "scripts/mkipk.sh", str(tmp_path / "nobuild"), "1.0", "1"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 1 and "run make first" in r.stderr
    r = subprocess.run(["sh", "scripts/mkipk.sh", BUILD, "1.0 bad", "1"], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 1 and "bad version" in r.stderr
    assert os.listdir(tmp_path) == []


def test_maintainer_scripts_are_noops_outside_openwrt(ipk, tmp_path):
    for name, fn in (("postinst", "default_postinst"), ("prerm", "default_prerm")):
        script = tmp_path / name
        script.write_bytes(read_member(ipk["control"], "./" + name))
        root = tmp_path / ("root-" + name)
        root.mkdir()
        env = {"PATH": os.environ["PATH"], "IPKG_INSTROOT": str(root)}
        r = subprocess.run(["sh", str(script), "configure"], env=env, capture_output=True,
                           text=True)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
        # with OpenWrt's /lib/functions.sh, they hand over to it as generated scripts do
        (root / "lib").mkdir()
        (root / "lib" / "functions.sh").write_text(
            '%s() { echo "%s $*"; return 7; }\n' % (fn, fn))
        r = subprocess.run(["sh", str(script), "configure"], env=env, capture_output=True,
                           text=True)
        assert r.returncode == 7 and r.stdout == "%s %s configure\n" % (fn, script)
        env["IPKG_NO_SCRIPT"] = "1"
        r = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
        if name == "postinst":
            assert (r.returncode, r.stdout) == (0, "")


def shell_scripts(ipk, tmp_path):
    paths = [os.path.join(FILES, f) for f in
             ("autonomy.init", "autonomy.defaults", "autonomy.hotplug", "autonomy.rpcd")]
    paths.append(os.path.join(ROOT, "scripts", "mkipk.sh"))
    for name in ("postinst", "prerm"):
        p = tmp_path / name
        p.write_bytes(read_member(ipk["control"], "./" + name))
        paths.append(str(p))
    return paths


def test_shell_scripts_lint(ipk, tmp_path):
    for path in shell_scripts(ipk, tmp_path):
        r = subprocess.run(["shellcheck", "-s", "sh", path], capture_output=True, text=True)
        assert r.returncode == 0, path + "\n" + r.stdout
        r = subprocess.run(["busybox", "ash", "-n", path], capture_output=True, text=True)
        assert r.returncode == 0, path + "\n" + r.stderr


def test_init_script_contract():
    with open(os.path.join(FILES, "autonomy.init")) as f:
        text = f.read()
    assert text.startswith("#!/bin/sh /etc/rc.common\n")
    assert re.search(r"^USE_PROCD=1$", text, re.M)
    assert re.search(r"^START=\d+$", text, re.M) and re.search(r"^STOP=\d+$", text, re.M)
    start = re.search(r"start_service\(\) \{\n(.*?)\n\}", text, re.S).group(1)
    for want in ("procd_open_instance", 'procd_set_param command "$PROG" -c "$CONFIG"',
                 "procd_set_param respawn", "procd_set_param stdout 1",
                 "procd_set_param stderr 1", 'procd_set_param file "$CONFIG"',
                 "procd_close_instance"):
        assert want in start, want
    assert re.search(r"^PROG=/usr/sbin/autonomyd$", text, re.M)
    assert re.search(r"^CONFIG=/etc/config/autonomy$", text, re.M)
    triggers = re.search(r"service_triggers\(\) \{\n(.*?)\n\}", text, re.S).group(1)
    assert "procd_add_reload_trigger autonomy" in triggers
    reload = re.search(r"reload_service\(\) \{\n(.*?)\n\}", text, re.S).group(1)
    assert "procd_send_signal autonomy" in reload and "HUP" in reload
    assert "restart" not in reload and "stop" not in reload


def test_default_config_checks(tmp_path):
    src = os.path.join(FILES, "autonomy.config")
    r = subprocess.run([AUTONOMYD, "--check", "-c", src], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(src) as f:
        text = f.read()
    assert "option state_dir '/var/run/autonomy'" in text
    assert "option http_root '/usr/share/autonomy/www'" in text
    # the commented-out member examples are valid too
    conf = tmp_path / "autonomy"
    conf.write_text(re.sub(r"^#(config |\t(option|list) )", r"\1", text, flags=re.M))
    r = subprocess.run([AUTONOMYD, "--check", "-c", str(conf)], capture_output=True, text=True)
    assert r.returncode == 0 and "(2 members)" in r.stdout + r.stderr, r.stdout + r.stderr


def test_sdk_makefile_installs_the_same_files():
    with open(PKG_MAKEFILE) as f:
        text = f.read()
    modes = {"INSTALL_BIN": 0o755, "INSTALL_DATA": 0o644, "INSTALL_CONF": 0o600}
    found = {}
    for kind, src, dst in re.findall(r"\$\((INSTALL_\w+)\) (\S+) \$\(1\)(\S+)", text):
        if kind == "INSTALL_DIR":
            continue
        found[dst.lstrip("/")] = (modes[kind], os.path.basename(src)
                                  if src.startswith("./files/") else None)
    assert found == LAYOUT
    assert re.search(r"^/etc/config/autonomy$", text, re.M)    # conffiles
    for dep in ("+libev", "+libjson-c", "+libmnl", "+libmicrohttpd-no-ssl",
                "libmosquitto-nossl", "AUTONOMY_STARLINK:libnghttp2",
                "AUTONOMY_STARLINK:libprotobuf-c"):
        assert dep in text, dep
    assert "protobuf-c/host" in text
    assert "WITH_STARLINK=$(if $(CONFIG_AUTONOMY_STARLINK),1,0)" in text


# ---- rpcd ----------------------------------------------------------------------

def rpcd_list():
    r = subprocess.run([AUTONOMYCTL, "rpcd", "list"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.endswith("\n") and r.stdout.count("\n") == 1
    return json.loads(r.stdout)


def test_rpcd_list_follows_the_rules():
    sig = rpcd_list()
    assert isinstance(sig, dict) and sig
    for method, args in sig.items():
        assert re.fullmatch(r"[a-z][a-z0-9_.]*", method), method
        assert isinstance(args, dict), method
        for name, sample in args.items():
            assert re.fullmatch(r"[a-z][a-z0-9_]*", name), (method, name)
            assert isinstance(sample, (str, bool, int, float, dict, list)), (method, name)
    # the same through the name rpcd runs (`/usr/libexec/rpcd/autonomy list`)
    r = subprocess.run([AUTONOMYCTL, "list"], capture_output=True, text=True)
    assert json.loads(r.stdout) == sig


def test_acl_matches_rpcd_list():
    with open(os.path.join(FILES, "autonomy.acl.json")) as f:
        acl = json.load(f)
    assert list(acl) == ["autonomy"]
    group = acl["autonomy"]
    assert group["description"]
    read = group["read"]["ubus"]["autonomy"]
    write = group["write"]["ubus"]["autonomy"]
    assert list(group["read"]["ubus"]) == ["autonomy"] == list(group["write"]["ubus"])
    assert group["read"]["uci"] == ["autonomy"] == group["write"]["uci"]
    assert len(read) == len(set(read)) and len(write) == len(set(write))
    assert not set(read) & set(write)
    assert set(read) | set(write) == set(rpcd_list())
    assert READ_METHODS <= set(read)
    assert WRITE_METHODS <= set(write)
    # what sends or changes anything needs write
    for m in read:
        assert m not in ("action", "config.set", "notify.test", "mwan3")


GOOD = {
    "status": "{}",
    "members": "",
    "events": '{"limit": 2}',
    "history": '{"name": "fiber", "since_s": 60}',
    "info": "{}",
    "config.get": '{"schema": true}',
    "config.set": '{"values": {"main.log_level": "debug"}}',
    "action": '{"cmd": "recheck", "name": "lte"}',
}
BAD_SYNTAX = ["not json", "[1, 2]", '"a string"', "42", '{"a": 1} {"b": 2}', '{"limit": ',
              "\x00{}", "{}" + " " * 10 + "x"]


def call(daemon, method, stdin, via=None):
    cmd = via or [AUTONOMYCTL, "--socket", daemon.sock, "rpcd", "call"]
    r = subprocess.run(cmd + [method], input=stdin.encode() if isinstance(stdin, str) else stdin,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, (method, stdin, r.stderr)
    out = r.stdout.decode()
    assert out.endswith("\n") and out.count("\n") == 1, (method, out)
    obj = json.loads(out)
    assert isinstance(obj, dict), (method, out)
    return obj


def test_rpcd_call_every_method_good_input(daemon):
    for method in rpcd_list():
        out = call(daemon, method, GOOD.get(method, "{}"))
        if method in GOOD:
            assert "error" not in out, (method, out)
    assert call(daemon, "events", '{"limit": 2}')["events"][0]["type"]
    assert isinstance(call(daemon, "members", "")["members"], list)
    assert call(daemon, "config.get", "{}")["values"]["main"]["log_level"] == "debug"


def test_rpcd_call_every_method_bad_input(daemon):
    sig = rpcd_list()
    for method in sig:
        for stdin in BAD_SYNTAX:
            err = call(daemon, method, stdin)["error"]
            assert err["code"] == "invalid_request" and err["message"], (method, stdin)
        err = call(daemon, method, b"{" + b"\xff" * 64 + b"}")["error"]
        assert err["code"] == "invalid_request"
        err = call(daemon, method, "{" + " " * (1 << 20) + "}")["error"]
        assert err["code"] == "invalid_request" and "1 MiB" in err["message"]
        if sig[method]:
            # every argument with a value of the wrong JSON type
            wrong = {k: ([] if not isinstance(v, list) else "x") for k, v in sig[method].items()}
            err = call(daemon, method, json.dumps(wrong))["error"]
            assert err["code"] == "invalid_argument", (method, err)
    assert call(daemon, "no.such.method", "{}")["error"]["code"] == "unknown_method"
    assert call(daemon, "action", '{"cmd": "recheck", "name": "nope"}')["error"]["code"] \
        == "invalid_argument"
    # the daemon still answers
    assert daemon.request({"method": "info"})["pid"] == daemon.proc.pid


def test_rpcd_call_without_daemon(tmp_path):
    r = subprocess.run([AUTONOMYCTL, "--socket", str(tmp_path / "none.sock"), "call", "status"],
                       input=b"{}", capture_output=True, timeout=30)
    assert r.returncode == 0
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "unavailable" and "not running" in err["message"]


def fake_uci(tmp_path, state_dir):
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    uci = bindir / "uci"
    uci.write_text('#!/bin/sh\n[ "$*" = "-q get autonomy.main.state_dir" ] || exit 1\n'
                   'echo "%s"\n' % state_dir)
    uci.chmod(0o755)
    return str(bindir)


def test_rpcd_wrapper_finds_the_socket(daemon, tmp_path):
    bindir = fake_uci(tmp_path, daemon.state)
    env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"], AUTONOMYCTL=AUTONOMYCTL)
    wrapper = [os.path.join(FILES, "autonomy.rpcd")]
    r = subprocess.run(wrapper + ["list"], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout) == rpcd_list()
    r = subprocess.run(wrapper + ["call", "status"], env=env, input="", capture_output=True,
                       text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["controller"] == "none"


def run_hotplug(tmp_path, daemon, **env):
    bindir = fake_uci(tmp_path, daemon.state)
    record = tmp_path / "calls"
    record.write_text("")
    ctl = tmp_path / "ctl"
    ctl.write_text('#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' % (record, AUTONOMYCTL))
    ctl.chmod(0o755)
    full = {"PATH": bindir + ":" + os.environ["PATH"], "AUTONOMYCTL": str(ctl)}
    full.update(env)
    # hotplug-call sources the script in a subshell
    r = subprocess.run(["sh", "-c", '( . "$0" )', os.path.join(FILES, "autonomy.hotplug")],
                       env=full, capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    sock = "--socket %s --timeout 2 " % daemon.sock
    return [c[len(sock):] if c.startswith(sock) else c for c in record.read_text().splitlines()]


def test_hotplug_rechecks_the_member(daemon, tmp_path):
    assert run_hotplug(tmp_path, daemon, ACTION="ifup", INTERFACE="fiber",
                       DEVICE="eth1") == ["recheck fiber"]
    assert run_hotplug(tmp_path, daemon, ACTION="ifupdate", INTERFACE="lte") == ["recheck lte"]
    # not a member name: the member(s) on that device
    assert run_hotplug(tmp_path, daemon, ACTION="ifup", INTERFACE="wwan",
                       DEVICE="wwan0") == ["recheck wwan", "config get", "recheck lte"]
    assert run_hotplug(tmp_path, daemon, ACTION="ifup", INTERFACE="lan",
                       DEVICE="br-lan") == ["recheck lan", "config get"]
    assert run_hotplug(tmp_path, daemon, ACTION="ifup", INTERFACE="x", DEVICE="wwan.") == \
        ["recheck x", "config get"]
    for action in ("ifdown", "ifup-failed", "connected", "disconnected", ""):
        assert run_hotplug(tmp_path, daemon, ACTION=action, INTERFACE="fiber",
                           DEVICE="eth1") == []
    assert run_hotplug(tmp_path, daemon, ACTION="ifup", DEVICE="eth1") == []


def test_hotplug_quiet_without_daemon(daemon, tmp_path):
    daemon.stop()
    assert run_hotplug(tmp_path, daemon, ACTION="ifup", INTERFACE="fiber", DEVICE="eth1") == []


def run_defaults(tmp_path, has_main):
    bindir = tmp_path / "bin"
    shutil.rmtree(bindir, ignore_errors=True)
    bindir.mkdir()
    log = tmp_path / "calls"
    log.write_text("")
    (bindir / "uci").write_text(
        '#!/bin/sh\necho "uci $*" >>"%s"\n[ "$1 $2" = "-q batch" ] && sed "s/^/  /" >>"%s"\n'
        '[ "$*" = "-q get autonomy.main" ] && exit %d\nexit 0\n' % (log, log, 0 if has_main else 1))
    (bindir / "touch").write_text('#!/bin/sh\necho "touch $*" >>"%s"\n' % log)
    for f in ("uci", "touch"):
        (bindir / f).chmod(0o755)
    r = subprocess.run(["sh", os.path.join(FILES, "autonomy.defaults")],
                       env={"PATH": "%s:%s" % (bindir, os.environ["PATH"])},
                       capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (0, "")
    return log.read_text().splitlines()


def test_uci_defaults_adds_only_a_missing_main_section(tmp_path):
    assert run_defaults(tmp_path, True) == ["uci -q get autonomy.main"]
    calls = run_defaults(tmp_path, False)
    assert calls[0] == "uci -q get autonomy.main"
    assert calls[-5:] == ["uci -q batch",
                          "  set autonomy.main=autonomy",
                          "  set autonomy.main.state_dir='/var/run/autonomy'",
                          "  set autonomy.main.http_root='/usr/share/autonomy/www'",
                          "  commit autonomy"]

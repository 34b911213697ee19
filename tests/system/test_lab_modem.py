"""The lab's fake modem tools (lab/modem: uqmi, mmcli, ubus) and `lab/lab modem`.

No lab needed: AUTONOMY_LAB_MODEM points `lab/lab modem` and the tools at a state
file in a temporary directory. The expected shapes are the samples the radio parser
is written against (key order, types, number formatting).
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import ROOT

LAB = os.path.join(ROOT, "lab", "lab")
TOOLS = os.path.join(ROOT, "lab", "modem")
UQMI = ("-s", "-d", "/dev/cdc-wdm0", "--get-signal-info", "--get-serving-system")
UBUS_METHODS = ("get_signal_query", "get_network_info", "get_service_provider",
                "get_net_reg_stat_all", "get_sim_slot")

DEFAULT_STATE = """\
mode=normal
tech=lte
rsrp=-90
rsrq=-9
sinr=15
rssi=-65
nr_rsrp=-95
nr_rsrq=-11
nr_sinr=12
roaming=0
operator=LabTel
mccmnc=99901
cellid=27447297
tac=4660
simslot=1
"""


class Modem:
    def __init__(self, tmp_path):
        self.state = tmp_path / "modem.state"
        self.calls = tmp_path / "modem.state.calls"
        self.env = dict(os.environ, AUTONOMY_LAB_MODEM=str(self.state))

    def lab(self, *args):
        return subprocess.run([LAB, "modem", *args], env=self.env, capture_output=True,
                              text=True, timeout=10)

    def set(self, *args):
        r = self.lab(*args)
        assert r.returncode == 0, r.stderr
        return self

    def run(self, tool, *args, shell=None, timeout=10):
        cmd = ([shell] if shell else []) + [os.path.join(TOOLS, tool), *args]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def ok(self, tool, *args, shell=None):
        r = self.run(tool, *args, shell=shell)
        assert r.returncode == 0, (tool, args, r.stderr)
        assert r.stderr == ""
        return r.stdout


@pytest.fixture
def modem(tmp_path):
    return Modem(tmp_path)


def ordered(text):
    """JSON with every object as a list of (key, value) pairs, to check key order."""
    return json.loads(text, object_pairs_hook=list)


def values(text):
    """Every JSON value in text, one after the other (uqmi prints one per action)."""
    dec = json.JSONDecoder()
    out, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return out
        v, pos = dec.raw_decode(text, pos)
        out.append(v)


def keys_sorted(pairs):
    """mmcli sorts the keys of every object."""
    if not isinstance(pairs, list):
        return True
    if pairs and all(isinstance(p, tuple) for p in pairs):
        ks = [k for k, _ in pairs]
        return ks == sorted(ks) and all(keys_sorted(v) for _, v in pairs)
    return all(keys_sorted(v) for v in pairs)


def strings_only(pairs):
    """mmcli prints every value as a string (lists of strings included)."""
    if isinstance(pairs, list):
        return all(strings_only(v[1] if isinstance(v, tuple) else v) for v in pairs)
    return isinstance(pairs, str)


# ------------------------------------------------------------------ lab/lab modem


def test_state_file_is_written_whole_with_defaults(modem):
    modem.set("clear")
    assert modem.state.read_text() == DEFAULT_STATE
    modem.set("signal", "-100.5", "-12", "3.25", "-70")
    modem.set("nr", "-101", "-13", "-2")
    modem.set("roaming", "on").set("tech", "5g").set("operator", "Lab Tel", "310260")
    modem.set("cell", "123456", "65535").set("sim", "2").set("hang")
    assert modem.state.read_text() == (
        "mode=hang\ntech=5g\nrsrp=-100.5\nrsrq=-12\nsinr=3.25\nrssi=-70\n"
        "nr_rsrp=-101\nnr_rsrq=-13\nnr_sinr=-2\nroaming=1\noperator=Lab Tel\n"
        "mccmnc=310260\ncellid=123456\ntac=65535\nsimslot=2\n")
    modem.set("normal")
    assert "mode=normal\n" in modem.state.read_text()
    modem.set("clear")
    assert modem.state.read_text() == DEFAULT_STATE
    assert [p.name for p in modem.state.parent.iterdir()] == ["modem.state"]


@pytest.mark.parametrize("args", [
    (), ("signal",), ("signal", "-90", "-9"), ("signal", "-20", "-9", "15"),
    ("signal", "-170", "-9", "15"), ("signal", "-90", "-41", "15"),
    ("signal", "-90", "-9", "61"), ("signal", "-90", "-9", "15", "0"),
    ("signal", "-90.123", "-9", "15"), ("signal", "-090", "-9", "15"),
    ("signal", "x", "-9", "15"), ("signal", "-9-0", "-9", "15"), ("signal", "1e2", "-9", "15"),
    ("signal", "-90", "-9", "15", "-65", "1"), ("nr", "-90", "-9"),
    ("roaming",), ("roaming", "yes"), ("tech", "4g"), ("tech",), ("sim", "3"),
    ("operator", 'Lab"Tel', "99901"), ("operator", "LabTel", "9990"),
    ("operator", "LabTel", "09901"), ("operator", "x" * 33, "99901"),
    ("cell", "1", "65536"), ("cell", "-1", "1"), ("cell", "268435456", "1"),
    ("hang", "now"), ("clear", "all"), ("bogus",),
])
def test_modem_command_refuses_bad_arguments(modem, args):
    modem.set("signal", "-80", "-8", "20")
    before = modem.state.read_text()
    r = modem.lab(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("lab: ")
    assert r.stdout == ""
    assert modem.state.read_text() == before


def test_help_lists_the_modem_command():
    r = subprocess.run([LAB, "help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    assert "modem SPEC" in r.stdout and "AUTONOMY_LAB_MODEM" in r.stdout


# ------------------------------------------------------------------ uqmi


def test_uqmi_defaults_without_a_state_file(modem):
    assert not modem.state.exists()
    assert modem.ok("uqmi", *UQMI) == (
        '{"type":"lte","rssi":-65,"rsrq":-9,"rsrp":-90,"snr":15.000000}\n'
        '{"registration":"registered","plmn_mcc":999,"plmn_mnc":1,'
        '"plmn_description":"LabTel","roaming":false}\n')


def test_uqmi_lte(modem):
    modem.set("signal", "-100.5", "-12.25", "3.25", "-70")
    sig, srv = modem.ok("uqmi", *UQMI).splitlines()
    assert ordered(sig) == [("type", "lte"), ("rssi", -70), ("rsrq", -12), ("rsrp", -100),
                            ("snr", 3.25)]
    assert sig.endswith('"snr":3.250000}')
    assert ordered(srv) == [("registration", "registered"), ("plmn_mcc", 999),
                            ("plmn_mnc", 1), ("plmn_description", "LabTel"),
                            ("roaming", False)]


def test_uqmi_5g_nsa_is_an_array_of_lte_and_nr(modem):
    modem.set("tech", "5g").set("signal", "-86", "-8", "17", "-58").set("nr", "-89", "-11", "21.5")
    sig, srv = modem.ok("uqmi", *UQMI).splitlines()
    assert sig == ('[{"type":"lte","rssi":-58,"rsrq":-8,"rsrp":-86,"snr":17.000000},'
                   '{"type":"5gnr","rsrp":-89,"snr":21.500000,"rsrq":-11}]')
    assert json.loads(srv)["registration"] == "registered"


def test_uqmi_5g_sa_is_nr_only(modem):
    modem.set("tech", "5g-sa").set("signal", "-95", "-12", "12.5")
    sig = modem.ok("uqmi", *UQMI).splitlines()[0]
    assert ordered(sig) == [("type", "5gnr"), ("rsrp", -95), ("snr", 12.5), ("rsrq", -12)]


def test_uqmi_3g_is_wcdma(modem):
    modem.set("tech", "3g").set("signal", "-89", "-7", "5", "-79")
    sig = modem.ok("uqmi", *UQMI).splitlines()[0]
    assert sig == '{"type":"wcdma","rssi":-79,"ecio":-7}'


def test_uqmi_roaming_and_operator(modem):
    modem.set("roaming", "on").set("operator", "Telekom.de", "26201")
    srv = modem.ok("uqmi", *UQMI).splitlines()[1]
    assert srv == ('{"registration":"registered","plmn_mcc":262,"plmn_mnc":1,'
                   '"plmn_description":"Telekom.de","roaming":true}')
    modem.set("roaming", "off").set("operator", "Big Mobile", "310260")
    assert ordered(modem.ok("uqmi", *UQMI).splitlines()[1]) == [
        ("registration", "registered"), ("plmn_mcc", 310), ("plmn_mnc", 260),
        ("plmn_description", "Big Mobile"), ("roaming", False)]


def test_uqmi_actions_in_the_order_given(modem):
    out = modem.ok("uqmi", "-s", "--device=/dev/cdc-wdm0", "--get-serving-system",
                   "--get-signal-info", "--get-serving-system")
    got = [json.loads(line) for line in out.splitlines()]
    assert ["registration" in got[0], "type" in got[1], "registration" in got[2]] == [True] * 3
    assert modem.ok("uqmi", "-s", "-d", "/dev/cdc-wdm0") == ""


@pytest.mark.parametrize("tech", ["lte", "5g", "5g-sa", "3g"])
def test_uqmi_without_s_is_indented_like_libubox(modem, tech):
    modem.set("tech", tech)
    single = [ordered(line) for line in modem.ok("uqmi", *UQMI).splitlines()]
    pretty = modem.ok("uqmi", *UQMI[1:])
    assert [ordered(json.dumps(v)) for v in values(pretty)] == single
    # libubox: brackets alone on their lines, one tab per level, "key": value.
    lines = pretty.splitlines()
    assert lines[0] in ("{", "[") and lines[-1] == "}"
    assert all(line.startswith("\t") or line in ("{", "}", "[", "]") for line in lines)
    depth = 2 if tech == "5g" else 1
    assert "\t" * depth + '"type": ' in pretty
    assert '":' not in pretty.replace('": ', "")


# ------------------------------------------------------------------ mmcli

MM_SECTIONS = ["5g", "cdma1x", "evdo", "gsm", "lte", "refresh", "threshold", "umts"]


def signal(modem):
    out = modem.ok("mmcli", "-m", "0", "--signal-get", "-J")
    assert out.endswith("}\n") and out.count("\n") == 1
    pairs = ordered(out)
    assert keys_sorted(pairs) and strings_only(pairs)
    sig = json.loads(out)["modem"]["signal"]
    assert sorted(sig) == MM_SECTIONS
    return sig


def measured(sig):
    return {name: {k: v for k, v in sec.items() if v != "--" and k != "error-rate"}
            for name, sec in sig.items()
            if name not in ("refresh", "threshold") and any(
                v != "--" for k, v in sec.items() if k != "error-rate")}


def test_mmcli_signal_needs_setup_first(modem):
    sig = signal(modem)
    assert sig["refresh"] == {"rate": "0"}
    assert measured(sig) == {}
    assert modem.ok("mmcli", "-m", "0", "--signal-setup=10") == \
        "Successfully setup extended signal information retrieval\n"
    sig = signal(modem)
    assert sig["refresh"] == {"rate": "10"}
    assert sig["threshold"] == {"error-rate": "no", "rssi": "0"}
    assert sig["lte"] == {"error-rate": "--", "rsrp": "-90.00", "rsrq": "-9.00",
                          "rssi": "-65.00", "snr": "15.00"}
    assert modem.ok("mmcli", "-m", "0", "--signal-setup", "0") != ""
    assert measured(signal(modem)) == {}


@pytest.mark.parametrize("tech, want", [
    ("lte", {"lte": {"rsrp": "-100.50", "rsrq": "-12.00", "rssi": "-70.00", "snr": "3.25"}}),
    ("5g", {"lte": {"rsrp": "-100.50", "rsrq": "-12.00", "rssi": "-70.00", "snr": "3.25"},
            "5g": {"rsrp": "-89.00", "rsrq": "-11.00", "snr": "21.50"}}),
    ("5g-sa", {"5g": {"rsrp": "-100.50", "rsrq": "-12.00", "snr": "3.25"}}),
    ("3g", {"umts": {"ecio": "-12.00", "rscp": "-100.50", "rssi": "-70.00"}}),
])
def test_mmcli_signal_per_technology(modem, tech, want):
    modem.set("tech", tech).set("signal", "-100.5", "-12", "3.25", "-70")
    modem.set("nr", "-89", "-11", "21.5")
    modem.ok("mmcli", "--modem=0", "--signal-setup=5")
    assert measured(signal(modem)) == want


@pytest.mark.parametrize("tech, access", [
    ("lte", ["lte"]), ("5g", ["lte", "5gnr"]), ("5g-sa", ["5gnr"]),
    ("3g", ["umts", "hsdpa", "hsupa"]),
])
def test_mmcli_modem(modem, tech, access):
    modem.set("tech", tech)
    out = modem.ok("mmcli", "-m", "0", "-J")
    assert out.count("\n") == 1
    pairs = ordered(out)
    assert keys_sorted(pairs) and strings_only(pairs)
    m = json.loads(out)["modem"]
    assert m["generic"]["access-technologies"] == access
    assert m["3gpp"]["registration-state"] == "home"
    assert m["3gpp"]["operator-code"] == "99901"
    assert m["3gpp"]["operator-name"] == "LabTel"
    assert m["generic"]["primary-sim-slot"] == "1"
    assert m["generic"]["signal-quality"] == {"recent": "yes", "value": "77"}


def test_mmcli_modem_roaming_operator_and_sim(modem):
    modem.set("roaming", "on").set("operator", "Telekom.de", "26201").set("sim", "2")
    m = json.loads(modem.ok("mmcli", "-m", "/org/freedesktop/ModemManager1/Modem/0", "-J"))
    assert m["modem"]["3gpp"]["registration-state"] == "roaming"
    assert m["modem"]["3gpp"]["operator-code"] == "26201"
    assert m["modem"]["3gpp"]["operator-name"] == "Telekom.de"
    assert m["modem"]["generic"]["primary-sim-slot"] == "2"
    assert json.loads(modem.ok("mmcli", "-L", "-J")) == {
        "modem-list": ["/org/freedesktop/ModemManager1/Modem/0"]}


# ------------------------------------------------------------------ ubus


def ubus(modem, method, simple=False):
    args = (["-S"] if simple else []) + ["call", "gsm.modem0", method]
    out = modem.ok("ubus", *args)
    if simple:
        assert out.count("\n") == 1
    else:
        assert out.startswith("{\n\t\"") and out.endswith("\n}\n")
    return ordered(out)


def test_ubus_list(modem):
    assert modem.ok("ubus", "list", "gsm.*") == "gsm.modem0\n"
    assert modem.ok("ubus", "list", "gsm.modem0") == "gsm.modem0\n"
    assert modem.ok("ubus", "-S", "list") == "gsm.modem0\n"
    r = modem.run("ubus", "list", "network.*")
    assert (r.returncode, r.stdout, r.stderr) == (4, "", "Command failed: Not found\n")


@pytest.mark.parametrize("method", UBUS_METHODS)
def test_ubus_pretty_and_simple_agree(modem, method):
    assert ubus(modem, method) == ubus(modem, method, simple=True)


def test_ubus_lte_home(modem):
    modem.set("signal", "-91", "-9", "13.4", "-63")
    assert ubus(modem, "get_signal_query") == [
        ("net_mode", "LTE"), ("rssi", -63), ("rsrp", -91), ("sinr", 13), ("rsrq", -9)]
    assert ubus(modem, "get_network_info") == [
        ("net_mode", "LTE"), ("net_mode_id", 7), ("net_mode_sel", "auto"),
        ("band", "LTE B3"), ("band_id", 3), ("opernum", 99901)]
    assert ubus(modem, "get_service_provider") == [
        ("plmn", "99901"), ("full_name", "LabTel"), ("short_name", "LabTel"), ("name", "LabTel")]
    assert ubus(modem, "get_net_reg_stat_all") == [
        ("status", "Registered, home"), ("stat_id", 1), ("lac", "FFFE"), ("tac", "1234"),
        ("ci", "1A2D001"), ("act", "LTE")]
    assert ubus(modem, "get_sim_slot") == [("index", 1)]


def test_ubus_roaming_and_sim(modem):
    modem.set("roaming", "on").set("operator", "Telekom.de", "26201").set("sim", "2")
    modem.set("cell", "95470110", "3101")
    reg = dict(ubus(modem, "get_net_reg_stat_all"))
    assert (reg["status"], reg["stat_id"], reg["ci"], reg["tac"]) == \
        ("Registered, roaming", 5, "5B0C21E", "0C1D")
    prov = dict(ubus(modem, "get_service_provider"))
    assert (prov["plmn"], prov["full_name"]) == ("26201", "Telekom.de")
    assert dict(ubus(modem, "get_network_info"))["opernum"] == 26201
    assert ubus(modem, "get_sim_slot") == [("index", 2)]
    modem.set("roaming", "off")
    assert dict(ubus(modem, "get_net_reg_stat_all"))["status"] == "Registered, home"


@pytest.mark.parametrize("tech, mode, band", [
    ("5g", "5G-NSA", "LTE B3"), ("5g-sa", "5G-SA", "NR5G N78"), ("3g", "WCDMA", "WCDMA 2100"),
])
def test_ubus_net_mode(modem, tech, mode, band):
    modem.set("tech", tech).set("signal", "-89", "-7", "5", "-79")
    sig = ubus(modem, "get_signal_query")
    if tech == "3g":
        assert sig == [("net_mode", "WCDMA"), ("rssi", -79), ("rscp", -89), ("ecio", -7)]
    else:
        assert sig == [("net_mode", mode), ("rssi", -79), ("rsrp", -89), ("sinr", 5),
                       ("rsrq", -7)]
    net = dict(ubus(modem, "get_network_info"))
    assert (net["net_mode"], net["band"]) == (mode, band)


# ------------------------------------------------------------------ every tool

CALLS = [
    ("uqmi", UQMI),
    ("mmcli", ("-m", "0", "--signal-get", "-J")),
    ("mmcli", ("-m", "0", "-J")),
    ("ubus", ("call", "gsm.modem0", "get_signal_query")),
    ("ubus", ("-S", "call", "gsm.modem0", "get_net_reg_stat_all")),
]


@pytest.mark.parametrize("tool, args", CALLS)
def test_garbage_is_not_json(modem, tool, args):
    modem.set("garbage")
    out = modem.ok(tool, *args)
    assert out
    for text in (out, out.splitlines()[0]):
        with pytest.raises(ValueError):
            json.loads(text)
    modem.set("normal")
    assert values(modem.ok(tool, *args))


@pytest.mark.parametrize("tool, args", CALLS)
def test_hang_until_killed(modem, tool, args):
    modem.set("hang")
    p = subprocess.Popen([os.path.join(TOOLS, tool), *args], env=modem.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with pytest.raises(subprocess.TimeoutExpired):
        p.wait(timeout=1)
    # The tool has become the sleep: killing its pid ends the wait, nothing is left.
    with open("/proc/%d/cmdline" % p.pid, "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"3600"]
    p.kill()
    assert p.wait(timeout=5) == -9
    assert p.stdout.read() == b""
    p.stdout.close()
    p.stderr.close()
    modem.set("clear")
    assert modem.run(tool, *args, timeout=5).returncode == 0


@pytest.mark.parametrize("tool, args, rc, err", [
    ("uqmi", ("--bogus",), 1, "uqmi: unrecognized option '--bogus'\nUsage: uqmi"),
    ("uqmi", ("-x", "-d", "/dev/cdc-wdm0"), 1, "uqmi: invalid option -- 'x'\n"),
    ("uqmi", ("-s", "--get-signal-info"), 1, "No device given\n"),
    ("uqmi", ("-s", "-d"), 1, "uqmi: option requires an argument -- 'd'\n"),
    ("uqmi", ("-s", "-d", "/dev/ttyUSB2", "--get-signal-info"), 2, "Failed to open device\n"),
    ("uqmi", ("-s", "-d", "/dev/cdc-wdm0", "--get-data-status"), 1, "uqmi: unrecognized"),
    ("mmcli", ("-m", "1", "-J"), 1, "error: couldn't find modem\n"),
    ("mmcli", ("-m", "0", "--bogus"), 1, "error: Unknown option --bogus"),
    ("mmcli", ("-m", "0", "--signal-setup=fast"), 1, "error: invalid rate value 'fast'"),
    ("mmcli", ("-m", "0", "--signal-get", "--signal-setup=5", "-J"), 1,
     "error: too many Signal actions requested\n"),
    ("mmcli", ("-J",), 1, "error: no actions specified\n"),
    ("mmcli", ("-m",), 1, "error: "),
    ("ubus", ("call", "gsm.modem1", "get_sim_slot"), 4, "Command failed: Not found\n"),
    ("ubus", ("call", "gsm.modem0", "reboot"), 3, "Command failed: Method not found\n"),
    ("ubus", ("-S", "call", "gsm.modem1", "get_sim_slot"), 4, ""),
    ("ubus", ("call", "gsm.modem0", "get_sim_slot", "not json"), 255,
     "Failed to parse message data\n"),
    ("ubus", ("call", "gsm.modem0"), 254, "Usage: ubus"),
    ("ubus", ("bogus",), 254, "Usage: ubus"),
    ("ubus", (), 1, "Usage: ubus"),
    ("ubus", ("-Z", "list"), 1, "ubus: invalid option -- 'Z'\n"),
])
def test_bad_arguments(modem, tool, args, rc, err):
    r = modem.run(tool, *args)
    assert r.returncode == rc
    assert r.stdout == ""
    assert r.stderr.startswith(err)


def test_bad_arguments_win_over_a_hanging_modem(modem):
    modem.set("hang")
    assert modem.run("uqmi", "--bogus", timeout=5).returncode == 1
    assert modem.run("ubus", "call", "gsm.modem0", "reboot", timeout=5).returncode == 3


def test_each_call_is_logged_and_the_log_is_capped(modem):
    modem.ok("uqmi", *UQMI)
    modem.run("mmcli", "--bogus")
    modem.ok("ubus", "-S", "call", "gsm.modem0", "get_sim_slot", "{}")
    assert modem.calls.read_text() == (
        "uqmi " + " ".join(UQMI) + "\n"
        "mmcli --bogus\n"
        "ubus -S call gsm.modem0 get_sim_slot {}\n")
    modem.calls.write_text("x" * 1100000)
    modem.ok("ubus", "list", "gsm.*")
    assert modem.calls.read_text() == "ubus list gsm.*\n"


def test_a_broken_state_file_falls_back_to_defaults(modem):
    modem.state.write_text(
        "mode=normal\ntech=4g\nrsrp=-80; rm -rf /\nrsrq=$(id)\nsinr=1e9\nrssi=-0x41\n"
        "roaming=yes\noperator=Evil\"Tel\nmccmnc=1\ncellid=-5\ntac=99999999\nsimslot=9\n"
        "junk line\n=\nnr_sinr=7.5\n")
    sig, srv = modem.ok("uqmi", *UQMI).splitlines()
    assert sig == '{"type":"lte","rssi":-65,"rsrq":-9,"rsrp":-90,"snr":15.000000}'
    assert json.loads(srv)["plmn_description"] == "LabTel"
    for method in UBUS_METHODS:
        ubus(modem, method, simple=True)
    json.loads(modem.ok("mmcli", "-m", "0", "-J"))


@pytest.mark.skipif(shutil.which("busybox") is None, reason="no busybox")
@pytest.mark.parametrize("tool, args", CALLS + [
    ("uqmi", UQMI[1:]),
    ("ubus", ("list", "gsm.*")),
    ("mmcli", ("-m", "0", "--signal-setup=7")),
])
def test_busybox_ash_prints_the_same(modem, tool, args):
    modem.set("tech", "5g").set("signal", "-100.5", "-12.25", "3.25", "-70").set("roaming", "on")
    modem.ok("mmcli", "-m", "0", "--signal-setup=3")
    want = modem.ok(tool, *args, shell="sh")
    assert modem.ok(tool, *args) == want
    r = subprocess.run(["busybox", "ash", os.path.join(TOOLS, tool), *args], env=modem.env,
                       capture_output=True, text=True, timeout=10)
    assert (r.returncode, r.stderr, r.stdout) == (0, "", want)


def test_lab_lab_runs_under_busybox_ash_too(modem):
    if shutil.which("busybox") is None:
        pytest.skip("no busybox")
    r = subprocess.run(["busybox", "ash", LAB, "modem", "signal", "-99", "-10.5", "7"],
                       env=modem.env, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "rsrp=-99\nrsrq=-10.5\nsinr=7\n" in modem.state.read_text()
    r = subprocess.run(["busybox", "ash", LAB, "modem", "signal", "-9", "-10.5", "7"],
                       env=modem.env, capture_output=True, text=True, timeout=10)
    assert r.returncode == 2


def test_tools_are_quick(modem):
    start = time.monotonic()
    for _ in range(10):
        modem.ok("uqmi", *UQMI)
    assert time.monotonic() - start < 5

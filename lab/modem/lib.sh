# shellcheck shell=sh disable=SC2034 # the M_ variables are for the tools that source this
# lab/modem/lib.sh: the part the lab's fake modem tools (uqmi, mmcli, ubus in this
# directory) share; each of them sources it. docs/LAB.md, "The cellular modem".
#
# The tools report what `lab/lab modem` wrote to the state file: KEY=VALUE lines
# (mode, tech, rsrp, rsrq, sinr, rssi, nr_rsrp, nr_rsrq, nr_sinr, roaming, operator,
# mccmnc, cellid, tac, simslot). The file is parsed, never sourced: a key that is
# missing or whose value is malformed keeps its default, so the JSON the tools print
# stays valid whatever the file holds. Every run appends "TOOL ARGS" to the call log.
# POSIX sh, for dash and busybox ash alike; no `local`, so variables in functions
# carry a short prefix of their function.

# The state, the call log and mmcli's signal refresh rate; AUTONOMY_LAB_MODEM=FILE
# (for tests) makes them FILE, FILE.calls and FILE.rate.
if [ -n "${AUTONOMY_LAB_MODEM:-}" ]; then
	MODEM=$AUTONOMY_LAB_MODEM MODEM_CALLS=$AUTONOMY_LAB_MODEM.calls
	MODEM_RATE=$AUTONOMY_LAB_MODEM.rate
else
	MODEM=/run/autonomy-lab/modem.state MODEM_CALLS=/run/autonomy-lab/modem.calls
	MODEM_RATE=/run/autonomy-lab/modem.rate
fi
# The call log starts again once it is larger than this.
CALLS_MAX=1048576

modem_defaults() {
	M_mode=normal M_tech=lte M_rsrp=-90 M_rsrq=-9 M_sinr=15 M_rssi=-65
	M_nr_rsrp=-95 M_nr_rsrq=-11 M_nr_sinr=12 M_roaming=0
	M_operator=LabTel M_mccmnc=99901 M_cellid=27447297 M_tac=4660 M_simslot=1
}

# An optional minus, digits without a leading zero, at most two decimals. The range
# is lab/lab's business; this only keeps the printed JSON well formed.
modem_num() {
	case $1 in
	'' | - | -. | .* | -.* | *. | *.*.* | ?*-* | *.???* | 0[0-9]* | -0[0-9]* | *[!0-9.-]*)
		return 1
		;;
	esac
	[ ${#1} -le 8 ]
}

modem_uint() { # VALUE MAXLEN
	case $1 in '' | 0?* | *[!0-9]*) return 1 ;; esac
	[ ${#1} -le "$2" ]
}

modem_read() {
	modem_defaults
	[ -r "$MODEM" ] || return 0
	while IFS='=' read -r mr_key mr_val; do
		case $mr_key in
		mode) case $mr_val in normal | hang | garbage) M_mode=$mr_val ;; esac ;;
		tech) case $mr_val in lte | 5g | 5g-sa | 3g) M_tech=$mr_val ;; esac ;;
		rsrp) modem_num "$mr_val" && M_rsrp=$mr_val ;;
		rsrq) modem_num "$mr_val" && M_rsrq=$mr_val ;;
		sinr) modem_num "$mr_val" && M_sinr=$mr_val ;;
		rssi) modem_num "$mr_val" && M_rssi=$mr_val ;;
		nr_rsrp) modem_num "$mr_val" && M_nr_rsrp=$mr_val ;;
		nr_rsrq) modem_num "$mr_val" && M_nr_rsrq=$mr_val ;;
		nr_sinr) modem_num "$mr_val" && M_nr_sinr=$mr_val ;;
		roaming) case $mr_val in 0 | 1) M_roaming=$mr_val ;; esac ;;
		operator)
			case $mr_val in '' | *[!A-Za-z0-9\ ._-]*) ;; *) M_operator=$mr_val ;; esac
			;;
		mccmnc)
			case $mr_val in
			[1-9][0-9][0-9][0-9][0-9] | [1-9][0-9][0-9][0-9][0-9][0-9]) M_mccmnc=$mr_val ;;
			esac
			;;
		cellid) modem_uint "$mr_val" 9 && M_cellid=$mr_val ;;
		tac) modem_uint "$mr_val" 5 && M_tac=$mr_val ;;
		simslot) case $mr_val in 1 | 2) M_simslot=$mr_val ;; esac ;;
		esac
	done <"$MODEM"
}

# One line per run, for tests that count how often autonomyd ran a tool.
modem_log() {
	ml_calls=$MODEM_CALLS
	if [ -f "$ml_calls" ] && [ "$(wc -c <"$ml_calls")" -gt "$CALLS_MAX" ]; then
		: >"$ml_calls"
	fi
	printf '%s\n' "$*" >>"$ml_calls"
} 2>/dev/null

# Called once the arguments are known to be good, before any answer: a hanging modem
# never answers (exec, so killing the tool's pid ends the wait), a broken one prints
# junk and still exits 0.
modem_misbehave() {
	case $M_mode in
	hang) exec sleep 3600 ;;
	garbage)
		printf '%s\r\n' 'AT+QENG="servingcell"' '+CME ERROR: 100' '<modem busy>'
		printf '\001\002{"type":"lte","rsrp":\n'
		exit 0
		;;
	esac
}

modem_int() { printf '%.0f' "$1"; }

# JSON from the compact form the tools build, indented the way libubox prints it
# without -s / -S: one tab per level, "key": value. Strings hold no escapes here.
json_pretty() {
	awk '
	function nl(   s, i) { s = "\n"; for (i = 0; i < lvl; i++) s = s "\t"; return s }
	{
		out = ""; instr = 0; lvl = 0
		n = length($0)
		for (i = 1; i <= n; i++) {
			c = substr($0, i, 1)
			if (instr) { out = out c; if (c == "\"") instr = 0; continue }
			if (c == "\"") { instr = 1; out = out c }
			else if (c == "{" || c == "[") { lvl++; out = out c nl() }
			else if (c == "}" || c == "]") { lvl--; out = out nl() c }
			else if (c == ",") out = out c nl()
			else if (c == ":") out = out ": "
			else out = out c
		}
		print out
	}'
}

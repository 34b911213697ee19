#!/bin/sh
# make demo: build the lab, run autonomyd in it and play a story of faults while
# printing what autonomy decides and which uplink really carries traffic. The
# dashboard shows the same story live at http://127.0.0.1:8080/.
# Ctrl-C stops the daemon and removes the lab.
set -u
cd "$(dirname "$0")/.." || exit 1
LAB=lab/lab
CTL="build/autonomyctl --socket /run/autonomy-lab/state/autonomy.sock"
CONF=/run/autonomy-lab/demo.conf
START=$(date +%s)

cleanup() {
	trap - INT TERM EXIT
	echo
	echo "demo: stopping autonomyd and removing the lab"
	$LAB stop >/dev/null 2>&1
	$LAB down >/dev/null 2>&1
	exit 0
}

now() { echo $(($(date +%s) - START)); }
say() { printf '[%4ss] %s\n' "$(now)" "$*"; }

active() { $CTL --json status 2>/dev/null | sed -n 's/^ *"active": *"\([^"]*\)".*/\1/p'; }

# Prints events newer than the last one shown.
SEEN=0
show_events() {
	n=$($CTL --json events 1000 2>/dev/null | grep -o '"ts"' | wc -l)
	if [ "$n" -gt "$SEEN" ]; then
		$CTL events $((n - SEEN)) 2>/dev/null | sed '1!G;h;$!d' | while IFS= read -r line; do
			say "autonomy: $line"
		done
		SEEN=$n
	fi
}

# Waits up to $1 seconds, showing events as they happen, until active is $2 (or any change if empty).
watch_until() {
	w_end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$w_end" ]; do
		show_events
		[ -n "$2" ] && [ "$(active)" = "$2" ] && break
		sleep 0.5
	done
	show_events
	say "traffic now flows through: $($LAB path)"
}

fault() {
	say "fault: $*"
	$LAB fault "$@" >/dev/null || exit 1
}

trap cleanup INT TERM EXIT
$LAB down >/dev/null 2>&1
$LAB up || exit 1
mkdir -p /run/autonomy-lab
# The lab's configuration with a shorter failback wait, so the story moves on, and a
# token of this run for the dashboard's changes (settings, actions).
TOKEN=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
(umask 077 && sed "s/^config autonomy 'main'$/config autonomy 'main'\n\toption restore_min_duration_s '15'\n\toption http_token '$TOKEN'/" \
	lab/autonomy.conf >"$CONF")
$LAB start -c "$CONF" || exit 1
echo "autonomyd runs in namespace ar-router; in another terminal:"
echo "  lab/lab run autonomyctl status      lab/lab logs"
echo "or open the dashboard: http://127.0.0.1:8080/  (token for changes: $TOKEN)"
echo

say "three uplinks: starlink (weight 100), fiber (80), cellular (50, metered)"
watch_until 8 starlink
$CTL status

fault starlink blackhole
watch_until 10 fiber
fault starlink clear
say "starlink is back; autonomy waits for it to stay good before failing back"
watch_until 40 starlink

fault starlink loss 30
say "starlink loses 30% of packets: a soft degradation, decided over ~10 s"
watch_until 40 fiber
fault starlink clear
say "starlink is clean again; its score recovers over its windows, then failback"
watch_until 75 starlink

say "starlink flaps: down and up every 8 s; dampening stops the ping-pong"
i=0
while [ $i -lt 4 ]; do
	fault starlink down
	watch_until 4 ""
	fault starlink up
	watch_until 4 ""
	i=$((i + 1))
done
$CTL members

say "the cellular backup starts roaming: 20 points off its score"
$LAB modem roaming on >/dev/null || exit 1
watch_until 15 ""
$CTL cellular
$LAB modem clear >/dev/null

say "story over; autonomyd keeps running. Ctrl-C stops it and removes the lab."
while :; do
	show_events
	sleep 2
done

/* Members from the router's own configuration: <root>/mwan3, <root>/network and
 * <root>/wireless (OpenWrt, and RutOS with its `condition` sections).
 *
 * Pure: reads files under root and fills struct config; nothing else. Used when
 * the autonomy configuration has no member sections (those always win).
 *
 * One member per mwan3 `interface` section with `option enabled '1'`:
 *  - name: the mwan3 (= network) interface name;
 *  - device: network's `device` (or the older `ifname`) when it is a netdev name;
 *    for the ppp family (pppoe, pppoa, 3g, ppp, pptp, l2tp) netifd's
 *    "<proto>-<iface>"; for a Wi-Fi client, wireless's `ifname` of the
 *    `wifi-iface` with `mode sta` and `network <iface>`. Without a device the
 *    interface is skipped with a warning, and so is a second interface on a device
 *    already taken (wan6 next to wan, the idle SIM of a dual-SIM modem);
 *  - class: cellular for qmi/ncm/mbim/modemmanager/wwan/3g/qmux, wifi for a
 *    Wi-Fi client, starlink when the name contains "starlink", else auto;
 *  - weight: 1001 - the lowest metric of the mwan3 `member` sections that use
 *    the interface (metric 1 -> 1000, 2 -> 999 …; lower metric = higher weight);
 *    1 when no member uses it;
 *  - targets: `track_ip` (IP literals only, at most CFG_MAX_TARGETS; others are
 *    skipped with a warning), else autonomy's default; reliability: `reliability`,
 *    capped at the number of targets. RutOS keeps these in anonymous `condition`
 *    sections with `option interface`: they count as the interface's own.
 */
#ifndef AUTONOMY_MWAN3_H
#define AUTONOMY_MWAN3_H

#include <stdbool.h>

struct config;

/* Appends the members found under root to c. Returns how many were added
 * (>= 0), -ENOENT when <root>/mwan3 does not exist, or another -errno when it
 * cannot be read or parsed (a message is logged). */
int mwan3_discover(const char *root, struct config *c);

/* <root>/mwan3 exists and has at least one enabled interface. */
bool mwan3_present(const char *root);

#endif

/* The cellular radio parsers on what uqmi, mmcli and RutOS's ubus print
 * (the samples of the formats notes: LTE home and roaming, 5G NSA and SA, 3G,
 * 2G, no service) and on what they should never print: truncated or trailing
 * JSON, wrong shapes and types, huge and NaN numbers, control bytes, binary
 * garbage, deep nesting, oversize input. Every input is handed over in a
 * buffer of exactly its length, with no NUL after it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/radio.h"

#define assert_near(a, b)	assert_true(fabs((double)(a) - (double)(b)) < 1e-6)
#define assert_nan(x)		assert_true(isnan(x))

static char err[RADIO_ERR_LEN];

/* radio_parse on an exact-size copy of s (ASan sees any read past len). */
static int parse_n(enum radio_query q, const void *s, size_t len, struct radio_info *r)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, s, len);
	memset(err, 'x', sizeof(err));
	rc = radio_parse(q, copy, len, r, err, sizeof(err));
	free(copy);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	if (rc == 0)
		assert_string_equal(err, "");
	else
		assert_int_equal(rc, -1);
	return rc;
}

static int parse(enum radio_query q, const char *s, struct radio_info *r)
{
	return parse_n(q, s, strlen(s), r);
}

static struct radio_info fresh(void)
{
	struct radio_info r;

	radio_clear(&r);
	return r;
}

/* A parse that must fail with reason why and leave r exactly as it was. */
static void expect_error(enum radio_query q, const void *s, size_t len, const char *why)
{
	struct radio_info r = fresh(), before;

	r.tech = RADIO_TECH_LTE;
	r.rsrp = -99;
	strcpy(r.operator_name, "Before");
	r.roaming = 0;
	memcpy(&before, &r, sizeof(r));	/* padding too */
	assert_int_equal(parse_n(q, s, len, &r), -1);
	assert_memory_equal(&r, &before, sizeof(r));
	if (strcmp(err, why)) {
		print_error("query %s: got \"%s\", want \"%s\"\n", radio_query_name(q), err, why);
		fail();
	}
}

#define EXPECT_ERROR(q, s, why)	expect_error(q, s, strlen(s), why)

/* ---- samples ---------------------------------------------------------------------- */

static const char uqmi_lte_home[] =
	"{\"type\":\"lte\",\"rssi\":-63,\"rsrq\":-9,\"rsrp\":-91,\"snr\":13.400000}\n"
	"{\"registration\":\"registered\",\"plmn_mcc\":246,\"plmn_mnc\":2,"
	"\"plmn_description\":\"Telia LT\",\"roaming\":false}\n";

static const char uqmi_lte_roaming[] =
	"{\"type\":\"lte\",\"rssi\":-71,\"rsrq\":-12,\"rsrp\":-104,\"snr\":4.200000}\n"
	"{\"registration\":\"registered\",\"plmn_mcc\":262,\"plmn_mnc\":1,"
	"\"plmn_description\":\"Telekom.de\",\"roaming\":true}\n";

static const char uqmi_lte_pretty[] =
	"{\n\t\"type\": \"lte\",\n\t\"rssi\": -63,\n\t\"rsrq\": -9,\n\t\"rsrp\": -91,\n"
	"\t\"snr\": 13.400000\n}\n"
	"{\n\t\"registration\": \"registered\",\n\t\"plmn_mcc\": 246,\n\t\"plmn_mnc\": 2,\n"
	"\t\"plmn_description\": \"Telia LT\",\n\t\"roaming\": false\n}\n";

static const char uqmi_nsa[] =
	"[{\"type\":\"lte\",\"rssi\":-58,\"rsrq\":-8,\"rsrp\":-86,\"snr\":17.000000},"
	"{\"type\":\"5gnr\",\"rsrp\":-89,\"snr\":21.500000,\"rsrq\":-11}]\n"
	"{\"registration\":\"registered\",\"plmn_mcc\":246,\"plmn_mnc\":1,"
	"\"plmn_description\":\"Tele2\",\"roaming\":false}\n";

static const char uqmi_sa[] =
	"{\"type\":\"5gnr\",\"rsrp\":-95,\"snr\":12.500000,\"rsrq\":-12}\n"
	"{\"registration\":\"registered\",\"plmn_mcc\":246,\"plmn_mnc\":3,"
	"\"plmn_description\":\"Bite\",\"roaming\":false}\n";

static const char uqmi_wcdma[] =
	"{\"type\":\"wcdma\",\"rssi\":-79,\"ecio\":-7}\n"
	"{\"registration\":\"registered\",\"plmn_mcc\":246,\"plmn_mnc\":2,"
	"\"plmn_description\":\"Telia LT\",\"roaming\":false}\n";

static const char uqmi_gsm[] =
	"{\"type\":\"gsm\",\"signal\":-85}\n"
	"{\"registration\":\"registered\",\"plmn_mcc\":246,\"plmn_mnc\":2,\"roaming\":false}\n";

static const char uqmi_none[] = "{}\n{\"registration\":\"searching\"}\n";

#define MM_EMPTY_5G	"\"5g\":{\"error-rate\":\"--\",\"rsrp\":\"--\",\"rsrq\":\"--\"," \
	"\"snr\":\"--\"},"
#define MM_EMPTY_OLD	"\"cdma1x\":{\"ecio\":\"--\",\"error-rate\":\"--\",\"rssi\":\"--\"}," \
	"\"evdo\":{\"ecio\":\"--\",\"error-rate\":\"--\",\"io\":\"--\",\"rssi\":\"--\"," \
	"\"sinr\":\"--\"}," \
	"\"gsm\":{\"error-rate\":\"--\",\"rssi\":\"--\"},"
#define MM_EMPTY_LTE	"\"lte\":{\"error-rate\":\"--\",\"rsrp\":\"--\",\"rsrq\":\"--\"," \
	"\"rssi\":\"--\",\"snr\":\"--\"},"
#define MM_TAIL(rate)	"\"refresh\":{\"rate\":\"" rate "\"}," \
	"\"threshold\":{\"error-rate\":\"no\",\"rssi\":\"0\"},"
#define MM_EMPTY_UMTS	"\"umts\":{\"ecio\":\"--\",\"error-rate\":\"--\",\"rscp\":\"--\"," \
	"\"rssi\":\"--\"}"

static const char mm_sig_lte[] =
	"{\"modem\":{\"signal\":{" MM_EMPTY_5G MM_EMPTY_OLD
	"\"lte\":{\"error-rate\":\"--\",\"rsrp\":\"-91.00\",\"rsrq\":\"-9.00\",\"rssi\":\"-63.00\","
	"\"snr\":\"13.40\"}," MM_TAIL("10") MM_EMPTY_UMTS "}}}\n";

static const char mm_sig_nsa[] =
	"{\"modem\":{\"signal\":{\"5g\":{\"error-rate\":\"--\",\"rsrp\":\"-89.00\","
	"\"rsrq\":\"-11.00\",\"snr\":\"21.50\"}," MM_EMPTY_OLD
	"\"lte\":{\"error-rate\":\"--\",\"rsrp\":\"-86.00\",\"rsrq\":\"-8.00\",\"rssi\":\"-58.00\","
	"\"snr\":\"17.00\"}," MM_TAIL("10") MM_EMPTY_UMTS "}}}\n";

static const char mm_sig_sa[] =
	"{\"modem\":{\"signal\":{\"5g\":{\"error-rate\":\"--\",\"rsrp\":\"-95.00\","
	"\"rsrq\":\"-12.00\",\"snr\":\"12.50\"}," MM_EMPTY_OLD MM_EMPTY_LTE MM_TAIL("10")
	MM_EMPTY_UMTS "}}}\n";

static const char mm_sig_umts[] =
	"{\"modem\":{\"signal\":{" MM_EMPTY_5G MM_EMPTY_OLD MM_EMPTY_LTE MM_TAIL("10")
	"\"umts\":{\"ecio\":\"-7.00\",\"error-rate\":\"--\",\"rscp\":\"-89.00\","
	"\"rssi\":\"-79.00\"}"
	"}}}\n";

static const char mm_sig_none[] =
	"{\"modem\":{\"signal\":{" MM_EMPTY_5G MM_EMPTY_OLD MM_EMPTY_LTE MM_TAIL("0")
	MM_EMPTY_UMTS "}}}\n";

static const char mm_sig_old[] =
	"{\"modem\":{\"signal\":{\"5g\":{\"rsrp\":\"--\",\"rsrq\":\"--\",\"snr\":\"--\"},"
	"\"cdma1x\":{\"ecio\":\"--\",\"rssi\":\"--\"},\"evdo\":{\"ecio\":\"--\",\"io\":\"--\","
	"\"rssi\":\"--\",\"sinr\":\"--\"},\"gsm\":{\"rssi\":\"--\"},\"lte\":{\"rsrp\":\"-91.00\","
	"\"rsrq\":\"-9.00\",\"rssi\":\"-63.00\",\"snr\":\"13.40\"},\"refresh\":{\"rate\":\"10\"},"
	"\"umts\":{\"ecio\":\"--\",\"rscp\":\"--\",\"rssi\":\"--\"}}}}\n";

static const char mm_modem_home[] =
	"{\"modem\":{\"3gpp\":{\"enabled-locks\":[\"fixed-dialing\"],\"eps\":{\"initial-bearer\":"
	"{\"dbus-path\":\"--\",\"settings\":{\"apn\":\"--\",\"ip-type\":\"--\",\"password\":\"--\","
	"\"user\":\"--\"}},\"ue-mode-operation\":\"csps-2\"},\"imei\":\"867698041234567\","
	"\"operator-code\":\"24602\",\"operator-name\":\"Telia LT\",\"packet-service-state\":"
	"\"attached\",\"pco\":\"--\",\"registration-state\":\"home\"},\"dbus-path\":"
	"\"/org/freedesktop/ModemManager1/Modem/0\",\"generic\":{\"access-technologies\":[\"lte\"],"
	"\"bearers\":[\"/org/freedesktop/ModemManager1/Bearer/0\"],\"carrier-configuration\":"
	"\"default\",\"current-bands\":[\"egsm\",\"dcs\",\"utran-1\",\"utran-8\",\"eutran-1\","
	"\"eutran-3\",\"eutran-7\",\"eutran-20\"],"
	"\"current-modes\":\"allowed: 3g, 4g; preferred: 4g\","
	"\"device\":\"/sys/devices/platform/soc/usb/1-1\",\"drivers\":[\"option\",\"qmi_wwan\"],"
	"\"equipment-identifier\":\"867698041234567\",\"manufacturer\":\"Quectel\",\"model\":"
	"\"EG25-G\",\"own-numbers\":[],\"plugin\":\"quectel\",\"power-state\":\"on\","
	"\"primary-port\":\"cdc-wdm0\",\"primary-sim-slot\":\"1\","
	"\"revision\":\"EG25GGBR07A08M2G\","
	"\"signal-quality\":{\"recent\":\"yes\",\"value\":\"67\"},\"sim\":"
	"\"/org/freedesktop/ModemManager1/SIM/0\","
	"\"sim-slots\":[\"/org/freedesktop/ModemManager1/SIM/0\","
	"\"/\"],\"state\":\"connected\",\"state-failed-reason\":\"--\",\"supported-capabilities\":"
	"[\"gsm-umts, lte\"],\"unlock-required\":\"sim-pin2\",\"unlock-retries\":[\"sim-pin (3)\","
	"\"sim-puk (10)\"]}}}\n";

static const char mm_modem_roaming[] =
	"{\"modem\":{\"3gpp\":{\"imei\":\"867698041234567\",\"operator-code\":\"26201\","
	"\"operator-name\":\"Telekom.de\",\"registration-state\":\"roaming\"},\"generic\":"
	"{\"access-technologies\":[\"lte\"],\"primary-sim-slot\":\"1\",\"signal-quality\":"
	"{\"recent\":\"yes\",\"value\":\"41\"},\"state\":\"connected\"}}}\n";

static const char mm_modem_nsa[] =
	"{\"modem\":{\"3gpp\":{\"imei\":\"869710030012345\",\"operator-code\":\"24601\","
	"\"operator-name\":\"Tele2\",\"registration-state\":\"home\"},\"generic\":"
	"{\"access-technologies\":[\"lte\",\"5gnr\"],\"primary-sim-slot\":\"1\",\"signal-quality\":"
	"{\"recent\":\"yes\",\"value\":\"80\"},\"state\":\"connected\"}}}\n";

static const char mm_modem_sa[] =
	"{\"modem\":{\"3gpp\":{\"imei\":\"869710030012345\",\"operator-code\":\"24603\","
	"\"operator-name\":\"Bite\",\"registration-state\":\"home\"},\"generic\":"
	"{\"access-technologies\":[\"5gnr\"],\"primary-sim-slot\":\"--\",\"signal-quality\":"
	"{\"recent\":\"yes\",\"value\":\"55\"},\"state\":\"connected\"}}}\n";

static const char mm_modem_3g[] =
	"{\"modem\":{\"3gpp\":{\"imei\":\"867698041234567\",\"operator-code\":\"24602\","
	"\"operator-name\":\"Telia LT\",\"registration-state\":\"home\"},\"generic\":"
	"{\"access-technologies\":[\"umts\",\"hsdpa\",\"hsupa\"],\"primary-sim-slot\":\"1\","
	"\"state\":\"connected\"}}}\n";

static const char mm_modem_none[] =
	"{\"modem\":{\"3gpp\":{\"imei\":\"867698041234567\",\"operator-code\":\"--\","
	"\"operator-name\":\"--\",\"registration-state\":\"searching\"},\"generic\":"
	"{\"access-technologies\":[],\"primary-sim-slot\":\"1\",\"signal-quality\":"
	"{\"recent\":\"no\",\"value\":\"0\"},\"state\":\"searching\"}}}\n";

static const char ubus_sig_lte[] =
	"{\n\t\"net_mode\": \"LTE\",\n\t\"rssi\": -63,\n\t\"rsrp\": -91,\n\t\"sinr\": 13,\n"
	"\t\"rsrq\": -9\n}\n";
static const char ubus_sig_nsa[] =
	"{\n\t\"net_mode\": \"5G-NSA\",\n\t\"rssi\": -58,\n\t\"rsrp\": -86,\n\t\"sinr\": 17,\n"
	"\t\"rsrq\": -8\n}\n";
static const char ubus_sig_sa[] =
	"{\n\t\"net_mode\": \"5G-SA\",\n\t\"rssi\": -66,\n\t\"rsrp\": -95,\n\t\"sinr\": 12,\n"
	"\t\"rsrq\": -12\n}\n";
static const char ubus_sig_3g[] =
	"{\n\t\"net_mode\": \"WCDMA\",\n\t\"rssi\": -79,\n\t\"rscp\": -89,\n\t\"ecio\": -7\n}\n";
static const char ubus_sig_none[] = "{\n\t\"net_mode\": \"N/A\",\n\t\"rssi\": -113\n}\n";
static const char ubus_network[] =
	"{\n\t\"net_mode\": \"LTE\",\n\t\"net_mode_id\": 7,\n\t\"net_mode_sel\": \"auto\",\n"
	"\t\"band\": \"LTE B3\",\n\t\"band_id\": 3,\n\t\"opernum\": 24602\n}\n";
static const char ubus_provider[] =
	"{\n\t\"plmn\": \"24602\",\n\t\"full_name\": \"Telia LT\",\n\t\"short_name\": \"Telia\",\n"
	"\t\"name\": \"Telia LT\"\n}\n";
static const char ubus_reg_home[] =
	"{\n\t\"status\": \"Registered, home\",\n\t\"stat_id\": 1,\n\t\"lac\": \"FFFE\",\n"
	"\t\"tac\": \"2F1A\",\n\t\"ci\": \"1A2B3C4\",\n\t\"act\": \"LTE\"\n}\n";
static const char ubus_reg_roaming[] =
	"{\n\t\"status\": \"Registered, roaming\",\n\t\"stat_id\": 5,\n\t\"lac\": \"FFFE\",\n"
	"\t\"tac\": \"0C1D\",\n\t\"ci\": \"5B0C21E\",\n\t\"act\": \"LTE\"\n}\n";
static const char ubus_reg_none[] =
	"{\n\t\"status\": \"Not registered, searching\",\n\t\"stat_id\": 2\n}\n";
static const char ubus_simslot[] = "{\n\t\"index\": 1\n}\n";

/* ---- names and clear -------------------------------------------------------------- */

static void test_clear_and_names(void **state)
{
	struct radio_info r;

	(void)state;
	memset(&r, 0x55, sizeof(r));
	radio_clear(&r);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
	assert_nan(r.rssi);
	assert_nan(r.rsrp);
	assert_nan(r.rsrq);
	assert_nan(r.sinr);
	assert_nan(r.nr_rsrp);
	assert_nan(r.nr_rsrq);
	assert_nan(r.nr_sinr);
	assert_string_equal(r.operator_name, "");
	assert_string_equal(r.mccmnc, "");
	assert_string_equal(r.cell_id, "");
	assert_string_equal(r.band, "");
	assert_int_equal(r.roaming, -1);
	assert_int_equal(r.registered, -1);
	assert_int_equal(r.sim_slot, 0);

	assert_string_equal(radio_tech_name(RADIO_TECH_UNKNOWN), "unknown");
	assert_string_equal(radio_tech_name(RADIO_TECH_2G), "2g");
	assert_string_equal(radio_tech_name(RADIO_TECH_3G), "3g");
	assert_string_equal(radio_tech_name(RADIO_TECH_LTE), "lte");
	assert_string_equal(radio_tech_name(RADIO_TECH_5G_NSA), "5g-nsa");
	assert_string_equal(radio_tech_name(RADIO_TECH_5G_SA), "5g-sa");
	assert_string_equal(radio_tech_name(__RADIO_TECH_MAX), "unknown");
	assert_string_equal(radio_tech_name((enum radio_tech)-1), "unknown");
	for (int q = 0; q < __RADIO_Q_MAX; q++)
		assert_string_not_equal(radio_query_name((enum radio_query)q), "unknown");
	assert_string_equal(radio_query_name(RADIO_Q_UQMI), "uqmi");
	assert_string_equal(radio_query_name(RADIO_Q_MM_SIGNAL), "mmcli signal");
	assert_string_equal(radio_query_name(RADIO_Q_UBUS_SIMSLOT), "ubus simslot");
	assert_string_equal(radio_query_name(__RADIO_Q_MAX), "unknown");
	EXPECT_ERROR(__RADIO_Q_MAX, "{}", "radio: unknown query 8");
}

/* ---- uqmi --------------------------------------------------------------------------- */

static void test_uqmi_lte_home(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_lte_home, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.rssi, -63);
	assert_near(r.rsrq, -9);
	assert_near(r.rsrp, -91);
	assert_near(r.sinr, 13.4);
	assert_nan(r.nr_rsrp);
	assert_nan(r.nr_rsrq);
	assert_nan(r.nr_sinr);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 0);
	assert_string_equal(r.mccmnc, "24602");
	assert_string_equal(r.operator_name, "Telia LT");
	assert_string_equal(r.cell_id, "");
	assert_int_equal(r.sim_slot, 0);

	/* pretty-printed (no -s) is the same answer */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_lte_pretty, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.sinr, 13.4);
	assert_string_equal(r.mccmnc, "24602");
	assert_int_equal(r.roaming, 0);
}

static void test_uqmi_lte_roaming(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_lte_roaming, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.rsrp, -104);
	assert_near(r.sinr, 4.2);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 1);
	assert_string_equal(r.mccmnc, "26201");
	assert_string_equal(r.operator_name, "Telekom.de");
}

static void test_uqmi_5g(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_nsa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);
	assert_near(r.rssi, -58);
	assert_near(r.rsrp, -86);
	assert_near(r.rsrq, -8);
	assert_near(r.sinr, 17);
	assert_near(r.nr_rsrp, -89);
	assert_near(r.nr_rsrq, -11);
	assert_near(r.nr_sinr, 21.5);
	assert_string_equal(r.mccmnc, "24601");

	/* the NR leg first makes no difference */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, "[{\"type\":\"5gnr\",\"rsrp\":-89},"
			       "{\"type\":\"lte\",\"rsrp\":-86}]", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);
	assert_near(r.rsrp, -86);
	assert_near(r.nr_rsrp, -89);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_sa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_SA);
	assert_nan(r.rssi);
	assert_near(r.rsrp, -95);
	assert_near(r.rsrq, -12);
	assert_near(r.sinr, 12.5);
	assert_nan(r.nr_rsrp);
	assert_string_equal(r.mccmnc, "24603");
	assert_string_equal(r.operator_name, "Bite");
}

static void test_uqmi_3g_2g(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_wcdma, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_3G);
	assert_near(r.rssi, -79);
	assert_nan(r.rsrp);	/* uqmi prints no rscp */
	assert_near(r.rsrq, -7);
	assert_nan(r.sinr);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"type\":\"umts\",\"rssi\":-75,\"rscp\":-88,"
			       "\"ecio\":-6}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_3G);
	assert_near(r.rsrp, -88);
	assert_near(r.rsrq, -6);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_gsm, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_2G);
	assert_near(r.rssi, -85);
	assert_nan(r.rsrp);
	assert_string_equal(r.mccmnc, "24602");
	assert_string_equal(r.operator_name, "");	/* no plmn_description */

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"type\":\"cdma\",\"rssi\":-90,\"ecio\":-5}", &r),
			 0);
	assert_int_equal(r.tech, RADIO_TECH_2G);
	assert_near(r.rssi, -90);
}

static void test_uqmi_no_service_and_errors(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	/* {} holds no signal: what was there stays */
	r.tech = RADIO_TECH_LTE;
	r.rsrp = -100;
	r.registered = 1;
	assert_int_equal(parse(RADIO_Q_UQMI, uqmi_none, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.rsrp, -100);
	assert_int_equal(r.registered, 0);
	assert_int_equal(r.roaming, -1);
	assert_string_equal(r.mccmnc, "");

	/* a failed command is a JSON string, and the second one never ran */
	EXPECT_ERROR(RADIO_Q_UQMI, "\"Transaction timed out\"\n", "uqmi: Transaction timed out");
	EXPECT_ERROR(RADIO_Q_UQMI,
		     "{\"type\":\"lte\",\"rsrp\":-90}\n\"Failed to connect to service\"\n",
		     "uqmi: Failed to connect to service");
	EXPECT_ERROR(RADIO_Q_UQMI, "\"\"", "uqmi: empty error");
	EXPECT_ERROR(RADIO_Q_UQMI, "{\"error\":\"No effect\"}", "uqmi: No effect");
	EXPECT_ERROR(RADIO_Q_UQMI, "42", "uqmi: unexpected JSON (int)");
	EXPECT_ERROR(RADIO_Q_UQMI, "true\n", "uqmi: unexpected JSON (boolean)");
	EXPECT_ERROR(RADIO_Q_UQMI, "null", "uqmi: unexpected JSON (null)");
	EXPECT_ERROR(RADIO_Q_UQMI, "[1,2]", "uqmi: signal array holds a non-object");
	EXPECT_ERROR(RADIO_Q_UQMI, "{\"foo\":1}", "uqmi: unexpected object");
	EXPECT_ERROR(RADIO_Q_UQMI, "{}{}{}{}{}{}{}{}{}", "uqmi: more than 8 JSON values");

	/* an unknown technology, or a type that is no string: no signal */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"type\":\"amps\",\"rssi\":-70}\n"
			       "{\"type\":7,\"rssi\":-70}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
	assert_nan(r.rssi);
}

static void test_uqmi_snr_and_plmn(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	/* uqmi before 2022: raw LTE snr in tenths of a dB, as an integer */
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"type\":\"lte\",\"rssi\":-63,\"rsrq\":-9,"
			       "\"rsrp\":-91,\"snr\":134}", &r), 0);
	assert_near(r.sinr, 13.4);
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"type\":\"lte\",\"snr\":-25}", &r), 0);
	assert_near(r.sinr, -2.5);
	assert_nan(r.rsrp);	/* a new measurement replaces the old one */

	/* 3-digit MNC, numeric strings, and implausible PLMNs */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"plmn_mcc\":310,\"plmn_mnc\":260}", &r), 0);
	assert_string_equal(r.mccmnc, "310260");
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"plmn_mcc\":\"214\",\"plmn_mnc\":\"7\"}", &r), 0);
	assert_string_equal(r.mccmnc, "21407");
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"plmn_mcc\":0,\"plmn_mnc\":1,"
			       "\"registration\":\"registering_denied\"}", &r), 0);
	assert_string_equal(r.mccmnc, "21407");
	assert_int_equal(r.registered, 0);
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"plmn_mcc\":1000,\"plmn_mnc\":1}", &r), 0);
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"plmn_mcc\":246,\"plmn_mnc\":-1}", &r), 0);
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"plmn_mcc\":246.5,\"plmn_mnc\":1}", &r), 0);
	assert_string_equal(r.mccmnc, "21407");
	/* "unknown" registration changes nothing; roaming as 0/1 is taken */
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"registration\":\"unknown\",\"roaming\":1}", &r),
			 0);
	assert_int_equal(r.registered, 0);
	assert_int_equal(r.roaming, 1);
}

/* ---- ModemManager --------------------------------------------------------------------- */

static void test_mm_signal(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_lte, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.rssi, -63);
	assert_near(r.rsrp, -91);
	assert_near(r.rsrq, -9);
	assert_near(r.sinr, 13.4);
	assert_nan(r.nr_rsrp);
	assert_int_equal(r.registered, -1);	/* signal says nothing of these */
	assert_string_equal(r.operator_name, "");

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_old, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.rsrp, -91);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_nsa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);
	assert_near(r.rsrp, -86);
	assert_near(r.rssi, -58);
	assert_near(r.nr_rsrp, -89);
	assert_near(r.nr_rsrq, -11);
	assert_near(r.nr_sinr, 21.5);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_sa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_SA);
	assert_near(r.rsrp, -95);
	assert_near(r.rsrq, -12);
	assert_near(r.sinr, 12.5);
	assert_nan(r.rssi);
	assert_nan(r.nr_rsrp);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_umts, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_3G);
	assert_near(r.rssi, -79);
	assert_near(r.rsrp, -89);
	assert_near(r.rsrq, -7);
	assert_nan(r.sinr);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, "{\"modem\":{\"signal\":{\"gsm\":"
			       "{\"rssi\":\"-81.00\"}}}}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_2G);
	assert_near(r.rssi, -81);

	/* not set up yet, or no service: every value "--", nothing changes */
	r = fresh();
	r.rsrp = -100;
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_none, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
	assert_near(r.rsrp, -100);

	EXPECT_ERROR(RADIO_Q_MM_SIGNAL, "{\"modem\":{}}", "mmcli signal: no modem.signal object");
	EXPECT_ERROR(RADIO_Q_MM_SIGNAL, "{\"modem\":{\"signal\":[]}}",
		     "mmcli signal: no modem.signal object");
	EXPECT_ERROR(RADIO_Q_MM_SIGNAL, "[{\"modem\":{\"signal\":{}}}]",
		     "mmcli signal: no modem.signal object");
	EXPECT_ERROR(RADIO_Q_MM_SIGNAL, "\"--\"", "mmcli signal: no modem.signal object");
	EXPECT_ERROR(RADIO_Q_MM_SIGNAL, "{\"modem\":{\"signal\":{}}}\n{}",
		     "mmcli signal: more than 1 JSON value");
	/* sections of the wrong type are only unknown */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, "{\"modem\":{\"signal\":{\"lte\":\"-91\","
			       "\"5g\":[1],\"umts\":{\"rscp\":[\"-80\"],\"ecio\":{}}}}}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
}

static void test_mm_modem(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_home, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 0);
	assert_string_equal(r.operator_name, "Telia LT");
	assert_string_equal(r.mccmnc, "24602");
	assert_int_equal(r.sim_slot, 1);
	assert_nan(r.rsrp);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_roaming, &r), 0);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 1);
	assert_string_equal(r.mccmnc, "26201");
	assert_string_equal(r.operator_name, "Telekom.de");

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_nsa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_sa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_SA);
	assert_int_equal(r.sim_slot, 0);	/* "--" */
	assert_string_equal(r.mccmnc, "24603");

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_3g, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_3G);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_none, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
	assert_int_equal(r.registered, 0);
	assert_int_equal(r.roaming, -1);
	assert_string_equal(r.operator_name, "");
	assert_string_equal(r.mccmnc, "");

	/* one string "lte, 5gnr"; sms-only roaming; a junk operator code */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, "{\"modem\":{\"3gpp\":{\"operator-code\":"
			       "\"2460x\",\"registration-state\":\"roaming-sms-only\"},\"generic\":"
			       "{\"access-technologies\":\"lte, 5gnr\","
			       "\"primary-sim-slot\":\"9\"}}}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);
	assert_int_equal(r.roaming, 1);
	assert_int_equal(r.registered, 1);
	assert_string_equal(r.mccmnc, "");
	assert_int_equal(r.sim_slot, 0);

	/* a modem without 3GPP or generic sections is fine; without modem is not */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, "{\"modem\":{\"dbus-path\":\"/x\"}}", &r), 0);
	assert_int_equal(r.registered, -1);
	EXPECT_ERROR(RADIO_Q_MM_MODEM, "{\"modems\":[]}", "mmcli modem: no modem object");
	EXPECT_ERROR(RADIO_Q_MM_MODEM, "{\"modem\":\"x\"}", "mmcli modem: no modem object");
}

/* The modem's access technologies only fill a tech the signal left unknown. */
static void test_mm_poll_merge(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_nsa, &r), 0);
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_home, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);	/* access tech said only lte */
	assert_near(r.nr_rsrp, -89);
	assert_int_equal(r.roaming, 0);
	assert_string_equal(r.operator_name, "Telia LT");
	assert_int_equal(r.sim_slot, 1);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, mm_sig_none, &r), 0);
	assert_int_equal(parse(RADIO_Q_MM_MODEM, mm_modem_nsa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);
	assert_nan(r.rsrp);
}

/* ---- RutOS ubus --------------------------------------------------------------------------- */

static void test_ubus_signal(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, ubus_sig_lte, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.rssi, -63);
	assert_near(r.rsrp, -91);
	assert_near(r.rsrq, -9);
	assert_near(r.sinr, 13);

	/* the public sample from a RutOS 7.24 device, one line */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, "{\"net_mode\":\"LTE\",\"rssi\":-57,"
			       "\"rsrp\":-105,\"sinr\":-13,\"rsrq\":-20}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.sinr, -13);
	assert_near(r.rsrq, -20);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, ubus_sig_nsa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);
	assert_near(r.rsrp, -86);
	assert_nan(r.nr_rsrp);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, ubus_sig_sa, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_SA);
	assert_near(r.rsrp, -95);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, ubus_sig_3g, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_3G);
	assert_near(r.rsrp, -89);
	assert_near(r.rsrq, -7);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, ubus_sig_none, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
	assert_near(r.rssi, -113);

	/* net_mode spellings, case and separators do not matter */
	static const struct {
		const char *mode;
		enum radio_tech tech;
	} modes[] = {
		{ "lte", RADIO_TECH_LTE }, { "4G", RADIO_TECH_LTE }, { "LTE-M", RADIO_TECH_LTE },
		{ "5G NSA", RADIO_TECH_5G_NSA }, { "nsa", RADIO_TECH_5G_NSA },
		{ "5G_SA", RADIO_TECH_5G_SA }, { "SA", RADIO_TECH_5G_SA },
		{ "NR5G", RADIO_TECH_5G_SA }, { "UMTS", RADIO_TECH_3G }, { "HSPA+", RADIO_TECH_3G },
		{ "3G", RADIO_TECH_3G }, { "GSM", RADIO_TECH_2G }, { "Edge", RADIO_TECH_2G },
		{ "gprs", RADIO_TECH_2G }, { "2G", RADIO_TECH_2G }, { "5G", RADIO_TECH_UNKNOWN },
		{ "LTEEEEEEEEEEEEEEEEEEEEEEEEEEEEE", RADIO_TECH_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char buf[128];

		r = fresh();
		snprintf(buf, sizeof(buf), "{\"net_mode_str\":\"%s\",\"rsrp\":-90}", modes[i].mode);
		assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, buf, &r), 0);
		if (r.tech != modes[i].tech) {
			print_error("net_mode %s: tech %s\n", modes[i].mode,
				    radio_tech_name(r.tech));
			fail();
		}
	}
	EXPECT_ERROR(RADIO_Q_UBUS_SIGNAL, "[]", "ubus signal: not a JSON object");
	EXPECT_ERROR(RADIO_Q_UBUS_SIGNAL, "Command failed: Not found\n", "ubus signal: not JSON");
}

static void test_ubus_network_provider(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UBUS_NETWORK, ubus_network, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_string_equal(r.band, "B3");
	assert_string_equal(r.mccmnc, "24602");

	static const struct {
		const char *in, *out;
	} bands[] = {
		{ "\"B20\"", "B20" }, { "\"LTE_B20\"", "B20" }, { "\"NR5G N78\"", "n78" },
		{ "\"n78\"", "n78" }, { "\"lte b7 \"", "B7" }, { "\"WCDMA 2100\"", "WCDMA 2100" },
		{ "\"LTE BAND 3\"", "LTE BAND 3" }, { "\"A very long band name\"", "A very long" },
		{ "\"N/A\"", "" }, { "\"\"", "" }, { "3", "" }, { "null", "" },
		{ "\"B12345\"", "B12345" },
	};
	for (size_t i = 0; i < sizeof(bands) / sizeof(bands[0]); i++) {
		char buf[128];

		r = fresh();
		snprintf(buf, sizeof(buf), "{\"band\":%s}", bands[i].in);
		assert_int_equal(parse(RADIO_Q_UBUS_NETWORK, buf, &r), 0);
		if (strcmp(r.band, bands[i].out)) {
			print_error("band %s: got \"%s\"\n", bands[i].in, r.band);
			fail();
		}
	}

	/* the network's net_mode only fills an unknown tech */
	r = fresh();
	r.tech = RADIO_TECH_5G_NSA;
	assert_int_equal(parse(RADIO_Q_UBUS_NETWORK,
			       "{\"net_mode\":\"LTE\",\"opernum\":\"310260\"}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_5G_NSA);
	assert_string_equal(r.mccmnc, "310260");
	assert_int_equal(parse(RADIO_Q_UBUS_NETWORK, "{\"opernum\":0}", &r), 0);
	assert_int_equal(parse(RADIO_Q_UBUS_NETWORK, "{\"opernum\":\"2460\"}", &r), 0);
	assert_int_equal(parse(RADIO_Q_UBUS_NETWORK, "{\"opernum\":24602.5}", &r), 0);
	assert_int_equal(parse(RADIO_Q_UBUS_NETWORK, "{\"opernum\":\"24602 \"}", &r), 0);
	assert_string_equal(r.mccmnc, "310260");

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_PROVIDER, ubus_provider, &r), 0);
	assert_string_equal(r.operator_name, "Telia LT");
	assert_string_equal(r.mccmnc, "24602");
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_PROVIDER, "{\"full_name\":\"\",\"name\":\"--\","
			       "\"short_name\":\"Tele2\"}", &r), 0);
	assert_string_equal(r.operator_name, "Tele2");
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_PROVIDER, "{\"full_name\":\"\",\"short_name\":\"\","
			       "\"name\":\"\"}", &r), 0);
	assert_string_equal(r.operator_name, "");
	EXPECT_ERROR(RADIO_Q_UBUS_PROVIDER, "\"Telia\"", "ubus provider: not a JSON object");
	EXPECT_ERROR(RADIO_Q_UBUS_NETWORK, "", "ubus network: empty output");
}

static void test_ubus_regstat(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, ubus_reg_home, &r), 0);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 0);
	assert_string_equal(r.cell_id, "1A2B3C4");

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, ubus_reg_roaming, &r), 0);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 1);
	assert_string_equal(r.cell_id, "5B0C21E");

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, ubus_reg_none, &r), 0);
	assert_int_equal(r.registered, 0);
	assert_int_equal(r.roaming, -1);
	assert_string_equal(r.cell_id, "");

	/* one object per domain: the best wins, its ci too */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"creg\":{\"stat_str\":\"Not registered\","
			       "\"ci\":\"1\"},\"cereg\":{\"stat_str\":\"Registered, roaming\","
			       "\"ci\":\"ABCDEF\"},\"c5greg\":{\"stat_str\":\"Unknown\"}}", &r), 0);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 1);
	assert_string_equal(r.cell_id, "ABCDEF");

	/* only a 27.007 stat number; ci as a number */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"stat\":\"5\",\"ci\":27447326}", &r), 0);
	assert_int_equal(r.roaming, 1);
	assert_string_equal(r.cell_id, "27447326");
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"stat_id\":3}", &r), 0);
	assert_int_equal(r.registered, 0);
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"status\":\"registration denied\"}", &r),
			 0);
	assert_int_equal(r.registered, 0);
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"status\":\"Registered\"}", &r), 0);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.roaming, 0);

	/* nothing recognisable: nothing set, not an error */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"status\":\"Unknown\",\"stat_id\":4,"
			       "\"ci\":\"--\"}", &r), 0);
	assert_int_equal(r.registered, -1);
	assert_string_equal(r.cell_id, "");
	EXPECT_ERROR(RADIO_Q_UBUS_REGSTAT, "{\"status\":\"Registered, home\"",
		     "ubus regstat: truncated JSON");
}

static void test_ubus_simslot(void **state)
{
	static const struct {
		const char *in;
		int slot;
	} cases[] = {
		{ ubus_simslot, 1 }, { "{\"sim_slot\":2}", 2 }, { "{\"slot\":\"2\"}", 2 },
		{ "{\"sim\":\"SIM1\"}", 1 }, { "{\"id\":\"sim2 \"}", 2 }, { "{\"index\":0}", 0 },
		{ "{\"index\":9}", 0 }, { "{\"index\":1.5}", 0 }, { "{\"index\":\"SIM\"}", 0 },
		{ "{\"index\":\"SIM100\"}", 0 }, { "{\"index\":true}", 0 }, { "{}", 0 },
		{ "{\"index\":\"--\",\"slot\":2}", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct radio_info r = fresh();

		assert_int_equal(parse(RADIO_Q_UBUS_SIMSLOT, cases[i].in, &r), 0);
		if (r.sim_slot != cases[i].slot) {
			print_error("%s: slot %d\n", cases[i].in, r.sim_slot);
			fail();
		}
	}
	EXPECT_ERROR(RADIO_Q_UBUS_SIMSLOT, "1", "ubus simslot: not a JSON object");
}

/* A whole RutOS poll, in cell.c's order: the signal first, then the info. */
static void test_ubus_poll_merge(void **state)
{
	struct radio_info r = fresh();

	(void)state;
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, ubus_sig_lte, &r), 0);
	assert_int_equal(parse(RADIO_Q_UBUS_NETWORK, ubus_network, &r), 0);
	assert_int_equal(parse(RADIO_Q_UBUS_PROVIDER, ubus_provider, &r), 0);
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, ubus_reg_roaming, &r), 0);
	assert_int_equal(parse(RADIO_Q_UBUS_SIMSLOT, ubus_simslot, &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_near(r.rsrp, -91);
	assert_string_equal(r.band, "B3");
	assert_string_equal(r.mccmnc, "24602");
	assert_string_equal(r.operator_name, "Telia LT");
	assert_string_equal(r.cell_id, "5B0C21E");
	assert_int_equal(r.roaming, 1);
	assert_int_equal(r.registered, 1);
	assert_int_equal(r.sim_slot, 1);
}

/* ---- values and strings ---------------------------------------------------------------------- */

static void test_implausible_values(void **state)
{
	static const char *const bad[] = {
		"-20", "-161", "1e400", "-1e400", "99999999999999999999999", "NaN", "Infinity",
		"-Infinity", "\"NaN\"", "\"nan\"", "\"-inf\"", "\"0x10\"", "\"-91.0.0\"", "\"--\"",
		"\"\"", "\" \"", "\"-91 dBmm\"", "\"-\"", "true", "null", "[-91]", "{\"v\":-91}",
		"\"-91\\u0000\"",
	};
	static const struct {
		const char *in;
		double v;
	} good[] = {
		{ "-91", -91 }, { "-91.5", -91.5 }, { "\"-91.00\"", -91 }, { "\" -91 \"", -91 },
		{ "\"-91 dBm\"", -91 }, { "\"-91dBm\"", -91 }, { "-1.6e2", -160 }, { "-30", -30 },
		{ "\"-9.1e1\"", -91 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct radio_info r = fresh();
		char buf[128];

		snprintf(buf, sizeof(buf), "{\"net_mode\":\"LTE\",\"rsrp\":%s}", bad[i]);
		assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, buf, &r), 0);
		if (!isnan(r.rsrp)) {
			print_error("rsrp %s: got %g\n", bad[i], r.rsrp);
			fail();
		}
		assert_int_equal(r.tech, RADIO_TECH_LTE);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct radio_info r = fresh();
		char buf[128];

		snprintf(buf, sizeof(buf), "{\"net_mode\":\"LTE\",\"rsrp\":%s}", good[i].in);
		assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, buf, &r), 0);
		if (!(fabs(r.rsrp - good[i].v) < 1e-9)) {
			print_error("rsrp %s: got %g\n", good[i].in, r.rsrp);
			fail();
		}
	}

	/* the edges of each range */
	struct radio_info r = fresh();

	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, "{\"net_mode\":\"LTE\",\"rssi\":0,"
			       "\"rsrp\":-160,\"rsrq\":10,\"sinr\":-30}", &r), 0);
	assert_near(r.rssi, 0);
	assert_near(r.rsrp, -160);
	assert_near(r.rsrq, 10);
	assert_near(r.sinr, -30);
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, "{\"net_mode\":\"LTE\",\"rssi\":0.5,"
			       "\"rsrp\":-29.9,\"rsrq\":-40.1,\"sinr\":50.01}", &r), 0);
	assert_nan(r.rssi);
	assert_nan(r.rsrp);
	assert_nan(r.rsrq);
	assert_nan(r.sinr);
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, "{\"net_mode\":\"LTE\",\"rssi\":-131,"
			       "\"rsrq\":-40,\"sinr\":50}", &r), 0);
	assert_nan(r.rssi);
	assert_near(r.rsrq, -40);
	assert_near(r.sinr, 50);

	/* implausible values in uqmi and mmcli too */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UQMI, "{\"type\":\"lte\",\"rssi\":-32768,\"rsrq\":-9,"
			       "\"rsrp\":2147483647,\"snr\":1e308}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_LTE);
	assert_nan(r.rssi);
	assert_nan(r.rsrp);
	assert_nan(r.sinr);
	assert_near(r.rsrq, -9);
	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_SIGNAL, "{\"modem\":{\"signal\":{\"lte\":{\"rsrp\":"
			       "\"-1000.00\",\"rsrq\":\"nan\",\"snr\":\"inf\"}}}}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
}

static void test_strings(void **state)
{
	struct radio_info r = fresh();
	char want[sizeof(r.operator_name)];

	(void)state;
	/* UTF-8, control characters and an escaped NUL become '?' */
	assert_int_equal(parse(RADIO_Q_MM_MODEM, "{\"modem\":{\"3gpp\":{\"operator-name\":"
			       "\"Tel\xc3\xa9\\t\\u0000x\\u001b\"}}}", &r), 0);
	assert_string_equal(r.operator_name, "Tel????x?");

	/* truncated to the field */
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_PROVIDER, "{\"full_name\":\"0123456789012345678901234"
			       "567890123456789012345678901234567890\"}", &r), 0);
	memcpy(want, "01234567890123456789012345678901234567890123456", sizeof(want));
	assert_string_equal(r.operator_name, want);
	assert_int_equal(strlen(r.operator_name), sizeof(r.operator_name) - 1);

	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"status\":\"Registered, home\","
			       "\"ci\":\"0123456789ABCDEFGHIJ\"}", &r), 0);
	assert_string_equal(r.cell_id, "0123456789ABCDE");

	/* the uqmi error message from the tool is cleaned as well */
	EXPECT_ERROR(RADIO_Q_UQMI, "\"bad\\nthing\\u00ff\"", "uqmi: bad?thing??");
}

/* ---- malformed input ---------------------------------------------------------------------- */

static void test_malformed(void **state)
{
	static const uint8_t garbage[] = { 0x7b, 0x22, 0xff, 0xfe, 0x00, 0x01, 0x80, 0x7d };
	static const uint8_t nul_after[] = "{\"net_mode\":\"LTE\"}\0{}";
	char *deep, *big;
	size_t i, n;

	(void)state;
	for (int q = 0; q < __RADIO_Q_MAX; q++) {
		char why[RADIO_ERR_LEN];
		const char *name = radio_query_name((enum radio_query)q);

		snprintf(why, sizeof(why), "%s: empty output", name);
		expect_error((enum radio_query)q, "", 0, why);
		expect_error((enum radio_query)q, " \n\t\r\n", 5, why);
		snprintf(why, sizeof(why), "%s: truncated JSON", name);
		EXPECT_ERROR((enum radio_query)q, "{\"modem\":{\"signal\":{\"lte\":{\"rsrp\":\"-9",
			     why);
		EXPECT_ERROR((enum radio_query)q, "{\"a\":[1,2", why);
		EXPECT_ERROR((enum radio_query)q, "{\"a\":tru", why);
		snprintf(why, sizeof(why), "%s: not JSON", name);
		EXPECT_ERROR((enum radio_query)q, "{\"a\":1}}", why);
		EXPECT_ERROR((enum radio_query)q, "error: couldn't find modem", why);
		EXPECT_ERROR((enum radio_query)q, "{\"a\":1}\nSegmentation fault", why);
		snprintf(why, sizeof(why), "%s: not JSON (NUL byte)", name);
		expect_error((enum radio_query)q, garbage, sizeof(garbage), why);
		expect_error((enum radio_query)q, nul_after, sizeof(nul_after) - 1, why);
	}
	EXPECT_ERROR(RADIO_Q_UQMI, "\xff\xfe{", "uqmi: not JSON");

	/* deep nesting stops at the tokener's limit */
	n = 5000;
	deep = malloc(2 * n);
	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[2 * n - 1 - i] = ']';
	}
	expect_error(RADIO_Q_UQMI, deep, 2 * n, "uqmi: JSON nested too deeply");
	for (i = 0; i < n; i++)
		deep[i] = '{';
	expect_error(RADIO_Q_MM_MODEM, deep, n, "mmcli modem: not JSON");
	free(deep);

	/* 64 KiB is the limit; more is refused before parsing */
	n = 64 * 1024;
	big = malloc(n + 1);
	memset(big, ' ', n + 1);
	memcpy(big, "{\"index\":2}", 11);
	{
		struct radio_info r = fresh();

		assert_int_equal(parse_n(RADIO_Q_UBUS_SIMSLOT, big, n, &r), 0);
		assert_int_equal(r.sim_slot, 2);
	}
	expect_error(RADIO_Q_UBUS_SIMSLOT, big, n + 1,
		     "ubus simslot: output too large (65537 bytes, at most 65536)");
	free(big);

	/* no text at all */
	{
		struct radio_info r = fresh(), before;

		memcpy(&before, &r, sizeof(r));

		assert_int_equal(radio_parse(RADIO_Q_UQMI, NULL, 0, &r, err, sizeof(err)), -1);
		assert_string_equal(err, "uqmi: empty output");
		assert_int_equal(radio_parse(RADIO_Q_UQMI, NULL, 5, &r, err, sizeof(err)), -1);
		assert_string_equal(err, "uqmi: no output");
		assert_memory_equal(&r, &before, sizeof(r));
	}
}

/* err may be small or absent; the reason is cut, never overrun. */
static void test_error_buffer(void **state)
{
	struct radio_info r = fresh();
	char small[8];

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(radio_parse(RADIO_Q_UQMI, "nope", 4, &r, small, sizeof(small)), -1);
	assert_string_equal(small, "uqmi: n");
	assert_int_equal(radio_parse(RADIO_Q_UQMI, "nope", 4, &r, NULL, 0), -1);
	assert_int_equal(radio_parse(RADIO_Q_UQMI, "{}", 2, &r, NULL, 0), 0);
	small[0] = 'x';
	assert_int_equal(radio_parse(RADIO_Q_UQMI, "{}", 2, &r, small, 1), 0);
	assert_int_equal(small[0], '\0');
}

/* Wrong types in the right places are unknown, not errors, and not crashes. */
static void test_wrong_types(void **state)
{
	static const char *const inputs[] = {
		"{\"type\":\"lte\",\"rssi\":\"x\",\"rsrq\":[],\"rsrp\":{},\"snr\":true}",
		"{\"registration\":5,\"plmn_mcc\":\"abc\",\"plmn_mnc\":[],\"plmn_description\":7,"
		"\"roaming\":\"yes\"}",
		"[{\"type\":\"lte\"},{\"type\":\"5gnr\",\"rsrp\":\"-\"}]",
	};
	struct radio_info r;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		r = fresh();
		assert_int_equal(parse(RADIO_Q_UQMI, inputs[i], &r), 0);
		assert_nan(r.rssi);
		assert_nan(r.rsrp);
		assert_nan(r.sinr);
		assert_int_equal(r.registered, -1);
		assert_int_equal(r.roaming, -1);
		assert_string_equal(r.mccmnc, "");
		assert_string_equal(r.operator_name, "");
	}
	r = fresh();
	assert_int_equal(parse(RADIO_Q_MM_MODEM, "{\"modem\":{\"3gpp\":{\"operator-code\":24602,"
			       "\"operator-name\":[\"x\"],\"registration-state\":1},\"generic\":"
			       "{\"access-technologies\":[1,null,{}],\"primary-sim-slot\":[1]}}}",
			       &r), 0);
	assert_string_equal(r.mccmnc, "24602");	/* a number is still an operator code */
	assert_string_equal(r.operator_name, "");
	assert_int_equal(r.registered, -1);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
	assert_int_equal(r.sim_slot, 0);
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_SIGNAL, "{\"net_mode\":5,\"rssi\":\"-70\"}", &r), 0);
	assert_int_equal(r.tech, RADIO_TECH_UNKNOWN);
	assert_near(r.rssi, -70);
	r = fresh();
	assert_int_equal(parse(RADIO_Q_UBUS_REGSTAT, "{\"status\":[\"Registered, home\"],"
			       "\"ci\":{},\"creg\":\"x\"}", &r), 0);
	assert_int_equal(r.registered, -1);
	assert_string_equal(r.cell_id, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clear_and_names),
		cmocka_unit_test(test_uqmi_lte_home),
		cmocka_unit_test(test_uqmi_lte_roaming),
		cmocka_unit_test(test_uqmi_5g),
		cmocka_unit_test(test_uqmi_3g_2g),
		cmocka_unit_test(test_uqmi_no_service_and_errors),
		cmocka_unit_test(test_uqmi_snr_and_plmn),
		cmocka_unit_test(test_mm_signal),
		cmocka_unit_test(test_mm_modem),
		cmocka_unit_test(test_mm_poll_merge),
		cmocka_unit_test(test_ubus_signal),
		cmocka_unit_test(test_ubus_network_provider),
		cmocka_unit_test(test_ubus_regstat),
		cmocka_unit_test(test_ubus_simslot),
		cmocka_unit_test(test_ubus_poll_merge),
		cmocka_unit_test(test_implausible_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_wrong_types),
	};

	return cmocka_run_group_tests_name("radio", tests, NULL, NULL);
}

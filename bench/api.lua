-- wrk script for bench/api: each connection sends one request every
-- WRK_PERIOD_MS milliseconds (wrk waits that long before every request), and
-- the result is printed as one line of JSON (latencies in ms).
local period = tonumber(os.getenv("WRK_PERIOD_MS") or "50")

function delay()
	return period
end

function done(summary, latency, requests)
	local e = summary.errors
	local s = summary.duration / 1e6
	io.write(string.format(
		'{"requests": %d, "rate_per_s": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
		'"p99_ms": %.3f, "max_ms": %.3f, "errors": %d, "non_2xx": %d}\n',
		summary.requests, summary.requests / s, latency:percentile(50) / 1000,
		latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
		e.connect + e.read + e.write + e.timeout, e.status))
end

-- wrk script for bench/notice_get.sh: GET with an optional bearer token.
-- Arguments after "--": [token]. Without a token (nginx) no header is added.
-- done() prints one machine-readable FXSTAT line (latencies in microseconds).

function init(args)
   if args[1] and args[1] ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. args[1]
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "FXSTAT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "bad_status=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect, e.read, e.write, e.timeout))
end

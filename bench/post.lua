-- wrk script for bench/notice_post.sh: POST /api/v1/notices with submit:true.
-- Arguments after "--": token, body-file. Every response is checked: response()
-- counts 201s and anything else per thread; done() sums the threads and prints
-- one machine-readable FXSTAT line (latencies in microseconds) and, if any
-- response was not 201, the first such status and body.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local f = assert(io.open(args[2], "rb"))
   wrk.method = "POST"
   wrk.body = f:read("*a")
   f:close()
   wrk.headers["Authorization"] = "Bearer " .. args[1]
   wrk.headers["Content-Type"] = "application/json"
   created = 0
   other = 0
   first_bad = ""
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   else
      other = other + 1
      if first_bad == "" then
         first_bad = status .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local c, o, bad = 0, 0, ""
   for _, t in ipairs(threads) do
      c = c + t:get("created")
      o = o + t:get("other")
      local fb = t:get("first_bad")
      if bad == "" and fb ~= "" then bad = fb end
   end
   local e = summary.errors
   io.write(string.format(
      "FXSTAT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "created=%d not_created=%d bad_status=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      c, o, e.status, e.connect, e.read, e.write, e.timeout))
   if bad ~= "" then
      io.write("FXBAD " .. string.gsub(bad, "\n", " ") .. "\n")
   end
end

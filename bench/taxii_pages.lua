-- wrk script for bench/taxii.sh: GET /taxii2/fx/collections/{org}/objects/ in
-- pages of 100, following each answer's "next": every answer's next goes on a
-- queue that the following requests take from, so that each connection walks
-- the collection on its own (starting over from the first page when the queue
-- is empty). Arguments after "--": token, page size.
-- Every answer must be 200 with objects; done() prints one FXSTAT line
-- (latencies in microseconds) and, if any answer was not, the first one.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   token = args[1]
   limit = args[2] or "100"
   queue = {}
   head = 1
   tail = 0
   pages = 0
   other = 0
   restarts = 0
   first_bad = ""
end

function request()
   local path = wrk.path .. "?limit=" .. limit
   if head <= tail then
      path = path .. "&next=" .. queue[head]
      queue[head] = nil
      head = head + 1
   end
   return wrk.format("GET", path, {
      ["Authorization"] = "Bearer " .. token,
      ["Accept"] = "application/taxii+json;version=2.1",
   })
end

function response(status, headers, body)
   if status == 200 and string.find(body, '"objects":[', 1, true) then
      pages = pages + 1
      local n = string.match(body, '"next":"(%d+)"')
      if n then
         tail = tail + 1
         queue[tail] = n
      else
         restarts = restarts + 1
      end
   else
      other = other + 1
      if first_bad == "" then
         first_bad = status .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local p, o, r, bad = 0, 0, 0, ""
   for _, t in ipairs(threads) do
      p = p + t:get("pages")
      o = o + t:get("other")
      r = r + t:get("restarts")
      local fb = t:get("first_bad")
      if bad == "" and fb ~= "" then bad = fb end
   end
   local e = summary.errors
   io.write(string.format(
      "FXSTAT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "pages=%d not_pages=%d restarts=%d bad_status=%d err_connect=%d err_read=%d " ..
      "err_write=%d err_timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      p, o, r, e.status, e.connect, e.read, e.write, e.timeout))
   if bad ~= "" then
      io.write("FXBAD " .. string.gsub(bad, "\n", " ") .. "\n")
   end
end

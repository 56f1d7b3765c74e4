-- wrk script: POST JSON bodies (one per line of a file) round robin, optionally paced, each thread stopping after
-- a count (wrk itself runs for its -d: give it room). Prints one JSON line (wrk's latency percentiles, and the
-- seconds from each thread's first to its last answer, for the achieved rate).
-- wrk -s benchmarks/wrk_post.lua URL -- BODIES_FILE PATH INTERVAL_MS REQUESTS_PER_THREAD
-- INTERVAL_MS: each thread sends its next request INTERVAL_MS after the previous one was due, on whichever of its
-- connections is free (a fixed rate while enough connections are open); 0: as fast as answers come.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } cvre_timespec;
int clock_gettime(int clock_id, cvre_timespec *tp);
]]
local clock = ffi.new("cvre_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local due = nil
local bodies, path, pause, limit = {}, "/", 0, 0
local counter, sent = 0, 0
first, last = 0, 0  -- globals: done() reads them with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  path, pause, limit = args[2], tonumber(args[3]), tonumber(args[4])
  counter = math.random(#bodies)
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[counter])
end

function delay()
  if pause <= 0 then return 0 end
  local now = now_ms()
  due = (due or now) + pause
  return math.max(0, due - now)
end

function response(status, headers, body)
  sent = sent + 1
  if sent == 1 then first = os.time() end
  last = os.time()
  if sent >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local e = summary.errors
  local busy = 0
  for _, thread in ipairs(threads) do
    busy = math.max(busy, thread:get("last") - thread:get("first"))
  end
  io.write(string.format('{"requests": %d, "duration_s": %.3f, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, "busy_s": %d}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000, busy))
end

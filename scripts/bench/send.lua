-- wrk script: PUT /send with a unique transaction id per request.
-- BENCH_TOKENS (comma-separated; requests take them in turn), BENCH_ROOM (URL-encoded)
-- and BENCH_TXN come from the environment.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS"), "[^,]+") do tokens[#tokens + 1] = t end
local room = os.getenv("BENCH_ROOM")
local prefix = os.getenv("BENCH_TXN")
local body = '{"msgtype":"m.text","body":"wrk message"}'
local threads = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  counter = counter + 1
  local path = "/_matrix/client/v3/rooms/" .. room .. "/send/m.room.message/" .. prefix .. "-" .. tid .. "-" .. counter
  local headers = { ["Authorization"] = "Bearer " .. tokens[counter % #tokens + 1],
                    ["Content-Type"] = "application/json" }
  return wrk.format("PUT", path, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d non2xx=%d sockerr=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end

-- wrk script: PUT /send with a unique transaction id per request.
-- BENCH_TOKEN, BENCH_ROOM (URL-encoded) and BENCH_TXN come from the environment.
local token = os.getenv("BENCH_TOKEN")
local room = os.getenv("BENCH_ROOM")
local prefix = os.getenv("BENCH_TXN")
local body = '{"msgtype":"m.text","body":"wrk message"}'
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local threads = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  counter = counter + 1
  local path = "/_matrix/client/v3/rooms/" .. room .. "/send/m.room.message/" .. prefix .. "-" .. tid .. "-" .. counter
  return wrk.format("PUT", path, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d non2xx=%d sockerr=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end

-- Shared by the wrk scenarios of scripts/bench.sh: read a list, number the threads, and print
-- one JSON line of results that the script parses.
local common = {}

function common.lines(path)
  local list = {}
  for line in io.lines(path) do
    if line ~= "" then list[#list + 1] = line end
  end
  return list
end

local threads = {}
function common.setup(thread)
  thread:set("tid", #threads + 1)
  threads[#threads + 1] = thread
end

function common.done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end

return common

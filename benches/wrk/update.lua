-- Section updates with If-Match, one plan per thread (one connection per thread): each thread
-- replaces its plan's What Matters again and again with the ETag it was last given.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local plans = common.lines(os.getenv("BENCH_LIST"))
local token = os.getenv("BENCH_TOKEN")
setup = common.setup
done = common.done
local plan, etag, n

function init(args)
  -- A line: the plan id, a space, the section's current ETag.
  plan, etag = plans[tid]:match("^(%S+) (.+)$")
  n = 0
end

function request()
  n = n + 1
  local body = string.format('{"inTheirOwnWords":"Benchmark thread %d, change %d: being at home."}', tid, n)
  return wrk.format("PUT", "/v1/care-plans/" .. plan .. "/sections/what-matters", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["If-Match"] = etag,
  }, body)
end

function response(status, headers, body)
  -- The thread's plan is its own, so every answer is 200 with the next ETag; anything else is
  -- counted by wrk as a non-2xx and reported.
  local tag = headers["etag"] or headers["ETag"]
  if status == 200 and tag then etag = tag end
end

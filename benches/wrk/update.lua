-- Section updates with If-Match, one plan per thread (one connection per thread): each thread
-- replaces its plan's What Matters again and again with the ETag it was last given.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local plans = common.lines(os.getenv("BENCH_LIST"))
local token = os.getenv("BENCH_TOKEN")
setup = common.setup
done = common.done
local plan, etag, n, reread

function init(args)
  -- A line: the plan id, a space, the section's ETag when the list was made.
  plan, etag = plans[tid]:match("^(%S+) (.+)$")
  n = 0
  reread = true -- the warm-up run changed the plans since
end

function request()
  if reread then
    return wrk.format("GET", "/v1/care-plans/" .. plan .. "/sections/what-matters", {
      ["Authorization"] = "Bearer " .. token,
      ["X-Purpose-Of-Use"] = "direct-care",
    })
  end
  n = n + 1
  local body = string.format('{"inTheirOwnWords":"Benchmark thread %d, change %d: being at home."}', tid, n)
  return wrk.format("PUT", "/v1/care-plans/" .. plan .. "/sections/what-matters", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["If-Match"] = etag,
  }, body)
end

function response(status, headers, body)
  -- The thread's plan is its own, so every write is 200 with the next ETag; anything else is
  -- counted by wrk as a non-2xx and reported, and the section read again.
  local tag = headers["etag"] or headers["ETag"]
  if status == 200 and tag then
    etag = tag
    reread = false
  else
    reread = true
  end
end

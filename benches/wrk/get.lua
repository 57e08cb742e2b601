-- GET a path made from BENCH_PATH (with %s) and a random line of BENCH_LIST, with a bearer
-- token when BENCH_TOKEN is set.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local list = common.lines(os.getenv("BENCH_LIST"))
local path = os.getenv("BENCH_PATH")
local token = os.getenv("BENCH_TOKEN") or ""
local purpose = os.getenv("BENCH_PURPOSE") or "emergency"
setup = common.setup
done = common.done

function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
  local headers = {}
  if token ~= "" then
    headers["Authorization"] = "Bearer " .. token
    -- Professionals state why they read (dispatch's purpose is fixed; the floor ignores it): a
    -- crew for an emergency, a clinician for direct care (BENCH_PURPOSE), as each would.
    headers["X-Purpose-Of-Use"] = purpose
  end
  return wrk.format("GET", string.format(path, list[math.random(#list)]), headers)
end

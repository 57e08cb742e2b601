-- Creates with an Idempotency-Key: each thread makes valid NHS numbers of its own (from
-- 980 000 000 + thread × 1 000 000 + run × 100 000 up, run 0 to 9: never a demo number) and a
-- small plan for each.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local token = os.getenv("BENCH_TOKEN")
local run = os.getenv("BENCH_RUN") or "0"
setup = common.setup
done = common.done
local stem

local function nhs_number()
  while true do
    stem = stem + 1
    local s = string.format("%09d", stem)
    local sum = 0
    for i = 1, 9 do sum = sum + tonumber(s:sub(i, i)) * (11 - i) end
    local check = 11 - sum % 11
    if check == 11 then check = 0 end
    if check ~= 10 then return s .. check end
  end
end

function init(args)
  stem = 980000000 + tid * 1000000 + (tonumber(run) % 10) * 100000
end

function request()
  local nhs = nhs_number()
  local body = '{"personalInformation":{"nhsNumber":"' .. nhs .. '","familyName":"Bench","givenName":"Ada",'
    .. '"birthDate":"1940-05-06","address":{"lines":["1 Test Street"],"postcode":"SE1 7EH"}},'
    .. '"consentToShare":{"basis":"person-agreed","date":"2026-11-01"},'
    .. '"whatMatters":{"inTheirOwnWords":"My garden, my cat, and being at home."}}'
  return wrk.format("POST", "/v1/care-plans", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. run .. "-" .. nhs,
  }, body)
end

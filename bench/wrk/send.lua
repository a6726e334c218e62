-- POST /user/sms/ to a number never texted before in this run (one code per
-- number per resend interval): "15", the wrk thread's digit, a counter.
-- Each body is 24 bytes, so the request line and headers are formatted once
-- (by wrk.format, with a stand-in body) and each request only formats its
-- body: building the whole request with wrk.format each time cost wrk more
-- CPU than the scenario's server, on the same two cores.
-- BENCH_FIRST_THREAD numbers the threads on from there, so that runs one
-- after another against the same server (scripts/bench runs send in rounds)
-- text numbers of their own.
local threads = tonumber(os.getenv("BENCH_FIRST_THREAD") or "0")

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local BODY = '{"mobile":"15%d%08d"}'
local BODY_BYTES = 24
local head = nil
local counter = 0

function init(args)
  assert(id < 10, "one digit of thread id keeps every body " .. BODY_BYTES .. " bytes")
  local whole = wrk.format("POST", "/user/sms/", { ["Content-Type"] = "application/json" }, string.rep("x", BODY_BYTES))
  head = string.sub(whole, 1, -BODY_BYTES - 1)
end

function request()
  counter = counter + 1
  if counter >= 1e8 then
    error("eight digits of counter keep every body " .. BODY_BYTES .. " bytes")
  end
  return head .. string.format(BODY, id, counter)
end

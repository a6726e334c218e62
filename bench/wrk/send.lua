-- POST /user/sms/ to a number never texted before in this run (one code per
-- number per resend interval): "15", the wrk thread's digit, a counter.
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local counter = 0

function request()
  counter = counter + 1
  local body = string.format('{"mobile":"15%d%08d"}', id, counter)
  return wrk.format("POST", "/user/sms/", { ["Content-Type"] = "application/json" }, body)
end

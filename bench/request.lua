-- wrk script for bench/load.py: sends the requests listed in the file WRK_REQUESTS in turn (one
-- request, or a mix), and counts answers that are not 200 or that carry GraphQL "errors", across
-- every thread. Each entry: "method\tpath\tauthorization\tlength\n" then the body's bytes.
local listed = {}
do
  local f = assert(io.open(os.getenv("WRK_REQUESTS"), "rb"))
  while true do
    local line = f:read("*l")
    if not line then break end
    local method, path, auth, length = line:match("^(%S+)\t(%S+)\t([^\t]*)\t(%d+)$")
    assert(method, "bad request line: " .. line)
    length = tonumber(length)
    local body = nil
    if length > 0 then body = f:read(length) end
    table.insert(listed, {method = method, path = path, auth = auth, body = body})
  end
  f:close()
end
local threads = {}
local requests = {}
local turn = 1

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  failed = 0
  for _, r in ipairs(listed) do
    local headers = {["Content-Type"] = "application/json", ["Accept-Encoding"] = "identity"}
    if r.auth ~= "" then headers["Authorization"] = r.auth end
    table.insert(requests, wrk.format(r.method, r.path, headers, r.body))
  end
  -- The threads start apart in the list, so that a mix is mixed from the first request.
  turn = (offset * math.floor(#requests / 2)) % #requests + 1
end

function request()
  local r = requests[turn]
  turn = turn % #requests + 1
  return r
end

function response(status, headers, body)
  -- Only the start of a body is searched: an error answer puts "errors" first.
  if status ~= 200 or string.find(string.sub(body, 1, 64), '"errors"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failed") end
  io.write(string.format("BENCH p50_us=%d p99_us=%d failed=%d\n",
    latency:percentile(50), latency:percentile(99), total))
end

-- wrk script for bench/load.py: method, body file and Authorization from the environment;
-- counts answers that are not 200 or that carry GraphQL "errors", across every thread.
local method = os.getenv("WRK_METHOD") or "GET"
local body_file = os.getenv("WRK_BODY_FILE")
local auth = os.getenv("WRK_AUTH")
local body = nil
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb")); body = f:read("*a"); f:close()
end
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  failed = 0
  wrk.method = method
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept-Encoding"] = "identity"
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
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

-- wrk script for bench/http/run. One script for every measurement, so wrk does the same Lua work per request
-- whichever route is measured:
--   wrk ... -s svar.lua URL -- health
--   wrk ... -s svar.lua URL -- page   TOKENS THREADS  (GET /a/TOKEN/s/1, cycling over every line of TOKENS)
--   wrk ... -s svar.lua URL -- submit TOKENS THREADS  (POST /a/TOKEN/submit, each line handed out once)
-- TOKENS has one line per invitation: "TOKEN CSRF" (CSRF is the svar_csrf cookie the landing page set).
-- Each thread takes every n-th line (its own slice), so no invitation is submitted twice. done() prints one
-- line "RESULT {json}" with wrk's totals, latency percentiles (µs) and the per-status counts.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "health"
  ok, bad, exhausted, other = 0, 0, 0, 0
  statuses = {}
  lines, index = {}, 0
  if mode ~= "health" then
    local n, i = tonumber(args[3]), 0
    for line in io.lines(args[2]) do
      if i % n == tid then
        local token, csrf = line:match("^(%S+)%s+(%S+)$")
        lines[#lines + 1] = { token, csrf }
      end
      i = i + 1
    end
  end
end

local health = nil

function request()
  if mode == "health" then
    if not health then health = wrk.format("GET", "/health") end
    return health
  end
  index = index + 1
  if mode == "page" then
    local entry = lines[(index - 1) % #lines + 1]
    return wrk.format("GET", "/a/" .. entry[1] .. "/s/1", { ["Cookie"] = "svar_csrf=" .. entry[2] })
  end
  local entry = lines[index]
  if not entry then
    -- Out of fresh invitations: the run is too long for the prepared pool. Send a request that cannot succeed
    -- (an already used token on another path) and count it, so the script can refuse the figure.
    exhausted = exhausted + 1
    entry = lines[#lines]
    return wrk.format("GET", "/a/" .. entry[1] .. "/exhausted")
  end
  return wrk.format("POST", "/a/" .. entry[1] .. "/submit?lang=nb", {
    ["Cookie"] = "svar_csrf=" .. entry[2],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "csrf=" .. entry[2])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if mode == "submit" then
    local location = headers["Location"] or headers["location"] or ""
    if status == 303 and location:find("/done", 1, true) then ok = ok + 1 else bad = bad + 1 end
  elseif status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local ok_total, bad_total, exhausted_total, status_total = 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    bad_total = bad_total + thread:get("bad")
    exhausted_total = exhausted_total + thread:get("exhausted")
    for code, count in pairs(thread:get("statuses")) do
      status_total[code] = (status_total[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(status_total) do parts[#parts + 1] = string.format('"%d": %d', code, count) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "ok": %d, "bad": %d, "exhausted": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes, ok_total, bad_total, exhausted_total,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ", ")))
end

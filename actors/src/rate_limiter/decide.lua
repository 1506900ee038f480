-- Skybridge rate limiter: decides every policy of one request atomically.
-- The arithmetic mirrors actors/src/rate_limiter/algorithm.rs; change both together.
--
-- KEYS[i]  one key per policy (all carry a {hash tag}).
-- ARGV[1]  "" to read the clock with TIME, or a fixed time in microseconds (tests only).
-- Then four arguments per key, starting at ARGV[2 + 4 * (i - 1)]:
--   "r", T (emission interval, us), B (burst), cost     for a GCRA rate policy
--   "q", limit, cost, window ("h", "d" or "m")          for a calendar quota
-- Returns { admitted (0/1), now (us), value_1 .. value_n } where value_i is the TAT or the
-- window's count after the request if admitted, before it if not. A denied request writes
-- nothing. Numbers are Lua doubles, exact below 2^53; configuration keeps them there.

local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end

local function idiv(a, b)
  return (a - a % b) / b
end

-- Days since the epoch of the first day of a month (proleptic Gregorian, March-based years).
local function days_from_civil(year, month)
  if month <= 2 then year = year - 1 end
  local era = idiv(year, 400)
  local yoe = year - era * 400
  local doy = idiv(153 * ((month + 9) % 12) + 2, 5)
  local doe = yoe * 365 + idiv(yoe, 4) - idiv(yoe, 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_month(days)
  local z = days + 719468
  local era = idiv(z, 146097)
  local doe = z - era * 146097
  local yoe = idiv(doe - idiv(doe, 1460) + idiv(doe, 36524) - idiv(doe, 146096), 365)
  local doy = doe - (365 * yoe + idiv(yoe, 4) - idiv(yoe, 100))
  local mp = idiv(5 * doy + 2, 153)
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400
  if month <= 2 then year = year + 1 end
  return year, month
end

-- The calendar window containing now, as [start, end) in seconds.
local function bounds(code)
  local secs = idiv(now, 1000000)
  if code == 'h' then
    local start = secs - secs % 3600
    return start, start + 3600
  elseif code == 'd' then
    local start = secs - secs % 86400
    return start, start + 86400
  end
  local year, month = civil_month(idiv(secs, 86400))
  local next_year, next_month = year, month + 1
  if month == 12 then next_year, next_month = year + 1, 1 end
  return days_from_civil(year, month) * 86400, days_from_civil(next_year, next_month) * 86400
end

local admitted = 1
local values, plans = {}, {}
for i = 1, #KEYS do
  local at = 2 + 4 * (i - 1)
  local kind, a, b = ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local stored = redis.call('GET', KEYS[i])
  if kind == 'r' then
    local base = now
    if stored then base = math.max(tonumber(stored), now) end
    local next_tat = base + tonumber(ARGV[at + 3]) * a
    if next_tat - now > b * a then admitted = 0 end
    values[i] = base
    plans[i] = { next_tat, string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) }
  else
    local start, stop = bounds(ARGV[at + 3])
    local count = 0
    if stored then
      local stored_start, stored_count = string.match(stored, '^(%d+):(%d+)$')
      if tonumber(stored_start) == start then count = tonumber(stored_count) end
    end
    if count + b > a then admitted = 0 end
    values[i] = count
    local value = string.format('%.0f:%.0f', start, count + b)
    plans[i] = { count + b, value, 'EXAT', stop + 60 }
  end
end

if admitted == 1 then
  for i = 1, #KEYS do
    local plan = plans[i]
    redis.call('SET', KEYS[i], plan[2], plan[3], plan[4])
    values[i] = plan[1]
  end
end

local reply = { admitted, now }
for i = 1, #KEYS do reply[i + 2] = values[i] end
return reply

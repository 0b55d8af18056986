-- Shared by the limiter scripts. Time is Redis's own (TIME): seconds since
-- the Unix epoch as a float with microsecond precision. Numbers go back to
-- the client as strings, because Redis truncates Lua numbers to integers.
if redis.replicate_commands then pcall(redis.replicate_commands) end

local function f(x) return string.format('%.17g', x) end

local function now_s()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

-- lim is the limit of field ('' for the account) set at run time, or the
-- caller's configured default. A rate < 0 means unlimited.
local function lim(limits, field, drate, dburst)
  local v = redis.call('HMGET', limits, 'r:' .. field, 'b:' .. field)
  local r, b = tonumber(v[1]), tonumber(v[2])
  if r == nil or b == nil then return drate, dburst end
  return r, b
end

-- load reads a bucket and refills it to now. A missing bucket is full.
local function load(key, rate, burst, now)
  local s = {key = key, rate = rate, burst = burst, unl = rate < 0}
  if s.unl then return s end
  local v = redis.call('HMGET', key, 'tk', 'ts')
  local tk, ts = tonumber(v[1]), tonumber(v[2])
  if tk == nil or ts == nil then
    tk = burst
  else
    local dt = now - ts
    if dt > 0 then tk = tk + dt * rate end
    if tk > burst then tk = burst end
  end
  s.tk = tk
  return s
end

-- save writes a bucket back with a TTL long enough for it to refill twice
-- (an expired bucket reads as full, which it would be by then anyway).
local function save(s, now)
  if s.unl then return end
  redis.call('HSET', s.key, 'tk', f(s.tk), 'ts', f(now))
  local ttl = 86400000
  if s.rate > 0 then
    ttl = math.ceil(2000 * s.burst / s.rate) + 600000
    if ttl > 86400000 then ttl = 86400000 end
  end
  redis.call('PEXPIRE', s.key, ttl)
end

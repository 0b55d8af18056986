-- Shared by the limiter scripts. Time is Redis's own (TIME): seconds since
-- the Unix epoch as a float with microsecond precision. Numbers go back to
-- the client as strings, because Redis truncates Lua numbers to integers.
if redis.replicate_commands then pcall(redis.replicate_commands) end

local function f(x) return string.format('%.17g', x) end

local function now_s()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

-- cubic is the adaptive rate dt seconds into a recovery towards wm: the
-- curve wm + c*(dt-k)^3, which starts k seconds before reaching wm (k is
-- chosen at the decrease so that the curve starts at the lowered rate),
-- flattens around wm, then grows past it; clamped to [base*minf, base].
local function cubic(base, wm, k, dt, c, minf)
  local x = dt - k
  local r = wm + c * x * x * x
  if r > base then r = base end
  local lo = base * minf
  if r < lo then r = lo end
  return r
end

-- lim is the limit of field ('' for the account) set at run time, or the
-- caller's configured default. A rate < 0 means unlimited.
local function lim(limits, field, drate, dburst)
  local v = redis.call('HMGET', limits, 'r:' .. field, 'b:' .. field)
  local r, b = tonumber(v[1]), tonumber(v[2])
  if r == nil or b == nil then return drate, dburst end
  return r, b
end

-- load reads a bucket and refills it to now. ad is {beta, c, minf} for an
-- adaptive bucket, nil otherwise. A missing bucket is full.
local function load(key, base, burst, now, ad)
  local s = {key = key, base = base, burst = burst, rate = base, unl = base < 0}
  if s.unl then return s end
  local v = redis.call('HMGET', key, 'tk', 'ts', 'wm', 'td', 'k')
  local tk, ts, wm, td, k = tonumber(v[1]), tonumber(v[2]), tonumber(v[3]), tonumber(v[4]), tonumber(v[5])
  local r0 = base
  if ad and wm and td then
    if k == nil then k = (wm * (1 - ad[1]) / ad[2]) ^ (1 / 3) end
    s.rate = cubic(base, wm, k, now - td, ad[2], ad[3])
    if ts and ts >= td then r0 = cubic(base, wm, k, ts - td, ad[2], ad[3]) else r0 = s.rate end
    if s.rate >= base then s.recovered = true else s.wm, s.td, s.k = wm, td, k end
  end
  if tk == nil or ts == nil then
    s.fresh = true
    tk = burst
  else
    local dt = now - ts
    if dt > 0 then tk = tk + dt * (r0 + s.rate) / 2 end
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
  if s.wm then
    redis.call('HSET', s.key, 'wm', f(s.wm), 'td', f(s.td), 'k', f(s.k))
  elseif s.recovered then
    redis.call('HDEL', s.key, 'wm', 'td', 'k')
  end
  local ttl = 86400000
  if s.rate > 0 then
    ttl = math.ceil(2000 * s.burst / s.rate) + 600000
    if ttl > 86400000 then ttl = 86400000 end
  end
  redis.call('PEXPIRE', s.key, ttl)
end

local function adaptive(a, b, c)
  if a == '0' then return nil end
  return {tonumber(a), tonumber(b), tonumber(c)}
end

-- throttle: the server throttled this operation. Drain the shared bucket
-- (the server's is empty) and, unless a decrease happened within the
-- cooldown (the same event seen by other workers), lower the shared rate to
-- beta times its current value; it then recovers along the cubic curve
-- towards the rate it had (or a little less, if it was throttled again
-- before getting back there).
-- KEYS: 1 op bucket, 2 limits
-- ARGV: 1 op, 2-3 default rate/burst, 4-6 beta/c/minf, 7 cooldown (s)
-- Returns: decreased (0/1), effective rate, base rate.
local now = now_s()
local ad = adaptive(ARGV[4], ARGV[5], ARGV[6])
local r, b = lim(KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
local s = load(KEYS[1], r, b, now, ad)
if s.unl then return {0, '-1', '-1'} end
local decreased = 0
if s.td == nil or now - s.td >= tonumber(ARGV[7]) then
  local cur, beta, c = s.rate, ad[1], ad[2]
  -- Fast convergence (RFC 8312): throttled again below the last target,
  -- aim lower this time.
  local wm = cur
  if s.wm and cur < s.wm then wm = cur * (1 + beta) / 2 end
  local start = beta * cur
  s.wm, s.td, s.recovered = wm, now, false
  s.k = (math.max(wm - start, 0) / c) ^ (1 / 3)
  s.rate = cubic(s.base, s.wm, s.k, 0, c, ad[3])
  decreased = 1
end
if s.tk > 0 then s.tk = 0 end
save(s, now)
return {decreased, f(s.rate), f(s.base)}

-- adjust: add delta tokens to several buckets (a refund of unused leased
-- tokens, or a debit of tokens spent locally while Redis was unreachable).
-- The result is capped at the burst and floored at minus the burst.
-- KEYS: 1..n buckets, n+1 limits
-- ARGV: 1 n, then per bucket: field, default rate, default burst, delta
local now = now_s()
local n = tonumber(ARGV[1])
local limits = KEYS[n + 1]
for i = 1, n do
  local j = 2 + (i - 1) * 4
  local field = ARGV[j]
  local r, b = lim(limits, field, tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]))
  local s = load(KEYS[i], r, b, now)
  if not s.unl then
    local tk = s.tk + tonumber(ARGV[j + 3])
    if tk > s.burst then tk = s.burst end
    if tk < -s.burst then tk = -s.burst end
    s.tk = tk
    save(s, now)
  end
end
return n

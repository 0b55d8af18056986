-- admit: take cost tokens (up to want, the extra being a lease) from the
-- operation's bucket and the account's, both or neither.
-- KEYS: 1 account bucket, 2 operation bucket, 3 limits
-- ARGV: 1 op ('' = account only), 2 cost, 3 want, 4-5 account default
--       rate/burst, 6-7 op default rate/burst, 8 refund (tokens given back
--       to both buckets first), 9 max wait (s): when >= 0 and the tokens
--       are not there, reserve them (the buckets go negative) if they will
--       be within max wait.
-- Returns: ok, granted, retry (s; -1 = never; for a reservation: when the
--          caller may act), blocker (1 op, 2 account, 3 both), exceeds (1
--          op, 2 account), op rate, burst, tokens, account rate, burst,
--          tokens.
local now = now_s()
local op = ARGV[1]
local cost, want, refund = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[8])
local maxwait = tonumber(ARGV[9])
local ar, ab = lim(KEYS[3], '', tonumber(ARGV[4]), tonumber(ARGV[5]))
local acct = load(KEYS[1], ar, ab, now)
local bk = {acct}
local o = nil
if op ~= '' then
  local r, b = lim(KEYS[3], op, tonumber(ARGV[6]), tonumber(ARGV[7]))
  o = load(KEYS[2], r, b, now)
  bk[2] = o
end
local dirty = false
if refund > 0 then
  for _, s in ipairs(bk) do
    if not s.unl then
      s.tk = math.min(s.burst, s.tk + refund)
      dirty = true
    end
  end
end
local exceeds = 0
if o and not o.unl and cost > o.burst then
  exceeds = 1
elseif not acct.unl and cost > acct.burst then
  exceeds = 2
end
local granted, retry, blocker = 0, 0, 0
if exceeds == 0 then
  local avail = math.huge
  for _, s in ipairs(bk) do
    if not s.unl and s.tk < avail then avail = s.tk end
  end
  if avail + 1e-9 >= cost then
    granted = math.min(want, avail)
    if granted < cost then granted = cost end
    for _, s in ipairs(bk) do
      if not s.unl then s.tk = s.tk - granted end
    end
    dirty = true
  else
    for i, s in ipairs(bk) do
      if not s.unl and s.tk + 1e-9 < cost then
        local w = -1
        if s.rate > 0 then w = (cost - s.tk) / s.rate end
        if w < 0 or retry < 0 then retry = -1 elseif w > retry then retry = w end
        if i == 1 then blocker = blocker + 2 else blocker = blocker + 1 end
      end
    end
    if maxwait >= 0 and retry >= 0 and retry <= maxwait then
      -- Reserve: take the tokens now, the caller acts after retry seconds.
      granted = cost
      for _, s in ipairs(bk) do
        if not s.unl then s.tk = s.tk - cost end
      end
      dirty = true
    end
  end
end
for _, s in ipairs(bk) do
  if dirty then save(s, now) end
end
local ok = 0
if granted > 0 then ok = 1 end
local orate, oburst, otk = '-1', '-1', '0'
if o then
  orate, oburst = f(o.rate), f(o.burst)
  if not o.unl then otk = f(o.tk) end
end
local atk = '0'
if not acct.unl then atk = f(acct.tk) end
return {ok, f(granted), f(retry), blocker, exceeds, orate, oburst, otk, f(acct.rate), f(acct.burst), atk}

-- setlimit: change the limit of a bucket for every worker. The bucket is
-- first refilled at the old limit, then capped at the new burst; a bucket
-- that was unlimited starts full.
-- KEYS: 1 bucket, 2 limits
-- ARGV: 1 field (op, '' = account), 2-3 default rate/burst, 4-5 new
--       rate/burst (rate -1 = unlimited), 6 limits TTL (ms)
local now = now_s()
local r, b = lim(KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
local s = load(KEYS[1], r, b, now)
local nr, nb = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('HSET', KEYS[2], 'r:' .. ARGV[1], f(nr), 'b:' .. ARGV[1], f(nb))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[6]))
if nr < 0 then return 1 end
local tk = nb
if not s.unl and s.tk < nb then tk = s.tk end
s.unl, s.rate, s.burst, s.tk = false, nr, nb, tk
save(s, now)
return 1

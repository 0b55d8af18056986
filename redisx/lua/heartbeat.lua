-- heartbeat: record this worker as alive, forget long-gone workers, keep
-- the run-time limits alive while any worker is, and count the workers
-- seen within the live window.
-- KEYS: 1 workers (sorted set), 2 limits
-- ARGV: 1 worker id, 2 live window (s), 3 forget after (s), 4 TTL (ms)
local now = now_s()
redis.call('ZADD', KEYS[1], f(now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. f(now - tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4])) end
return redis.call('ZCOUNT', KEYS[1], f(now - tonumber(ARGV[2])), '+inf')

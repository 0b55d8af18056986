-- cache_set: store a value fresh for ttl ms and kept (stale) stale ms more;
-- release the refresh lock if this caller holds it.
-- KEYS: 1 value, 2 lock. ARGV: 1 data, 2 ttl ms, 3 stale ms, 4 lock token ('' = none)
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'f', string.format('%d', now + ttl))
redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[3]))
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
return 1

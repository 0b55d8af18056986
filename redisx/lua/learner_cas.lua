-- learner_cas: save one adaptive learner's state if nobody saved another
-- since the caller read it (compare-and-set on a version number).
-- KEYS: 1 learner (a hash: v version, s encoded state; '' = none)
-- ARGV: 1 expected version (0 = never saved), 2 new state ('' = none),
--       3 TTL (ms)
-- Returns: {1, new version} when saved; {0, version, state} otherwise (the
--          current ones, so that the caller can retry without a read).
local cur = redis.call('HMGET', KEYS[1], 'v', 's')
local v = tonumber(cur[1]) or 0
if v ~= tonumber(ARGV[1]) then
  return {0, v, cur[2] or ''}
end
v = v + 1
redis.call('HSET', KEYS[1], 'v', v, 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, v}

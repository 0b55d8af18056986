-- cache_get: read a cached value and whether it is still fresh (on Redis's
-- clock). KEYS: 1 value (hash: v data, f fresh-until ms). Returns
-- {data or false, fresh 0/1}.
local v = redis.call('HMGET', KEYS[1], 'v', 'f')
if not v[1] then return {false, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fresh = 0
if tonumber(v[2]) and now < tonumber(v[2]) then fresh = 1 end
return {v[1], fresh}

-- Claims the summary queue's most urgent entry that no live replica holds. An entry stays in
-- the queue while claimed; a claim lapses at its deadline, so the entry of a replica that
-- died is claimed again by another.
--
-- KEYS[1] queue (cluster id -> priority)      KEYS[2] claims (cluster id -> lapse time, ms)
-- ARGV[1] now, epoch ms                       ARGV[2] claim duration, ms
-- Returns { cluster id, priority } or nil when nothing is waiting.
local now = tonumber(ARGV[1])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(lapsed) do redis.call('ZREM', KEYS[2], id) end
-- Among the (claims + 1) most urgent entries at least one is unclaimed, if any is.
local held = redis.call('ZCARD', KEYS[2])
local top = redis.call('ZREVRANGE', KEYS[1], 0, held, 'WITHSCORES')
for i = 1, #top, 2 do
  local id = top[i]
  if not redis.call('ZSCORE', KEYS[2], id) then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
    return { id, top[i + 1] }
  end
end
return nil

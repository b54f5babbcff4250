-- Arrival counts in bounded time buckets (src/trends/trend-math.ts reads them): a hash per
-- cluster (keyspace.trends) and one for the project (keyspace.arrivals), fields `h:{epoch hour}`
-- and `d:{epoch day}`. Hourly fields are kept 7 days, daily ones 90: older fields are pruned
-- when a new hour starts for the hash (at most once an hour each), so a hash holds at most
-- 169 + 91 fields; it expires 91 days after its last arrival.
local trendBuckets = {}
trendBuckets.HOURS_KEPT = 168
trendBuckets.DAYS_KEPT = 90
function trendBuckets.record(key, nowSeconds, count)
  local hour = math.floor(nowSeconds / 3600)
  local day = math.floor(nowSeconds / 86400)
  local fresh = redis.call('HINCRBY', key, 'h:' .. hour, count) == count
  redis.call('HINCRBY', key, 'd:' .. day, count)
  if fresh then
    for _, field in ipairs(redis.call('HKEYS', key)) do
      local kind, n = string.match(field, '^([hd]):(%-?%d+)$')
      n = tonumber(n)
      if (kind == 'h' and n <= hour - trendBuckets.HOURS_KEPT)
          or (kind == 'd' and n <= day - trendBuckets.DAYS_KEPT) then
        redis.call('HDEL', key, field)
      end
    end
  end
  redis.call('EXPIRE', key, (trendBuckets.DAYS_KEPT + 1) * 86400)
end

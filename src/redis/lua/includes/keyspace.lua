-- The key layout (src/redis/keyspace.ts, CONTRACT §1-§2 and §7), from the descriptor that
-- runScript appends as the script's last ARGV: how item and cluster keys are named, and
-- whether the live-cluster key is a set (flat) or a sorted set by created_at (project).
local keyspace = (function(descriptor)
  local d = cjson.decode(descriptor)
  local ks = { project = d.project }
  function ks.item(id) return d.item .. id end
  function ks.cluster(id) return d.cluster .. id end
  function ks.members(id) return d.members[1] .. id .. d.members[2] end
  function ks.trends(id) return d.trends .. id end
  ks.arrivals = d.arrivals
  function ks.isLive(key, id)
    if d.sortedLive then return redis.call('ZSCORE', key, id) ~= false end
    return redis.call('SISMEMBER', key, id) == 1
  end
  -- A cluster keeps the score it was first added with (its creation time).
  function ks.addLive(key, id, createdAtSeconds)
    if d.sortedLive then redis.call('ZADD', key, 'NX', createdAtSeconds, id)
    else redis.call('SADD', key, id) end
  end
  function ks.removeLive(key, id)
    if d.sortedLive then redis.call('ZREM', key, id) else redis.call('SREM', key, id) end
  end
  return ks
end)(ARGV[#ARGV])

-- Merges one cluster into another atomically (CONTRACT §2): the absorbed cluster's items move
-- to the survivor, the survivor's size, sources and centroid are updated, the absorbed hash is
-- marked merged (so links to it still resolve) and leaves clusters:all, and the index change
-- feed records both ids so every replica's index reloads the survivor and drops the absorbed.
--
-- KEYS[1] assignment lock   KEYS[2] clusters:all     KEYS[3] index sequence
-- KEYS[4] index change feed KEYS[5] legacy packed centroids (only deleted) KEYS[6] int8 anchors
-- KEYS[7] item -> cluster membership (kept in step, so an update finds the item's cluster)
-- KEYS[8] kept-apart pins (the survivor inherits the absorbed cluster's) KEYS[9] item pins
-- KEYS[10] summary queue    KEYS[11] audit stream (both only written for a person's merge)
-- ARGV[1] lock token (fencing: nothing is written unless the caller still holds the lock)
-- ARGV[2] survivor id       ARGV[3] absorbed id
-- ARGV[4] survivor size and ARGV[5] absorbed size the centroid was computed from
-- ARGV[6] now, ISO 8601     ARGV[7] merged centroid, JSON (the only copy: indexes load it)
-- The absorbed cluster's trend buckets are added to the survivor's (its arrivals become the
-- survivor's history) and deleted.
-- ARGV[8] optional: a person's merge, JSON for control.record (lua/includes/control.lua)
-- Returns the number of items moved ({ moved, audit entry id } with ARGV[8]), or an error reply
-- (FENCED, CONFLICT) with nothing written.
-- ARGV[last] the key layout's descriptor, appended by runScript (lua/includes/keyspace.lua)
-- @include keyspace
-- @include control
-- @include trend-buckets
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lock lost before merge')
end

local survivor, absorbed = ARGV[2], ARGV[3]
if survivor == absorbed then
  return redis.error_reply('CONFLICT a cluster cannot absorb itself')
end
local survivorItems = keyspace.members(survivor)
local absorbedItems = keyspace.members(absorbed)
if not keyspace.isLive(KEYS[2], survivor) or not keyspace.isLive(KEYS[2], absorbed) then
  return redis.error_reply('CONFLICT both clusters must be live')
end
-- The centroid is a weighted mean of these sizes; any other membership would make it wrong.
if redis.call('SCARD', survivorItems) ~= tonumber(ARGV[4])
    or redis.call('SCARD', absorbedItems) ~= tonumber(ARGV[5]) then
  return redis.error_reply('CONFLICT cluster sizes changed since the merge was computed')
end

local now = ARGV[6]
local members = redis.call('SMEMBERS', absorbedItems)
for _, id in ipairs(members) do
  redis.call('SADD', survivorItems, id)
  redis.call('HSET', KEYS[7], id, survivor)
  if redis.call('HEXISTS', KEYS[9], id) == 1 then redis.call('HSET', KEYS[9], id, survivor) end
  local item = keyspace.item(id)
  -- A hash deleted by its producer is not recreated as a fragment.
  if redis.call('EXISTS', item) == 1 then
    redis.call('HSET', item, 'cluster_id', survivor)
  end
end
redis.call('DEL', absorbedItems)

local absorbedTrends = keyspace.trends(absorbed)
local buckets = redis.call('HGETALL', absorbedTrends)
for i = 1, #buckets, 2 do
  redis.call('HINCRBY', keyspace.trends(survivor), buckets[i], buckets[i + 1])
end
if #buckets > 0 then
  redis.call('EXPIRE', keyspace.trends(survivor), (trendBuckets.DAYS_KEPT + 1) * 86400)
end
redis.call('DEL', absorbedTrends)

local seen, sources = {}, {}
for _, key in ipairs({ keyspace.cluster(survivor), keyspace.cluster(absorbed) }) do
  local raw = redis.call('HGET', key, 'sources')
  if raw then
    for _, s in ipairs(cjson.decode(raw)) do
      if not seen[s] then seen[s] = true; sources[#sources + 1] = s end
    end
  end
end
table.sort(sources)

local survivorKey = keyspace.cluster(survivor)
redis.call('HSET', survivorKey, 'size', redis.call('SCARD', survivorItems), 'centroid', ARGV[7],
  'updated_at', now)
-- cjson encodes an empty table as an object, and sources must stay a JSON array.
if #sources > 0 then redis.call('HSET', survivorKey, 'sources', cjson.encode(sources)) end
redis.call('HDEL', KEYS[5], survivor)

redis.call('HSET', keyspace.cluster(absorbed), 'status', 'merged', 'merged_into', survivor, 'size', 0,
  'updated_at', now)
keyspace.removeLive(KEYS[2], absorbed)
redis.call('HDEL', KEYS[5], absorbed)
redis.call('HDEL', KEYS[6], absorbed)

redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[3]), survivor)
redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[3]), absorbed)
control.carryApart(KEYS[8], survivor, absorbed)
if #ARGV >= 9 then
  local audit = control.record(cjson.decode(ARGV[8]),
    { apart = KEYS[8], pinnedItems = KEYS[9], summaryQueue = KEYS[10], audit = KEYS[11] })
  return { #members, audit }
end
return #members

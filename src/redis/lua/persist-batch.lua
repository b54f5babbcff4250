-- Persists one assigned batch atomically (CONTRACT §2 "clustered"): cluster hashes and
-- member sets, item hashes, the unclustered set, the vectors and the index change feed.
--
-- KEYS[1] assignment lock          KEYS[2] feedback:unclustered   KEYS[3] clusters:all
-- KEYS[4] index sequence           KEYS[5] index change feed      KEYS[6] packed centroids
-- KEYS[7] packed anchors           KEYS[8] item vectors           KEYS[9] item models
-- ARGV[1] lock token (fencing: nothing is written unless the caller still holds the lock)
-- ARGV[2] now, ISO 8601            ARGV[3] embedding model
-- ARGV[4] JSON plan: { clusters: [{ id, created, sources, title, centroidJsonArg, centroidArg, anchorArg }],
--                      items: [{ id, clusterId, vectorArg }] }
-- ARGV[n] packed float32 vectors and centroid JSON texts, referenced by the *Arg indexes above
--         (kept out of the plan so the script never decodes thousands of numbers).
-- Returns { clustered item count, JSON array of skipped item ids, change-feed sequence after }
-- or an error reply.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lock lost before persist')
end

local now = ARGV[2]
local model = ARGV[3]
local plan = cjson.decode(ARGV[4])

-- An item is written only if it is still waiting: replays and redeliveries change nothing.
local eligible = {}
local skipped = {}
for _, item in ipairs(plan.items) do
  local key = 'feedback:' .. item.id
  if redis.call('SISMEMBER', KEYS[2], item.id) == 1 and redis.call('EXISTS', key) == 1
      and redis.call('HGET', key, 'clustered') ~= 'true' then
    eligible[#eligible + 1] = item
  else
    skipped[#skipped + 1] = item.id
  end
end

local members = {}
for _, item in ipairs(eligible) do
  members[item.clusterId] = (members[item.clusterId] or 0) + 1
end

for _, cluster in ipairs(plan.clusters) do
  if members[cluster.id] then
    local key = 'cluster:' .. cluster.id
    if cluster.created then
      if redis.call('EXISTS', key) == 1 then
        return redis.error_reply('CONFLICT cluster ' .. cluster.id .. ' already exists')
      end
      redis.call('HSET', key, 'id', cluster.id, 'status', 'new', 'created_at', now,
        'title', cluster.title, 'summary', '', 'issue_title', cluster.title, 'issue_description', '')
      redis.call('HSET', KEYS[7], cluster.id, ARGV[cluster.anchorArg])
    elseif redis.call('SISMEMBER', KEYS[3], cluster.id) == 0 then
      return redis.error_reply('CONFLICT cluster ' .. cluster.id .. ' is not live')
    end
    local sources = {}
    local seen = {}
    local existing = redis.call('HGET', key, 'sources')
    if existing then
      for _, s in ipairs(cjson.decode(existing)) do
        if not seen[s] then seen[s] = true; sources[#sources + 1] = s end
      end
    end
    for _, s in ipairs(cluster.sources) do
      if not seen[s] then seen[s] = true; sources[#sources + 1] = s end
    end
    table.sort(sources)
    redis.call('SADD', KEYS[3], cluster.id)
    local seq = redis.call('INCR', KEYS[4])
    redis.call('ZADD', KEYS[5], seq, cluster.id)
    redis.call('HSET', KEYS[6], cluster.id, ARGV[cluster.centroidArg])
    -- cjson encodes an empty table as an object; sources always has at least one entry here.
    redis.call('HSET', key, 'centroid', ARGV[cluster.centroidJsonArg], 'embedding_model', model,
      'sources', cjson.encode(sources), 'updated_at', now)
  end
end

for _, item in ipairs(eligible) do
  redis.call('SADD', 'cluster:items:' .. item.clusterId, item.id)
  redis.call('HSET', 'feedback:' .. item.id, 'clustered', 'true', 'cluster_id', item.clusterId,
    'clustered_at', now)
  redis.call('SREM', KEYS[2], item.id)
  redis.call('HSET', KEYS[8], item.id, ARGV[item.vectorArg])
  redis.call('HSET', KEYS[9], item.id, model)
end

for clusterId, _ in pairs(members) do
  redis.call('HSET', 'cluster:' .. clusterId, 'size', redis.call('SCARD', 'cluster:items:' .. clusterId))
end

return { #eligible, cjson.encode(skipped), tonumber(redis.call('GET', KEYS[4]) or '0') }

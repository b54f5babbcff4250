-- Persists one assigned batch atomically (CONTRACT §2 "clustered"): cluster hashes and
-- member sets, item hashes, the unclustered set, the vectors and the index change feed.
-- An updated item (CONTRACT §1 "Updates") leaves its old cluster in the same step as it joins
-- its new one, so it is never in two clusters and never in none.
--
-- KEYS[1] assignment lock          KEYS[2] feedback:unclustered   KEYS[3] clusters:all
-- KEYS[4] index sequence           KEYS[5] index change feed      KEYS[6] legacy packed centroids
-- KEYS[7] int8 anchors             KEYS[8] item vectors           KEYS[9] legacy item models
-- KEYS[10] item -> cluster membership (the service's own record of where it put each item)
-- KEYS[11] summary queue           KEYS[12] summarized-at sizes
-- ARGV[1] lock token (fencing: nothing is written unless the caller still holds the lock)
-- ARGV[2] now, ISO 8601            ARGV[3] embedding model
-- ARGV[4] JSON plan: { nowSeconds, clusters: [{ id, created, sources, text, centroidJsonArg, anchorArg }],
--                      items: [{ id, clusterId, vectorArg, from }], leaves: [{ id, from }],
--                      summaries: { growth, queueNew } }
--         `text` (new clusters): { title, summary, issue_title, issue_description, summary_model,
--         github_repo_url } written with the cluster, so it is never untitled. A cluster that is
--         new (when queueNew) or grew by `growth` since its last summary gets one summary-queue
--         entry, ranked by size plus the items its summary does not describe yet.
--         `from` is the cluster an updated item leaves (absent for a new item); `leaves` are
--         updated items that leave without joining (parked: their new text is unreadable);
--         a cluster with centroidJsonArg 0 keeps its centroid (another model's, only shrinking).
-- ARGV[n] int8 vector records and centroid JSON texts, referenced by the *Arg indexes above
--         (kept out of the plan so the script never decodes thousands of numbers).
-- Vector storage: the centroid lives only in the cluster hash (the contract's JSON, which the
-- index loads); anchors (int8) and item vectors (6-bit) are records (src/item-vectors/vector-record.ts) that
-- carry their model's fingerprint, so no model name is stored per item. KEYS[6] and KEYS[9] are
-- what earlier versions wrote (float32 centroids, a model per item): only ever deleted from here.
-- vectorArg 0: the item's vector is not stored (the embedder recomputes it); an older one goes.
-- Returns { clustered item count, JSON array of skipped item ids, change-feed sequence after }
-- or an error reply (FENCED, CONFLICT). Everything is checked before the first write: Redis
-- does not roll a script back, so a CONFLICT found late would leave a half-written batch.
-- Trends: each item that joins a cluster it was not in (new, or updated into another) counts
-- as an arrival at plan.nowSeconds in the cluster's and the project's trend buckets.
-- ARGV[last] the key layout's descriptor, appended by runScript (lua/includes/keyspace.lua)
-- @include keyspace
-- @include trend-buckets
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lock lost before persist')
end

local now = ARGV[2]
local model = ARGV[3]
local plan = cjson.decode(ARGV[4])

-- ---- Validation (no writes) ------------------------------------------------------------

-- An item is written only if it is still waiting: replays and redeliveries change nothing.
local function waiting(id)
  local key = keyspace.item(id)
  return redis.call('SISMEMBER', KEYS[2], id) == 1 and redis.call('EXISTS', key) == 1
      and redis.call('HGET', key, 'clustered') ~= 'true'
end
local eligible = {}
local skipped = {}
for _, item in ipairs(plan.items) do
  if waiting(item.id) then
    eligible[#eligible + 1] = item
  else
    skipped[#skipped + 1] = item.id
  end
end
local leaving = {}
for _, item in ipairs(plan.leaves or {}) do
  if waiting(item.id) then leaving[#leaving + 1] = item end
end

-- The cluster that holds an item now: the service's record, or the hash's cluster_id (items
-- clustered before the record existed), whichever set really has it as a member.
local function currentCluster(id)
  for _, candidate in ipairs({ redis.call('HGET', KEYS[10], id),
      redis.call('HGET', keyspace.item(id), 'cluster_id') }) do
    if candidate and redis.call('SISMEMBER', keyspace.members(candidate), id) == 1 then
      return candidate
    end
  end
  return nil
end

local joins = {}
local leaves = {}
local arrivals = {}
for _, item in ipairs(eligible) do
  joins[item.clusterId] = (joins[item.clusterId] or 0) + 1
  if item.from ~= item.clusterId then arrivals[item.clusterId] = (arrivals[item.clusterId] or 0) + 1 end
  local current = currentCluster(item.id)
  -- The plan's centroids were computed with (or without) this departure: any other
  -- membership would leave the item in two clusters or a centroid counting it wrongly.
  if current ~= item.from then
    return redis.error_reply('CONFLICT item ' .. item.id .. ' is in cluster ' .. tostring(current)
      .. ' but the plan has it leave ' .. tostring(item.from))
  end
  if current then leaves[current] = (leaves[current] or 0) + 1 end
end
for _, item in ipairs(leaving) do
  local current = currentCluster(item.id)
  if current ~= item.from then
    return redis.error_reply('CONFLICT item ' .. item.id .. ' is in cluster ' .. tostring(current)
      .. ' but the plan has it leave ' .. tostring(item.from))
  end
  leaves[current] = (leaves[current] or 0) + 1
end

local planned = {}
for _, cluster in ipairs(plan.clusters) do
  planned[cluster.id] = true
  if joins[cluster.id] or leaves[cluster.id] then
    if cluster.created then
      if redis.call('EXISTS', keyspace.cluster(cluster.id)) == 1 then
        return redis.error_reply('CONFLICT cluster ' .. cluster.id .. ' already exists')
      end
    elseif not keyspace.isLive(KEYS[3], cluster.id) then
      return redis.error_reply('CONFLICT cluster ' .. cluster.id .. ' is not live')
    end
  end
end
for clusterId, _ in pairs(leaves) do
  if not planned[clusterId] then
    return redis.error_reply('CONFLICT cluster ' .. clusterId .. ' loses items but has no new state')
  end
end

-- ---- Writes ------------------------------------------------------------------------------

for _, item in ipairs(eligible) do
  if item.from then redis.call('SREM', keyspace.members(item.from), item.id) end
  redis.call('SADD', keyspace.members(item.clusterId), item.id)
  redis.call('HSET', keyspace.item(item.id), 'clustered', 'true', 'cluster_id', item.clusterId,
    'clustered_at', now)
  redis.call('SREM', KEYS[2], item.id)
  if item.vectorArg > 0 then
    redis.call('HSET', KEYS[8], item.id, ARGV[item.vectorArg])
  else
    redis.call('HDEL', KEYS[8], item.id)
  end
  redis.call('HDEL', KEYS[9], item.id)
  redis.call('HSET', KEYS[10], item.id, item.clusterId)
end
local arrived = 0
for clusterId, count in pairs(arrivals) do
  trendBuckets.record(keyspace.trends(clusterId), plan.nowSeconds, count)
  arrived = arrived + count
end
if arrived > 0 then trendBuckets.record(keyspace.arrivals, plan.nowSeconds, arrived) end
-- It waits (parked) in no cluster: not clustered, so no cluster counts it.
for _, item in ipairs(leaving) do
  redis.call('SREM', keyspace.members(item.from), item.id)
  redis.call('HDEL', keyspace.item(item.id), 'cluster_id', 'clustered_at')
  redis.call('HDEL', KEYS[10], item.id)
end

for _, cluster in ipairs(plan.clusters) do
  if joins[cluster.id] or leaves[cluster.id] then
    local key = keyspace.cluster(cluster.id)
    local size = redis.call('SCARD', keyspace.members(cluster.id))
    redis.call('ZADD', KEYS[5], redis.call('INCR', KEYS[4]), cluster.id)
    if size == 0 then
      -- Its last item left by update: the cluster stops being live (and leaves every replica's
      -- index through the change feed); its hash stays, with size 0 and `emptied_at`, so links
      -- held elsewhere still resolve. The status belongs to the dashboard and is kept.
      keyspace.removeLive(KEYS[3], cluster.id)
      redis.call('HDEL', KEYS[6], cluster.id)
      redis.call('HDEL', KEYS[7], cluster.id)
      redis.call('HSET', key, 'size', 0, 'emptied_at', now, 'updated_at', now)
    else
      if cluster.created then
        local text = cluster.text
        redis.call('HSET', key, 'id', cluster.id, 'status', 'new', 'created_at', now,
          'title', text.title, 'summary', text.summary, 'issue_title', text.issue_title,
          'issue_description', text.issue_description, 'summary_model', text.summary_model)
        if keyspace.project ~= '' then redis.call('HSET', key, 'project_id', keyspace.project) end
        if text.github_repo_url ~= '' then
          redis.call('HSET', key, 'github_repo_url', text.github_repo_url)
        end
        redis.call('HSET', KEYS[7], cluster.id, ARGV[cluster.anchorArg])
        if not plan.summaries.queueNew then redis.call('HSET', KEYS[12], cluster.id, size) end
      end
      -- Sources are a union: a source whose only item left by update stays listed until a
      -- sweep moves items (recomputing them here would read every member on the hot path).
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
      keyspace.addLive(KEYS[3], cluster.id, plan.nowSeconds)
      -- cjson encodes an empty table as an object, and sources must stay a JSON array.
      if #sources > 0 then redis.call('HSET', key, 'sources', cjson.encode(sources)) end
      if cluster.centroidJsonArg > 0 then
        redis.call('HDEL', KEYS[6], cluster.id)
        redis.call('HSET', key, 'centroid', ARGV[cluster.centroidJsonArg], 'embedding_model', model)
      end
      redis.call('HSET', key, 'size', size, 'updated_at', now)
      local last = tonumber(redis.call('HGET', KEYS[12], cluster.id) or '0')
      if size >= last + math.max(1, math.ceil(last * plan.summaries.growth)) then
        redis.call('ZADD', KEYS[11], size + (size - last), cluster.id)
      end
    end
  end
end

return { #eligible, cjson.encode(skipped), tonumber(redis.call('GET', KEYS[4]) or '0') }

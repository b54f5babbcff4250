-- Moves clustered items to the clusters they fit better, atomically (CONTRACT §2 "clustered"
-- holds before and after: each item stays in exactly one live cluster and its hash follows).
-- Sizes, sources, centroids and the index change feed of every touched cluster are updated.
--
-- KEYS[1] assignment lock   KEYS[2] clusters:all   KEYS[3] index sequence
-- KEYS[4] index change feed KEYS[5] legacy packed centroids (only deleted)
-- KEYS[6] item -> cluster membership (kept in step, so an update finds the item's cluster)
-- KEYS[7] int8 anchors (of a founded cluster)   KEYS[8] kept-apart pins   KEYS[9] item pins
-- KEYS[10] summary queue    KEYS[11] audit stream (KEYS[7..11] only written by a person's action)
-- ARGV[1] lock token (fencing: nothing is written unless the caller still holds the lock)
-- ARGV[2] now, ISO 8601
-- ARGV[3] JSON plan: { moves: [{ item, from, to }],
--                      clusters: [{ id, size, centroid }], sourceChars } where
--                      `size` is the membership the new centroid was computed from (before the
--                      moves) and `sourceChars` the longest source name kept
--         optional `found`: { id, model, nowSeconds, text: { title, summary, issue_title,
--                      issue_description, summary_model } }, a new cluster (size 0 in
--                      `clusters`) the moves fill (a split), its anchor record in ARGV[4]
--         optional `control`: a person's action, for control.record (lua/includes/control.lua)
-- Returns the number of items moved ({ moved, audit entry id } with `control`), or an error reply
-- (FENCED, CONFLICT) with nothing written.
-- ARGV[last] the key layout's descriptor, appended by runScript (lua/includes/keyspace.lua)
-- @include keyspace
-- @include control
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED lock lost before move')
end

local now = ARGV[2]
local plan = cjson.decode(ARGV[3])
local found = plan.found

if found and redis.call('EXISTS', keyspace.cluster(found.id)) == 1 then
  return redis.error_reply('CONFLICT cluster ' .. found.id .. ' exists already')
end
for _, cluster in ipairs(plan.clusters) do
  if (not found or cluster.id ~= found.id) and not keyspace.isLive(KEYS[2], cluster.id) then
    return redis.error_reply('CONFLICT cluster ' .. cluster.id .. ' is not live')
  end
  if redis.call('SCARD', keyspace.members(cluster.id)) ~= cluster.size then
    return redis.error_reply('CONFLICT cluster ' .. cluster.id .. ' changed since the move was planned')
  end
end
for _, move in ipairs(plan.moves) do
  if redis.call('SISMEMBER', keyspace.members(move.from), move.item) == 0 then
    return redis.error_reply('CONFLICT item ' .. move.item .. ' is not in cluster ' .. move.from)
  end
end

if found then
  local text = found.text
  redis.call('HSET', keyspace.cluster(found.id), 'id', found.id, 'status', 'new', 'created_at', now,
    'embedding_model', found.model, 'title', text.title, 'summary', text.summary,
    'issue_title', text.issue_title, 'issue_description', text.issue_description,
    'summary_model', text.summary_model)
  if keyspace.project ~= '' then
    redis.call('HSET', keyspace.cluster(found.id), 'project_id', keyspace.project)
  end
  keyspace.addLive(KEYS[2], found.id, found.nowSeconds)
  redis.call('HSET', KEYS[7], found.id, ARGV[4])
end

for _, move in ipairs(plan.moves) do
  redis.call('SMOVE', keyspace.members(move.from), keyspace.members(move.to), move.item)
  redis.call('HSET', KEYS[6], move.item, move.to)
  local item = keyspace.item(move.item)
  if redis.call('EXISTS', item) == 1 then
    redis.call('HSET', item, 'cluster_id', move.to)
  end
end

for _, cluster in ipairs(plan.clusters) do
  local key = keyspace.cluster(cluster.id)
  local members = redis.call('SMEMBERS', keyspace.members(cluster.id))
  -- Sources are recomputed from the members: a cluster that lost its only item of a source
  -- must not list it any more.
  local seen, sources = {}, {}
  for _, id in ipairs(members) do
    local source = redis.call('HGET', keyspace.item(id), 'source') or ''
    -- Trimmed as parseFeedbackHash does; the pattern only ever sees sourceChars characters,
    -- since a source is producer-written and may be any length.
    local first = string.find(source, '%S')
    source = first and string.sub(source, first, first + plan.sourceChars - 1) or ''
    source = string.lower((string.gsub(source, '%s*$', '')))
    if source == '' then source = 'unknown' end
    if not seen[source] then seen[source] = true; sources[#sources + 1] = source end
  end
  table.sort(sources)
  redis.call('HSET', key, 'size', #members, 'centroid', cluster.centroid, 'updated_at', now)
  if #sources > 0 then redis.call('HSET', key, 'sources', cjson.encode(sources)) end
  redis.call('HDEL', KEYS[5], cluster.id)
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[3]), cluster.id)
end

if plan.control then
  local audit = control.record(plan.control,
    { apart = KEYS[8], pinnedItems = KEYS[9], summaryQueue = KEYS[10], audit = KEYS[11] })
  return { #plan.moves, audit }
end
return #plan.moves

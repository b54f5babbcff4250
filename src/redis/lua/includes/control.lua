-- Human control (src/control): the pins the sweeps respect and the record of a person's action.
-- Kept-apart pins are a hash: cluster id -> JSON array (sorted) of the clusters it must never be
-- merged with automatically; item pins a hash: feedback id -> the cluster a person put it in.
local control = {}

local function apartOf(key, id)
  local raw = redis.call('HGET', key, id)
  return raw and cjson.decode(raw) or {}
end

local function setApart(key, id, list)
  -- cjson encodes an empty table as an object: an empty list is no entry at all.
  if #list == 0 then redis.call('HDEL', key, id)
  else table.sort(list); redis.call('HSET', key, id, cjson.encode(list)) end
end

local function addApart(key, id, other)
  local list = apartOf(key, id)
  for _, x in ipairs(list) do if x == other then return end end
  list[#list + 1] = other
  setApart(key, id, list)
end

local function dropApart(key, id, other)
  local kept = {}
  for _, x in ipairs(apartOf(key, id)) do if x ~= other then kept[#kept + 1] = x end end
  setApart(key, id, kept)
end

function control.keepApart(key, a, b)
  addApart(key, a, b)
  addApart(key, b, a)
end

-- A merge's survivor inherits the absorbed cluster's pins, so the items a person split off stay
-- apart from it; a pin between the two themselves goes (only a person merges such a pair).
function control.carryApart(key, survivor, absorbed)
  for _, other in ipairs(apartOf(key, absorbed)) do
    dropApart(key, other, absorbed)
    if other ~= survivor then control.keepApart(key, survivor, other) end
  end
  redis.call('HDEL', key, absorbed)
end

-- A person's action, written with the change it describes: c = { pinItems = { [item] = cluster },
-- apart = { { a, b } }, summaries = { { id, priority } }, audit = { field, value, ... },
-- auditMaxLen }; keys = { apart, pinnedItems, summaryQueue, audit }. Returns the audit entry id.
function control.record(c, keys)
  for item, cluster in pairs(c.pinItems or {}) do
    redis.call('HSET', keys.pinnedItems, item, cluster)
  end
  for _, pair in ipairs(c.apart or {}) do control.keepApart(keys.apart, pair[1], pair[2]) end
  -- GT: an entry already ranked higher keeps its rank (as SummaryQueue.enqueue does).
  for _, entry in ipairs(c.summaries or {}) do
    redis.call('ZADD', keys.summaryQueue, 'GT', entry[2], entry[1])
  end
  return redis.call('XADD', keys.audit, 'MAXLEN', '~', c.auditMaxLen, '*', unpack(c.audit))
end

-- Writes everything a producer writes for one item (CONTRACT §1) atomically, and de-duplicates
-- on the external id in the same atomic step. A MULTI cannot skip its writes when the external id
-- turns out to be taken, and WATCH would need a connection of its own; a script is as
-- all-or-nothing as MULTI and makes the check-and-write race-free, even inside one pipeline.
--
-- KEYS: item, created, by-source, unclustered, events[, external]
-- ARGV: id, score, emit ("1"/"0"), ts, project id ("" in the flat layout: the event names
-- none, CONTRACT §7), then the hash's field/value pairs.
-- Returns { id, 1 } when created, { existing id, 0 } for a duplicate.
local external = KEYS[6]
if external then
  local existing = redis.call('GET', external)
  if existing then return { existing, 0 } end
end
local id, score = ARGV[1], ARGV[2]
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], score, id)
redis.call('ZADD', KEYS[3], score, id)
if external then redis.call('SET', external, id) end
redis.call('SADD', KEYS[4], id)
if ARGV[3] == '1' then
  if ARGV[5] ~= '' then
    redis.call('XADD', KEYS[5], '*', 'type', 'feedback.created', 'id', id, 'ts', ARGV[4],
      'project_id', ARGV[5])
  else
    redis.call('XADD', KEYS[5], '*', 'type', 'feedback.created', 'id', id, 'ts', ARGV[4])
  end
end
return { id, 1 }

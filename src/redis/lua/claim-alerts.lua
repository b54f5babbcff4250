-- Claims the alerts that are due: each stays queued with its due time pushed back by the lease,
-- so no other replica sends it meanwhile, and a replica that dies mid-send leaves it to be sent
-- again when the lease lapses (delivery is at least once; receivers dedupe by X-Alert-Id).
--
-- KEYS[1] alert queue (alert id -> due, epoch ms)   KEYS[2] alert payloads (alert id -> JSON)
-- ARGV[1] now, epoch ms   ARGV[2] lease, ms   ARGV[3] most alerts to claim
-- Returns { id1, payload1, id2, payload2, ... }; an id without a payload is dropped.
local now = tonumber(ARGV[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
for _, id in ipairs(due) do
  local payload = redis.call('HGET', KEYS[2], id)
  if payload then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    claimed[#claimed + 1] = id
    claimed[#claimed + 1] = payload
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return claimed

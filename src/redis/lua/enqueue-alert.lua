-- Queues an alert unless it was ever queued before: each alert id (a cluster and a size, or a
-- cluster turning emerging) is sent at most once, however many replicas detect it.
--
-- KEYS[1] alerts sent (alert id -> JSON state)   KEYS[2] alert queue (alert id -> due, epoch ms)
-- KEYS[3] alert payloads (alert id -> JSON {body, attempts})
-- ARGV[1] alert id   ARGV[2] body (the JSON text that is POSTed)   ARGV[3] now, epoch ms
-- ARGV[4] now, ISO 8601
-- Returns 1 when queued, 0 when this alert was queued before.
if redis.call('HSETNX', KEYS[1], ARGV[1], cjson.encode({ state = 'queued', at = ARGV[4] })) == 0 then
  return 0
end
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode({ body = ARGV[2], attempts = 0 }))
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[1])
return 1

-- Writes one re-embedded cluster (npm run reembed): its new centroid, anchor and model, its
-- change-feed entry and its "done" mark, all at once. A cluster merged away meanwhile is left
-- alone.
--
-- KEYS[1] live clusters   KEYS[2] cluster hash     KEYS[3] int8 anchors
-- KEYS[4] index sequence  KEYS[5] index change feed KEYS[6] the model's done set
-- ARGV[1] cluster id      ARGV[2] model
-- ARGV[3] centroid JSON (the only copy of the centroid)   ARGV[4] anchor int8 record
-- ARGV[last] the key layout's descriptor, appended by runScript (lua/includes/keyspace.lua)
-- Returns 1 when written, 0 when the cluster is not live.
-- @include keyspace
if not keyspace.isLive(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'centroid', ARGV[3], 'embedding_model', ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
local seq = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[5], seq, ARGV[1])
redis.call('SADD', KEYS[6], ARGV[1])
return 1

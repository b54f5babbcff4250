-- Starts (or restarts) a job under a new owner token, unless it has finished: a job
-- finishes once, so a finished job is never run again. Clears a previous attempt's outcome
-- and records the owner's first heartbeat.
-- KEYS[1] cluster_job:{id}, KEYS[2] heartbeats of running jobs (sorted set, id -> epoch ms);
-- ARGV[1] owner token, ARGV[2] job id, ARGV[3] now (epoch ms), ARGV[4..] field, value pairs
-- to set (status running, started_at, attempts, stats).
-- Returns 1 when claimed, 0 when the job is unknown or finished.
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'succeeded' or status == 'failed' then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], unpack(ARGV, 4))
redis.call('HDEL', KEYS[1], 'finished_at', 'error')
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return 1

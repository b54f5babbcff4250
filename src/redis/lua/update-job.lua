-- Writes a job's progress or outcome only for its current owner and only while it has not
-- finished, so that an owner whose claim was taken over (it stalled, another replica runs
-- the job now) can neither overwrite the new run's progress nor finish the job a second time.
-- Every accepted write is a heartbeat of the owner; the finishing one removes the job from
-- the heartbeats.
-- KEYS[1] cluster_job:{id}, KEYS[2] heartbeats of running jobs (sorted set, id -> epoch ms);
-- ARGV[1] owner token ('' = any owner: giving up an abandoned job), ARGV[2] job id,
-- ARGV[3] now (epoch ms), or '' when this write finishes the job, ARGV[4..] field, value
-- pairs (none: a heartbeat only).
-- Returns 1 when written, 0 when refused.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'pending' and status ~= 'running' then return 0 end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if #ARGV >= 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
end
return 1

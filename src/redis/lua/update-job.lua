-- Writes a job's progress or outcome only for its current owner and only while it has not
-- finished, so that an owner whose claim was taken over (it stalled, another replica runs
-- the job now) can neither overwrite the new run's progress nor finish the job a second time.
-- KEYS[1] cluster_job:{id}; ARGV[1] owner token ('' = any owner: giving up an abandoned job),
-- ARGV[2..] field, value pairs.
-- Returns 1 when written, 0 when refused.
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'pending' and status ~= 'running' then return 0 end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1

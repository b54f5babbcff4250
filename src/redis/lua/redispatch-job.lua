-- Hands a running job whose owner fell silent (no heartbeat since the cutoff) to the job
-- stream again, so that some replica claims and finishes it; exactly one caller does so.
-- KEYS[1] heartbeats of running jobs (sorted set, id -> epoch ms), KEYS[2] job stream;
-- ARGV[1] job id, ARGV[2] cutoff (epoch ms), ARGV[3] approximate stream cap, ARGV[4..] the
-- dispatch entry's field, value pairs (job_id, and project_id in the project layout).
-- Returns 1 when re-dispatched, 0 when the owner is alive or another caller was first.
local beat = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not beat or tonumber(beat) > tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
return 1

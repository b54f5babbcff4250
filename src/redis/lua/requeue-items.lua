-- Puts items back to waiting whose text changed while the pipeline embedded them (CONTRACT §1
-- "Updates"): the batch wrote a vector of the old text, and the producer's event for the new
-- one may already have been skipped as "clustered". The item keeps its cluster until it is
-- clustered again, as any update does.
--
-- KEYS[1] feedback:unclustered    KEYS[2..n] the items' hashes
-- ARGV[1..n-1] the ids, in the order of KEYS[2..n]
-- Returns the number of ids put back (a hash that is gone, or of another type, is left alone).
local requeued = 0
for i = 2, #KEYS do
  if redis.call('TYPE', KEYS[i]).ok == 'hash' then
    redis.call('HSET', KEYS[i], 'clustered', 'false')
    redis.call('SADD', KEYS[1], ARGV[i - 1])
    requeued = requeued + 1
  end
end
return requeued

-- Puts items that no producer announced into feedback:unclustered (CONTRACT §1 "Producers
-- that announce nothing"): an id whose hash exists, has no cluster_id and no clustered = "true".
-- Atomic per item, so an item the pipeline clusters at the same moment is never put back.
--
-- KEYS[1] feedback:unclustered    KEYS[2..n] the items' hashes, feedback:{id}
-- ARGV[1..n-1] the ids, in the order of KEYS[2..n]
-- Returns the number of ids added (ids already waiting are not counted).
local added = 0
for i = 2, #KEYS do
  local key = KEYS[i]
  -- A key of another type is left alone: HGET on it would abort the whole script.
  if redis.call('TYPE', key).ok == 'hash'
      and redis.call('HGET', key, 'clustered') ~= 'true'
      and redis.call('HEXISTS', key, 'cluster_id') == 0 then
    added = added + redis.call('SADD', KEYS[1], ARGV[i - 1])
  end
end
return added

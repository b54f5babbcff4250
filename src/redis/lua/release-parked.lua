-- Takes items out of the parking lot and announces each on the event stream (a
-- `feedback.updated` event, as a producer's update), in one step: the pipeline tries them
-- again, and an item is announced once however many operators release it at the same time.
-- They are still in the unclustered set (parking never takes them out of it).
--
-- KEYS[1] the project's parked hash    KEYS[2] feedback:events
-- ARGV[1] `ts` of the new events (epoch ms)    ARGV[2..n-1] feedback ids
-- ARGV[n] keyspace descriptor
-- Returns the number of items released (ids not parked are left alone).
-- @include keyspace

local released = 0
for i = 2, #ARGV - 1 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    if keyspace.project == '' then
      redis.call('XADD', KEYS[2], '*', 'type', 'feedback.updated', 'id', ARGV[i], 'ts', ARGV[1])
    else
      redis.call('XADD', KEYS[2], '*', 'type', 'feedback.updated', 'id', ARGV[i], 'ts', ARGV[1],
        'project_id', keyspace.project)
    end
    released = released + 1
  end
end
return released

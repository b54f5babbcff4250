-- Sends dead letters back through the pipeline: each named entry of this keyspace's project
-- that announces a feedback id is re-announced on the event stream (a `feedback.updated`
-- event, as a producer's update) and deleted from the dead letters in the same step, so an
-- entry is replayed once however many operators replay it at the same time.
--
-- KEYS[1] clustering:dead-letters    KEYS[2] feedback:events
-- ARGV[1] `ts` of the new events (epoch ms)    ARGV[2..n-1] dead-letter entry ids
-- ARGV[n] keyspace descriptor
-- Returns {replayed, unreplayable}: entries without a feedback id stay where they are (there is
-- nothing to announce); ids not found, or of another project, count in neither.
-- @include keyspace

local replayed, unreplayable = 0, 0
for i = 2, #ARGV - 1 do
  local found = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #found == 1 then
    local fields = {}
    local flat = found[1][2]
    for f = 1, #flat, 2 do fields[flat[f]] = flat[f + 1] end
    if (fields.project_id or '') == keyspace.project then
      if (fields.feedback_id or '') == '' then
        unreplayable = unreplayable + 1
      else
        local event = { 'type', 'feedback.updated', 'id', fields.feedback_id, 'ts', ARGV[1],
          'replay_of', fields.entry_id or '' }
        if keyspace.project ~= '' then
          table.insert(event, 'project_id')
          table.insert(event, keyspace.project)
        end
        redis.call('XADD', KEYS[2], '*', unpack(event))
        redis.call('XDEL', KEYS[1], ARGV[i])
        replayed = replayed + 1
      end
    end
  end
end
return { replayed, unreplayable }

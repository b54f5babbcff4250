-- Resets the idle time of entries a consumer still holds, so that no other consumer claims
-- them while their batch is in hand. XCLAIM JUSTID counts no delivery; an entry another
-- consumer claimed meanwhile (or that was acknowledged) is left alone.
-- KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3..] entry ids.
-- Returns how many entries were renewed.
local held = {}
for i = 3, #ARGV do
  local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #row > 0 then held[#held + 1] = ARGV[i] end
end
-- In slices of 500 ids, so that no call has thousands of arguments.
for first = 1, #held, 500 do
  local args = { 'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0 }
  for i = first, math.min(first + 499, #held) do args[#args + 1] = held[i] end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
end
return #held

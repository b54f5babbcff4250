-- Takes one token from the deployment-wide bucket of model summary calls, so that
-- GEMINI_SUMMARIES_PER_MINUTE holds for all replicas together. Refills continuously at
-- ARGV[1] per minute up to ARGV[2] tokens; the clock is the Redis server's, shared by all.
--
-- KEYS[1] bucket hash {tokens, at}
-- ARGV[1] tokens per minute        ARGV[2] capacity (largest burst)
-- Returns 0 when a token was taken, else the milliseconds until one is available.
local perMs = tonumber(ARGV[1]) / 60000
local capacity = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local result = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  result = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
-- An idle bucket is full again after capacity / rate; it needs no key until then.
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / perMs) + 1000)
return result

-- Stores a cluster's new summary and settles its queue entry, in one step: the text is
-- written only while the cluster is live, and the entry stays queued only if the cluster
-- grew enough during the call to need another summary (it then keeps its new priority).
--
-- KEYS[1] cluster hash     KEYS[2] clusters:all     KEYS[3] summary queue
-- KEYS[4] claims           KEYS[5] summarized-at sizes
-- ARGV[1] cluster id       ARGV[2] size the summary describes     ARGV[3] growth fraction
-- ARGV[4] JSON { title, summary, issue_title, issue_description, summary_model,
--                github_repo_url (may be empty: the field is then removed) }
-- Returns 1 when the summary was written, 0 when the cluster is gone.
-- ARGV[last] the key layout's descriptor, appended by runScript (lua/includes/keyspace.lua)
-- @include keyspace
local id = ARGV[1]
redis.call('ZREM', KEYS[4], id)
if not keyspace.isLive(KEYS[2], id) then
  redis.call('ZREM', KEYS[3], id)
  return 0
end
local fields = cjson.decode(ARGV[4])
redis.call('HSET', KEYS[1], 'title', fields.title, 'summary', fields.summary,
  'issue_title', fields.issue_title, 'issue_description', fields.issue_description,
  'summary_model', fields.summary_model)
if fields.github_repo_url ~= '' then
  redis.call('HSET', KEYS[1], 'github_repo_url', fields.github_repo_url)
else
  redis.call('HDEL', KEYS[1], 'github_repo_url')
end
local described = tonumber(ARGV[2])
redis.call('HSET', KEYS[5], id, described)
local size = tonumber(redis.call('HGET', KEYS[1], 'size') or '0')
if size < described + math.max(1, math.ceil(described * tonumber(ARGV[3]))) then
  redis.call('ZREM', KEYS[3], id)
end
return 1

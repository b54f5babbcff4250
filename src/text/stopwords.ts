/**
 * English function words and feedback chatter ("please", "thanks") that never name a
 * problem. Words common in all feedback ("app", "error") are left to `TermStatistics`,
 * which learns them from the traffic instead of guessing.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(
  `a about above after again against all also am an and any are aren't as at be because been
  before being below between both but by can can't cannot could couldn't did didn't do does
  doesn't doing don't down during each else etc even ever every few for from further get gets
  getting got had hadn't has hasn't have haven't having he her here hers herself him himself his
  how i i'd i'll i'm i've if in into is isn't it it's its itself just let's like me more most
  much must mustn't my myself no nor not now of off on once only or other ought our ours
  ourselves out over own really same she should shouldn't so some still such than that that's
  the their theirs them themselves then there there's these they they're this those through to
  too under until up upon us very via was wasn't we we're we've were weren't what what's when
  where which while who whom why will with won't would wouldn't yet you you're your yours
  yourself yourselves
  anyone anybody anything everyone hi hello hey please pls thanks thank thx guys folks lol
  im ive dont cant doesnt didnt isnt wont one two way thing things something maybe since
  http https www com`.split(/\s+/),
);

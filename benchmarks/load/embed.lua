-- wrk script: POST /embed_sparse with TEI bodies, rotating over a few texts.
-- Usage: wrk -s embed.lua http://127.0.0.1:3000/embed_sparse -- query|doc
-- "query": ~10-token queries ([CLS] and [SEP] included); "doc": ~80-token passages.

local queries = {
  "what is the capital city of france today",
  "how long does it take to boil eggs",
  "who wrote the first book about modern physics",
  "where is the largest desert in the world",
  "when did the second world war finally end",
  "why is the sky blue during the day",
  "how many people live in new york city",
  "what causes rain to fall from the clouds",
}

local docs = {
  "The river runs through the old town and past the market square, where farmers sell fresh bread, cheese and fruit every morning. Visitors often stop at the small cafe near the bridge to watch the boats. In the evening the streets fill with music, and families walk along the water until the lights of the church tower come on. The town has kept its old walls and stone houses.",
  "Water boils at one hundred degrees at sea level, but the temperature drops as you climb higher because the air pressure is lower. Cooks in mountain villages therefore need more time to prepare rice, pasta or eggs. Some people use a pressure cooker, which raises the boiling point and shortens the cooking time. The same idea explains why tea made at high altitude can taste weaker.",
  "The company reported strong results for the third quarter, with sales rising by twelve percent compared with the same period last year. Most of the growth came from new customers in Europe and Asia, while demand at home remained steady. The board plans to invest in two new factories and to hire more engineers next year. Analysts expect prices to stay high, although rising energy costs could reduce profits.",
  "Children learn language by listening to the people around them long before they can speak. In the first year they recognise the sounds of their own language, and by the age of two most of them can join words into short sentences. Reading aloud, singing and simple games help this process. Researchers have found that the number of words a child hears at home is linked to later success in school.",
}

local bodies = {}
local n = 0

function init(args)
  local texts = (args[1] == "doc") and docs or queries
  for i, t in ipairs(texts) do
    bodies[i] = '{"inputs":"' .. t .. '"}'
  end
end

function request()
  n = n + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[(n % #bodies) + 1])
end

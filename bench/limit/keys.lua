-- wrk script for bench/limit/run: every request carries "X-Key: KEY", the
-- keys taken in turn from 100,000 distinct values from a random starting
-- point.  CC_BENCH_KEYS=guid makes the keys GUIDs (36 bytes),
-- otherwise they are short ("k12345").

local count = 100000
local guid = os.getenv("CC_BENCH_KEYS") == "guid"
local i = 0

init = function(args)
    math.randomseed(os.time())
    i = math.random(count)
end

local function key(n)
    if guid then
        return string.format("0f8fad5b-d9cb-469f-a165-%012d", n)
    end
    return "k" .. n
end

request = function()
    i = i % count + 1
    return wrk.format("GET", nil, { ["X-Key"] = key(i) })
end
